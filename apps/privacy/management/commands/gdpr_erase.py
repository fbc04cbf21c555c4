from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.core import audit
from apps.core.errors import DomainError
from apps.privacy import services


class Command(BaseCommand):
    help = (
        "Erase a guest's personal data (by e-mail) in one owner's data, irreversibly: names, e-mail, phone, "
        "notes, booking contacts and requests, review texts, raw inbound bodies and the same values in the "
        "audit log. Bookings, amounts, dates, references and tax records stay."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="username of the owner whose data is erased")
        parser.add_argument("--email", help="the guest's e-mail address")
        parser.add_argument(
            "--account",
            action="store_true",
            help="erase the owner's own account: sign-in closed, tokens revoked, channels disconnected, homes closed",
        )
        parser.add_argument("--yes", action="store_true", help="do it (without it, only say what would change)")

    def handle(self, *args, owner, email, yes, account, **options):
        if bool(email) == bool(account):
            raise CommandError("Give either --email (a guest of this owner) or --account (the owner's own data).")
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"No user named {owner!r}.")
        if account:
            if not yes:
                self.stdout.write(f"Would erase the account {owner!r} for good. Run again with --yes to erase.")
                return
            with audit.acting("system", "manage.py gdpr_erase --account"):
                result = services.owner_erase(user_id=user.pk)
            self.stdout.write(
                f"Erased the account: {result['api_tokens_revoked']} API token(s) revoked, "
                f"{result['connections_disconnected']} channel connection(s) disconnected, "
                f"{result['properties_closed']} home(s) closed."
            )
            return
        try:
            if not yes:
                counts = services.guest_counts(owner_id=user.pk, email=email)
                self.stdout.write(
                    f"Would erase {counts['guests']} guest(s) and the personal data of "
                    f"{counts['bookings']} booking(s). Run again with --yes to erase."
                )
                return
            with audit.acting("system", f"manage.py gdpr_erase (owner {owner})"):
                result = services.guest_erase(owner_id=user.pk, email=email)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Erased: {result['guests']} guest(s), {result['bookings']} booking(s), "
            f"{result['inbound_messages']} inbound message(s), "
            f"{result['audit_entries_redacted']} audit entries redacted."
        )
