"""iCal import over real HTTP: feeds served by the sandbox feed host (``/sandbox/ical/``) on a
live Django server, fetched by ``import_feed`` through ``requests``.

The feed host keeps its state in Redis and never touches the database, so these tests run the
server with pytest-django's ``LiveServer`` helper in a session fixture (``feed_server``) and keep
the fast, rolled-back ``db`` fixture: the ``live_server`` fixture itself forces a transactional
database and a ~2-3 s flush per test. The export tests use ``live_server`` where the server
must read the database.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
import requests
from django.db import connection
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from apps.availability import services as availability_services
from apps.availability.models import AvailabilityBlock
from apps.bookings import services as booking_services
from apps.bookings.models import BookingStatus
from apps.channels import ical
from apps.core.errors import ValidationFailed
from apps.sandbox import ical_host
from tests.channels.test_ical_adapter import D, render
from tests.factories import PropertyFactory, UserFactory

CONNECTION_ID = 7001
HOUSE_TZ = "Europe/Berlin"


def house_day(n: int) -> date:
    """``n`` days after today on the house's own calendar (the import judges dates there: between 23:00
    and 24:00 UTC Berlin is already a day ahead)."""
    return datetime.now(ZoneInfo(HOUSE_TZ)).date() + timedelta(days=n)


class FeedHost:
    """The sandbox iCal host on the live server, one fresh feed name per test."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.name = f"t-{uuid.uuid4().hex[:12]}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/sandbox/ical/{self.name}.ics?s=secret-token"

    def publish(self, body: bytes) -> None:
        ical_host.feed_set(name=self.name, body=body)

    def fault(self, fault: str, **kwargs) -> None:
        ical_host.feed_fault_set(name=self.name, fault=fault, **kwargs)


@pytest.fixture(scope="session")
def feed_server(django_db_setup):
    server = LiveServer("127.0.0.1:0")
    yield server
    server.stop()


@pytest.fixture
def host(feed_server):
    feed = FeedHost(feed_server.url)
    yield feed
    ical_host.feed_delete(name=feed.name)


@pytest.fixture
def house(db):
    return PropertyFactory(owner=UserFactory(username=f"o-{uuid.uuid4().hex[:8]}"), timezone=HOUSE_TZ)


def run_import(house, host, source="airbnb", **kwargs):
    return ical.import_feed(property_id=house.pk, source=source, connection_id=CONNECTION_ID, url=host.url, **kwargs)


def blocks(house, source=None):
    qs = AvailabilityBlock.objects.filter(property=house)
    if source:
        qs = qs.filter(source=source)
    return {b.external_uid: (b.start_date, b.end_date) for b in qs}


AIRBNB_RES = "1418fb94e984-c36acd434e8f6c1a1b2f4e5d6c7b8a96@airbnb.com"
AIRBNB_BLOCK = "6fec1092d3fa-593cc373f3608bf4d477eed46f443abe@airbnb.com"


def test_airbnb_feed_becomes_channel_blocks(house, host):
    host.publish(render("airbnb.ics"))
    result = run_import(house, host)
    assert result.ok, result.error
    assert result.platform == "airbnb"
    assert sorted(result.created) == sorted([AIRBNB_RES, AIRBNB_BLOCK])
    assert blocks(house) == {AIRBNB_RES: (D(10), D(15)), AIRBNB_BLOCK: (D(20), D(21))}
    made = AvailabilityBlock.objects.filter(property=house)
    assert {(b.source, b.connection_id, b.block_type) for b in made} == {("airbnb", CONNECTION_ID, "blocked")}
    # nothing from DESCRIPTION (confirmation code, phone digits) is stored
    assert not any("4235" in b.note or "HMN" in b.note for b in made)
    # the URL's secret query is not kept in the result
    assert "secret-token" not in repr(result.as_dict())
    assert ical_host.feed_hits(name=host.name) == 1


