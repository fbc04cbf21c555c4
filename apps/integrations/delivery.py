"""Sending webhooks: one attempt of one WebhookDelivery, signed as Standard Webhooks does.

Headers: ``webhook-id`` (the message id: the same on every retry), ``webhook-timestamp`` (Unix
seconds), ``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`` where the
key is the base64-decoded part of the subscription's ``whsec_`` secret. A 2xx answer is success;
anything else (other status, timeout, refused connection, private address) is retried with
exponential backoff and jitter up to ``WEBHOOK_MAX_ATTEMPTS``, then the delivery is a dead letter
(retry it from the admin or the API). Each endpoint has its own circuit breaker and token bucket
(the channel manager's, keyed ``webhook:<id>``). A subscription failing without a single success for
``WEBHOOK_DISABLE_AFTER_HOURS`` (and at least ``WEBHOOK_DISABLE_AFTER_FAILURES`` attempts) is
disabled and its owner e-mailed. The claim is compare-and-swap with a lease, as for channel pushes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any

import redis
import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.channels import breaker, ratelimit
from apps.core.net import PrivateHostRefused, http_request
from apps.core.observability import record_webhook_delivery

from .models import WebhookDelivery, WebhookSubscription
from .services import secret_key_bytes, subscription_secret

logger = logging.getLogger(__name__)

USER_AGENT = "PMS-Webapp-Webhooks/1"


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(*, secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does (used by the tests and shown in the README)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        ts = int(lower["webhook-timestamp"])
        expected = sign(secret=secret, message_id=lower["webhook-id"], timestamp=ts, body=body)
    except (KeyError, ValueError):
        return False
    if abs(time.time() - ts) > tolerance:
        return False
    offered = lower.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, sig) for sig in offered)


def _key(sub_id: int) -> str:
    return f"webhook:{sub_id}"


def backoff_seconds(attempts: int) -> float:
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * (2 ** max(0, attempts - 1))
    capped = min(settings.WEBHOOK_RETRY_MAX_SECONDS, base)
    return capped / 2 + random.uniform(0, capped / 2)


def enqueue(ids: list[int], *, countdown: float | None = None) -> None:
    from .tasks import deliver_webhook

    for pk in ids:
        try:
            if countdown:
                deliver_webhook.apply_async((pk,), countdown=countdown)
            else:
                deliver_webhook.delay(pk)
        except Exception:  # broker down: the due sweeper sends it
            logger.exception("could not enqueue webhook delivery %s", pk)


def _later(delivery: WebhookDelivery, *, delay: float, reason: str, now: datetime) -> str:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.RETRYING,
        next_attempt_at=now + timedelta(seconds=delay),
        last_error=reason[:500],
        updated_at=now,
    )
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: enqueue([delivery.pk], countdown=max(0.1, delay)))
    return WebhookDelivery.Status.RETRYING


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> str:
    """One attempt. Returns the delivery's status afterwards ("skipped" if not due or claimed)."""
    now = now or timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=WebhookDelivery.Status.IN_PROGRESS, claimed_at=timezone.now(), updated_at=now)
    )
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("subscription", "subscription__owner").get(pk=delivery_id)
    sub = delivery.subscription
    if not sub.is_active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DEAD, last_error="The subscription is disabled.", updated_at=now
        )
        return WebhookDelivery.Status.DEAD
    try:
        allowed, wait = breaker.allow(_key(sub.pk))
        if not allowed:
            return _later(delivery, delay=wait, reason="Circuit breaker for this endpoint is open.", now=now)
        wait = ratelimit.take(_key(sub.pk))
        if wait > 0:
            return _later(delivery, delay=wait, reason="Rate limit for this endpoint: waiting.", now=now)
    except redis.RedisError as exc:
        return _later(delivery, delay=5.0, reason=f"Redis unavailable: {exc}", now=now)

    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            secret=subscription_secret(sub), message_id=delivery.message_id, timestamp=timestamp, body=body
        ),
    }
    attempts = delivery.attempts + 1
    started = time.monotonic()
    status_code, error = None, ""
    try:
        response = http_request(
            "POST", sub.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT, allow_redirects=False
        )
        status_code = response.status_code
        response.close()
        if not 200 <= status_code < 300:
            error = f"The endpoint answered HTTP {status_code}."
    except PrivateHostRefused as exc:
        error = f"Refused: {exc}"
    except requests.Timeout:
        error = f"No answer within {settings.WEBHOOK_TIMEOUT:g} s."
    except requests.RequestException as exc:
        error = f"Could not connect: {type(exc).__name__}."
    seconds = time.monotonic() - started
    done = timezone.now()
    record_webhook_delivery(seconds=seconds, outcome="success" if not error else "failure")
    common = {
        "attempts": attempts,
        "http_status": status_code,
        "latency_ms": int(seconds * 1000),
        "updated_at": done,
    }
    if not error:
        _note(breaker.record_success, _key(sub.pk))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.SUCCEEDED, delivered_at=done, last_error="", next_attempt_at=None, **common
        )
        WebhookSubscription.objects.filter(pk=sub.pk).update(failure_streak=0, failing_since=None, last_success_at=done)
        return WebhookDelivery.Status.SUCCEEDED
    _note(breaker.record_failure, _key(sub.pk))
    WebhookSubscription.objects.filter(pk=sub.pk).update(failure_streak=F("failure_streak") + 1)
    WebhookSubscription.objects.filter(pk=sub.pk, failing_since__isnull=True).update(failing_since=done)
    _maybe_disable(sub.pk, now=done)
    if attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DEAD, last_error=error[:500], next_attempt_at=None, **common
        )
        return WebhookDelivery.Status.DEAD
    delay = backoff_seconds(attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.RETRYING,
        next_attempt_at=done + timedelta(seconds=delay),
        last_error=error[:500],
        **common,
    )
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: enqueue([delivery.pk], countdown=max(0.1, delay)))
    return WebhookDelivery.Status.RETRYING


