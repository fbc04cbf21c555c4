"""The channel manager's metrics: webhook latency by platform and the circuit breakers' state.

The metric objects live in ``apps.core.observability`` (one registry for the process); what needs the
channel manager's own knowledge (which platforms exist, the breakers in Redis) lives here and is
registered by ``ChannelsConfig.ready()``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from prometheus_client.core import GaugeMetricFamily

from apps.core.observability import WEBHOOK_LATENCY

from . import breaker
from .models import Platform

BREAKER_VALUES = {"closed": 0, "half_open": 1, "open": 2}


def _known_platform(platform: str) -> str:
    """A bounded label: unknown path segments are one "unknown" series, never one each."""
    return platform if platform in Platform.values else "unknown"


def timed_webhook(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator for an inbound webhook view: latency by platform and status class."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, platform: str, *args: Any, **kwargs: Any) -> HttpResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = view(request, platform, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            WEBHOOK_LATENCY.labels(platform=_known_platform(platform), status=f"{status // 100}xx").observe(
                time.perf_counter() - started
            )

    return wrapper


class BreakerCollector:
    """``pms_channel_breaker_state{platform}``: 0 closed, 1 half-open, 2 open, -1 unknown (Redis
    unavailable: the scrape still answers) (read from Redis)."""

    def collect(self):
        state = GaugeMetricFamily(
            "pms_channel_breaker_state",
            "Circuit breaker per platform: 0 closed, 1 half-open, 2 open.",
            labels=["platform"],
        )
        failures = GaugeMetricFamily(
            "pms_channel_breaker_failures", "Consecutive failures counted by the breaker.", labels=["platform"]
        )
        for platform in Platform.values:
            if platform == Platform.ICAL:
                continue
            try:
                st = breaker.state(platform)
            except Exception:  # noqa: BLE001 - Redis unavailable
                state.add_metric([platform], -1)
                continue
            state.add_metric([platform], BREAKER_VALUES.get(st.state, -1))
            failures.add_metric([platform], st.failures)
        yield state
        yield failures


SYNC_ERROR_WINDOW_SECONDS = 300


class SyncErrorRateCollector:
    """``pms_sync_error_rate{platform}``: of the pushes whose latest attempt finished in the last five
    minutes, the share that failed (waiting to retry or dead) (read from PostgreSQL at scrape time, so
    every process agrees)."""

    def collect(self):
        from datetime import timedelta

        from django.db.models import Count, Q
        from django.utils import timezone

        from .models import Delivery

        since = timezone.now() - timedelta(seconds=SYNC_ERROR_WINDOW_SECONDS)
        failed = Q(status__in=[Delivery.Status.RETRYING, Delivery.Status.DEAD], attempts__gt=0)
        rows = (
            Delivery.objects.filter(updated_at__gte=since)
            .filter(failed | Q(status=Delivery.Status.SUCCEEDED))
            .values("connection__platform")
            .annotate(n=Count("pk"), bad=Count("pk", filter=failed))
            .order_by()
        )
        rate = GaugeMetricFamily(
            "pms_sync_error_rate",
            "The spec's sync_error_rate: failed share of the calendar pushes finished in the last 5 minutes.",
            labels=["platform"],
        )
        for row in rows:
            rate.add_metric([row["connection__platform"]], row["bad"] / row["n"] if row["n"] else 0.0)
        yield rate


class ChannelQueueCollector:
    """``pms_channel_queue_depth{platform}``: pushes waiting to go out (pending, retrying, in progress)."""

    def collect(self):
        from django.db.models import Count

        from .models import Delivery

        rows = (
            Delivery.objects.filter(
                status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING, Delivery.Status.IN_PROGRESS]
            )
            .values("connection__platform")
            .annotate(n=Count("pk"))
            .order_by()
        )
        depth = GaugeMetricFamily(
            "pms_channel_queue_depth", "Calendar pushes waiting to go out, by platform.", labels=["platform"]
        )
        found = {row["connection__platform"]: row["n"] for row in rows}
        for platform in Platform.values:
            if platform != Platform.ICAL:
                depth.add_metric([platform], found.get(platform, 0))
        yield depth