def test_booking_com_feed(house, host):
    host.publish(render("booking_com.ics"))
    result = run_import(house, host, source="booking_com")
    assert result.ok and result.platform == "booking_com"
    assert blocks(house, "booking_com") == {
        "ab8907e00fb0089a06e5acfdea101250@booking.com": (D(10), D(11)),
        "3c5f1e2d9b8a7f6e5d4c3b2a19081726@booking.com": (D(12), D(16)),
    }


def test_vrbo_feed_without_guest_names(house, host):
    host.publish(render("vrbo.ics"))
    result = run_import(house, host, source="fewo_direkt")
    assert result.ok and result.platform == "vrbo"
    assert blocks(house, "fewo_direkt") == {
        "6f49cda7-479e-454b-a6a3-39fa7feee5ed": (D(10), D(15)),
        "02292020-0229-2020-0305-202003052020": (D(20), D(22)),
        "b8f3c1d2-7e6a-4f5b-9c8d-1a2b3c4d5e6f": (D(25), D(27)),
    }
    notes = " ".join(AvailabilityBlock.objects.filter(property=house).values_list("note", flat=True))
    assert "Melanie" not in notes and "Dupont" not in notes


def test_date_time_feed_in_property_time_zone(house, host):
    host.publish(render("datetimes.ics"))
    result = run_import(house, host, source="ical")
    assert result.ok
    assert blocks(house, "ical") == {
        "utc-stay@example.com": (D(40), D(43)),
        "tzid-stay@example.com": (D(51), D(53)),
        "floating-stay@example.com": (D(60), D(62)),
        "no-dtend@example.com": (D(70), D(71)),
        "duration@example.com": (D(75), D(78)),
    }  # the cancelled and the transparent event take no dates


def test_cross_blocked_nights_are_an_overlap_not_a_conflict(house, host):
    host.publish(render("airbnb_crossblock.ics"))
    result = run_import(house, host)
    assert result.ok
    assert blocks(house) == {"9a1b2c3d4e5f-0123456789abcdef0123456789abcdef@airbnb.com": (D(30), D(34))}
    assert [o["uid"] for o in result.overlaps] == ["0f0e0d0c0b0a-fedcba9876543210fedcba9876543210@airbnb.com"]
    assert result.conflicts == []


def test_reimport_is_idempotent(house, host):
    host.publish(render("airbnb.ics"))
    first = run_import(house, host)
    ids = set(AvailabilityBlock.objects.filter(property=house).values_list("pk", flat=True))
    second = run_import(house, host)
    assert first.ok and second.ok
    assert second.created == [] and second.updated == [] and second.released == [] and second.unchanged == 2
    assert set(AvailabilityBlock.objects.filter(property=house).values_list("pk", flat=True)) == ids


def test_vanished_event_is_released_and_moved_event_updated(house, host):
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    kept_id = AvailabilityBlock.objects.get(property=house, external_uid=AIRBNB_RES).pk
    # the guest changed their stay; the owner's "Not available" block is gone
    body = render("airbnb.ics").decode()
    body = body.replace(D(15).strftime("%Y%m%d"), D(17).strftime("%Y%m%d"))
    start = body.index("BEGIN:VEVENT", body.index("END:VEVENT"))
    end = body.index("END:VEVENT", start) + len("END:VEVENT\r\n")
    host.publish((body[:start] + body[end:]).encode())
    result = run_import(house, host)
    assert result.ok
    assert result.released == [AIRBNB_BLOCK] and result.updated == [AIRBNB_RES]
    assert blocks(house) == {AIRBNB_RES: (D(10), D(17))}
    assert AvailabilityBlock.objects.get(property=house, external_uid=AIRBNB_RES).pk == kept_id


