"""Operations: correlation ids, structured logs and Prometheus metrics.

Correlation ids
    Every request gets an id (a sane ``X-Request-ID`` from the caller, else a new UUID), echoed in the
    ``X-Request-ID`` response header. Tasks enqueued while handling it carry it in the Celery message
    header ``request_id``; a task without one uses its own task id. The ids live in context variables
    and ``ContextFilter`` copies them onto every log record (``request_id``, ``task_id``, ``task_name``).

Logs
    ``JsonFormatter`` writes one JSON object per line. ``settings.LOG_FORMAT`` (json|plain) picks the
    console formatter. Celery is told not to touch logging (``setup_logging`` is connected), so worker
    and beat log through Django's ``LOGGING`` too. Both formatters pass every line through
    ``apps.core.logscrub.scrub`` (guest-link tokens, secret query parameters, credentials).

Metrics
    ``GET /metrics`` (Prometheus text format) with ``Authorization: Bearer $METRICS_TOKEN``, or from
    an unproxied loopback caller when ``METRICS_ALLOW_LOOPBACK`` is on (default only with DEBUG).
    With ``PROMETHEUS_MULTIPROC_DIR`` set in the process environment (before start;
    an empty directory shared by every gunicorn and Celery worker on the host), values from all
    processes are aggregated; otherwise each process exposes its own. Breaker states and the outbox
    backlog are read from Redis / PostgreSQL at scrape time, so they are right in any process.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from celery import signals as celery_signals
from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from apps.core.logscrub import scrub

logger = logging.getLogger(__name__)

# --- correlation ids ------------------------------------------------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "request_id"  # Celery message header carrying the originating request's id
_SANE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}$")

request_id_var: ContextVar[str | None] = ContextVar("pms_request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("pms_task_id", default=None)
task_name_var: ContextVar[str | None] = ContextVar("pms_task_name", default=None)


def sane_request_id(value: str | None) -> str | None:
    """The caller's id if it is short, printable and safe to log/echo; otherwise None."""
    if value and _SANE_ID.fullmatch(value):
        return value
    return None


def current_request_id() -> str | None:
    return request_id_var.get()


# --- logging --------------------------------------------------------------------------------------

_RECORD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "ids"}
_CONTEXT_ATTRS = ("request_id", "task_id", "task_name", "trace_id", "span_id")


class ContextFilter(logging.Filter):
    """Adds the current correlation ids to every record (None outside a request/task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.task_id = task_id_var.get()
        record.task_name = task_name_var.get()
        from .tracing import current_trace_ids

        record.trace_id, record.span_id = current_trace_ids()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, correlation ids, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for attr in _CONTEXT_ATTRS:
            value = getattr(record, attr, None)
            if value:
                data[attr] = value
        for key, value in record.__dict__.items():  # extra={...}
            if key not in _RECORD_ATTRS and key not in _CONTEXT_ATTRS and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack_info"] = self.formatStack(record.stack_info)
        return scrub(json.dumps(data, default=str, ensure_ascii=False))


class PlainFormatter(logging.Formatter):
    """The human format, with the correlation id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid, tid = getattr(record, "request_id", None), getattr(record, "task_id", None)
        record.ids = f" [{rid}]" if rid and (not tid or rid == tid) else (f" [{rid} task={tid}]" if rid else "")
        return scrub(super().format(record))


