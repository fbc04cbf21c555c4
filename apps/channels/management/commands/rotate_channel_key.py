from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.channels import crypto
from apps.channels.models import ChannelConnection


class Command(BaseCommand):
    help = (
        "Re-encrypt every channel secret with the active key (CHANNEL_ENCRYPTION_KEY_ID). "
        "Add the new key to CHANNEL_ENCRYPTION_KEYS, make it active, run this, then retire the old key."
    )

    def handle(self, *args, **options):
        try:
            ring = crypto.keyring()
        except Exception as exc:
            raise CommandError(str(exc)) from None
        changed = 0
        with transaction.atomic():
            for conn in ChannelConnection.objects.select_for_update().order_by("pk"):
                try:
                    fields = conn.reencrypt(ring)
                except crypto.SecretDecryptError as exc:
                    raise CommandError(f"Connection {conn.pk}: {exc}") from None
                if fields:
                    conn.save(update_fields=[*fields, "updated_at"])
                    changed += 1
        self.stdout.write(f"Re-encrypted {changed} connection(s) with key '{ring.active_id}'.")