def test_cancelled_status_releases_the_block(house, host):
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    body = render("airbnb.ics").decode().replace("SUMMARY:Reserved\r\n", "SUMMARY:Reserved\r\nSTATUS:CANCELLED\r\n")
    host.publish(body.encode())
    result = run_import(house, host)
    assert result.released == [AIRBNB_RES]
    assert blocks(house) == {AIRBNB_BLOCK: (D(20), D(21))}


EMPTY_FEED = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\nEND:VCALENDAR"
TIMEZONE_ONLY_FEED = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
    b"BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    b"END:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.parametrize("empty_body", [EMPTY_FEED, TIMEZONE_ONLY_FEED], ids=["no-events", "vtimezone-only"])
def test_empty_feed_from_a_feed_that_had_events_releases_nothing_and_alerts(house, host, settings, empty_body):
    """Finding 1: a valid but empty feed released every imported block. Now it holds them, alerts
    once per run, and releases only after the documented rule (several empty fetches over hours)."""
    from apps.channels.models import ChannelAlert, IcalFeedState

    settings.ICAL_EMPTY_RELEASE_FETCHES, settings.ICAL_EMPTY_RELEASE_HOURS = 3, 0
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    before = blocks(house)
    host.publish(empty_body)
    for attempt in (1, 2):
        result = run_import(house, host)
        assert (result.ok, result.error_code, result.held, result.released) == (False, "empty_feed", 2, [])
        assert blocks(house) == before, f"released on empty fetch {attempt}"
    alerts = ChannelAlert.objects.filter(property=house, kind="feed_empty")
    assert alerts.count() == 1 and "kept closed" in alerts.get().message
    assert IcalFeedState.objects.get(property=house).empty_fetches == 2
    third = run_import(house, host)  # the rule: 3 empty fetches (and 0 hours here) -> absence is believed
    assert third.ok and sorted(third.released) == sorted([AIRBNB_RES, AIRBNB_BLOCK])
    assert blocks(house) == {}


def test_empty_feed_run_needs_the_hours_too_and_events_end_the_run(house, host, settings):
    from apps.channels.models import IcalFeedState

    settings.ICAL_EMPTY_RELEASE_FETCHES, settings.ICAL_EMPTY_RELEASE_HOURS = 1, 24
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    host.publish(EMPTY_FEED)
    for _ in range(3):
        assert run_import(house, host).error_code == "empty_feed"
    host.publish(render("airbnb.ics"))  # the platform is back: the run ends
    assert run_import(house, host).ok
    state = IcalFeedState.objects.get(property=house)
    assert (state.empty_fetches, state.empty_since) == (0, None)
    host.publish(EMPTY_FEED)
    assert run_import(house, host).error_code == "empty_feed"
    IcalFeedState.objects.filter(pk=state.pk).update(empty_since=timezone.now() - timedelta(hours=25))
    result = run_import(house, host)
    assert result.ok and len(result.released) == 2


def test_owner_confirms_an_empty_feed(house, host):
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    host.publish(EMPTY_FEED)
    assert run_import(house, host).error_code == "empty_feed"
    confirmed = run_import(house, host, accept_empty=True)
    assert confirmed.ok and len(confirmed.released) == 2 and blocks(house) == {}


def test_empty_feed_without_blocks_is_simply_ok(house, host):
    host.publish(EMPTY_FEED)
    result = run_import(house, host)
    assert result.ok and result.error_code == "" and result.held == 0


def test_only_cancelled_events_release_at_once(house, host):
    """An explicit STATUS:CANCELLED is the platform saying so, not an empty feed."""
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    body = render("airbnb.ics").decode().replace("END:VEVENT", "STATUS:CANCELLED\r\nEND:VEVENT")
    host.publish(body.encode())
    result = run_import(house, host)
    assert result.ok and len(result.released) == 2


