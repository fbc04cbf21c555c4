"""The feeds Vrbo crawls: shapes, authentication per connection, ETag / Last-Modified / 304, what a
direct booking changes, the crawl log and staleness, and the outsider (Bob never reads Alice's)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from defusedxml import ElementTree as SafeET
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.channels import vrbo
from apps.channels.adapters import get_adapter
from apps.channels.models import ChannelAlert, Delivery, VrboFeedRead
from apps.channels.selectors import push_connections

from .conftest import ALICE_USER, Feeds, vrbo_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _xml(response: requests.Response):
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/xml")
    return SafeET.fromstring(response.content)


def test_every_index_and_document_has_its_shape(alice_feeds, prop):
    for kind, root_tag in (
        ("listing", "listingContentIndex"),
        ("lodging", "lodgingConfigurationContentIndex"),
        ("rates", "lodgingRateContentIndex"),
        ("availability", "unitAvailabilityContentIndex"),
    ):
        index = _xml(alice_feeds.get(f"{kind}/index.xml"))
        assert index.tag == root_tag
        entries = list(index.find("advertiser"))[1:]
        assert len(entries) == 1  # the connection's one listing, nothing else
        assert entries[0].findtext("listingExternalId") == "L-ALICE"
        assert entries[0].findtext("lastUpdatedDate").endswith("Z")
        url = [el.text for el in entries[0] if el.tag.endswith("Url")][0]
        assert url.endswith(f"/vrbo/feeds/{kind}/L-ALICE.xml")

    listing = _xml(alice_feeds.get("listing/L-ALICE.xml"))
    assert listing.tag == "listing" and listing.findtext("externalId") == "L-ALICE"
    assert listing.findtext("adContent/headline/texts/text/textValue") == prop.name
    assert listing.findtext("location/address/city") == prop.city
    assert listing.findtext("units/unit/externalId") == "L-ALICE-1"
    assert listing.findtext("units/unit/maxSleep") == str(prop.max_guests)

    lodging = _xml(alice_feeds.get("lodging/L-ALICE.xml"))
    assert lodging.findtext("lodgingConfiguration/checkInTime") == prop.check_in_time.strftime("%H:%M")
    assert lodging.findtext("lodgingConfiguration/checkOutTime") == prop.check_out_time.strftime("%H:%M")

    rates = _xml(alice_feeds.get("rates/L-ALICE.xml"))
    assert rates.findtext("lodgingRate/currency") == "EUR"
    assert rates.findtext("lodgingRate/nightlyRates/mon") == "100.00"
    assert rates.findtext("lodgingRate/fees/cleaningFees/fee/amount") == "30.00"

    avail = _xml(alice_feeds.get("availability/L-ALICE.xml"))
    cfg = avail.find("unitAvailability/unitAvailabilityConfiguration")
    days = vrbo.feed_days()
    assert len(cfg.findtext("availability")) == days and set(cfg.findtext("availability")) == {"Y"}
    assert len(cfg.findtext("changeOver")) == days
    assert len(cfg.findtext("minStay").split(",")) == days
    assert avail.findtext("unitAvailability/dateRange/beginDate") == vrbo.local_today(prop).isoformat()

    bookings = _xml(alice_feeds.get("bookings/index.xml"))
    assert bookings.tag == "bookingContentIndex"


def test_credentials_are_required_and_checked(live_server, alice_vrbo):
    assert requests.get(f"{live_server.url}/vrbo/feeds/availability/index.xml", timeout=10).status_code == 401
    wrong = Feeds(live_server.url, ALICE_USER, "not-the-password")
    response = wrong.get("availability/L-ALICE.xml")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Basic")
    assert b"<errorCode>401</errorCode>" in response.content
    garbage = requests.get(
        f"{live_server.url}/vrbo/feeds/availability/index.xml", headers={"Authorization": "Basic %%%"}, timeout=10
    )
    assert garbage.status_code == 401
    assert VrboFeedRead.objects.count() == 0  # unauthenticated requests are no crawl


def test_outsider_never_reads_alices_listing(alice_feeds, bob_feeds, alice_vrbo, bob_vrbo):
    for kind in vrbo.KINDS:
        response = bob_feeds.get(f"{kind}/L-ALICE.xml")
        assert response.status_code == 404
        unknown = bob_feeds.get(f"{kind}/L-NOBODY.xml")
        assert (unknown.status_code, unknown.content) == (response.status_code, response.content)
        index = bob_feeds.get(f"{kind}/index.xml")
        assert b"L-ALICE" not in index.content and b"L-BOB" in index.content
    # Alice's Vrbo booking is not in Bob's booking feed and cannot be read by its id
    start = timezone.localdate() + timedelta(days=20)
    booking_services.booking_create(
        property_id=alice_vrbo.property_id,
        check_in=start,
        check_out=start + timedelta(days=2),
        guests=2,
        source="fewo_direkt",
        external_id="trk-alice-1",
        status="confirmed",
        payment_status="not_required",
        enforce_rules=False,
    )
    assert b"trk-alice-1" in alice_feeds.get("bookings/index.xml").content
    assert b"trk-alice-1" not in bob_feeds.get("bookings/index.xml").content
    assert bob_feeds.get("bookings/trk-alice-1.xml").status_code == 404
    update = _xml(alice_feeds.get("bookings/trk-alice-1.xml"))
    assert update.findtext("bookingUpdateDetails/orderList/order/orderItemList/orderItem/status") == "ACCEPTED"
    assert not VrboFeedRead.objects.filter(connection=bob_vrbo, item="L-ALICE", status_code=200).exists()


def test_a_username_held_by_two_connections_authenticates_nobody(live_server, prop, bob_prop):
    vrbo_connection(prop, username="shared", password="pw-a", listing="L-A")
    vrbo_connection(bob_prop, username="shared", password="pw-b", listing="L-B")
    assert Feeds(live_server.url, "shared", "pw-a").get("availability/index.xml").status_code == 401
    assert Feeds(live_server.url, "shared", "pw-b").get("availability/index.xml").status_code == 401


def _backdate(prop, minutes: int = 60) -> None:
    from apps.core.models import SyncEvent
    from apps.properties.models import Property

    past = timezone.now() - timedelta(minutes=minutes)
    SyncEvent.objects.filter(property=prop).update(created_at=past)
    Property.objects.filter(pk=prop.pk).update(updated_at=past)


def test_direct_booking_shows_n_on_the_next_read_and_unchanged_answers_304(alice_feeds, alice_vrbo, prop):
    _backdate(prop)
    first = alice_feeds.get("availability/L-ALICE.xml")
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    unchanged = alice_feeds.get("availability/L-ALICE.xml", **{"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["ETag"] == etag
    assert alice_feeds.get("availability/L-ALICE.xml", **{"If-Modified-Since": modified}).status_code == 304

    today = vrbo.local_today(prop)
    check_in = today + timedelta(days=10)
    booking_services.booking_create(
        property_id=prop.pk, check_in=check_in, check_out=check_in + timedelta(days=3), guests=2, status="confirmed"
    )
    after = alice_feeds.get("availability/L-ALICE.xml", **{"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    flags = SafeET.fromstring(after.content).findtext("unitAvailability/unitAvailabilityConfiguration/availability")
    assert flags[10:13] == "NNN" and flags[9] == "Y" and flags[13] == "Y"
    # a crawler that only sends If-Modified-Since sees the change too
    assert alice_feeds.get("availability/L-ALICE.xml", **{"If-Modified-Since": modified}).status_code == 200
    # the index tells the crawler which document changed
    index = SafeET.fromstring(alice_feeds.get("availability/index.xml").content)
    assert index.findtext(".//lastUpdatedDate") >= vrbo._iso(timezone.now() - timedelta(minutes=1))

    reads = list(
        VrboFeedRead.objects.filter(connection=alice_vrbo, document="availability")
        .order_by("id")
        .values_list("status_code", flat=True)
    )
    assert reads == [200, 304, 304, 200, 200]


def test_restrictions_become_change_over_min_stay_and_notice(alice_feeds, prop):
    from apps.availability.models import AvailabilityBlock

    today = vrbo.local_today(prop)
    prop.min_notice_hours = 48
    prop.max_advance_days = 100
    prop.save()
    AvailabilityBlock.objects.create(
        property=prop,
        block_type="available",
        start_date=today + timedelta(days=5),
        end_date=today + timedelta(days=7),
        min_stay=3,
        closed_to_arrival=True,
    )
    AvailabilityBlock.objects.create(
        property=prop,
        block_type="available",
        start_date=today + timedelta(days=8),
        end_date=today + timedelta(days=9),
        closed_to_departure=True,
    )
    cfg = SafeET.fromstring(alice_feeds.get("availability/L-ALICE.xml").content).find(
        "unitAvailability/unitAvailabilityConfiguration"
    )
    change = cfg.findtext("changeOver")
    assert change[4] == "C" and change[5] == "O" and change[6] == "O" and change[8] == "I"
    assert change[100] == "C" and change[101] == "O"  # arrivals beyond max advance are closed
    assert cfg.findtext("minStay").split(",")[5] == "3"
    assert set(cfg.findtext("minPriorNotify").split(",")) == {"2"}


def test_vrbo_gets_no_outbound_deliveries(prop, alice_vrbo):
    assert alice_vrbo not in push_connections(property_id=prop.pk)
    start = timezone.localdate() + timedelta(days=4)
    booking_services.booking_create(
        property_id=prop.pk, check_in=start, check_out=start + timedelta(days=2), guests=1, status="confirmed"
    )
    assert not Delivery.objects.filter(connection=alice_vrbo).exists()
    assert "Feeds ready for listing L-ALICE" in get_adapter(alice_vrbo).test_connection()


def test_staleness_figure_and_alert(alice_feeds, alice_vrbo, prop, settings):
    settings.VRBO_STALE_MINUTES = 5
    assert vrbo.staleness_text(alice_vrbo) == "Vrbo has not read your availability yet."
    alice_feeds.get("availability/L-ALICE.xml")
    assert vrbo.staleness_text(alice_vrbo).startswith("Vrbo last read your availability less than a minute ago")
    start = vrbo.local_today(prop) + timedelta(days=3)
    booking_services.booking_create(
        property_id=prop.pk, check_in=start, check_out=start + timedelta(days=2), guests=1, status="confirmed"
    )
    assert "not seen your latest change" in vrbo.staleness_text(alice_vrbo)
    now = timezone.now()
    assert vrbo.staleness_check(now=now + timedelta(minutes=4)) == []  # not yet
    raised = vrbo.staleness_check(now=now + timedelta(minutes=6))
    assert len(raised) == 1
    alert = ChannelAlert.objects.get(pk=raised[0])
    assert alert.kind == "feed_stale" and alert.connection_id == alice_vrbo.pk
    assert vrbo.staleness_check(now=now + timedelta(minutes=7)) == []  # one alert per change
    text = vrbo.staleness_text(alice_vrbo, now=timezone.now() + timedelta(minutes=6))
    assert text.startswith("Vrbo last read your availability 6 minutes ago")
    alice_feeds.get("availability/L-ALICE.xml")  # the platform reads again: the alert is resolved
    vrbo.staleness_check(now=timezone.now())
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_rates_document_prices_like_our_engine(alice_feeds, prop):
    """The prices a Vrbo quote is built from equal our engine's: per-night prices incl. rules."""
    from apps.availability.models import PricingRule
    from apps.availability.selectors import calendar_days

    PricingRule.objects.create(
        property=prop,
        rule_type="weekend",
        adjustment_type="percentage",
        adjustment_value=Decimal("20"),
        conditions={"days": [4, 5]},
    )
    today = vrbo.local_today(prop)
    rates = SafeET.fromstring(alice_feeds.get("rates/L-ALICE.xml").content)
    assert rates.findtext("lodgingRate/nightlyRates/fri") == "120.00"
    assert rates.findtext("lodgingRate/nightlyRates/sun") == "100.00"
    days = calendar_days(prop=prop, start=today, end=today + timedelta(days=30))
    from apps.sandbox.vrbo_quote import _night_price, parse_rates

    parsed = parse_rates(alice_feeds.get("rates/L-ALICE.xml").content)
    assert [_night_price(parsed, d.date) for d in days] == [d.price for d in days]
