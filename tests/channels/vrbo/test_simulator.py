"""The Vrbo simulator over real HTTP: its crawler reads our feeds with conditional requests and
parses them into its own calendar and prices; its quote equals our storefront's; a guest who books on
it becomes a confirmed booking that closes the dates elsewhere; a stale crawl produces a request we
refuse; a paused crawler trips the staleness alert; slow reads and malformed requests."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from apps.availability.models import AvailabilityBlock, PricingRule
from apps.availability.pricing import quote_stay
from apps.bookings import services as booking_services
from apps.bookings.models import Booking
from apps.channels import vrbo as feeds
from apps.channels.models import ChannelAlert, InboundMessage
from apps.sandbox import vrbo as sim
from apps.sandbox.models import SimCalendarDay
from apps.sandbox.models.vrbo import VrboSimListing

from ..conftest import make_connection
from .conftest import ALICE_PASSWORD, ALICE_USER

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim_listing(live_server, alice_vrbo):
    return VrboSimListing.objects.create(
        listing_external_id="L-ALICE",
        feed_base=f"{live_server.url}/vrbo",
        username=ALICE_USER,
        password=ALICE_PASSWORD,
        crawl_interval_seconds=60,
    )


def _statuses(record) -> list[int]:
    return [r["status"] for r in record.reads]


def test_crawler_honours_304_and_reads_only_what_changed(sim_listing, prop):
    first = sim.crawl(sim_listing)
    assert first.error == "" and first.fetched == 9 and first.not_modified == 0
    sim_listing.refresh_from_db()
    assert sim_listing.availability["availability"].startswith("YYYY")
    assert sim_listing.rates["weekday"]["mon"] == "100.00"
    assert sim_listing.content["lodging"]["time_zone"] == prop.timezone

    second = sim.crawl(sim_listing)
    assert (second.fetched, second.not_modified) == (0, 9)  # nothing changed: every read a 304

    check_in = feeds.local_today(prop) + timedelta(days=5)
    booking_services.booking_create(
        property_id=prop.pk, check_in=check_in, check_out=check_in + timedelta(days=2), guests=2, status="confirmed"
    )
    third = sim.crawl(sim_listing)
    downloaded = [r["url"].split("/vrbo/")[1] for r in third.reads if r["status"] == 200]
    assert "feeds/availability/L-ALICE.xml" in downloaded and "feeds/availability/index.xml" in downloaded
    assert "feeds/listing/L-ALICE.xml" not in downloaded  # the content did not change
    assert "feeds/rates/L-ALICE.xml" not in downloaded  # neither did the prices (same ETag: 304)
    sim_listing.refresh_from_db()
    assert sim_listing.availability["availability"][5:7] == "NN"
    assert not sim.nights_open(sim_listing, check_in=check_in, check_out=check_in + timedelta(days=1))
    # our side recorded each read with its status
    reads = feeds.last_read(sim_listing and prop.channel_connections.get(platform="fewo_direkt"))
    assert reads.status_code == 200


STAYS = [(3, 1), (3, 2), (10, 7), (20, 14), (0, 3), (2, 5), (40, 30), (60, 9), (5, 28)]


def test_simulator_quote_equals_our_storefront_quote(sim_listing, prop, live_server):
    """Nightly rates (weekend, season, a block's price), discounts (length of stay tiers, last
    minute), cleaning and extra-guest fees, percentage and per-person taxes: the simulator prices each
    stay from what it crawled exactly as our storefront does."""
    today = feeds.local_today(prop)
    prop.cleaning_fee = Decimal("45.50")
    prop.default_max_stay = 60
    prop.max_guests = 6
    prop.save()

    def rule(rule_type, adjustment_type, value, priority=0, **conditions):
        PricingRule.objects.create(
            property=prop,
            rule_type=rule_type,
            adjustment_type=adjustment_type,
            adjustment_value=Decimal(value),
            conditions=conditions,
            priority=priority,
        )

    rule("weekend", "percentage", "15", days=[4, 5])
    rule(
        "seasonal",
        "fixed",
        "12.35",
        start_date=str(today + timedelta(days=30)),
        end_date=str(today + timedelta(days=50)),
    )
    rule("length_of_stay", "percentage", "-7.5", priority=2, min_nights=7)
    rule("length_of_stay", "percentage", "-12", priority=2, min_nights=14)
    rule("length_of_stay", "fixed", "-40", priority=2, min_nights=28)
    rule("last_minute", "percentage", "-9.99", priority=1, max_days_before=3)
    rule("extra_guest_fee", "fixed", "11.11", above_guests=2)
    rule("tax_percentage", "percentage", "7", name="VAT")
    rule("tax_per_person_night", "fixed", "1.75", name="Kurtaxe")
    AvailabilityBlock.objects.create(
        property=prop,
        block_type="available",
        start_date=today + timedelta(days=60),
        end_date=today + timedelta(days=64),
        price_override=Decimal("133.33"),
    )
    record = sim.crawl(sim_listing)
    assert record.error == ""
    sim_listing.refresh_from_db()
    for offset, nights in STAYS:
        for guests in (1, 4):
            check_in = today + timedelta(days=offset)
            check_out = check_in + timedelta(days=nights)
            ours = quote_stay(prop=prop, check_in=check_in, check_out=check_out, guests=guests)
            theirs = sim.sim_quote(sim_listing, check_in=check_in, check_out=check_out, adults=guests)
            label = f"{check_in} +{nights} nights, {guests} guests"
            assert theirs["nights"] == [n.final for n in ours.nights], label
            assert [d["amount"] for d in theirs["discounts"]] == [a["amount"] for a in ours.stay_adjustments], label
            assert theirs["rent"] == ours.rent, label
            assert sorted(theirs["fees"]) == sorted(f["amount"] for f in ours.fees), label
            assert sorted(theirs["taxes"]) == sorted(t["amount"] for t in ours.taxes), label
            assert theirs["total"] == ours.total, label
    # the simulator's own endpoint says the same over HTTP
    check_in = today + timedelta(days=20)
    answer = requests.get(
        f"{live_server.url}/sandbox/vrbo/listings/L-ALICE/quote",
        params={"check_in": str(check_in), "check_out": str(check_in + timedelta(days=14)), "adults": 3},
        timeout=10,
    ).json()
    ours = quote_stay(prop=prop, check_in=check_in, check_out=check_in + timedelta(days=14), guests=3)
    assert answer["total"] == str(ours.total)


def test_guest_books_on_vrbo_closes_booking_com_and_our_ical_feed(sim_listing, prop, live_server, listing):
    make_connection(prop, base_url=live_server.url + "/sandbox/booking_com")
    sim.crawl(sim_listing)
    sim_listing.refresh_from_db()
    stay = sim.first_open_stay(sim_listing, nights=3, after=14)
    record = sim.book(sim_listing, check_in=stay[0], check_out=stay[1])
    assert record.status == "booked", record.response_body
    booking = Booking.objects.get(property=prop, source="fewo_direkt", external_id=record.tracking_uuid)
    assert booking.reference == record.pms_external_id and booking.status == "confirmed"
    assert (
        booking.total_price
        == record.total
        == quote_stay(prop=prop, check_in=stay[0], check_out=stay[1], guests=2).total
    )
    nights = [stay[0] + timedelta(days=i) for i in range(3)]
    assert SimCalendarDay.objects.filter(listing=listing, day__in=nights, rooms_to_sell=0).count() == 3
    # Airbnb and the other iCal readers see it in our export feed
    ics = requests.get(f"{live_server.url}/ical/{prop.ical_token}.ics", timeout=10).text
    assert f"DTSTART;VALUE=DATE:{stay[0]:%Y%m%d}" in ics
    # the next crawl brings the booking into the simulator's calendar and booking feed
    sim.crawl(sim_listing)
    sim_listing.refresh_from_db()
    assert not sim.nights_open(sim_listing, check_in=stay[0], check_out=stay[1])
    assert record.tracking_uuid in sim_listing.bookings
    # the guest cancels on Vrbo: the nights are free again
    assert sim.cancel(record).status == "cancelled"
    booking.refresh_from_db()
    assert booking.status == "cancelled"


def test_a_stale_crawl_produces_a_request_we_refuse(sim_listing, prop):
    sim.crawl(sim_listing)
    sim_listing.refresh_from_db()
    check_in = feeds.local_today(prop) + timedelta(days=9)
    booking_services.booking_create(
        property_id=prop.pk, check_in=check_in, check_out=check_in + timedelta(days=3), guests=2, status="confirmed"
    )
    assert sim.nights_open(sim_listing, check_in=check_in, check_out=check_in + timedelta(days=3))  # stale
    record = sim.book(sim_listing, check_in=check_in, check_out=check_in + timedelta(days=3))
    assert (record.status, record.error_code) == ("refused", "DATES_NOT_AVAILABLE")
    assert ChannelAlert.objects.filter(kind="conflict", connection__platform="fewo_direkt").count() == 1
    assert Booking.objects.filter(property=prop, check_in=check_in).count() == 1


def test_paused_crawler_trips_the_staleness_alert_and_a_read_resolves_it(sim_listing, prop, alice_vrbo, settings):
    settings.VRBO_STALE_MINUTES = 10
    assert sim.crawl_due() != []  # never crawled: due at once
    sim_listing.refresh_from_db()
    assert sim.crawl_due() == []  # not due again within its interval
    VrboSimListing.objects.filter(pk=sim_listing.pk).update(paused=True, last_crawl_at=None)
    check_in = feeds.local_today(prop) + timedelta(days=6)
    booking_services.booking_create(
        property_id=prop.pk, check_in=check_in, check_out=check_in + timedelta(days=2), guests=2, status="confirmed"
    )
    assert sim.crawl_due() == []  # paused: the platform stops reading
    later = timezone.now() + timedelta(minutes=11)
    assert len(feeds.staleness_check(now=later)) == 1
    assert "not seen your latest change" in feeds.staleness_text(alice_vrbo)
    VrboSimListing.objects.filter(pk=sim_listing.pk).update(paused=False)
    assert len(sim.crawl_due()) == 1
    feeds.staleness_check()
    alert = ChannelAlert.objects.get(kind="feed_stale")
    assert alert.resolved_at is not None
    assert "not seen" not in feeds.staleness_text(alice_vrbo)


def test_slow_reads_and_malformed_requests(sim_listing, prop, live_server):
    VrboSimListing.objects.filter(pk=sim_listing.pk).update(slow_read_ms=30)
    sim_listing.refresh_from_db()
    record = sim.crawl(sim_listing)
    assert record.error == "" and record.fetched == 9
    stay = sim.first_open_stay(sim_listing)
    bad = sim.book(sim_listing, check_in=stay[0], check_out=stay[1], malformed=True)
    assert (bad.status, bad.http_status, bad.error_code) == ("refused", 400, "MALFORMED_REQUEST")
    assert InboundMessage.objects.filter(platform="fewo_direkt", status="invalid").count() == 1
    assert not Booking.objects.filter(source="fewo_direkt").exists()
    # the simulator's own endpoints: crawl and book over HTTP, unknown listing, bad dates
    assert requests.post(f"{live_server.url}/sandbox/vrbo/listings/L-ALICE/crawl", timeout=30).json()["error"] == ""
    assert requests.post(f"{live_server.url}/sandbox/vrbo/listings/NOPE/crawl", timeout=10).status_code == 404
    answer = requests.post(
        f"{live_server.url}/sandbox/vrbo/listings/L-ALICE/book",
        data={"check_in": str(stay[0]), "check_out": str(stay[1]), "adults": "2"},
        timeout=30,
    ).json()
    assert answer["status"] == "booked" and answer["pms_external_id"].startswith("PMS")
    bad_dates = requests.post(
        f"{live_server.url}/sandbox/vrbo/listings/L-ALICE/book", data={"check_in": "x"}, timeout=10
    )
    assert bad_dates.status_code == 400


def test_commands(sim_listing, prop, capsys):
    call_command("vrbo_crawl", "--listing", "L-ALICE")
    assert "9 downloaded" in capsys.readouterr().out
    call_command("vrbo_book", "--listing", "L-ALICE", "--nights", "2", "--after", "20")
    out = capsys.readouterr().out
    assert "Booked" in out and "our booking PMS" in out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("vrbo_book", "--listing", "NOPE")


@pytest.mark.slow
def test_real_worker_vrbo_booking_closes_booking_com(sim_listing, prop, live_server, listing, celery_worker_process):
    make_connection(prop, base_url=live_server.url + "/sandbox/booking_com")
    sim.crawl(sim_listing)
    sim_listing.refresh_from_db()
    stay = sim.first_open_stay(sim_listing, nights=2, after=10)
    record = sim.book(sim_listing, check_in=stay[0], check_out=stay[1])
    assert record.status == "booked"
    nights = [stay[0], stay[0] + timedelta(days=1)]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if SimCalendarDay.objects.filter(listing=listing, day__in=nights, rooms_to_sell=0).count() == 2:
            break
        time.sleep(0.1)
    assert SimCalendarDay.objects.filter(listing=listing, day__in=nights, rooms_to_sell=0).count() == 2
    # and the next crawl shows the nights closed on Vrbo's side too
    sim.crawl(sim_listing)
    sim_listing.refresh_from_db()
    assert not sim.nights_open(sim_listing, check_in=stay[0], check_out=stay[1])