def test_dripping_feed_is_cut_at_the_wall_clock_deadline(house, host, settings):
    """Finding 3: a feed dripping a byte every 0.2 s held a worker far past its budget."""
    settings.ICAL_FETCH_TIMEOUT, settings.ICAL_FETCH_DEADLINE = 1.0, 1.5
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    before = blocks(house)
    host.fault("drip", delay=0.2)
    started = time.monotonic()
    result = run_import(house, host)
    elapsed = time.monotonic() - started
    assert (result.ok, result.error_code) == (False, "timeout")
    assert elapsed < 1.5 + 0.8, elapsed  # the deadline, plus at most one drip interval and overhead
    assert blocks(house) == before


def test_one_import_per_feed_at_a_time_by_a_database_lock(house, host):
    """Finding 3: the "busy" marker was a cache key that expired while an import still ran. The lock
    is PostgreSQL's: while another session holds it, an import answers busy and changes nothing."""
    host.publish(render("airbnb.ics"))
    key = ical._lock_key(house.pk, "airbnb", CONNECTION_ID)
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"] or None, host=db["HOST"] or None, port=db["PORT"] or None, autocommit=True
    ) as other:
        assert other.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]
        result = run_import(house, host)
        assert (result.ok, result.error_code) == (False, "busy") and blocks(house) == {}
        other.execute("SELECT pg_advisory_unlock(%s)", [key])
    assert run_import(house, host).ok
    # released after the import: the next one gets it again
    assert run_import(house, host).unchanged == 2


def _feed(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + "".join(events) + "END:VCALENDAR\r\n").encode()


def _day(n: int) -> str:
    return house_day(n).strftime("%Y%m%d")


def test_recurring_events_are_expanded(house, host, settings):
    """Finding 3: RRULE events blocked only their first occurrence."""
    weekly = (
        f"BEGIN:VEVENT\r\nUID:cleaning@x\r\nDTSTART;VALUE=DATE:{_day(7)}\r\nDTEND;VALUE=DATE:{_day(8)}\r\n"
        f"RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;VALUE=DATE:{_day(14)}\r\nSUMMARY:Blocked\r\nEND:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nUID:cleaning@x\r\nRECURRENCE-ID;VALUE=DATE:{_day(21)}\r\n"
        f"DTSTART;VALUE=DATE:{_day(22)}\r\nDTEND;VALUE=DATE:{_day(24)}\r\nEND:VEVENT\r\n"
    )
    host.publish(_feed(weekly))
    result = run_import(house, host, source="ical")
    assert result.ok, result.error
    assert blocks(house) == {
        f"cleaning@x#{_day(7)}": (house_day(7), house_day(8)),
        f"cleaning@x#{_day(21)}": (house_day(22), house_day(24)),  # the moved occurrence keeps its key
        f"cleaning@x#{_day(28)}": (house_day(28), house_day(29)),
    }
    assert result.recurring == [{"uid": "cleaning@x", "occurrences": 3}]
    # an endless daily rule is bounded by the horizon (MAX_DAYS_AHEAD), not by the feed
    settings.MAX_DAYS_AHEAD = 60
    host.publish(
        _feed(f"BEGIN:VEVENT\r\nUID:daily\r\nDTSTART;VALUE=DATE:{_day(1)}\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n")
    )
    result = run_import(house, host, source="ical")
    # day 1 up to day 60: the horizon is judged on the server's date, like every limit (UTC here, while
    # Berlin is a day ahead between 23:00 and 24:00 UTC)
    expected = (D(60) - house_day(1)).days
    assert result.ok and result.events == expected and len(blocks(house)) == expected


def test_duplicate_uids_are_kept_apart_not_merged(house, host):
    """Finding 3: two events with one UID were merged into their widest span (closing nights in
    between that nobody took). Each keeps its own dates; identical copies count once."""
    event = "BEGIN:VEVENT\r\nUID:dup@x\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nEND:VEVENT\r\n"
    host.publish(
        _feed(event.format(_day(10), _day(12)), event.format(_day(20), _day(22)), event.format(_day(10), _day(12)))
    )
    result = run_import(house, host, source="ical")
    assert result.ok
    assert blocks(house) == {
        f"dup@x#{_day(10)}": (house_day(10), house_day(12)),
        f"dup@x#{_day(20)}": (house_day(20), house_day(22)),
    }
    assert result.duplicates == [{"uid": "dup@x", "instances": 2, "keys": [f"dup@x#{_day(10)}", f"dup@x#{_day(20)}"]}]


