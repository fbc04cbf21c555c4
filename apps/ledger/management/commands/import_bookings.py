from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import DomainError
from apps.ledger.exchange import IMPORT_COLUMNS, bookings_import


class Command(BaseCommand):
    help = (
        "Import existing bookings and blocked dates from a CSV file for an owner moving in from another system. "
        f"Columns: {', '.join(IMPORT_COLUMNS)} (property, check_in, check_out required; type booking|block). "
        "Each row goes through booking_create / block_create on its own; refused rows (conflicts, bad values) "
        "are listed with their line number. Exit 1 if any row was refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8).")
        parser.add_argument("--owner", required=True, help="The owner importing (their properties only).")

    def handle(self, *args, file: str, owner: str, **options):
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"No user “{owner}”.")
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.")
        try:
            result = bookings_import(user=user, data=data)
        except DomainError as exc:
            raise CommandError(str(exc))
        for row in result.refused:
            self.stdout.write(f"line {row['line']}: {row['code']}: {row['message']}")
        self.stdout.write(result.summary)
        if result.refused:
            raise CommandError(f"{len(result.refused)} row(s) refused (listed above); the others were imported.")