def _note(record, key: str) -> None:
    try:
        record(key)
    except redis.RedisError as exc:
        logger.warning("webhook breaker %s not updated (Redis unavailable): %s", key, exc)


def _maybe_disable(sub_id: int, *, now: datetime) -> bool:
    """Disable a subscription that has failed without a success for too long; e-mail its owner once."""
    cutoff = now - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    reason = (
        f"Disabled on {now:%Y-%m-%d %H:%M} UTC: every delivery failed for more than "
        f"{settings.WEBHOOK_DISABLE_AFTER_HOURS:g} hours."
    )
    disabled = WebhookSubscription.objects.filter(
        pk=sub_id,
        is_active=True,
        failing_since__lte=cutoff,
        failure_streak__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES,
    ).update(is_active=False, disabled_reason=reason, updated_at=now)
    if not disabled:
        return False
    sub = WebhookSubscription.objects.select_related("owner").get(pk=sub_id)
    WebhookDelivery.objects.filter(
        subscription_id=sub_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
    ).update(status=WebhookDelivery.Status.DEAD, last_error="The subscription was disabled.", updated_at=now)
    logger.warning("webhook subscription %s disabled after %s failures", sub_id, sub.failure_streak)
    if sub.owner.email:
        try:
            send_mail(
                subject="A webhook endpoint of yours was disabled",
                message=(
                    f"Your webhook endpoint {sub.url} failed {sub.failure_streak} times in a row since "
                    f"{sub.failing_since:%Y-%m-%d %H:%M} UTC, so PMS-Webapp stopped sending to it.\n\n"
                    "Fix the endpoint, then re-activate the subscription in the admin (Integrations > Webhook "
                    "subscriptions) or through the API; dead deliveries can be retried there.\n"
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[sub.owner.email],
            )
        except Exception:  # noqa: BLE001 - the disabling stands even if the mail cannot go
            logger.exception("could not e-mail the owner of webhook subscription %s", sub_id)
    return True


def release_stale_claims(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    lease = timedelta(seconds=max(5.0, 2 * float(settings.WEBHOOK_TIMEOUT)))
    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.IN_PROGRESS, claimed_at__lt=now - lease).update(
        status=WebhookDelivery.Status.RETRYING, next_attempt_at=now, updated_at=now
    )


def deliveries_run_due(*, now: datetime | None = None, limit: int = 200) -> list[Any]:
    """The sweeper: every delivery whose time has come (also the backstop when the broker was down)."""
    now = now or timezone.now()
    release_stale_claims(now=now)
    ids = list(
        WebhookDelivery.objects.filter(status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING])
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return [delivery_attempt(delivery_id=pk, now=now) for pk in ids]
