"""OpenTelemetry tracing: off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

When it is, the official instrumentations trace Django requests, Celery publishes and task runs,
psycopg queries and outgoing ``requests`` calls (platform pushes and pulls, integrator webhooks), and
spans are exported over OTLP/HTTP (``<endpoint>/v1/traces``). The trace context travels in Celery's
message headers and in the ``traceparent`` header of outgoing HTTP calls, so one booking is one trace:
the API request, the outbox dispatch in the worker, the delivery task and the platform call. Log
records carry ``trace_id`` / ``span_id`` (``ContextFilter``).

Called by ``pms/wsgi.py`` (web) and the Celery worker's start signals (``pms/celery.py``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_configured = False


def tracing_setup(*, service: str, endpoint: str | None = None, exporter: Any = None, simple: bool = False) -> bool:
    """Install the tracer provider and the instrumentations once per process. ``exporter`` (tests)
    replaces the OTLP exporter; ``simple`` exports each span when it ends instead of in batches.
    Returns whether tracing is on."""
    global _configured
    from django.conf import settings

    endpoint = endpoint if endpoint is not None else settings.OTEL_EXPORTER_OTLP_ENDPOINT
    with _lock:
        if _configured:
            return True
        if not endpoint and exporter is None:
            return False
        from opentelemetry import trace
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
        from opentelemetry.instrumentation.requests import RequestsInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces", timeout=5)
        provider = TracerProvider(resource=Resource.create({"service.name": f"{settings.OTEL_SERVICE_NAME}-{service}"}))
        provider.add_span_processor(SimpleSpanProcessor(exporter) if simple else BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        DjangoInstrumentor().instrument(is_sql_commentor_enabled=False)
        CeleryInstrumentor().instrument()
        PsycopgInstrumentor().instrument(enable_commenter=False)
        RequestsInstrumentor().instrument()
        _configured = True
        logger.info("tracing on: %s spans exported to %s", service, endpoint or type(exporter).__name__)
        return True


def tracing_teardown() -> None:
    """Undo ``tracing_setup`` (tests): uninstrument and stop exporting. The global provider stays
    set (OpenTelemetry allows it once per process), shut down."""
    global _configured
    with _lock:
        if not _configured:
            return
        from opentelemetry import trace
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
        from opentelemetry.instrumentation.requests import RequestsInstrumentor

        for instrumentor in (DjangoInstrumentor(), CeleryInstrumentor(), PsycopgInstrumentor(), RequestsInstrumentor()):
            instrumentor.uninstrument()
        provider = trace.get_tracer_provider()
        if hasattr(provider, "shutdown"):
            provider.shutdown()
        _configured = False


def tracing_flush(timeout_millis: int = 5000) -> None:
    """Export what is buffered (a worker shutting down, a test about to look)."""
    if not _configured:
        return
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    flush = getattr(provider, "force_flush", None)
    if flush is not None:
        flush(timeout_millis)


def current_trace_ids() -> tuple[str | None, str | None]:
    """(trace_id, span_id) of the current span as hex, or (None, None)."""
    if not _configured:
        return None, None
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None, None
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
