from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.ledger.render import statement_csv, statement_pdf
from apps.ledger.selectors import month_range, owner_statement


class Command(BaseCommand):
    help = (
        "An owner's statement for a month (stays arriving in it) or any range: per property each stay, "
        "rent, fees, taxes, commission, management fee, net to owner, totals. CSV or PDF."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="The owner's username (or numeric id).")
        parser.add_argument("--month", help="YYYY-MM (default: last month).")
        parser.add_argument("--from", dest="start", help="First day YYYY-MM-DD (with --to, instead of --month).")
        parser.add_argument("--to", dest="end", help="Last day YYYY-MM-DD (inclusive).")
        parser.add_argument("--format", choices=["csv", "pdf"], default="csv")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")

    def handle(self, *args, owner, month=None, start=None, end=None, format="csv", output=None, **options):
        User = get_user_model()
        user = User.objects.filter(username=owner).first()
        if user is None and owner.isdigit():
            user = User.objects.filter(pk=int(owner)).first()
        if user is None:
            raise CommandError(f"No user “{owner}”.")
        try:
            if start or end:
                if not (start and end) or month:
                    raise ValueError("Give either --month, or both --from and --to.")
                first, last = date.fromisoformat(start), date.fromisoformat(end)
                if last < first:
                    raise ValueError("--to must not be before --from.")
                period = (first, date.fromordinal(last.toordinal() + 1))
            else:
                if month is None:
                    today = timezone.localdate()
                    month = f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"
                period = month_range(month)
        except ValueError as exc:
            raise CommandError(str(exc))
        if format == "pdf" and not output:
            raise CommandError("A PDF needs a file: give --output FILE.")
        statement = owner_statement(owner_id=user.pk, start=period[0], end=period[1])
        data = statement_pdf(statement) if format == "pdf" else statement_csv(statement).encode()
        if output:
            with open(output, "wb") as fh:
                fh.write(data)
            rows = sum(len(s.rows) for s in statement.properties)
            self.stderr.write(
                f"Statement of {statement.owner_name}, {statement.period_label}: {rows} stay(s) -> {output}"
            )
        else:
            self.stdout.write(data.decode(), ending="")
