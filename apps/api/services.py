"""Writes of the API app: tokens and the idempotency ledger's housekeeping."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import ApiToken, IdempotencyRecord, hash_token, new_raw_token


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``. Returns the token and its raw value (shown once, never stored)."""
    raw, prefix = new_raw_token()
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100] or "API token", prefix=prefix, key_hash=hash_token(raw)
    )
    return token, raw


def api_token_revoke(*, token_id: int, now: datetime | None = None) -> bool:
    """Revoke a token (idempotent). Returns True if it was active until now."""
    return bool(ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(revoked_at=now or timezone.now()))


def idempotency_purge(*, now: datetime | None = None) -> int:
    """Delete ledger rows older than ``IDEMPOTENCY_TTL_HOURS``."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
