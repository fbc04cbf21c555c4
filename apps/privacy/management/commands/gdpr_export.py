import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.core import audit
from apps.core.errors import DomainError
from apps.privacy import services


class Command(BaseCommand):
    help = (
        "Export everything held about a guest (by e-mail) in one owner's data as one JSON document "
        "(guests, bookings with their .ics, payments, refunds, reviews, raw inbound messages, audit log)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="username of the owner whose data is searched")
        parser.add_argument("--email", help="the guest's e-mail address")
        parser.add_argument("--account", action="store_true", help="export the owner's own account instead")
        parser.add_argument("--output", default="-", help="file to write (default: standard output)")

    def handle(self, *args, owner, email, output, account, **options):
        if bool(email) == bool(account):
            raise CommandError("Give either --email (a guest of this owner) or --account (the owner's own data).")
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"No user named {owner!r}.")
        with audit.acting("system", f"manage.py gdpr_export (owner {owner})"):
            try:
                if account:
                    document = services.owner_export(user_id=user.pk)
                else:
                    document = services.guest_export(owner_id=user.pk, email=email)
            except DomainError as exc:
                raise CommandError(str(exc)) from None
        text = json.dumps(document, indent=2, ensure_ascii=False)
        if output == "-":
            sys.stdout.write(text + "\n")
        else:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            self.stderr.write(
                f"Wrote {output}: {len(document['guests'])} guest(s), {len(document['bookings'])} booking(s)."
            )
