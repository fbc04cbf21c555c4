"""What every platform simulator shares: fault injection and the request log.

``simulator_view(SIMULATOR)`` wraps a simulator's view: it consumes a matching ``SimFault`` (latency,
5xx, 429 with Retry-After, timeout, malformed body, down) before the view runs, and logs every
request with its answer as a ``SimRequest``. Faults are rows, so tests, the demo's admin and
management commands switch them on and off the same way for every platform.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .models import SimFault, SimRequest

TIMEOUT_SLEEP_SECONDS = 30.0


def take_fault(simulator: str, path: str) -> SimFault | None:
    """The first active fault of ``simulator`` matching ``path`` that still has uses left (consumed atomically)."""
    candidates = SimFault.objects.filter(simulator=simulator, active=True).filter(
        Q(remaining__isnull=True) | Q(remaining__gt=0)
    )
    for fault in candidates.order_by("id"):
        if fault.path_contains and fault.path_contains not in path:
            continue
        if fault.remaining is None:
            SimFault.objects.filter(pk=fault.pk).update(hits=F("hits") + 1)
            return fault
        if SimFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1, hits=F("hits") + 1
        ):
            return fault
    return None


def apply_fault(fault: SimFault, *, malformed: bytes, malformed_type: str) -> HttpResponse | None:
    """The response a fault answers with (None: go on to the view, e.g. after added latency)."""
    if fault.kind == SimFault.Kind.LATENCY:
        time.sleep(fault.latency_ms / 1000)
        return None
    if fault.kind == SimFault.Kind.TIMEOUT:
        time.sleep(fault.latency_ms / 1000 if fault.latency_ms else TIMEOUT_SLEEP_SECONDS)
        return HttpResponse("late", status=504)
    if fault.kind == SimFault.Kind.RATE_LIMIT:
        response = HttpResponse("Too Many Requests", status=429, content_type="text/plain")
        response["Retry-After"] = str(fault.retry_after)
        return response
    if fault.kind in (SimFault.Kind.ERROR_5XX, SimFault.Kind.DOWN):
        return HttpResponse("Service Unavailable", status=fault.status_code or 503, content_type="text/plain")
    if fault.kind == SimFault.Kind.MALFORMED:
        return HttpResponse(malformed, content_type=malformed_type)
    return None


def simulator_view(
    simulator: str,
    *,
    malformed: bytes = b'<?xml version="1.0"?><Response><Succ',
    malformed_type: str = "application/xml",
) -> Callable:
    """Decorator factory: faults first, then the view; every request logged for ``simulator``."""

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        @csrf_exempt
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            fault = take_fault(simulator, request.path)
            response = apply_fault(fault, malformed=malformed, malformed_type=malformed_type) if fault else None
            if response is None:
                response = func(request, *args, **kwargs)
            SimRequest.objects.create(
                simulator=simulator,
                method=request.method or "",
                path=request.get_full_path()[:300],
                status_code=response.status_code,
                body=request.body.decode("utf-8", "replace")[:20000],
                response=(response.content.decode("utf-8", "replace") if hasattr(response, "content") else "")[:5000],
                fault=fault.kind if fault else "",
            )
            return response

        return wrapper

    return decorate