# --- metrics --------------------------------------------------------------------------------------

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_LATENCY = Histogram(
    "pms_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name and status class.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
DELIVERY_LATENCY = Histogram(
    "pms_channel_delivery_duration_seconds",
    "Time of one outbound delivery attempt to a platform (network included), by outcome.",
    ["platform", "outcome"],
    buckets=LATENCY_BUCKETS,
)
API_LATENCY = Histogram(
    "pms_api_request_duration_seconds",
    "The spec's api_request_duration: time to answer an integrator API request (/api/), by route and status.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
CHANNEL_API_ERRORS = Counter(
    "pms_channel_api_errors",
    "The spec's channel_api_errors: failed platform calls and refused platform messages, by platform, "
    "error kind and direction (outbound pushes and pulls, inbound webhooks).",
    ["platform", "kind", "direction"],
)
SYNC_ATTEMPTS = Counter(
    "pms_sync_attempts",
    "Outbound calendar push attempts by platform and outcome (success, failure): sync_error_rate's basis.",
    ["platform", "outcome"],
)
WEBHOOK_LATENCY = Histogram(
    "pms_webhook_processing_time_seconds",
    "The spec's webhook_processing_time: time to handle an inbound platform webhook, by platform and status.",
    ["platform", "status"],
    buckets=LATENCY_BUCKETS,
)
CALENDAR_LOCK_HELD = Histogram(
    "pms_calendar_lock_duration_seconds",
    "The spec's calendar_lock_duration: how long property row locks are held (taken to commit or rollback).",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
BOOKING_FUNNEL = Counter(
    "pms_booking_funnel",
    "Guest-page funnel steps (search, property_view, checkout, confirmed), counted without personal data.",
    ["step"],
)
SYNC_LATENCY = Histogram(
    "pms_sync_latency_seconds",
    "The spec's sync latency: from the outbox event's commit to the platform's acknowledgement, by platform.",
    ["platform"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
WEBHOOK_DELIVERY_LATENCY = Histogram(
    "pms_webhook_delivery_duration_seconds",
    "Time of one outbound integrator webhook attempt (network included), by outcome.",
    ["outcome"],
    buckets=LATENCY_BUCKETS,
)
LOCK_WAIT = Histogram(
    "pms_property_lock_wait_seconds",
    "Time spent acquiring property row locks (apps.core.db.lock_properties).",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


def record_delivery(*, platform: str, seconds: float, error_kind: str | None = None) -> None:
    """Called once per finished delivery attempt (apps.channels.delivery)."""
    try:
        DELIVERY_LATENCY.labels(platform=platform, outcome=error_kind or "success").observe(seconds)
        SYNC_ATTEMPTS.labels(platform=platform, outcome="failure" if error_kind else "success").inc()
        if error_kind:
            CHANNEL_API_ERRORS.labels(platform=platform, kind=error_kind, direction="outbound").inc()
    except Exception:  # metrics must never break a delivery
        logger.exception("could not record delivery metrics")


def record_channel_error(*, platform: str, kind: str, direction: str) -> None:
    """A refused inbound message or a failed pull (outbound pushes are counted by record_delivery)."""
    try:
        CHANNEL_API_ERRORS.labels(platform=platform, kind=kind, direction=direction).inc()
    except Exception:
        logger.exception("could not record a channel error")


FUNNEL_STEPS = ("search", "property_view", "checkout", "confirmed")
FUNNEL_TTL_SECONDS = 3 * 86400


def _funnel_key(step: str, day) -> str:
    return f"funnel:{day.isoformat()}:{step}"


def funnel_step(step: str) -> None:
    """Count one guest-page funnel step: a Prometheus counter per process and a per-day counter in the
    cache (Redis) that every process shares, from which ``pms_booking_conversion_rate`` is read. No
    visitor, session or booking is identified."""
    if step not in FUNNEL_STEPS:
        return
    try:
        BOOKING_FUNNEL.labels(step=step).inc()
        from django.core.cache import cache
        from django.utils import timezone

        key = _funnel_key(step, timezone.now().date())
        if not cache.add(key, 1, FUNNEL_TTL_SECONDS):
            cache.incr(key)
    except Exception:  # noqa: BLE001 - Redis down: the funnel misses a count, the guest notices nothing
        logger.warning("could not count funnel step %s", step, exc_info=True)


def funnel_today() -> dict[str, int]:
    from django.core.cache import cache
    from django.utils import timezone

    today = timezone.now().date()
    values = cache.get_many([_funnel_key(step, today) for step in FUNNEL_STEPS])
    return {step: int(values.get(_funnel_key(step, today)) or 0) for step in FUNNEL_STEPS}


class FunnelCollector:
    """``pms_booking_conversion_rate`` (today's confirmed direct bookings per search, UTC day) and the
    day's count per step, read from the shared per-day counters."""

    def collect(self):
        counts = funnel_today()
        steps = GaugeMetricFamily(
            "pms_booking_funnel_today", "Guest-page funnel steps counted today (UTC).", labels=["step"]
        )
        for step, n in counts.items():
            steps.add_metric([step], n)
        yield steps
        rate = counts["confirmed"] / counts["search"] if counts["search"] else 0.0
        yield GaugeMetricFamily(
            "pms_booking_conversion_rate",
            "The spec's booking_conversion_rate: confirmed direct bookings per guest search, today (UTC).",
            value=rate,
        )


def lock_held_begin() -> None:
    """Called by ``lock_properties`` when it has the locks: time them until the transaction ends."""
    from django.db import connection, transaction

    if getattr(connection, "_pms_lock_held_since", None) is not None and any(
        entry[1] is lock_held_end for entry in connection.run_on_commit
    ):
        return  # this transaction's locks are timed already (a second lock_properties call)
    connection._pms_lock_held_since = time.perf_counter()
    transaction.on_commit(lock_held_end)


def lock_held_end() -> None:
    """On commit (``on_commit``), or when the outermost retried transaction returns or raises
    (``retry_transaction``), observe how long the locks were held."""
    from django.db import connection

    since = getattr(connection, "_pms_lock_held_since", None)
    if since is None:
        return
    connection._pms_lock_held_since = None
    try:
        CALENDAR_LOCK_HELD.observe(time.perf_counter() - since)
    except Exception:
        logger.exception("could not record lock duration")


def record_sync_latency(*, platform: str, seconds: float) -> None:
    try:
        SYNC_LATENCY.labels(platform=platform).observe(seconds)
    except Exception:  # metrics must never break a delivery
        logger.exception("could not record sync latency")


def record_webhook_delivery(*, seconds: float, outcome: str) -> None:
    try:
        WEBHOOK_DELIVERY_LATENCY.labels(outcome=outcome).observe(seconds)
    except Exception:
        logger.exception("could not record webhook metrics")


@contextlib.contextmanager
def lock_wait_timer() -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        LOCK_WAIT.observe(time.perf_counter() - started)


#: Collectors read at scrape time (state in Redis or PostgreSQL), each in its own registry so one
#: failing (Redis down) does not lose the rest. Apps add theirs with ``register_scrape_collector``.
_SCRAPE_COLLECTORS: list[Callable[[], Any]] = []


def register_scrape_collector(factory: Callable[[], Any]) -> None:
    """Add a collector class (or factory) to every /metrics scrape (apps call this in ``ready()``)."""
    if factory not in _SCRAPE_COLLECTORS:
        _SCRAPE_COLLECTORS.append(factory)


class OutboxCollector:
    """``pms_outbox_pending_events`` and the age of the oldest one (read from PostgreSQL)."""

    def collect(self):
        from django.db.models import Count, Min
        from django.utils import timezone

        from .models import SyncEvent

        agg = (
            SyncEvent.objects.filter(processed_at__isnull=True)
            .order_by()
            .aggregate(n=Count("pk"), oldest=Min("created_at"))
        )
        yield GaugeMetricFamily("pms_outbox_pending_events", "Outbox events not processed yet.", value=agg["n"])
        age = (timezone.now() - agg["oldest"]).total_seconds() if agg["oldest"] else 0.0
        yield GaugeMetricFamily(
            "pms_outbox_oldest_pending_age_seconds", "Age of the oldest unprocessed outbox event.", value=age
        )


class DatabaseCollector:
    """``pms_db_connections{state}``: this database's PostgreSQL sessions by state (the pool's view from
    the server side: active, idle, idle in transaction), and ``pms_db_max_connections``."""

    def collect(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() GROUP BY 1"
            )
            rows = cursor.fetchall()
            cursor.execute("SHOW max_connections")
            limit = int(cursor.fetchone()[0])
        sessions = GaugeMetricFamily(
            "pms_db_connections", "PostgreSQL sessions on this database, by state.", labels=["state"]
        )
        for state, n in rows:
            sessions.add_metric([state], n)
        yield sessions
        yield GaugeMetricFamily("pms_db_max_connections", "PostgreSQL's max_connections.", value=limit)


def _scrape_time_metrics() -> bytes:
    out = []
    builtin = [OutboxCollector(), FunnelCollector(), DatabaseCollector()]
    for collector in [*builtin, *(factory() for factory in _SCRAPE_COLLECTORS)]:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)
        try:
            out.append(generate_latest(registry))
        except Exception as exc:  # Redis or DB down: report it, keep the rest of the scrape
            logger.warning("metrics collector %s failed: %s", type(collector).__name__, exc)
            name = type(collector).__name__
            out.append(
                f'# TYPE pms_metrics_collector_up gauge\npms_metrics_collector_up{{collector="{name}"}} 0\n'.encode()
            )
    return b"".join(out)


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].strip().encode(), token.encode()):
            return True
    if not settings.METRICS_ALLOW_LOOPBACK:
        return False
    # Loopback only when nothing forwarded the request (a local reverse proxy must not make it public).
    forwarded = any(h in request.headers for h in ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host"))
    return request.META.get("REMOTE_ADDR") in ("127.0.0.1", "::1") and not forwarded


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        return HttpResponseForbidden("Forbidden\n", content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry) + _scrape_time_metrics()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


# --- middleware -----------------------------------------------------------------------------------


class RequestContextMiddleware:
    """First in MIDDLEWARE: sets the request's correlation id, echoes it, times the request.

    The id stays set until ``request_finished`` (after Django's own 4xx/5xx ``django.request`` log
    line, which is written outside the middleware chain), then is cleared.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or str(uuid.uuid4())
        request.request_id = rid  # type: ignore[attr-defined]
        request_id_var.set(rid)
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = rid
            return response
        finally:
            match = getattr(request, "resolver_match", None)
            route = (match.view_name or match.route or "unnamed") if match else "unmatched"
            seconds = time.perf_counter() - started
            HTTP_LATENCY.labels(route=route, method=_method(request), status=_status_class(status)).observe(seconds)
            if route.startswith("api:"):
                API_LATENCY.labels(route=route, method=_method(request), status=_status_class(status)).observe(seconds)


@receiver(request_finished, dispatch_uid="pms-observability-request-finished")
def _clear_request_id(**kwargs: Any) -> None:
    request_id_var.set(None)


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _method(request: HttpRequest) -> str:
    return request.method if request.method in _METHODS else "other"


# --- Celery ---------------------------------------------------------------------------------------


@celery_signals.setup_logging.connect(weak=False)
def _celery_keep_django_logging(**kwargs: Any) -> None:
    """Connected = Celery leaves logging alone; worker and beat use settings.LOGGING."""


@celery_signals.before_task_publish.connect(weak=False)
def _propagate_request_id(headers: dict | None = None, **kwargs: Any) -> None:
    rid = request_id_var.get()
    if rid and headers is not None:
        headers.setdefault(TASK_HEADER, rid)


@celery_signals.task_prerun.connect(weak=False)
def _task_context_enter(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    req = getattr(task, "request", None)
    headers = getattr(req, "headers", None) or {}
    propagated = sane_request_id(getattr(req, TASK_HEADER, None) or headers.get(TASK_HEADER))
    # eager tasks run inside the caller's context and keep its id
    rid = propagated or request_id_var.get() or task_id
    tokens = (request_id_var.set(rid), task_id_var.set(task_id), task_name_var.set(getattr(task, "name", None)))
    if req is not None:
        req._pms_log_tokens = tokens


@celery_signals.task_postrun.connect(weak=False)
def _task_context_exit(task: Any = None, **kwargs: Any) -> None:
    req = getattr(task, "request", None)
    tokens = getattr(req, "_pms_log_tokens", None)
    if not tokens:
        return
    req._pms_log_tokens = None
    for var, token in zip((request_id_var, task_id_var, task_name_var), tokens, strict=True):
        with contextlib.suppress(ValueError):  # set in another context: nothing to restore
            var.reset(token)
