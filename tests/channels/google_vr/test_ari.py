"""ARI push to the Google simulator over real HTTP: shapes, closing dates, rates, ordering, outsiders."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from apps.availability import services as availability_services
from apps.bookings import services as booking_services
from apps.channels.adapters import get_adapter
from apps.channels.adapters.base import DayState
from apps.channels.models import ChannelAlert, Delivery
from apps.sandbox.models import SimFault, SimRequest
from apps.sandbox.models.google_vr import GoogleAccount, GoogleDay, GoogleListing, GoogleMessage
from tests.factories import PropertyFactory, future

from .conftest import PARTNER, forget_sent, google_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _day(conn, n: int) -> GoogleDay | None:
    return GoogleDay.objects.filter(listing__hotel_id=conn.external_property_id, day=future(n)).first()


def _closed(conn, start: int, nights: int) -> bool:
    days = [_day(conn, start + i) for i in range(nights)]
    return all(d is not None and not d.sellable and d.booking_limit == 0 and d.inventory == 0 for d in days)


def _book(prop, start=10, nights=3):
    return booking_services.booking_create(
        property_id=prop.pk, check_in=future(start), check_out=future(start + nights), guests=2, status="confirmed"
    )


def test_push_sends_google_shapes_and_the_simulator_keeps_them(google, gprop):
    availability_services.pricing_rule_create(
        property_id=gprop.pk,
        name="Week",
        rule_type="length_of_stay",
        adjustment_type="percentage",
        adjustment_value=Decimal("-10"),
        conditions={"min_nights": 7},
    )
    availability_services.pricing_rule_create(
        property_id=gprop.pk,
        name="City tax",
        rule_type="tax_per_person_night",
        adjustment_type="fixed",
        adjustment_value=Decimal("2.50"),
        conditions={},
    )
    gprop.default_min_stay, gprop.default_max_stay = 2, 14
    gprop.save()
    _book(gprop, start=6, nights=2)  # the adapter pushes the core's state, whatever the days it is given
    SimRequest.objects.all().delete()
    forget_sent()
    days = [DayState(day=future(5) + timedelta(days=i), available=True) for i in range(2)]
    result = get_adapter(google).push_calendar(days)
    assert result.http_status == 200 and result.requests == 6
    bodies = {r.path.rsplit("/", 1)[-1]: r.body for r in SimRequest.objects.filter(simulator="google_vr")}
    assert "<RoomID>alice-1</RoomID>" in bodies["property_data"] and "<Capacity>5</Capacity>" in bodies["property_data"]
    avail = bodies["hotel_avail_notif"]
    assert 'InvTypeCode="alice-1"' in avail and 'HotelCode="alice-1"' in avail and 'BookingLimit="0"' in avail
    assert 'MinMaxMessageType="SetMinLOS"' in avail and 'Restriction="Arrival" Status="Open"' in avail
    assert '<RequestorID ID="alice-vr"' in avail and "EchoToken=" in avail and "TimeStamp=" in avail
    rate = bodies["hotel_rate_amount_notif"]
    assert 'NotifType="Overlay"' in rate and 'NumberOfGuests="5"' in rate and 'AmountBeforeTax="100.00"' in rate
    assert "<Basis>person</Basis>" in bodies["taxes"] and "<Amount>30.00</Amount>" in bodies["taxes"]
    assert '<LengthOfStay min="7"' in bodies["promotions"] and 'percentage="10' in bodies["promotions"]

    first, second = _day(google, 5), _day(google, 6)
    assert first.sellable and first.min_los == 2 and first.max_los == 14 and not first.closed_to_arrival
    assert first.rates["3"] == "100.00" and first.currency == "EUR"
    assert not second.sellable and second.booking_limit == 0 and second.inventory == 0
    listing = GoogleListing.objects.get(hotel_id="alice-1")
    assert listing.room_capacity == 5 and listing.timezone == "Europe/Berlin"
    assert [f["Amount"] for f in listing.fees] == ["30.00"] and listing.taxes[0]["Basis"] == "person"
    assert listing.promotions[0]["min_nights"] == 7
    assert get_adapter(google).test_connection().startswith("Connected")


def test_direct_booking_closes_dates_and_cancelling_reopens(google, gprop):
    booking = _book(gprop)
    assert _closed(google, 10, 3)
    assert Delivery.objects.get(connection=google).status == Delivery.Status.SUCCEEDED
    booking_services.booking_cancel(booking_id=booking.pk, reason="test")
    assert all(_day(google, 10 + i).sellable for i in range(3))


def test_pricing_rule_change_updates_rates(google, gprop):
    get_adapter(google).push_calendar(
        [DayState(day=future(20) + timedelta(days=i), available=True, price=gprop.base_price) for i in range(3)]
    )
    assert _day(google, 20).rates["2"] == "100.00"
    start = future(20)
    availability_services.pricing_rule_create(
        property_id=gprop.pk,
        name="Summer",
        rule_type="seasonal",
        adjustment_type="percentage",
        adjustment_value=Decimal("25"),
        conditions={"start_date": start.isoformat(), "end_date": (start + timedelta(days=2)).isoformat()},
    )
    assert [_day(google, 20 + i).rates["2"] for i in range(3)] == ["125.00", "125.00", "100.00"]


def test_older_messages_never_overwrite_newer_and_replays_are_idempotent(google, gprop, live_server):
    adapter = get_adapter(google)
    adapter.push_calendar([DayState(day=future(30), available=True, price=Decimal("100.00"))])
    newest = _day(google, 30).rate_ts
    # Timestamps of one connection only grow, push after push.
    adapter.push_calendar([DayState(day=future(30), available=True, price=Decimal("100.00"))])
    assert _day(google, 30).rate_ts > newest

    def rate_message(ts, echo, amount):
        return (
            f'<OTA_HotelRateAmountNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" TimeStamp="{ts.isoformat()}" '
            f'EchoToken="{echo}" NotifType="Overlay"><POS><Source><RequestorID ID="{PARTNER}"/></Source></POS>'
            f'<RateAmountMessages HotelCode="alice-1"><RateAmountMessage><StatusApplicationControl '
            f'Start="{future(30)}" End="{future(30)}" InvTypeCode="alice-1" RatePlanCode="alice-1"/><Rates><Rate>'
            f'<BaseByGuestAmts><BaseByGuestAmt AmountBeforeTax="{amount}" CurrencyCode="EUR" NumberOfGuests="2"/>'
            "</BaseByGuestAmts></Rate></Rates></RateAmountMessage></RateAmountMessages></OTA_HotelRateAmountNotifRQ>"
        ).encode()

    url = live_server.url + "/sandbox/google/travel/hotels/uploads/ota/hotel_rate_amount_notif"
    # An out-of-order message (older than what Google holds) changes nothing.
    stale = requests.post(url, data=rate_message(timezone.now() - timedelta(hours=1), "old-1", "1.00"), timeout=10)
    assert stale.status_code == 200 and b"<Success" in stale.content and b"older than" in stale.content
    assert _day(google, 30).rates["2"] == "100.00"
    # Older than 24 hours: dropped with an error.
    too_old = requests.post(url, data=rate_message(timezone.now() - timedelta(hours=25), "old-2", "1.00"), timeout=10)
    assert b'Code="MESSAGE_TOO_OLD"' in too_old.content and _day(google, 30).rates["2"] == "100.00"
    # A replay gets the first answer and is applied once.
    fresh = rate_message(timezone.now() + timedelta(seconds=5), "new-1", "111.00")
    first = requests.post(url, data=fresh, timeout=10)
    GoogleDay.objects.filter(listing__hotel_id="alice-1", day=future(30)).update(rates={"2": "99.00"})
    again = requests.post(url, data=fresh, timeout=10)
    assert first.content == again.content and _day(google, 30).rates["2"] == "99.00"
    assert GoogleMessage.objects.filter(message_id="new-1").count() == 1


def test_outsider_cannot_push_into_another_account(google, gprop, bob, live_server):
    bob_home = PropertyFactory(owner=bob, name="Bob's Cabin", slug="bobs-cabin", latitude=1, longitude=2)
    # Bob's connection names Alice's partner key: his home is not in her feed, so Google refuses it.
    intruder = google_connection(bob_home, hotel_id="bob-1", partner=PARTNER, base_url=google.base_url)
    _book(bob_home)
    d = Delivery.objects.get(connection=intruder)
    assert d.status == Delivery.Status.DEAD and "HOTEL_NOT_FOUND" in d.last_error
    assert ChannelAlert.objects.filter(connection=intruder, kind=ChannelAlert.Kind.DEAD_LETTER).exists()
    assert not GoogleListing.objects.filter(hotel_id="bob-1").exists()
    assert not ChannelAlert.objects.filter(property=gprop).exists()
    # A sender outside the partner's allowlist is refused as such (an auth error the owner sees).
    GoogleAccount.objects.filter(partner=PARTNER).update(allowed_ips="203.0.113.7")
    _book(gprop, start=40, nights=2)
    d = Delivery.objects.filter(connection=google).order_by("-id").first()
    assert d.status == Delivery.Status.DEAD and d.last_error_kind == "auth"
    assert _day(google, 40) is None


def test_platform_error_is_retried_then_delivered(google, gprop):
    SimFault.objects.create(simulator="google_vr", kind="5xx", status_code=503, remaining=1)
    _book(gprop)
    d = Delivery.objects.get(connection=google)
    assert d.status == Delivery.Status.RETRYING and d.http_status == 503
    from apps.channels.delivery import delivery_attempt

    Delivery.objects.filter(pk=d.pk).update(next_attempt_at=timezone.now())
    assert delivery_attempt(delivery_id=d.pk).status == Delivery.Status.SUCCEEDED
    assert _closed(google, 10, 3)


@pytest.mark.slow
def test_real_worker_direct_booking_closes_dates_on_google(google, gprop, celery_worker_process):
    _book(gprop)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _closed(google, 10, 3):
        time.sleep(0.1)
    assert _closed(google, 10, 3), "the worker did not close the dates on the Google simulator"


def test_short_pushes_leave_out_unchanged_property_messages(google, gprop):
    kinds = lambda: sorted(r.path.rsplit("/", 1)[-1] for r in SimRequest.objects.filter(simulator="google_vr"))  # noqa: E731
    get_adapter(google).push_calendar([DayState(day=future(2), available=True)])
    SimRequest.objects.all().delete()
    _book(gprop, start=10, nights=2)  # a short push: property data, taxes and promotions are known to Google
    assert kinds() == ["hotel_avail_notif", "hotel_inv_count_notif", "hotel_rate_amount_notif"]
    assert _closed(google, 10, 2)
    SimRequest.objects.all().delete()
    # A changed fee is sent with the next push, and a long push always sends everything.
    availability_services.pricing_rule_create(
        property_id=gprop.pk, name="Tax", rule_type="tax_percentage", adjustment_type="percentage",
        adjustment_value=Decimal("5"), conditions={},
    )  # fmt: skip
    assert {"property_data", "taxes", "promotions"} <= set(kinds())
    assert GoogleListing.objects.get(hotel_id="alice-1").taxes[0]["Type"] == "percent"


def test_concurrent_pushes_of_one_connection_reach_google_in_timestamp_order(google, gprop):
    """Pushes of one connection from several workers at once are serialised: Google receives their
    messages in the order of their timestamps, so it never has to drop (or apply) an older one late."""
    import threading

    from django.db import connections

    errors = []

    def push(n: int) -> None:
        try:
            for i in range(3):
                get_adapter(google).push_calendar([DayState(day=future(20 + n + i), available=True)])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=push, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    received = list(GoogleMessage.objects.order_by("id").values_list("timestamp", "status"))
    assert len(received) >= 12 * 3
    stamps = [ts for ts, _ in received]
    assert stamps == sorted(stamps)  # arrival order == timestamp order
    assert {status for _, status in received} == {GoogleMessage.Status.APPLIED}
