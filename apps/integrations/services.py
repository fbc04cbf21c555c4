"""Writes of the integrations app: subscriptions (create, change, rotate, delete), test events,
dead-letter retries. Views, admin and API call these."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.channels import crypto
from apps.core.errors import NotFound, ValidationFailed
from apps.core.limits import check_text
from apps.core.net import PrivateHostRefused, assert_public_url

from .events import EVENT_TYPES, TEST_EVENT, envelope
from .models import WebhookDelivery, WebhookSubscription, new_message_id

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
_AAD = "webhook-subscription-secret"


def secret_generate() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes (the HMAC key)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def subscription_secret(sub: WebhookSubscription) -> str:
    return crypto.decrypt(sub.secret_encrypted, aad=_AAD)


def _clean_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed("Give the URL that receives the events.", details={"field": "url"})
    url = url.strip()
    if len(url) > 500 or any(ord(c) < 33 for c in url):
        raise ValidationFailed(
            "The URL is too long or contains spaces or control characters.", details={"field": "url"}
        )
    if not url.startswith("https://") and not settings.WEBHOOK_ALLOW_HTTP:
        raise ValidationFailed("Webhook URLs must use https.", details={"field": "url"})
    try:
        assert_public_url(url)
    except PrivateHostRefused as exc:
        raise ValidationFailed(f"This URL cannot receive webhooks: {exc}", details={"field": "url"}) from None
    return url


def _clean_types(event_types: Any) -> list[str]:
    if event_types is None:
        return []
    if not isinstance(event_types, list | tuple) or not all(isinstance(t, str) for t in event_types):
        raise ValidationFailed("event_types must be a list of event type names.", details={"field": "event_types"})
    unknown = sorted({t for t in event_types if t not in EVENT_TYPES})
    if unknown:
        raise ValidationFailed(
            f"Unknown event type(s): {', '.join(u[:40] for u in unknown[:5])}.",
            details={"field": "event_types", "known": EVENT_TYPES},
        )
    return sorted(set(event_types))


def subscription_validate(*, url: Any, event_types: Any) -> None:
    """Raise ``ValidationFailed`` (with ``details["field"]``) for a URL or event list we would refuse."""
    _clean_url(url)
    _clean_types(event_types)


def subscription_create(
    *, owner, url: str, event_types: list[str] | None = None, description: str = ""
) -> tuple[WebhookSubscription, str]:
    """A new subscription for ``owner``. Returns it with its secret (shown once)."""
    url = _clean_url(url)
    types = _clean_types(event_types)
    description = check_text(description or "", field="description", max_length=200)
    if WebhookSubscription.objects.filter(owner=owner).count() >= settings.WEBHOOK_MAX_SUBSCRIPTIONS:
        raise ValidationFailed(
            f"At most {settings.WEBHOOK_MAX_SUBSCRIPTIONS} webhook subscriptions per account.",
            details={"field": "url"},
        )
    secret = secret_generate()
    sub = WebhookSubscription.objects.create(
        owner=owner,
        url=url,
        event_types=types,
        description=description,
        secret_encrypted=crypto.encrypt(secret, aad=_AAD),
    )
    return sub, secret


def subscription_update(*, subscription: WebhookSubscription, **fields: Any) -> WebhookSubscription:
    """Change url, event_types, description or is_active. Re-activating clears the failure streak."""
    changed = []
    if "url" in fields:
        subscription.url = _clean_url(fields["url"])
        changed.append("url")
    if "event_types" in fields:
        subscription.event_types = _clean_types(fields["event_types"])
        changed.append("event_types")
    if "description" in fields:
        subscription.description = check_text(fields["description"] or "", field="description", max_length=200)
        changed.append("description")
    if "is_active" in fields:
        active = bool(fields["is_active"])
        if active and not subscription.is_active:
            subscription.failure_streak, subscription.failing_since, subscription.disabled_reason = 0, None, ""
            changed += ["failure_streak", "failing_since", "disabled_reason"]
        subscription.is_active = active
        changed.append("is_active")
    if changed:
        subscription.save(update_fields=[*changed, "updated_at"])
    return subscription


def subscription_rotate_secret(*, subscription: WebhookSubscription) -> str:
    secret = secret_generate()
    subscription.secret_encrypted = crypto.encrypt(secret, aad=_AAD)
    subscription.save(update_fields=["secret_encrypted", "updated_at"])
    return secret


def subscription_delete(*, subscription: WebhookSubscription) -> None:
    subscription.delete()


def test_event_send(*, subscription: WebhookSubscription) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to one subscription (admin button, API)."""
    message_id = new_message_id()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            subscription=subscription,
            event=None,
            event_type=TEST_EVENT,
            message_id=message_id,
            payload=envelope(
                message_id=message_id,
                event_type=TEST_EVENT,
                created_at=timezone.now(),
                event_id=None,
                property_id=None,
                data={"subscription_id": subscription.pk, "message": "This is a test event from PMS-Webapp."},
            ),
        )
        from .delivery import enqueue

        transaction.on_commit(lambda: enqueue([delivery.pk]))
    return delivery


def delivery_retry(*, delivery_id: int) -> bool:
    """Send a dead letter again, with the same message id (the receiver can recognise the replay)."""
    changed = WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.DEAD).update(
        status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=None, updated_at=timezone.now()
    )
    if not changed:
        if not WebhookDelivery.objects.filter(pk=delivery_id).exists():
            raise NotFound("Webhook delivery not found.")
        return False
    from .delivery import enqueue

    transaction.on_commit(lambda: enqueue([delivery_id]))
    return True
