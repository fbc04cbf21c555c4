from django.core.management.base import BaseCommand, CommandError

from apps.bookings.selectors import calendar_overlaps


class Command(BaseCommand):
    help = "List every overlap of blocking bookings/blocks. Exit 1 if there is any, 0 if none."

    def add_arguments(self, parser):
        parser.add_argument("--property", type=int, default=None, help="Only this property id.")

    def handle(self, *args, property=None, **options):
        overlaps = calendar_overlaps(property_id=property)
        for o in overlaps:
            self.stdout.write(
                f"property {o.property_id}: {o.first_kind} #{o.first_id} {o.first_start}..{o.first_end} overlaps "
                f"{o.second_kind} #{o.second_id} {o.second_start}..{o.second_end}"
            )
        if overlaps:
            raise CommandError(f"{len(overlaps)} overlap(s) found.")
        self.stdout.write(self.style.SUCCESS("No overlapping stays or blocks."))
