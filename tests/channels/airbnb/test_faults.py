"""Faults of the Airbnb simulator (SimFault rows, simulator "airbnb") and its own errors: 5xx, 429 with
Retry-After (injected and the app's real per-minute limit), timeouts, malformed answers, error shapes.
Retries, the breaker, and nothing lost."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.channels import breaker
from apps.channels.adapters import get_adapter
from apps.channels.adapters.base import AdapterError, DayState, ErrorKind
from apps.channels.delivery import deliveries_run_due
from apps.channels.models import Delivery
from apps.sandbox import airbnb as sim
from apps.sandbox.models import SimFault, SimRequest
from apps.sandbox.models.airbnb import AirbnbApp, AirbnbListing
from tests.factories import future

pytestmark = pytest.mark.django_db(transaction=True)


def _book(prop, start: int, nights: int = 2):
    return booking_services.booking_create(
        property_id=prop.pk, check_in=future(start), check_out=future(start + nights), guests=2, status="confirmed"
    )


def _closed(listing, start: int, nights: int) -> bool:
    return sim.nights_closed(listing, [future(start + i) for i in range(nights)])


def test_5xx_then_429_breaker_opens_and_closes_nothing_lost(abnb, ab_listing, prop, settings):
    settings.CHANNEL_BREAKER_THRESHOLD = 3
    settings.CHANNEL_BREAKER_COOLDOWN_SECONDS = 1.0
    start_pk = Delivery.objects.filter(connection=abnb).order_by("-pk").values_list("pk", flat=True).first()
    down = SimFault.objects.create(simulator="airbnb", kind="5xx", status_code=502, path_contains="calendar_operations")
    for i in range(4):
        _book(prop, start=10 + 4 * i)
    mine = Delivery.objects.filter(connection=abnb, pk__gt=start_pk)
    assert mine.count() == 4 and all(d.status == Delivery.Status.RETRYING for d in mine)
    assert breaker.state("airbnb").state == breaker.OPEN
    down.active = False
    down.save()
    SimFault.objects.create(simulator="airbnb", kind="429", retry_after=1, remaining=1)
    time.sleep(1.1)
    for _ in range(30):
        deliveries_run_due(now=timezone.now() + timedelta(minutes=30))
        if not mine.exclude(status=Delivery.Status.SUCCEEDED).exists():
            break
        time.sleep(0.2)
    assert list(mine.values_list("status", flat=True)) == [Delivery.Status.SUCCEEDED] * 4
    assert breaker.state("airbnb").state == breaker.CLOSED
    assert SimRequest.objects.filter(simulator="airbnb", status_code=429).exists()
    assert all(_closed(ab_listing, 10 + 4 * i, 2) for i in range(4))


def test_the_apps_own_rate_limit_answers_429_with_retry_after(abnb, ab_listing):
    AirbnbApp.objects.update(rate_limit_per_minute=1)
    with pytest.raises(AdapterError) as err:
        for _ in range(3):
            get_adapter(abnb).push_calendar([DayState(day=future(3), available=True)])
    assert err.value.kind == ErrorKind.RATE_LIMITED and err.value.retry_after and err.value.retry_after >= 1
    assert err.value.code == "rate_limited"
    limited = SimRequest.objects.filter(simulator="airbnb", status_code=429).first()
    assert '"error_type": "rate_limited"' in limited.response and '"error_code": 429' in limited.response


def test_timeout_is_retryable_and_retried_until_delivered(abnb, ab_listing, prop, settings):
    settings.CHANNEL_HTTP_TIMEOUT = 0.5
    SimFault.objects.create(
        simulator="airbnb", kind="timeout", latency_ms=1500, remaining=1, path_contains="calendar_operations"
    )
    _book(prop, start=20)
    delivery = Delivery.objects.filter(connection=abnb).order_by("-pk").first()
    assert delivery.status == Delivery.Status.RETRYING and delivery.last_error_kind == "retryable"
    deliveries_run_due(now=timezone.now() + timedelta(minutes=30))
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED and delivery.attempts == 2
    assert _closed(ab_listing, 20, 2)


def test_malformed_answer_is_retryable(abnb):
    SimFault.objects.create(simulator="airbnb", kind="malformed", remaining=1, path_contains="calendar_operations")
    with pytest.raises(AdapterError) as err:
        get_adapter(abnb).push_calendar([DayState(day=future(3), available=True)])
    assert err.value.kind == ErrorKind.RETRYABLE and "malformed" in err.value.message


def test_error_shapes_map_to_kinds_and_only_the_error_type_is_shown(abnb, ab_listing):
    AirbnbListing.objects.filter(pk=ab_listing.pk).update(unlinked=True)
    with pytest.raises(AdapterError) as err:
        get_adapter(abnb).push_calendar([DayState(day=future(3), available=True)])
    assert err.value.kind == ErrorKind.AUTH and err.value.code == "no_access"
    assert "unlinked" not in str(err.value)  # the platform's message is not echoed to owners
    AirbnbListing.objects.filter(pk=ab_listing.pk).update(unlinked=False)
    with pytest.raises(AdapterError) as err:  # a date in the past is refused for good
        get_adapter(abnb).push_calendar([DayState(day=future(3), available=True)])
        get_adapter(abnb)._call(
            "POST",
            "v2/calendar_operations",
            body={"listing_id": ab_listing.listing_id, "operations": [{"dates": ["2020-01-01:2020-01-02"]}]},
        )
    assert err.value.kind == ErrorKind.PERMANENT and err.value.code == "invalid_date"


def test_simulator_calls_to_a_pms_that_times_out_are_recorded_not_lost(abnb, ab_listing, airbnb_app, prop):
    AirbnbApp.objects.update(pms_base_url="http://127.0.0.1:9/webhooks/airbnb")  # nothing listens
    res = sim.guest_books(listing=ab_listing, start_date=future(30), nights=2)
    assert res.status == "not_available" and "check_availability" in res.failure
    from apps.bookings.models import Booking

    assert not Booking.objects.filter(property=prop, source="airbnb").exists()


def test_bad_signatures_on_the_simulators_calls_are_refused_and_nothing_is_booked(abnb, ab_listing, prop):
    from apps.bookings.models import Booking
    from apps.channels.models import InboundMessage

    SimFault.objects.create(simulator="airbnb", kind="malformed", remaining=1, path_contains="pms:PUT /reservations")
    res = sim.guest_books(listing=ab_listing, start_date=future(30), nights=2)
    assert res.status == "refused" and "HTTP 403" in res.failure
    assert not Booking.objects.filter(property=prop, source="airbnb").exists()
    rejected = InboundMessage.objects.get(platform="airbnb", status="rejected")
    assert rejected.signature_valid is False and rejected.body  # kept raw
    # the acceptance notification badly signed: the booking (made by the PUT) stays, the refusal is recorded
    SimFault.objects.create(simulator="airbnb", kind="malformed", remaining=1, path_contains="pms:POST /notifications")
    res = sim.guest_books(listing=ab_listing, start_date=future(40), nights=2)
    assert res.status == "accepted" and "acceptance notification: HTTP 403" in res.failure
    assert Booking.objects.filter(property=prop, source="airbnb", external_id=res.confirmation_code).exists()
    # an API fault never touches the simulator's calls to the PMS
    SimFault.objects.create(simulator="airbnb", kind="5xx", status_code=503)
    res = sim.guest_books(listing=ab_listing, start_date=future(50), nights=2)
    assert res.status == "accepted" and not res.failure
