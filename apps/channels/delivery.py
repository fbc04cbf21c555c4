"""Outbound delivery: one attempt of one Delivery row, with breaker, rate limit, retries, dead letters.

The row is claimed by compare-and-swap (pending/retrying -> in_progress), the core's calendar is
read, then the adapter talks to the platform with no database lock held. The outcome is written
afterwards. Breaker and rate-limit refusals reschedule without spending an attempt.

A claim is a lease: while the attempt runs, a heartbeat renews ``claimed_at`` every quarter lease;
a claim not renewed for ``claim_lease()`` (twice ``CHANNEL_HTTP_TIMEOUT``, at least 5 s) belongs to a
worker that died (kill -9, lost database session) and the sweeper takes it over within seconds.
Pushes are state-based, so an attempt repeated after a takeover is always correct. With Redis down
(breakers, rate limits) an attempt is rescheduled, never lost.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.models import SyncEvent
from apps.core.observability import record_delivery, record_sync_latency
from apps.core.outbox import event_emit

from . import breaker, ratelimit
from .adapters import get_adapter
from .adapters.base import AdapterError, ErrorKind
from .models import ChannelAlert, ChannelConnection, Delivery
from .selectors import calendar_states
from .services import alert_create

logger = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 5.0


def claim_lease() -> timedelta:
    """How long a claim holds without a heartbeat; beyond that its worker is taken for dead."""
    return timedelta(seconds=max(5.0, 2 * float(settings.CHANNEL_HTTP_TIMEOUT)))


class _Heartbeat:
    """Renews the claim of one delivery while its attempt runs (own thread, own database connection;
    a beat that would wait for a row lock is skipped)."""

    def __init__(self, delivery_id: int) -> None:
        self.delivery_id = delivery_id
        self.interval = claim_lease().total_seconds() / 4
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"delivery-heartbeat-{delivery_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    with transaction.atomic():
                        mine = (
                            Delivery.objects.select_for_update(skip_locked=True)
                            .filter(pk=self.delivery_id, status=Delivery.Status.IN_PROGRESS)
                            .values_list("pk", flat=True)
                        )
                        Delivery.objects.filter(pk__in=list(mine)).update(claimed_at=timezone.now())
                except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
                    logger.warning("heartbeat of delivery %s failed", self.delivery_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only


@dataclass
class AttemptOutcome:
    status: str
    delay: float | None = None  # seconds until the next attempt, when rescheduled
    error: str = ""


def backoff_seconds(attempts: int, *, retry_after: float | None = None) -> float:
    """Exponential backoff with equal jitter, capped; never shorter than the platform's Retry-After."""
    base = settings.CHANNEL_RETRY_BASE_SECONDS * (2 ** max(0, attempts - 1))
    capped = min(settings.CHANNEL_RETRY_MAX_SECONDS, base)
    delay = capped / 2 + random.uniform(0, capped / 2)
    if retry_after:
        delay = max(delay, retry_after)
    return delay


def _schedule(delivery_id: int, delay: float | None) -> None:
    """Enqueue the next attempt after ``delay`` seconds (the due-deliveries sweeper is the backstop).
    Eager mode (tests) runs tasks inline, where a countdown means nothing: the sweeper retries."""
    if delay is None or settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from .outbox import enqueue_deliveries

    transaction.on_commit(lambda: enqueue_deliveries([delivery_id], countdown=max(0.1, delay)))


def _reschedule(delivery: Delivery, *, delay: float, reason: str, now: datetime) -> AttemptOutcome:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.RETRYING,
        next_attempt_at=now + timedelta(seconds=delay),
        last_error=reason[:2000],
        updated_at=now,
    )
    _schedule(delivery.pk, delay)
    return AttemptOutcome(Delivery.Status.RETRYING, delay, reason)


def _alert(conn: ChannelConnection, *, kind: str, message: str, details: dict) -> None:
    alert_create(connection=conn, property_id=conn.property_id, kind=kind, message=message, details=details)


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> AttemptOutcome:
    now = now or timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING])
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=Delivery.Status.IN_PROGRESS, claimed_at=timezone.now(), updated_at=now)
    )
    if not claimed:
        return AttemptOutcome("skipped")
    delivery = Delivery.objects.select_related("connection", "connection__property").get(pk=delivery_id)
    conn = delivery.connection
    if not conn.sync_enabled:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.DEAD, last_error="Sync is disabled for this connection.", last_error_kind="disabled"
        )
        return AttemptOutcome(Delivery.Status.DEAD, error="disabled")

    with _Heartbeat(delivery.pk):
        return _attempt(delivery, conn, now=now)


