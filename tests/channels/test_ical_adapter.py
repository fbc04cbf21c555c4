"""The pure iCal adapter: every real feed shape of PLATFORMS.md section 6, integrity, export.

Fixture files hold ``{{D+n}}`` for "today + n days" (YYYYMMDD) so their dates stay in the future.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from apps.channels.adapters import ical as adapter

FIXTURES = Path(__file__).parent / "fixtures" / "ical"
BERLIN = "Europe/Berlin"


def D(n: int) -> date:
    return date.today() + timedelta(days=n)


def render(name: str, *, today: date | None = None) -> bytes:
    """A fixture feed with its ``{{D+n}}`` markers replaced by real dates."""
    base = today or date.today()
    text = (FIXTURES / name).read_bytes().decode("utf-8")
    text = re.sub(r"\{\{D\+(\d+)\}\}", lambda m: (base + timedelta(days=int(m.group(1)))).strftime("%Y%m%d"), text)
    return text.encode("utf-8")


def spans(parsed: adapter.ParsedFeed) -> dict[str, tuple[date, date, str, bool]]:
    return {e.uid: (e.start, e.end, e.kind, e.cancelled) for e in parsed.events}


def test_airbnb_shape():
    parsed = adapter.parse_feed(render("airbnb.ics"), tz=BERLIN)
    assert parsed.platform == "airbnb"
    assert parsed.skipped == []
    assert spans(parsed) == {
        "1418fb94e984-c36acd434e8f6c1a1b2f4e5d6c7b8a96@airbnb.com": (D(10), D(15), "reserved", False),
        "6fec1092d3fa-593cc373f3608bf4d477eed46f443abe@airbnb.com": (D(20), D(21), "blocked", False),
    }


def test_airbnb_cross_block_keeps_both_events():
    parsed = adapter.parse_feed(render("airbnb_crossblock.ics"), tz=BERLIN)
    assert [(e.start, e.end, e.kind) for e in parsed.events] == [(D(30), D(34), "reserved"), (D(31), D(33), "blocked")]


def test_booking_com_shape():
    parsed = adapter.parse_feed(render("booking_com.ics"), tz=BERLIN)
    assert parsed.platform == "booking_com"
    assert "admin.booking.com, b.v." in parsed.prodid  # the escaped comma is read back
    assert spans(parsed) == {
        "ab8907e00fb0089a06e5acfdea101250@booking.com": (D(10), D(11), "blocked", False),
        "3c5f1e2d9b8a7f6e5d4c3b2a19081726@booking.com": (D(12), D(16), "blocked", False),
    }


def test_vrbo_shape_localized_summaries():
    parsed = adapter.parse_feed(render("vrbo.ics"), tz=BERLIN)
    assert parsed.platform == "vrbo"
    assert spans(parsed) == {
        "6f49cda7-479e-454b-a6a3-39fa7feee5ed": (D(10), D(15), "reserved", False),
        "02292020-0229-2020-0305-202003052020": (D(20), D(22), "blocked", False),
        "b8f3c1d2-7e6a-4f5b-9c8d-1a2b3c4d5e6f": (D(25), D(27), "tentative", False),
    }
    # guest names from SUMMARY are not carried anywhere
    assert "Melanie" not in repr(parsed) and "Dupont" not in repr(parsed)


def test_date_time_shapes_become_property_local_dates():
    parsed = adapter.parse_feed(render("datetimes.ics"), tz=BERLIN)
    assert parsed.platform == "unknown"
    assert spans(parsed) == {
        # 14:00Z..10:00Z: nights D40, D41, D42; checkout D43
        "utc-stay@example.com": (D(40), D(43), "reserved", False),
        # 20:00 New York is 01:00/02:00 next day in Berlin
        "tzid-stay@example.com": (D(51), D(53), "reserved", False),
        # floating times are already local
        "floating-stay@example.com": (D(60), D(62), "blocked", False),
        # no DTEND on a DATE: one day
        "no-dtend@example.com": (D(70), D(71), "blocked", False),
        "duration@example.com": (D(75), D(78), "blocked", False),
        "cancelled@example.com": (D(80), D(82), "reserved", True),
        # the TRANSP:TRANSPARENT event is free time and not listed
    }
    assert [e.uid for e in parsed.active] == [
        "utc-stay@example.com",
        "tzid-stay@example.com",
        "floating-stay@example.com",
        "no-dtend@example.com",
        "duration@example.com",
    ]


def test_utc_date_time_near_midnight_uses_property_zone():
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:late\r\n"
        "DTSTART:20281209T233000Z\r\nDTEND:20281212T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert spans(adapter.parse_feed(body, tz="Europe/Berlin"))["late"][:2] == (date(2028, 12, 10), date(2028, 12, 12))
    assert spans(adapter.parse_feed(body, tz="America/Los_Angeles"))["late"][:2] == (
        date(2028, 12, 9),
        date(2028, 12, 12),
    )


def test_end_inclusive_option_and_bad_ranges():
    body = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n"
        "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20280101\nDTEND;VALUE=DATE:20280103\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:same-day\nDTSTART;VALUE=DATE:20280110\nDTEND;VALUE=DATE:20280110\nEND:VEVENT\n"
        "END:VCALENDAR\n"
    )
    exclusive = spans(adapter.parse_feed(body, tz=BERLIN))
    inclusive = spans(adapter.parse_feed(body, tz=BERLIN, end_inclusive=True))
    assert exclusive["a"][:2] == (date(2028, 1, 1), date(2028, 1, 3))
    assert inclusive["a"][:2] == (date(2028, 1, 1), date(2028, 1, 4))
    assert exclusive["same-day"][:2] == (date(2028, 1, 10), date(2028, 1, 11))


def test_broken_event_is_skipped_with_its_uid_and_bom_is_ignored():
    body = (
        "\ufeffBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
        "BEGIN:VEVENT\r\nUID:good\r\nDTSTART;VALUE=DATE:20280101\r\nDTEND;VALUE=DATE:20280102\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:broken\r\nDTSTART:yesterday\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:no-start\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    ).encode()
    parsed = adapter.parse_feed(body, tz=BERLIN)
    assert [e.uid for e in parsed.events] == ["good"]
    assert [s["uid"] for s in parsed.skipped] == ["broken", "no-start"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "empty"),
        (b"  \r\n\r\n", "empty"),
        (b"<html><body>Service unavailable</body></html>", "not_icalendar"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:2028", "truncated"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VCALENDAR\r\n", "truncated"),
    ],
)
def test_integrity_guard(body, code):
    with pytest.raises(adapter.FeedInvalid) as info:
        adapter.parse_feed(body, tz=BERLIN)
    assert info.value.code == code


ALL_FIXTURES = ["airbnb.ics", "airbnb_crossblock.ics", "booking_com.ics", "vrbo.ics", "datetimes.ics"]


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_fixture_cut_in_half_is_refused(name):
    body = render(name)
    with pytest.raises(adapter.FeedInvalid):
        adapter.parse_feed(body[: len(body) // 2], tz=BERLIN)


@pytest.mark.parametrize(
    ("summary", "kind"),
    [
        ("Reserved", "reserved"),
        ("Reserved - John", "reserved"),
        ("Réservée - Melanie", "reserved"),
        ("Réservée", "reserved"),
        ("Not available", "blocked"),
        ("CLOSED - Not available", "blocked"),
        ("Airbnb (Not available)", "blocked"),
        ("Indisponible", "blocked"),
        ("Blocked", "blocked"),
        ("Provisoire - Jean", "tentative"),
        ("", "blocked"),
    ],
)
def test_classify_summary(summary, kind):
    assert adapter.classify_summary(summary) == kind


def test_build_feed_round_trip():
    stamp = datetime(2028, 1, 1, 12, 0, tzinfo=UTC)
    events = [
        adapter.ExportEvent(uid="booking-1@pms-webapp", start=D(5), end=D(8), summary="Reserved", stamp=stamp),
        adapter.ExportEvent(uid="block-2@pms-webapp", start=D(8), end=D(9), summary="Blocked", stamp=stamp),
    ]
    body = adapter.build_feed(events=events, name="Loft")
    cal = icalendar.Calendar.from_ical(body)
    vevents = cal.walk("VEVENT")
    assert [str(v["UID"]) for v in vevents] == ["booking-1@pms-webapp", "block-2@pms-webapp"]
    assert b"DTSTART;VALUE=DATE:" in body and b"DTEND;VALUE=DATE:" in body
    assert vevents[0]["DTEND"].dt == D(8)  # exclusive: the checkout day
    parsed = adapter.parse_feed(body, tz=BERLIN)
    assert [(e.start, e.end) for e in parsed.events] == [(D(5), D(8)), (D(8), D(9))]


def test_missing_and_overlong_uids_get_stable_keys():
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20280101\r\nDTEND;VALUE=DATE:20280102\r\nSUMMARY:Blocked\r\nEND:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nUID:{'x' * 300}\r\nDTSTART;VALUE=DATE:20280105\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    first = [e.uid for e in adapter.parse_feed(body, tz=BERLIN).events]
    again = [e.uid for e in adapter.parse_feed(body, tz=BERLIN).events]
    assert first == again
    assert first[0].startswith("nouid-") and first[1].startswith("sha256-")
    assert all(len(uid) <= 255 for uid in first)
