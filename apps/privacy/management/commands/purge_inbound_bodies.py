from django.core.management.base import BaseCommand

from apps.privacy import services


class Command(BaseCommand):
    help = "Remove raw inbound message bodies older than INBOUND_BODY_RETENTION_DAYS after the stay (metadata stays)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="override INBOUND_BODY_RETENTION_DAYS")

    def handle(self, *args, days, **options):
        total = 0
        while True:
            n = services.inbound_bodies_purge(days=days)
            total += n
            if not n:
                break
        self.stdout.write(f"Purged {total} inbound message bodies.")
