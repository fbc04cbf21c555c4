from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef

from apps.bookings.models import Booking
from apps.ledger.models import LedgerLine
from apps.ledger.selectors import ledger_drift
from apps.ledger.services import booking_backfill


class Command(BaseCommand):
    help = (
        "Write the ledger lines of bookings made before the ledger existed (their price, succeeded "
        "payments and refunds, what a cancellation kept), then check that every booking reconciles. "
        "Idempotent. --check only checks (exit 1 on any difference)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Write nothing; list what does not reconcile.")

    def handle(self, *args, check: bool = False, **options):
        if not check:
            missing = Booking.objects.filter(~Exists(LedgerLine.objects.filter(booking_id=OuterRef("pk"))))
            ids = list(missing.order_by("pk").values_list("pk", flat=True))
            lines = sum(len(booking_backfill(booking_id=pk)) for pk in ids)
            self.stdout.write(f"{len(ids)} booking(s) brought into the ledger ({lines} line(s)).")
        drift = ledger_drift(limit=1000)
        for row in drift:
            self.stdout.write(
                f"{row['reference']} ({row['status']}): total {row['total_price']}, stay lines {row['stay_lines']}, "
                f"charged {row['charged']}, paid {row['paid']}"
            )
        if drift:
            raise CommandError(f"{len(drift)} booking(s) do not reconcile with their ledger lines.")
        self.stdout.write(self.style.SUCCESS("Every booking reconciles with its ledger lines."))
