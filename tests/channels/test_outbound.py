"""Outbound delivery over real HTTP to the Booking.com simulator (served by live_server)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.channels import breaker
from apps.channels.adapters import get_adapter
from apps.channels.adapters.base import AdapterError, DayState, ErrorKind
from apps.channels.delivery import deliveries_run_due, delivery_attempt
from apps.channels.models import ChannelAlert, Delivery
from apps.sandbox.models import SimCalendarDay, SimFault, SimRequest
from tests.factories import future

from .conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _book(prop, start=10, nights=3, **kw):
    return booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(start),
        check_out=future(start + nights),
        guests=2,
        status="confirmed",
        **kw,
    )


def _sim_closed(listing, start, nights) -> bool:
    days = {d.day: d for d in SimCalendarDay.objects.filter(listing=listing)}
    return all(future(start + i) in days and not days[future(start + i)].open for i in range(nights))


def test_push_sends_real_ota_xml_and_simulator_stores_state(prop, listing, bcom):
    d0 = future(5)
    days = [
        DayState(day=d0, available=True, price=prop.base_price, min_stay=2, max_stay=7, closed_to_arrival=True),
        DayState(day=d0 + timedelta(days=1), available=False, price=prop.base_price),
    ]
    result = get_adapter(bcom).push_calendar(days)
    assert result.http_status == 200 and result.requests == 2
    avail = SimRequest.objects.filter(path__contains="OTA_HotelAvailNotif").first()
    assert "<OTA_HotelAvailNotifRQ" in avail.body and 'MinMaxMessageType="SetMinLOS"' in avail.body
    assert 'Restriction="Arrival" Status="Close"' in avail.body
    rate = SimRequest.objects.filter(path__contains="OTA_HotelRateAmountNotif").first()
    assert 'AmountAfterTax="100.00"' in rate.body
    first = SimCalendarDay.objects.get(listing=listing, day=d0)
    assert first.open and first.min_stay == 2 and first.max_stay == 7 and first.closed_to_arrival
    assert not SimCalendarDay.objects.get(listing=listing, day=d0 + timedelta(days=1)).open
    assert get_adapter(bcom).test_connection().startswith("Connected")


def test_direct_booking_closes_dates_on_simulator(prop, listing, bcom):
    booking = _book(prop)
    assert _sim_closed(listing, 10, 3)
    checkout = SimCalendarDay.objects.filter(listing=listing, day=future(13)).first()
    assert checkout is None or checkout.open  # the check-out day stays free
    d = Delivery.objects.get(connection=bcom)
    assert d.status == Delivery.Status.SUCCEEDED and d.attempts == 1 and d.http_status == 200
    assert d.latency_ms is not None and d.requests_sent >= 2
    # a cancellation re-opens them
    booking_services.booking_cancel(booking_id=booking.pk, reason="test")
    days = SimCalendarDay.objects.filter(listing=listing, day__gte=future(10), day__lt=future(13))
    assert all(d.open for d in days)


def test_own_channel_gets_the_state_based_push_too(prop, listing, bcom):
    """State-based for every connection: the booking's own channel is pushed the calendar as well."""
    _book(prop, source="booking_com", external_id="999")
    assert Delivery.objects.get(connection=bcom).status == Delivery.Status.SUCCEEDED
    assert _sim_closed(listing, 10, 3)


def test_bad_credentials_dead_letter_and_alert(prop, listing, live_server):
    conn = make_connection(prop, base_url=live_server.url + "/sandbox/booking_com", password="wrong")
    _book(prop)
    d = Delivery.objects.get(connection=conn)
    assert d.status == Delivery.Status.DEAD and d.last_error_kind == "auth" and d.http_status == 401
    alert = ChannelAlert.objects.get(connection=conn)
    assert alert.kind == "auth" and "wrong" not in alert.message
    assert "wrong" not in d.last_error


def test_token_auth(prop, listing, live_server):
    conn = make_connection(prop, base_url=live_server.url + "/sandbox/booking_com", auth_scheme="token")
    _book(prop)
    assert Delivery.objects.get(connection=conn).status == Delivery.Status.SUCCEEDED
    assert SimRequest.objects.filter(path__contains="token-based-authentication").count() == 1


def test_ota_error_codes_map_to_kinds(prop, listing, bcom):
    adapter = get_adapter(bcom)
    past = timezone.localdate() - timedelta(days=5)
    # the adapter never sends the past; force it through the builder to see the simulator refuse it
    from apps.channels.adapters.booking_com import build_avail_notif

    body = build_avail_notif(hotel_code="1234567", room="101", rate_plan="1", days=[DayState(day=past, available=True)])
    with pytest.raises(AdapterError) as err:
        adapter._call("POST", "hotels/ota/OTA_HotelAvailNotif", body=body)
    assert err.value.kind == ErrorKind.PERMANENT and "NOT_A_VALID_DATE" in err.value.message
    bcom.external_property_id = "7654321"  # not this account's hotel -> 403
    with pytest.raises(AdapterError) as err:
        get_adapter(bcom).push_calendar([DayState(day=future(3), available=True)])
    assert err.value.kind == ErrorKind.AUTH and err.value.http_status == 403


