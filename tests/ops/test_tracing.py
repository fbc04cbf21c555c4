"""OpenTelemetry: one booking made through the API is one trace, from the web request through the
outbox dispatch and the delivery task in a real Celery worker to the call to the platform.

The web side (this process) exports to an in-memory exporter; the worker exports over OTLP/HTTP to a
local collector stand-in (a tiny HTTP server decoding the protobuf export requests)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from apps.core import tracing
from tests.api.conftest import client_for
from tests.celery_worker import own_queue, start_worker, stop_worker, wait_until_ready
from tests.channels.conftest import _clean_channel_redis, bcom, listing  # noqa: F401 - fixtures
from tests.factories import future

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


class Collector:
    def __init__(self) -> None:
        self.spans: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = ExportTraceServiceRequest()
                req.ParseFromString(body)
                for rs in req.resource_spans:
                    attrs = {a.key: a.value.string_value for a in rs.resource.attributes}
                    for ss in rs.scope_spans:
                        for span in ss.spans:
                            outer.spans.append(
                                {
                                    "service": attrs.get("service.name"),
                                    "trace_id": span.trace_id.hex(),
                                    "name": span.name,
                                }
                            )
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def web_spans():
    exporter = InMemorySpanExporter()
    assert tracing.tracing_setup(service="web", exporter=exporter, simple=True)
    yield exporter
    tracing.tracing_teardown()


def test_one_booking_is_one_trace_across_web_and_worker(alice, prop, listing, bcom, web_spans):  # noqa: F811
    collector = Collector()
    with own_queue() as queue:
        worker = start_worker(
            queue,
            extra_env={"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "200"},
        )
        try:
            wait_until_ready(worker)
            api = client_for(alice)
            response = api.post(
                "/api/v1/bookings/",
                {"property": prop.pk, "check_in": str(future(15)), "check_out": str(future(17)), "guests": 2},
                format="json",
            )
            assert response.status_code == 201, response.content
            server = [
                s for s in web_spans.get_finished_spans() if s.attributes.get("http.route", "").startswith("api/")
            ]
            assert server, [s.name for s in web_spans.get_finished_spans()]
            trace_id = f"{server[-1].context.trace_id:032x}"
            published = [s for s in web_spans.get_finished_spans() if s.name.startswith("apply_async/")]
            assert any(f"{s.context.trace_id:032x}" == trace_id for s in published)

            wanted = {"run/core.dispatch_sync_event", "run/channels.deliver"}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                in_trace = [s for s in collector.spans if s["trace_id"] == trace_id]
                names = {s["name"] for s in in_trace}
                if wanted <= names and any(s["name"] == "POST" for s in in_trace):
                    break
                time.sleep(0.2)
            in_trace = [s for s in collector.spans if s["trace_id"] == trace_id]
            names = {s["name"] for s in in_trace}
            assert wanted <= names, sorted(names)
            assert any(s["name"] == "POST" for s in in_trace), "the platform call is in the trace"
            assert {s["service"] for s in in_trace} == {"pms-worker"}
            print(f"trace {trace_id}: {len(server)} web span(s), {len(in_trace)} worker span(s): {sorted(names)}")
        finally:
            stop_worker(worker)
            collector.close()
