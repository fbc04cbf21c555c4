from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.bookings.models import Guest
from apps.core import audit, crypto
from apps.payments.models import Payment

GUEST_FIELDS = ("first_name", "last_name", "email", "phone", "notes")


class Command(BaseCommand):
    help = (
        "Re-encrypt everything encrypted at rest with the active key (CHANNEL_ENCRYPTION_KEY_ID): channel "
        "secrets, guests' names, e-mails, phones and notes, Stripe client secrets. Add the new key to "
        "CHANNEL_ENCRYPTION_KEYS, make it active, run this, then retire the old key."
    )

    def handle(self, *args, **options):
        try:
            ring = crypto.keyring()
        except Exception as exc:
            raise CommandError(str(exc)) from None
        call_command("rotate_channel_key", stdout=self.stdout)
        guests = payments = 0
        with audit.acting("system", "manage.py rotate_encryption_key"), audit.action("crypto.rotate"):
            try:
                with transaction.atomic():
                    for guest in Guest.objects.select_for_update().order_by("pk").iterator(chunk_size=500):
                        # loaded decrypted; saved encrypted with the active key
                        Guest.objects.filter(pk=guest.pk).update(**{f: getattr(guest, f) for f in GUEST_FIELDS})
                        guests += 1
                    for payment in Payment.objects.exclude(client_secret="").only("pk", "client_secret").iterator():
                        Payment.objects.filter(pk=payment.pk).update(client_secret=payment.client_secret)
                        payments += 1
            except crypto.SecretDecryptError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Re-encrypted {guests} guest(s) and {payments} payment secret(s) with key '{ring.active_id}'."
        )
