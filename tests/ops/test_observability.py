"""Operations: correlation ids in JSON logs and Celery tasks, Prometheus metrics at /metrics."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from celery import shared_task
from prometheus_client import REGISTRY

from apps.availability import services as availability_services
from apps.bookings import services as booking_services
from apps.channels.models import Delivery
from apps.core.observability import (
    ContextFilter,
    JsonFormatter,
    current_request_id,
    task_id_var,
)
from pms.celery import app as celery_app
from tests.channels.conftest import _clean_channel_redis, bcom, listing  # noqa: F401
from tests.factories import future

SEEN: list[dict] = []


@shared_task(name="tests.ops.capture_context")
def capture_context() -> None:
    SEEN.append({"request_id": current_request_id(), "task_id": task_id_var.get()})
    logging.getLogger("tests.ops").warning("inside task")


@pytest.fixture
def json_log():
    """The root logger also writes JSON lines (our formatter + filter) into a buffer."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- correlation ids ------------------------------------------------------------------------------


def test_request_id_round_trips_and_is_in_the_json_log(client, json_log):
    rid = "req-" + uuid.uuid4().hex
    response = client.get("/webhooks/booking_com/", HTTP_X_REQUEST_ID=rid)  # GET: 405, logged by Django
    assert response.status_code == 405
    assert response["X-Request-ID"] == rid
    lines = [line for line in json_log() if line["logger"] == "django.request"]
    assert lines, json_log()
    assert lines[-1]["request_id"] == rid and lines[-1]["level"] == "WARNING"
    assert "Method Not Allowed" in lines[-1]["message"]
    assert current_request_id() is None  # cleared once the request finished


@pytest.mark.parametrize("bad", ["", "has space", "x" * 200, "<script>", "-leading-dash"])
def test_unsafe_request_id_is_replaced_by_a_uuid(client, bad):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=bad)
    assert response.status_code == 200
    assert str(uuid.UUID(response["X-Request-ID"])) == response["X-Request-ID"]


@pytest.mark.urls("tests.ops.urls")
def test_task_enqueued_in_a_request_runs_with_its_id_eager(client, json_log):
    SEEN.clear()
    rid = "eager-" + uuid.uuid4().hex
    response = client.get("/ops-test/enqueue/", HTTP_X_REQUEST_ID=rid)
    assert response.status_code == 200 and response["X-Request-ID"] == rid
    assert SEEN[0]["request_id"] == rid and SEEN[0]["task_id"]
    lines = {line["message"]: line for line in json_log() if line["logger"] == "tests.ops"}
    assert lines["inside task"]["request_id"] == rid
    assert lines["inside task"]["task_id"] == SEEN[0]["task_id"]
    assert lines["inside task"]["task_name"] == "tests.ops.capture_context"
    assert lines["in view"]["request_id"] == rid and "task_id" not in lines["in view"]  # restored after the task
    assert current_request_id() is None


@pytest.mark.urls("tests.ops.urls")
def test_task_published_in_a_request_carries_the_id_in_its_message_header(client):
    """The real publish path (not eager): the message on the broker has the request_id header."""
    queue = f"pms-ops-test-{uuid.uuid4().hex[:8]}"
    rid = "pub-" + uuid.uuid4().hex
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        assert client.get(f"/ops-test/enqueue/?queue={queue}", HTTP_X_REQUEST_ID=rid).status_code == 200
    finally:
        celery_app.conf.task_always_eager = old
    with celery_app.connection_for_read() as conn:
        simple = conn.SimpleQueue(queue)
        try:
            message = simple.get(timeout=5)
            message.ack()
            assert message.headers["request_id"] == rid
            assert message.headers["task"] == "tests.ops.capture_context"
        finally:
            simple.queue.delete()
            simple.close()


def test_task_without_a_request_uses_its_own_id(json_log):
    SEEN.clear()
    capture_context.delay()
    assert SEEN[0]["request_id"] == SEEN[0]["task_id"]
    assert current_request_id() is None