def _attempt(delivery: Delivery, conn: ChannelConnection, *, now: datetime) -> AttemptOutcome:
    platform = conn.platform
    try:
        allowed, wait = breaker.allow(platform)
        if not allowed:
            return _reschedule(delivery, delay=wait, reason=f"Circuit breaker for {platform} is open.", now=now)
        days = calendar_states(prop=conn.property, start=delivery.range_start, end=delivery.range_end)
        try:
            adapter = get_adapter(conn)
        except AdapterError as exc:  # no adapter for this platform: a dead letter the owner sees, not a crash
            return _failed(delivery, conn, exc, attempts=delivery.attempts + 1, now=timezone.now())
        cost = min(ratelimit.limits_for(platform)[1], max(1, adapter.request_cost(days)))
        wait = ratelimit.take(platform, cost=cost)
    except redis.RedisError as exc:  # breakers and buckets live in Redis: wait for it, lose nothing
        logger.warning("delivery %s waits for Redis: %s", delivery.pk, exc)
        return _reschedule(delivery, delay=REDIS_RETRY_SECONDS, reason=f"Redis unavailable: {exc}", now=now)
    if wait > 0:
        return _reschedule(delivery, delay=wait, reason=f"Rate limit for {platform}: waiting.", now=now)

    Delivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    attempts = delivery.attempts + 1
    started = time.monotonic()
    try:
        result = adapter.push_calendar(days)  # network I/O, no lock held
    except AdapterError as exc:
        record_delivery(platform=platform, seconds=time.monotonic() - started, error_kind=str(exc.kind))
        return _failed(delivery, conn, exc, attempts=attempts, now=timezone.now())
    except Exception as exc:  # a bug must not lose the delivery: retry it like a transient error
        logger.exception("delivery %s crashed", delivery.pk)
        err = AdapterError(f"Unexpected error: {type(exc).__name__}", kind=ErrorKind.RETRYABLE)
        record_delivery(platform=platform, seconds=time.monotonic() - started, error_kind="crash")
        return _failed(delivery, conn, err, attempts=attempts, now=timezone.now())
    record_delivery(platform=platform, seconds=time.monotonic() - started)
    done = timezone.now()
    _breaker_note(breaker.record_success, platform)
    latency = _sync_latency(delivery, done)
    with transaction.atomic():
        _sync_succeeded(delivery, conn, result, done=done, attempts=attempts, latency=latency)
    return AttemptOutcome(Delivery.Status.SUCCEEDED)


def _sync_latency(delivery: Delivery, done: datetime) -> float | None:
    """From the outbox event's commit (its creation, in the writing transaction) to the platform's
    acknowledgement: the spec's ``sync_latency_seconds``."""
    created = SyncEvent.objects.filter(pk=delivery.event_id).values_list("created_at", flat=True).first()
    if created is None:
        return None
    seconds = max(0.0, (done - created).total_seconds())
    record_sync_latency(platform=delivery.connection.platform, seconds=seconds)
    return seconds


def _sync_succeeded(delivery, conn, result, *, done: datetime, attempts: int, latency: float | None) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SUCCEEDED,
        delivered_at=done,
        http_status=result.http_status,
        latency_ms=result.latency_ms,
        requests_sent=F("requests_sent") + result.requests,
        last_error="; ".join(result.warnings)[:2000],
        last_error_kind="",
        next_attempt_at=None,
        updated_at=done,
    )
    ChannelConnection.objects.filter(pk=conn.pk).update(
        last_sync_at=done, sync_status=ChannelConnection.SyncStatus.OK, last_error=""
    )
    event_emit(
        event_type=SyncEvent.Type.SYNC_COMPLETED,
        entity_type="channel_delivery",
        entity_id=delivery.pk,
        property_id=conn.property_id,
        source=conn.platform,
        payload={
            **_sync_payload(delivery, conn, attempts=attempts),
            "latency_seconds": round(latency, 3) if latency is not None else None,
        },
    )


