"""EQC AR: calendar pushes over real HTTP to the Expedia simulator (live_server), error-code mapping,
per-hotel serialisation (3210), date rules, test connection."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from apps.availability import services as availability_services
from apps.bookings import services as booking_services
from apps.channels.adapters import get_adapter
from apps.channels.adapters.base import AdapterError, DayState, ErrorKind
from apps.channels.adapters.expedia import AR_NS, error_kind
from apps.channels.delivery import delivery_attempt
from apps.channels.models import ChannelAlert, Delivery
from apps.sandbox.models import SimRequest
from apps.sandbox.models.expedia import ExpDay, ExpHotel
from tests.factories import future

from .conftest import EQC_PASSWORD, EQC_USER, make_expedia_connection

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


def _closed(hotel, start, nights) -> bool:
    days = {d.day: d for d in ExpDay.objects.filter(hotel=hotel)}
    return all(future(start + i) in days and not days[future(start + i)].open for i in range(nights))


def _ar_requests():
    return SimRequest.objects.filter(simulator="expedia", path__endswith="/eqc/ar")


def test_error_codes_map_to_our_kinds_exactly():
    assert error_kind("1000") == error_kind("1001") == ErrorKind.AUTH
    for code in ("2002", "2010", "3010", "3015", "3020", "3022", "3125", "3135", "3210"):
        assert error_kind(code) == ErrorKind.PERMANENT, code
    for code in ("4000", "4001", "4004", "4007", "4206", "5000"):
        assert error_kind(code) == ErrorKind.RETRYABLE, code
    assert error_kind("4100") == error_kind("4101") == ErrorKind.PERMANENT
    assert error_kind("garbage") == ErrorKind.PERMANENT


def test_push_sends_avail_rate_update_and_simulator_stores_state(prop, hotel, expedia):
    d0 = future(5)
    days = [
        DayState(day=d0, available=True, price=prop.base_price, min_stay=2, max_stay=7, closed_to_arrival=True),
        DayState(day=d0 + timedelta(days=1), available=False, price=prop.base_price),
    ]
    result = get_adapter(expedia).push_calendar(days)
    assert result.http_status == 200 and result.requests == 1
    sent = _ar_requests().get().body
    assert f'<AvailRateUpdateRQ xmlns="{AR_NS}">' in sent
    assert f'<Authentication username="{EQC_USER}" password="{EQC_PASSWORD}"' in sent
    assert '<Hotel id="111"' in sent and '<RoomType id="201" closed="false">' in sent
    assert '<Inventory totalInventoryAvailable="1"' in sent and '<PerDay rate="100.00"' in sent
    assert 'closedToArrival="true"' in sent and 'minLOS="2"' in sent and 'maxLOS="7"' in sent
    assert "<AvailRateUpdateRS" in _ar_requests().get().response and "<Success" in _ar_requests().get().response
    first = ExpDay.objects.get(hotel=hotel, day=d0)
    assert first.open and first.min_los == 2 and first.max_los == 7 and first.closed_to_arrival
    assert first.rate == prop.base_price
    second = ExpDay.objects.get(hotel=hotel, day=d0 + timedelta(days=1))
    assert not second.open and second.inventory == 0 and second.room_closed
    # the credentials live encrypted on the connection, never in clear
    assert EQC_PASSWORD not in expedia.access_token_encrypted


def test_direct_booking_closes_the_dates_on_expedia(prop, hotel, expedia):
    booking = _book(prop)
    assert _closed(hotel, 10, 3)
    day = ExpDay.objects.get(hotel=hotel, day=future(10))
    assert day.inventory == 0 and day.room_closed
    checkout = ExpDay.objects.filter(hotel=hotel, day=future(13)).first()
    assert checkout is None or checkout.open
    d = Delivery.objects.get(connection=expedia)
    assert d.status == Delivery.Status.SUCCEEDED and d.attempts == 1 and d.http_status == 200
    booking_services.booking_cancel(booking_id=booking.pk, reason="test")
    assert all(d.open for d in ExpDay.objects.filter(hotel=hotel, day__gte=future(10), day__lt=future(13)))


def test_a_restriction_change_arrives_as_min_los_and_closed_to_arrival(prop, hotel, expedia):
    availability_services.block_create(
        property_id=prop.pk,
        start_date=future(20),
        end_date=future(24),
        block_type="available",
        min_stay=3,
        closed_to_arrival=True,
    )
    days = ExpDay.objects.filter(hotel=hotel, day__gte=future(20), day__lt=future(24))
    assert days.count() == 4
    assert all(d.min_los == 3 and d.closed_to_arrival and d.open for d in days)
    body = _ar_requests().first().body
    assert 'minLOS="3"' in body and 'closedToArrival="true"' in body


def test_a_3xxx_answer_dead_letters_the_delivery_with_the_code_shown(prop, hotel, live_server):
    conn = make_expedia_connection(prop, base_url=live_server.url + "/sandbox/expedia", rate_plan="9999")
    _book(prop)
    d = Delivery.objects.get(connection=conn)
    assert d.status == Delivery.Status.DEAD and d.attempts == 1
    assert d.last_error_kind == "permanent" and "3015" in d.last_error
    alert = ChannelAlert.objects.get(connection=conn, kind="dead_letter")
    assert "3015" in alert.message
    conn.refresh_from_db()
    assert conn.sync_status == "error" and "3015" in conn.last_error


def test_a_4xxx_answer_is_retried(prop, hotel, expedia):
    ExpHotel.objects.filter(pk=hotel.pk).update(next_error_code="4001", next_error_count=1)
    _book(prop)
    d = Delivery.objects.get(connection=expedia)
    assert d.status == Delivery.Status.RETRYING and d.last_error_kind == "retryable" and "4001" in d.last_error
    assert not _closed(hotel, 10, 3)
    delivery_attempt(delivery_id=d.pk, now=timezone.now() + timedelta(hours=1))
    d.refresh_from_db()
    assert d.status == Delivery.Status.SUCCEEDED and d.attempts == 2
    assert _closed(hotel, 10, 3)


@pytest.mark.parametrize(("code", "kind", "status"), [("4100", "permanent", "dead"), ("1001", "auth", "dead")])
def test_4100_and_auth_codes_are_not_retried(prop, hotel, expedia, code, kind, status):
    ExpHotel.objects.filter(pk=hotel.pk).update(next_error_code=code, next_error_count=1)
    _book(prop)
    d = Delivery.objects.get(connection=expedia)
    assert d.status == status and d.last_error_kind == kind and code in d.last_error


def test_bad_credentials_are_an_auth_error_and_an_alert(prop, hotel, live_server):
    conn = make_expedia_connection(prop, base_url=live_server.url + "/sandbox/expedia", password="wrong")
    with pytest.raises(AdapterError) as exc:
        get_adapter(conn).test_connection()
    assert exc.value.kind == ErrorKind.AUTH and exc.value.code == "1001"
    _book(prop)
    d = Delivery.objects.get(connection=conn)
    assert d.status == Delivery.Status.DEAD and d.last_error_kind == "auth"
    assert ChannelAlert.objects.filter(connection=conn, kind="auth").exists()


def test_test_connection_reports_the_platforms_answer_and_changes_nothing(prop, hotel, expedia):
    assert get_adapter(expedia).test_connection().startswith("Connected")
    assert SimRequest.objects.filter(simulator="expedia", path__endswith="/eqc/br").count() == 1
    other = ExpHotel.objects.create(hotel_id="211", username="someone-else", password="x")
    expedia.external_property_id = other.hotel_id
    with pytest.raises(AdapterError) as exc:
        get_adapter(expedia).test_connection()
    assert exc.value.kind == ErrorKind.AUTH and exc.value.code == "1000"  # not this user's hotel
    expedia.external_property_id = "111"
    expedia.set_secret("access_token", "wrong")
    with pytest.raises(AdapterError) as exc:
        get_adapter(expedia).test_connection()
    assert exc.value.kind == ErrorKind.AUTH and exc.value.code == "1001"
    assert not ExpDay.objects.exists()


def test_date_rules_nothing_before_yesterday_nothing_beyond_two_years(prop, hotel, expedia):
    today = timezone.localdate()
    days = [
        DayState(day=today - timedelta(days=3), available=False),
        DayState(day=today, available=False),
        DayState(day=today + timedelta(days=729), available=False),
        DayState(day=today + timedelta(days=800), available=False),
    ]
    get_adapter(expedia).push_calendar(days)
    stored = set(ExpDay.objects.filter(hotel=hotel).values_list("day", flat=True))
    assert stored == {today, today + timedelta(days=729)}
    # the simulator enforces the same rules on anyone who sends them
    url = expedia.base_url + "/eqc/ar"

    def raw(first, last):
        body = (
            f'<AvailRateUpdateRQ xmlns="{AR_NS}"><Authentication username="{EQC_USER}" password="{EQC_PASSWORD}"/>'
            f'<Hotel id="111"/><AvailRateUpdate><DateRange from="{first}" to="{last}"/>'
            '<RoomType id="201" closed="true"/></AvailRateUpdate></AvailRateUpdateRQ>'
        )
        return requests.post(url, data=body, timeout=10).text

    assert 'code="3020"' in raw(today - timedelta(days=2), today)
    assert "<Success" in raw(today - timedelta(days=1), today)
    assert 'code="3022"' in raw(today, today + timedelta(days=731))
    assert 'code="3021"' in raw(today + timedelta(days=2), today)
    assert 'code="2010"' in requests.post(url, data="<AvailRateUpdateRQ/>", timeout=10).text
    assert 'code="2002"' in requests.post(url, data="not xml", timeout=10).text


def test_pushes_per_hotel_are_serialised_so_3210_never_happens(prop, hotel, expedia):
    ExpHotel.objects.filter(pk=hotel.pk).update(processing_ms=300)
    day = future(30)
    # control: unserialised concurrent requests do break the platform's rule
    body = (
        f'<AvailRateUpdateRQ xmlns="{AR_NS}"><Authentication username="{EQC_USER}" password="{EQC_PASSWORD}"/>'
        f'<Hotel id="111"/><AvailRateUpdate><DateRange from="{day}" to="{day}"/>'
        '<RoomType id="201" closed="true"/></AvailRateUpdate></AvailRateUpdateRQ>'
    )
    answers: list[str] = []

    def raw():
        answers.append(requests.post(expedia.base_url + "/eqc/ar", data=body, timeout=10).text)

    threads = [threading.Thread(target=raw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert any('code="3210"' in a for a in answers), "the simulator must refuse concurrent connections"
    SimRequest.objects.all().delete()

    # the adapter: four workers pushing the same hotel at once all succeed, one after the other
    errors: list[Exception] = []

    def push(i):
        try:
            get_adapter(expedia).push_calendar([DayState(day=day + timedelta(days=i), available=False)])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=push, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _ar_requests().count() == 4
    assert not _ar_requests().filter(response__contains='code="3210"').exists()
    assert time.monotonic() - started >= 4 * 0.3  # they queued behind each other
    assert ExpDay.objects.filter(hotel=hotel, inventory=0).count() == 4


def test_warnings_are_kept_on_the_delivery(prop, hotel, expedia):
    ExpDay.objects.create(hotel=hotel, day=future(10), rate=10)
    get_adapter(expedia).push_calendar([DayState(day=future(10), available=True, price=prop.base_price)])
    _book(prop, start=40)
    result = get_adapter(expedia).push_calendar([DayState(day=future(11), available=True, price=prop.base_price)])
    assert result.warnings == []
    ExpDay.objects.filter(hotel=hotel, day=future(12)).delete()
    ExpDay.objects.create(hotel=hotel, day=future(12), rate=10)
    result = get_adapter(expedia).push_calendar([DayState(day=future(12), available=True, price=prop.base_price)])
    assert result.warnings and "7013" in result.warnings[0]


@pytest.mark.slow
def test_real_worker_direct_booking_closes_dates_on_expedia(prop, hotel, expedia, celery_worker_process):
    _book(prop)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _closed(hotel, 10, 3):
        time.sleep(0.1)
    assert _closed(hotel, 10, 3), "the worker did not close the dates on the Expedia simulator"
    while time.monotonic() < deadline and Delivery.objects.get(connection=expedia).status != "succeeded":
        time.sleep(0.05)
    assert Delivery.objects.get(connection=expedia).status == Delivery.Status.SUCCEEDED