def test_malformed_response_is_retryable(prop, listing, bcom):
    SimFault.objects.create(kind="malformed", remaining=1)
    with pytest.raises(AdapterError) as err:
        get_adapter(bcom).push_calendar([DayState(day=future(3), available=True)])
    assert err.value.kind == ErrorKind.RETRYABLE and "malformed" in err.value.message


def test_timeout_is_retryable(prop, listing, bcom, settings):
    settings.CHANNEL_HTTP_TIMEOUT = 0.5
    SimFault.objects.create(kind="timeout", latency_ms=1500, remaining=1)
    with pytest.raises(AdapterError) as err:
        get_adapter(bcom).push_calendar([DayState(day=future(3), available=True)])
    assert err.value.kind == ErrorKind.RETRYABLE


def test_down_then_429_then_back_breaker_opens_and_closes_nothing_lost(prop, listing, bcom, settings):
    settings.CHANNEL_BREAKER_THRESHOLD = 3
    settings.CHANNEL_BREAKER_COOLDOWN_SECONDS = 1.0
    down = SimFault.objects.create(kind="5xx", status_code=503)  # until removed
    bookings = [_book(prop, start=10 + 4 * i, nights=2) for i in range(4)]
    deliveries = list(Delivery.objects.filter(connection=bcom))
    assert len(deliveries) == 4
    assert all(d.status == Delivery.Status.RETRYING for d in deliveries)
    assert breaker.state("booking_com").state == breaker.OPEN  # 3 consecutive failures
    # while open, due deliveries are rescheduled without spending attempts
    before = {d.pk: d.attempts for d in Delivery.objects.filter(connection=bcom)}
    outcomes = deliveries_run_due(now=timezone.now() + timedelta(seconds=0.5))
    after = {d.pk: d.attempts for d in Delivery.objects.filter(connection=bcom)}
    assert before == after or all(o.status == "skipped" for o in outcomes)
    # the platform is back, but throttles first
    down.active = False
    down.save()
    SimFault.objects.create(kind="429", retry_after=1, remaining=1)
    time.sleep(1.1)  # cool-down -> half-open
    assert breaker.state("booking_com").state == breaker.HALF_OPEN
    for _ in range(20):
        deliveries_run_due(now=timezone.now() + timedelta(minutes=30))
        if not Delivery.objects.filter(connection=bcom).exclude(status=Delivery.Status.SUCCEEDED).exists():
            break
        time.sleep(0.2)
    statuses = list(Delivery.objects.filter(connection=bcom).values_list("status", flat=True))
    assert statuses == [Delivery.Status.SUCCEEDED] * 4
    assert breaker.state("booking_com").state == breaker.CLOSED
    assert SimRequest.objects.filter(status_code=429).exists()
    for i in range(len(bookings)):
        assert _sim_closed(listing, 10 + 4 * i, 2)


def test_dead_letter_after_max_attempts_and_retry(prop, listing, bcom, settings):
    from apps.channels.delivery import delivery_retry

    settings.CHANNEL_DELIVERY_MAX_ATTEMPTS = 2
    settings.CHANNEL_BREAKER_THRESHOLD = 100
    fault = SimFault.objects.create(kind="5xx", status_code=500)
    _book(prop)
    d = Delivery.objects.get(connection=bcom)
    assert d.status == Delivery.Status.RETRYING and d.attempts == 1
    delivery_attempt(delivery_id=d.pk, now=timezone.now() + timedelta(hours=1))
    d.refresh_from_db()
    assert d.status == Delivery.Status.DEAD and d.attempts == 2
    assert ChannelAlert.objects.filter(kind="dead_letter").count() == 1
    fault.delete()
    assert delivery_retry(delivery_id=d.pk)
    d.refresh_from_db()
    assert d.status == Delivery.Status.SUCCEEDED and _sim_closed(listing, 10, 3)


@pytest.mark.slow
def test_real_worker_direct_booking_closes_dates_on_simulator(prop, listing, bcom, celery_worker_process):
    started = time.monotonic()
    _book(prop)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _sim_closed(listing, 10, 3):
        time.sleep(0.1)
    assert _sim_closed(listing, 10, 3), "the worker did not close the dates on the simulator"
    assert time.monotonic() - started < 20
    # the worker writes the outcome right after the platform answered
    while time.monotonic() < deadline and Delivery.objects.get(connection=bcom).status != Delivery.Status.SUCCEEDED:
        time.sleep(0.05)
    assert Delivery.objects.get(connection=bcom).status == Delivery.Status.SUCCEEDED


def test_platform_url_on_a_private_address_is_refused_outside_the_sandbox(prop, settings):
    """An owner cannot make our servers call into our own network through a connection's URL."""
    settings.ALLOW_PRIVATE_HOSTS = False
    conn = make_connection(prop, base_url="http://127.0.0.1:9/sandbox/booking_com")
    with pytest.raises(AdapterError) as exc:
        get_adapter(conn).test_connection()
    assert exc.value.kind == ErrorKind.PERMANENT and "not a public address" in str(exc.value)
