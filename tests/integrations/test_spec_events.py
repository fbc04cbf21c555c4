"""The spec's events (section 4.1) and its sync latency metric, measured as the spec means them."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from apps.bookings import services as booking_services
from apps.channels.inbound import reservations_pull
from apps.channels.models import Delivery
from apps.core.models import SyncEvent
from apps.integrations.models import WebhookDelivery
from apps.sandbox import booking_com as sim
from apps.sandbox.models import SimFault
from tests.factories import future

from .conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def _latency_sum_and_count(platform: str) -> tuple[float, float]:
    total = REGISTRY.get_sample_value("pms_sync_latency_seconds_sum", {"platform": platform}) or 0.0
    count = REGISTRY.get_sample_value("pms_sync_latency_seconds_count", {"platform": platform}) or 0.0
    return total, count


def test_a_simulator_reservation_yields_booking_received_and_sync_completed(alice, prop, listing, bcom, receiver):
    sub = client_for(alice).post(
        "/api/v1/webhook-subscriptions/",
        {"url": receiver.url, "event_types": ["channel.booking_received", "sync.completed"]},
        format="json",
    )
    assert sub.status_code == 201
    res = sim.create_reservation(listing=listing, check_in=future(20), check_out=future(23), first_name="Ana")
    out = reservations_pull(connection_id=bcom.pk)
    assert out.created == 1

    received = SyncEvent.objects.get(event_type="channel.booking_received")
    assert received.property_id == prop.pk and received.source == "booking_com"
    assert received.payload["external_id"] == res.res_id and received.payload["connection_id"] == bcom.pk
    assert received.payload["check_in"] == str(future(20))
    # the booking's nights were pushed back to Booking.com (state-based): acknowledged -> sync.completed
    completed = SyncEvent.objects.filter(event_type="sync.completed", property_id=prop.pk)
    assert completed.exists()
    done = completed.first()
    assert done.payload["platform"] == "booking_com" and done.payload["attempts"] >= 1
    assert Delivery.objects.get(pk=done.payload["delivery_id"]).status == "succeeded"
    # ...and both reached the integrator
    types = {r.json["type"] for r in receiver.requests}
    assert {"channel.booking_received", "sync.completed"} <= types
    # a duplicate pull is not a second booking_received
    sim_res = res.__class__.objects.get(pk=res.pk)
    sim_res.new_acked_at = None
    sim_res.save(update_fields=["new_acked_at"])
    reservations_pull(connection_id=bcom.pk)
    assert SyncEvent.objects.filter(event_type="channel.booking_received").count() == 1


def test_a_failing_push_yields_sync_failed(prop, listing, bcom):
    SimFault.objects.create(kind="5xx", status_code=400)  # a permanent refusal (4xx) until removed
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(10), check_out=future(12), guests=1, status="confirmed"
    )
    dead = Delivery.objects.filter(connection=bcom, status="dead")
    failed = SyncEvent.objects.filter(event_type="sync.failed", property_id=prop.pk)
    assert dead.exists() and failed.exists()
    event = failed.first()
    assert event.payload["delivery_id"] in set(dead.values_list("pk", flat=True))
    assert event.payload["platform"] == "booking_com" and event.payload["error"]
    assert not SyncEvent.objects.filter(event_type="sync.completed", payload__delivery_id=event.payload["delivery_id"])
    # a sync.failed / sync.completed event never creates a channel delivery of its own
    assert not Delivery.objects.filter(event__event_type__in=["sync.failed", "sync.completed"]).exists()
    assert not WebhookDelivery.objects.exists()  # nobody subscribed


def test_sync_latency_metric_equals_commit_to_acknowledgement(prop, listing, bcom):
    before_sum, before_count = _latency_sum_and_count("booking_com")
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(40), check_out=future(43), guests=1, status="confirmed"
    )
    deliveries = list(Delivery.objects.filter(connection=bcom, status="succeeded").select_related("event"))
    assert deliveries
    measured = sum((d.delivered_at - d.event.created_at).total_seconds() for d in deliveries)
    after_sum, after_count = _latency_sum_and_count("booking_com")
    assert after_count - before_count == len(deliveries)
    assert after_sum - before_sum == pytest.approx(measured, abs=0.05 * len(deliveries))
    # what the integrator is told agrees with the metric
    told = sum(e.payload["latency_seconds"] for e in SyncEvent.objects.filter(event_type="sync.completed"))
    assert told == pytest.approx(measured, abs=0.01 * len(deliveries))
