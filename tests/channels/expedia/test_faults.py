"""Expedia under faults, over real HTTP: timeouts (also the simulator's ECL.TIMEOUT password), 5xx,
429 with Retry-After, malformed answers, slow hotels (ECL.DELAY) and a pull racing a push."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.bookings.models import Booking
from apps.channels.adapters import get_adapter
from apps.channels.adapters.base import DayState
from apps.channels.delivery import delivery_attempt
from apps.channels.inbound import reservations_pull
from apps.channels.models import Delivery
from apps.sandbox import expedia as sim
from apps.sandbox import faults
from apps.sandbox.models import SimFault, SimRequest
from apps.sandbox.models.expedia import ExpDay, ExpHotel
from tests.factories import future

from .conftest import make_expedia_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _book(prop):
    return booking_services.booking_create(
        property_id=prop.pk, check_in=future(10), check_out=future(13), guests=2, status="confirmed"
    )


def _closed(hotel) -> bool:
    return all(not d.open for d in ExpDay.objects.filter(hotel=hotel, day__gte=future(10), day__lt=future(13))) and (
        ExpDay.objects.filter(hotel=hotel, day__gte=future(10), day__lt=future(13)).count() == 3
    )


def _retry_later(d: Delivery) -> Delivery:
    delivery_attempt(delivery_id=d.pk, now=timezone.now() + timedelta(hours=1))
    d.refresh_from_db()
    return d


@pytest.mark.parametrize(
    ("fault", "kind", "http_status"),
    [
        ({"kind": "5xx", "status_code": 503}, "retryable", 503),
        ({"kind": "malformed"}, "retryable", 200),
        ({"kind": "timeout", "latency_ms": 2500}, "retryable", None),
    ],
)
def test_transient_faults_are_retried_until_the_dates_are_closed(
    prop, hotel, expedia, settings, fault, kind, http_status
):
    settings.CHANNEL_HTTP_TIMEOUT = 1
    SimFault.objects.create(simulator="expedia", path_contains="/eqc/ar", remaining=1, **fault)
    _book(prop)
    d = Delivery.objects.get(connection=expedia)
    assert d.status == "retrying" and d.last_error_kind == kind and d.http_status == http_status, d.last_error
    assert not _closed(hotel)
    d = _retry_later(d)
    assert d.status == "succeeded" and d.attempts == 2 and _closed(hotel)


def test_429_waits_at_least_retry_after(prop, hotel, expedia):
    SimFault.objects.create(simulator="expedia", kind="429", path_contains="/eqc/ar", remaining=1, retry_after=40)
    before = timezone.now()
    _book(prop)
    d = Delivery.objects.get(connection=expedia)
    assert d.status == "retrying" and d.last_error_kind == "rate_limited" and d.http_status == 429
    assert d.next_attempt_at >= before + timedelta(seconds=40)
    assert _retry_later(d).status == "succeeded" and _closed(hotel)


def test_the_simulators_delay_passwords(prop, hotel, live_server, settings, monkeypatch):
    """ECL.DELAY answers late but answers; ECL.TIMEOUT sleeps past our timeout: retryable."""
    base = live_server.url + "/sandbox/expedia"
    slow = make_expedia_connection(prop, base_url=base, password="ECL.DELAY.300")
    assert get_adapter(slow).push_calendar([DayState(day=future(5), available=False)]).http_status == 200
    assert not ExpDay.objects.get(hotel=hotel, day=future(5)).open
    settings.CHANNEL_HTTP_TIMEOUT = 1
    monkeypatch.setattr(faults, "TIMEOUT_SLEEP_SECONDS", 2.5)  # the live server shares this process
    slow.set_secret("access_token", "ECL.TIMEOUT")
    with pytest.raises(Exception) as exc:
        get_adapter(slow).push_calendar([DayState(day=future(6), available=False)])
    assert getattr(exc.value, "kind", "") == "retryable" and "in time" in str(exc.value)


def test_a_failing_retrieval_applies_nothing_and_the_next_pull_catches_up(prop, hotel, expedia):
    txn = sim.create_booking(hotel=hotel, check_in=future(10), check_out=future(12))
    SimFault.objects.create(simulator="expedia", kind="5xx", path_contains="/eqc/br", remaining=1)
    first = reservations_pull(connection_id=expedia.pk)
    assert first.fetched == 0 and "retryable" in first.error
    expedia.refresh_from_db()
    assert expedia.sync_status == "error"
    second = reservations_pull(connection_id=expedia.pk)
    assert second.created == 1 and second.acked == 1 and not second.error
    assert Booking.objects.filter(external_id=txn.booking.booking_id).count() == 1


def test_a_pull_and_pushes_of_one_hotel_at_once_never_get_3210(prop, hotel, expedia):
    ExpHotel.objects.filter(pk=hotel.pk).update(processing_ms=250)
    sim.create_booking(hotel=hotel, check_in=future(40), check_out=future(42))
    errors: list[str] = []

    def pull():
        result = reservations_pull(connection_id=expedia.pk)
        if result.error:
            errors.append(result.error)

    def push(i):
        try:
            get_adapter(expedia).push_calendar([DayState(day=future(20 + i), available=False)])
        except Exception as exc:  # noqa: BLE001
            errors.append(str(exc))

    threads = [threading.Thread(target=pull)] + [threading.Thread(target=push, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert not SimRequest.objects.filter(simulator="expedia", response__contains='code="3210"').exists()
    assert Booking.objects.filter(source="expedia").count() == 1