def test_endless_event_is_capped_by_the_limits(house, host):
    """Finding 2: one event to 9999-12-31 ran 635 s and wrote 2.9 million night rows."""
    from apps.availability.models import OccupiedNight
    from apps.core import limits

    host.publish(
        _feed(
            f"BEGIN:VEVENT\r\nUID:forever\r\nDTSTART;VALUE=DATE:{_day(5)}\r\nDTEND;VALUE=DATE:99991231\r\nEND:VEVENT\r\n"
        )
    )
    started = time.monotonic()
    result = run_import(house, host, source="ical")
    assert result.ok and time.monotonic() - started < 60
    made = AvailabilityBlock.objects.filter(property=house).order_by("start_date")
    assert made.first().start_date == house_day(5) and made.last().end_date == D(limits.max_days_ahead())
    assert all(b.nights <= limits.max_stay_nights() for b in made)
    assert OccupiedNight.objects.filter(property=house).count() == (D(limits.max_days_ahead()) - house_day(5)).days
    assert result.clipped and result.clipped[0]["uid"] == "forever"
    # the export never carries the year 9999
    assert b"9999" not in ical.export_feed(prop=house)


def test_too_many_events_is_a_failed_fetch(house, host, settings):
    settings.ICAL_MAX_EVENTS = 3
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    event = "BEGIN:VEVENT\r\nUID:e{0}\r\nDTSTART;VALUE=DATE:{1}\r\nEND:VEVENT\r\n"
    host.publish(_feed(*(event.format(n, _day(30 + n)) for n in range(5))))
    result = run_import(house, host)
    assert (result.ok, result.error_code) == (False, "too_many_events") and len(blocks(house)) == 2


@pytest.mark.parametrize(
    ("fault", "kwargs", "code", "http_status"),
    [
        ("empty", {}, "empty", 200),
        ("truncated", {}, "truncated", 200),
        ("malformed", {}, "not_icalendar", 200),
        ("error", {"fault_status": 500}, "http_error", 500),
        ("error", {"fault_status": 503}, "http_error", 503),
        ("timeout", {"delay": 1.5}, "timeout", None),
    ],
)
def test_failed_fetch_releases_nothing(house, host, settings, fault, kwargs, code, http_status):
    settings.ICAL_FETCH_TIMEOUT = 0.5
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    before = set(AvailabilityBlock.objects.filter(property=house).values_list("pk", "start_date", "end_date"))
    host.fault(fault, **kwargs)
    result = run_import(house, host)
    assert not result.ok
    assert (result.error_code, result.http_status) == (code, http_status)
    assert result.released == [] and result.created == []
    assert set(AvailabilityBlock.objects.filter(property=house).values_list("pk", "start_date", "end_date")) == before
    status = ical.import_status(property_id=house.pk, source="airbnb", connection_id=CONNECTION_ID)
    assert status["ok"] is False and status["error_code"] == code
    # back to normal: the next whole fetch is applied again
    host.fault("none")
    assert run_import(house, host).ok


def test_missing_feed_404_releases_nothing(house, host):
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    ical_host.feed_delete(name=host.name)
    result = run_import(house, host)
    assert (result.ok, result.error_code, result.http_status) == (False, "http_error", 404)
    assert len(blocks(house)) == 2


def test_unreachable_host_releases_nothing(house):
    result = ical.import_feed(
        property_id=house.pk, source="airbnb", connection_id=CONNECTION_ID, url="http://127.0.0.1:9/feed.ics"
    )
    assert (result.ok, result.error_code) == (False, "network")