def _sync_payload(delivery: Delivery, conn: ChannelConnection, *, attempts: int) -> dict:
    return {
        "property_id": conn.property_id,
        "platform": conn.platform,
        "connection_id": conn.pk,
        "delivery_id": delivery.pk,
        "range_start": delivery.range_start,
        "range_end": delivery.range_end,
        "attempts": attempts,
    }


def _failed(delivery: Delivery, conn: ChannelConnection, exc: AdapterError, *, attempts: int, now: datetime):
    platform = conn.platform
    if exc.kind in (ErrorKind.RETRYABLE, ErrorKind.RATE_LIMITED):
        _breaker_note(breaker.record_failure, platform)
    message = str(exc)[:2000]
    ChannelConnection.objects.filter(pk=conn.pk).update(
        sync_status=ChannelConnection.SyncStatus.ERROR, last_error=message
    )
    common = {
        "last_error": message,
        "last_error_kind": str(exc.kind),
        "http_status": exc.http_status,
        "updated_at": now,
    }
    give_up = exc.kind in (ErrorKind.AUTH, ErrorKind.PERMANENT) or attempts >= settings.CHANNEL_DELIVERY_MAX_ATTEMPTS
    if give_up:
        with transaction.atomic():
            Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DEAD, next_attempt_at=None, **common)
            event_emit(
                event_type=SyncEvent.Type.SYNC_FAILED,
                entity_type="channel_delivery",
                entity_id=delivery.pk,
                property_id=conn.property_id,
                source=conn.platform,
                payload={
                    **_sync_payload(delivery, conn, attempts=attempts),
                    "error_kind": str(exc.kind),
                    "error": message,
                },
            )
        _alert(
            conn,
            kind=ChannelAlert.Kind.AUTH if exc.kind == ErrorKind.AUTH else ChannelAlert.Kind.DEAD_LETTER,
            message=f"Delivery {delivery.pk} to {conn.get_platform_display()} gave up after {attempts} "
            f"attempt(s): {message}",
            details={"delivery_id": delivery.pk, "kind": str(exc.kind)},
        )
        logger.warning("delivery %s dead: %s", delivery.pk, message)
        return AttemptOutcome(Delivery.Status.DEAD, error=message)
    delay = backoff_seconds(attempts, retry_after=exc.retry_after)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.RETRYING, next_attempt_at=now + timedelta(seconds=delay), **common
    )
    _schedule(delivery.pk, delay)
    return AttemptOutcome(Delivery.Status.RETRYING, delay, message)


def _breaker_note(record, platform: str) -> None:
    """Tell the breaker; with Redis down the outcome is still written (the breaker just misses it)."""
    try:
        record(platform)
    except redis.RedisError as exc:
        logger.warning("circuit breaker of %s not updated (Redis unavailable): %s", platform, exc)


def delivery_retry(*, delivery_id: int) -> bool:
    """Put a dead letter back in the queue (admin action). Returns whether it was dead."""
    changed = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.DEAD).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=None, updated_at=timezone.now()
    )
    if changed:
        from .outbox import enqueue_deliveries

        transaction.on_commit(lambda: enqueue_deliveries([delivery_id]))
    return bool(changed)


def release_stale_claims(*, now: datetime | None = None) -> int:
    """A worker that died mid-attempt leaves its row in_progress and stops renewing its claim; give the
    row back once the claim's lease ran out (seconds, not minutes)."""
    now = now or timezone.now()
    released = Delivery.objects.filter(status=Delivery.Status.IN_PROGRESS, claimed_at__lt=now - claim_lease()).update(
        status=Delivery.Status.RETRYING, next_attempt_at=now, updated_at=now
    )
    if released:
        logger.warning("%d delivery claim(s) of dead workers taken over", released)
    return released


def deliveries_run_due(*, now: datetime | None = None, limit: int = 200) -> list[AttemptOutcome]:
    """The sweeper: attempt every delivery whose time has come."""
    from .selectors import due_delivery_ids

    now = now or timezone.now()
    release_stale_claims(now=now)
    return [delivery_attempt(delivery_id=pk, now=now) for pk in due_delivery_ids(now=now, limit=limit)]
