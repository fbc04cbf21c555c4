from django.core.management.base import BaseCommand, CommandError

from apps.channels.models import ChannelConnection, Platform
from apps.channels.reconciliation import describe_run, reconcile


class Command(BaseCommand):
    help = "Diff the PMS with the platforms (bookings and calendar), fix what the rules allow, record a run."

    def add_arguments(self, parser):
        parser.add_argument("--property", type=int, help="Only this property id")
        parser.add_argument("--platform", choices=[p for p in Platform.values if p != "ical"])
        parser.add_argument("--days", type=int, default=None, help="How many days ahead (default 365)")

    def handle(self, *args, **o):
        qs = ChannelConnection.objects.filter(sync_enabled=True).exclude(platform="ical").order_by("pk")
        if o["property"]:
            qs = qs.filter(property_id=o["property"])
        if o["platform"]:
            qs = qs.filter(platform=o["platform"])
        if o["days"] is not None and o["days"] < 1:
            raise CommandError("--days must be at least 1.")
        conns = list(qs)
        if not conns:
            raise CommandError("No matching channel connection.")
        failed = 0
        for conn in conns:
            run = reconcile(connection_id=conn.pk, days=o["days"], triggered_by="command")
            self.stdout.write(f"{conn} (run {run.pk}): {describe_run(run)}")
            failed += run.status == "failed"
        if failed:
            raise CommandError(f"{failed} reconciliation run(s) failed.")