def test_event_over_a_direct_booking_is_reported_not_dropped(house, host, caplog):
    booking = booking_services.booking_create(
        property_id=house.pk,
        check_in=D(12),
        check_out=D(14),
        guests=2,
        status=BookingStatus.CONFIRMED,
        guest=booking_services.GuestData(first_name="Ana", email="ana@example.com"),
    )
    host.publish(render("airbnb.ics"))
    with caplog.at_level(logging.WARNING, logger="apps.channels.ical"):
        result = run_import(house, host)
    assert result.ok
    assert [c["uid"] for c in result.conflicts] == [AIRBNB_RES]
    assert result.conflicts[0]["with"][0]["id"] == booking.pk
    assert blocks(house) == {AIRBNB_BLOCK: (D(20), D(21))}
    assert any("iCal conflict" in r.getMessage() for r in caplog.records)
    # when the booking is cancelled, the next import blocks the dates
    booking_services.booking_cancel(booking_id=booking.pk, reason="test")
    again = run_import(house, host)
    assert again.created == [AIRBNB_RES] and again.conflicts == []


def test_same_stay_known_as_a_booking_of_that_channel_is_no_conflict(house, host):
    booking_services.booking_create(
        property_id=house.pk,
        check_in=D(10),
        check_out=D(15),
        guests=2,
        source="airbnb",
        external_id="HMNXQ8J99A",
        status=BookingStatus.CONFIRMED,
        enforce_rules=False,
    )
    host.publish(render("airbnb.ics"))
    result = run_import(house, host)
    assert result.conflicts == [] and [o["uid"] for o in result.overlaps] == [AIRBNB_RES]