# --- /metrics -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_metrics_after_booking_block_and_delivery(client, prop, listing, bcom, settings):  # noqa: F811
    settings.METRICS_TOKEN = "scrape-token"  # noqa: S105
    lock_before = sample("pms_property_lock_wait_seconds_count")
    held_before = sample("pms_calendar_lock_duration_seconds_count")
    ok_before = sample("pms_channel_delivery_duration_seconds_count", platform="booking_com", outcome="success")
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(10), check_out=future(12), guests=2, status="confirmed"
    )
    availability_services.block_create(property_id=prop.pk, start_date=future(20), end_date=future(22))
    assert Delivery.objects.filter(connection=bcom, status=Delivery.Status.SUCCEEDED).exists()
    assert sample("pms_property_lock_wait_seconds_count") >= lock_before + 2
    assert sample("pms_calendar_lock_duration_seconds_count") == held_before + 2  # held: taken to commit
    from apps.bookings.errors import BookingConflict

    with pytest.raises(BookingConflict):  # a refused write holds the lock until its rollback: measured too
        booking_services.booking_create(property_id=prop.pk, check_in=future(10), check_out=future(11), guests=1)
    assert sample("pms_calendar_lock_duration_seconds_count") == held_before + 3
    assert sample("pms_channel_delivery_duration_seconds_count", platform="booking_com", outcome="success") > ok_before

    # a failed attempt: the platform answers with bad credentials
    bcom.set_secret("access_token", "wrong")
    bcom.save()
    availability_services.block_create(property_id=prop.pk, start_date=future(30), end_date=future(31))
    assert sample("pms_channel_api_errors_total", platform="booking_com", kind="auth", direction="outbound") >= 1

    client.post("/webhooks/booking_com/", data=b"{}", content_type="application/json")
    client.get("/healthz")
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for expected in (
        'pms_http_request_duration_seconds_count{method="GET",route="healthz",status="2xx"}',
        'pms_channel_delivery_duration_seconds_count{outcome="success",platform="booking_com"}',
        'pms_channel_api_errors_total{direction="outbound",kind="auth",platform="booking_com"}',
        'pms_webhook_processing_time_seconds_count{platform="booking_com",status="4xx"}',
        "pms_property_lock_wait_seconds_count",
        'pms_channel_breaker_state{platform="booking_com"} 0.0',
        'pms_channel_breaker_state{platform="airbnb"} 0.0',
        "pms_outbox_pending_events 0.0",
        "pms_outbox_oldest_pending_age_seconds 0.0",
    ):
        assert expected in text, expected


def test_metrics_shows_an_open_breaker(client, db, settings):
    from apps.channels import breaker

    settings.METRICS_ALLOW_LOOPBACK = True  # opened explicitly for unproxied loopback scrapers

    breaker.reset("expedia")
    try:
        for _ in range(10):
            breaker.record_failure("expedia")
        text = client.get("/metrics").content.decode()
        assert 'pms_channel_breaker_state{platform="expedia"} 2.0' in text
    finally:
        breaker.reset("expedia")


def test_metrics_refuses_non_local_callers_without_the_token(client, db, settings):
    settings.METRICS_TOKEN = ""
    # by default (DEBUG=0) even loopback needs the token: a local proxy may forward only X-Real-IP
    assert not settings.METRICS_ALLOW_LOOPBACK
    assert client.get("/metrics").status_code == 403
    settings.METRICS_ALLOW_LOOPBACK = True  # opened explicitly for loopback scrapers
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    # loopback behind a (local) reverse proxy is not a local caller, whatever header it forwards
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    assert client.get("/metrics", HTTP_X_REAL_IP="203.0.113.9").status_code == 403
    assert client.get("/metrics").status_code == 200  # loopback

    settings.METRICS_TOKEN = "s3cret-metrics-token"  # noqa: S105
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    ok = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert ok.status_code == 200 and b"pms_outbox_pending_events" in ok.content