def test_owner_block_edited_between_imports_is_kept(house, host):
    """Blocks of other sources are never touched by an import."""
    owner = availability_services.block_create(property_id=house.pk, start_date=D(100), end_date=D(102))
    host.publish(render("airbnb.ics"))
    run_import(house, host)
    host.publish(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n")
    run_import(house, host)
    assert AvailabilityBlock.objects.filter(pk=owner.pk).exists()


def test_bad_arguments_are_refused(house):
    with pytest.raises(ValidationFailed):
        ical.import_feed(property_id=house.pk, source="owner", connection_id=1, url="http://127.0.0.1/x.ics")
    with pytest.raises(ValidationFailed):
        ical.import_feed(property_id=house.pk, source="airbnb", connection_id=1, url="file:///etc/passwd")


def test_import_all_feeds_runs_without_connections(db):
    assert ical.import_all_feeds() == []


def test_import_all_feeds_uses_channel_connections_and_alerts_on_conflict(house, host):
    from apps.channels.models import ChannelAlert, ChannelConnection

    conn = ChannelConnection.objects.create(
        property=house, platform="ical", ical_source="airbnb", ical_import_url=host.url, label="Airbnb iCal"
    )
    ChannelConnection.objects.create(  # disabled: not imported
        property=house, platform="ical", ical_import_url=host.url + "&x=1", sync_enabled=False
    )
    booking = booking_services.booking_create(
        property_id=house.pk, check_in=D(20), check_out=D(21), guests=1, status=BookingStatus.CONFIRMED
    )
    host.publish(render("airbnb.ics"))
    [result] = ical.import_all_feeds()
    assert result.ok and result.connection_id == conn.pk and result.source == "airbnb"
    assert set(
        AvailabilityBlock.objects.filter(property=house).values_list("source", "connection_id", "external_uid")
    ) == {("airbnb", conn.pk, AIRBNB_RES)}
    alert = ChannelAlert.objects.get(property=house)
    assert alert.kind == "conflict" and alert.connection_id == conn.pk
    assert alert.details["uid"] == AIRBNB_BLOCK and alert.details["with"][0]["id"] == booking.pk
    conn.refresh_from_db()
    assert (conn.last_import_status, conn.sync_status, conn.last_error) == ("ok", "ok", "")
    host.fault("empty")
    assert ical.import_connection(connection_id=conn.pk).error_code == "empty"
    conn.refresh_from_db()
    assert (conn.last_import_status, conn.sync_status) == ("empty", "error")
    assert "empty" in conn.last_error and "secret-token" not in conn.last_error
    assert AvailabilityBlock.objects.filter(property=house).count() == 1


def test_sandbox_host_http_controls(feed_server):
    name = f"t-{uuid.uuid4().hex[:12]}"
    base = f"{feed_server.url}/sandbox/ical/{name}"
    try:
        assert requests.get(f"{base}.ics", timeout=5).status_code == 404
        assert requests.put(f"{base}.ics", data=render("booking_com.ics"), timeout=5).status_code == 204
        got = requests.get(f"{base}.ics", timeout=5)
        assert got.status_code == 200 and got.headers["Content-Type"].startswith("text/calendar")
        assert got.content == render("booking_com.ics")
        answer = requests.post(f"{base}/fault", json={"fault": "error", "fault_status": 502}, timeout=5)
        assert answer.status_code == 200 and answer.json()["fault"] == "error"
        assert requests.get(f"{base}.ics", timeout=5).status_code == 502
        assert requests.post(f"{base}/fault", data={"fault": "truncated"}, timeout=5).status_code == 200
        assert len(requests.get(f"{base}.ics", timeout=5).content) == len(render("booking_com.ics")) // 2
        assert requests.post(f"{base}/fault", json={"fault": "explode"}, timeout=5).status_code == 400
        assert requests.post(f"{base}/fault", json={"fault": "slow", "delay": "x"}, timeout=5).status_code == 400
        assert requests.get(f"{base}/stats", timeout=5).json()["hits"] == 3
        assert requests.delete(f"{base}.ics", timeout=5).status_code == 204
        assert requests.get(f"{base}.ics", timeout=5).status_code == 404
    finally:
        ical_host.feed_delete(name=name)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/feed.ics", "http://10.1.2.3/feed.ics", "http://[::1]/x.ics"])
def test_feed_on_a_private_address_is_refused_outside_the_sandbox(house, host, settings, url):
    host.publish(render("airbnb.ics"))
    assert run_import(house, host).ok
    settings.ALLOW_PRIVATE_HOSTS = False
    result = ical.import_feed(property_id=house.pk, source="airbnb", connection_id=CONNECTION_ID, url=url)
    assert (result.ok, result.error_code) == (False, "forbidden_host")
    assert len(blocks(house)) == 2  # nothing released


def test_admin_action_accepts_an_empty_feed_for_its_owner_only(house, host, client):
    from apps.channels.models import ChannelConnection
    from tests.factories import make_owner

    owner = make_owner(f"own-{uuid.uuid4().hex[:6]}")
    house.owner = owner
    house.save(update_fields=["owner"])
    conn = ChannelConnection.objects.create(property=house, platform="ical", ical_import_url=host.url)
    host.publish(render("airbnb.ics"))
    assert ical.import_connection(connection_id=conn.pk).ok
    host.publish(EMPTY_FEED)
    assert ical.import_connection(connection_id=conn.pk).error_code == "empty_feed"
    url = "/admin/channels/channelconnection/"
    outsider = make_owner(f"out-{uuid.uuid4().hex[:6]}")
    client.force_login(outsider)
    client.post(url, {"action": "accept_empty_feed", "_selected_action": [conn.pk]})
    assert AvailabilityBlock.objects.filter(property=house).count() == 2  # not theirs: nothing happens
    client.force_login(owner)
    answer = client.post(url, {"action": "accept_empty_feed", "_selected_action": [conn.pk]}, follow=True)
    assert answer.status_code == 200 and b"2 block(s) released" in answer.content
    assert AvailabilityBlock.objects.filter(property=house).count() == 0
