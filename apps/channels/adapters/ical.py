"""iCal (RFC 5545) feeds: parse what the platforms really export, and build our own export.

Pure functions: no database, no network. ``apps.channels.ical`` fetches, stores and serves.

Shapes handled (see ``shared/channels/PLATFORMS.md`` section 6):

* all-day ``DTSTART;VALUE=DATE`` / ``DTEND;VALUE=DATE`` with an exclusive DTEND (Airbnb,
  Booking.com, Vrbo/HomeAway), in any property order (Airbnb writes DTEND first);
* date-time values in UTC (``...Z``), with a ``TZID`` or floating; they are converted to the
  property's local date (the night that starts on that date is taken);
* a missing DTEND (one night, or DTSTART + DURATION when given), a DTEND not after DTSTART
  (one night), and feeds that mean "last night" rather than "checkout day" (``end_inclusive``);
* localized summaries ("Reserved", "Not available", "CLOSED - Not available",
  "Airbnb (Not available)", "Réservée - Melanie", "Indisponible", "Provisoire - name", ...);
  summaries and descriptions are never kept, since they may carry guest names or phone digits;
* ``STATUS:CANCELLED`` events (listed as cancelled, their dates are not blocked) and
  ``TRANSP:TRANSPARENT`` events (free time: ignored);
* folded lines (RFC 5545 3.1), CRLF or LF line ends, a UTF-8 byte-order mark;
* events whose values are broken are reported in ``skipped`` with their UID, so a caller can
  keep what it already had for them instead of treating them as gone.

A feed is only trusted as a whole when ``check_integrity`` passes: it is not empty, begins with
``BEGIN:VCALENDAR`` and ends with ``END:VCALENDAR`` and has as many ``END:VEVENT`` as
``BEGIN:VEVENT``. Anything else is a failed fetch (``FeedInvalid``): callers must not release
blocks because events seem to have vanished from it.
"""

from __future__ import annotations

import hashlib
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

__all__ = [
    "ExportEvent",
    "FeedInvalid",
    "IcalEvent",
    "ParsedFeed",
    "build_feed",
    "check_integrity",
    "classify_summary",
    "detect_platform",
    "parse_feed",
]

PRODID = "-//PMS-Webapp//iCal export 1.0//EN"


class FeedInvalid(Exception):
    """The body is not a whole, valid iCalendar feed. ``code`` says why (stable, for logs/UI)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IcalEvent:
    uid: str
    start: date  # first night taken (property-local)
    end: date  # exclusive: the checkout day, first night free again
    kind: str  # "reserved" | "blocked" | "tentative"
    cancelled: bool = False

    @property
    def nights(self) -> int:
        return (self.end - self.start).days


@dataclass
class ParsedFeed:
    events: list[IcalEvent]
    prodid: str = ""
    platform: str = "unknown"  # "airbnb" | "booking_com" | "vrbo" | "unknown"
    skipped: list[dict] = field(default_factory=list)  # {"uid": ..., "reason": ...}
    duplicates: list[dict] = field(default_factory=list)  # {"uid", "instances", "keys"}: one UID, several events
    recurring: list[dict] = field(default_factory=list)  # {"uid", "occurrences"}: expanded RRULE/RDATE series
    clipped: list[dict] = field(default_factory=list)  # {"uid", "start", "end", "action"}: capped by the limits

    @property
    def active(self) -> list[IcalEvent]:
        """Events that take dates (not cancelled)."""
        return [e for e in self.events if not e.cancelled]


# --- integrity --------------------------------------------------------------------------------

_BEGIN_CAL = re.compile(rb"\ABEGIN:VCALENDAR\r?\n", re.IGNORECASE)
_END_CAL = re.compile(rb"\r?\nEND:VCALENDAR\Z", re.IGNORECASE)
_BEGIN_EVENT = re.compile(rb"^BEGIN:VEVENT\r?$", re.IGNORECASE | re.MULTILINE)
_END_EVENT = re.compile(rb"^END:VEVENT\r?$", re.IGNORECASE | re.MULTILINE)


def _normalize(body: bytes | str) -> bytes:
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    return body.strip()


def check_integrity(body: bytes | str) -> bytes:
    """Return the normalized body if it is a whole feed, else raise ``FeedInvalid``."""
    data = _normalize(body)
    if not data:
        raise FeedInvalid("empty", "The feed is empty.")
    if not _BEGIN_CAL.match(data):
        raise FeedInvalid("not_icalendar", "The feed does not start with BEGIN:VCALENDAR.")
    if not _END_CAL.search(data):
        raise FeedInvalid("truncated", "The feed does not end with END:VCALENDAR (truncated?).")
    begins, ends = len(_BEGIN_EVENT.findall(data)), len(_END_EVENT.findall(data))
    if begins != ends:
        raise FeedInvalid("truncated", f"The feed has {begins} BEGIN:VEVENT but {ends} END:VEVENT.")
    return data


# --- parsing ----------------------------------------------------------------------------------

_RESERVED_WORDS = (
    "reserved",
    "reservation",
    "booked",
    "réservé",
    "reserve",  # "Réservée" normalized below
    "reservado",
    "reservada",
    "prenotato",
    "reserviert",
    "gebucht",
    "buchung",
    "geboekt",
    "gereserveerd",
)
_TENTATIVE_WORDS = ("provisoire", "tentative", "pending", "on hold", "vorläufig", "anfrage", "inquiry")


def classify_summary(summary: str) -> str:
    """ "reserved", "tentative" or "blocked" from a (localized) SUMMARY. Every kind blocks dates;
    the kind is only informational (Booking.com never tells reservations from closures)."""
    text = summary.casefold()
    plain = text.replace("é", "e").replace("è", "e")
    if any(w in text for w in _TENTATIVE_WORDS):
        return "tentative"
    if "not available" in text or "unavailable" in text or "closed" in text or "indisponible" in text:
        return "blocked"
    if any(w in text or w in plain for w in _RESERVED_WORDS):
        return "reserved"
    return "blocked"


def detect_platform(prodid: str) -> str:
    text = prodid.casefold()
    if "airbnb" in text:
        return "airbnb"
    if "booking.com" in text:
        return "booking_com"
    if "homeaway" in text or "vrbo" in text or "abritel" in text or "fewo" in text:
        return "vrbo"
    return "unknown"


def _local_date(value: date | datetime, tz: zoneinfo.ZoneInfo) -> tuple[date, bool]:
    """(property-local date, True if the value had a time part)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: already property-local
            return value.date(), True
        return value.astimezone(tz).date(), True
    return value, False


def _synthetic_uid(component: Event) -> str:
    raw = "|".join(str(component.get(k, "")) for k in ("DTSTART", "DTEND", "SUMMARY"))
    return "nouid-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def _prop_value(component: Event, name: str):
    prop = component.get(name)
    if prop is None:
        return None
    return prop.dt  # raises on a broken property (icalendar keeps it, flagged in ``errors``)


def parse_feed(
    body: bytes | str,
    *,
    tz: zoneinfo.ZoneInfo | str,
    end_inclusive: bool = False,
    today: date | None = None,
    max_events: int | None = None,
) -> ParsedFeed:
    """Parse a whole feed into events with property-local [start, end) dates.

    Raises ``FeedInvalid`` if the body is not a whole, parsable calendar, or holds more than
    ``max_events`` (default ``ICAL_MAX_EVENTS``) events after recurrences are expanded.
    ``end_inclusive``: the feed's DTEND is the last night (some exporters' option), not checkout.

    * Recurring events (``RRULE`` / ``RDATE``, with ``EXDATE`` and ``RECURRENCE-ID`` overrides) are
      expanded by ``recurring-ical-events`` over the window the calendar can sell (``MAX_STAY_NIGHTS``
      back, ``MAX_DAYS_AHEAD`` ahead); each occurrence is its own event keyed ``<UID>#<YYYYMMDD>`` of
      its recurrence id, so a moved or cancelled occurrence keeps its key.
    * The same UID on several plain events (no recurrence) is kept as several events keyed
      ``<UID>#<YYYYMMDD>`` of their start and listed in ``duplicates``: every night any of them
      takes stays closed, and no night between them is closed (never merged into a widest span).
      Identical copies count once.
    * Spans are capped by the limits (``apps.core.limits``): an event reaching past the horizon ends
      there, one starting before the past window starts there, and what is left is cut into pieces of
      at most ``MAX_STAY_NIGHTS`` nights (``<UID>#part<n>`` from the second piece); each is listed
      in ``clipped``. An event wholly outside the window is dropped (``clipped`` says so).
    """
    from django.conf import settings

    from apps.core.limits import max_days_ahead, max_stay_nights

    if isinstance(tz, str):
        tz = zoneinfo.ZoneInfo(tz)
    horizon_today = today or min(datetime.now(tz).date(), datetime.now(UTC).date())
    today = today or datetime.now(tz).date()
    max_events = int(max_events or getattr(settings, "ICAL_MAX_EVENTS", 5000))
    data = check_integrity(body)
    try:
        calendars = Calendar.from_ical(data, multiple=True)
    except (ValueError, IndexError, KeyError, TypeError, RecursionError) as exc:
        raise FeedInvalid("unparsable", f"The feed could not be parsed: {str(exc)[:300]}") from exc
    if len(calendars) != 1 or calendars[0].name != "VCALENDAR":
        raise FeedInvalid("unparsable", "The feed must hold exactly one VCALENDAR.")
    cal = calendars[0]
    prodid = str(cal.get("PRODID", ""))[:500]
    parsed = ParsedFeed(events=[], prodid=prodid, platform=detect_platform(prodid))
    # the horizon ends where the limits (judged on the server's date) still accept a block: a property
    # ahead of UTC would otherwise reach one day past it between its midnight and UTC's
    window = (today - timedelta(days=max_stay_nights()), horizon_today + timedelta(days=max_days_ahead()))

    groups: dict[str, list[Event]] = {}
    for component in cal.walk("VEVENT"):
        groups.setdefault(_uid_of(component), []).append(component)
        if len(groups) > max_events:
            raise FeedInvalid("too_many_events", f"The feed holds more than {max_events} events.")

    for uid, components in groups.items():
        if any(c.get("RRULE") is not None or c.get("RDATE") is not None for c in components):
            _expand_series(
                parsed,
                uid=uid,
                components=components,
                tz=tz,
                end_inclusive=end_inclusive,
                window=window,
                max_events=max_events,
            )
        else:
            _plain_events(parsed, uid=uid, components=components, tz=tz, end_inclusive=end_inclusive)
        if len(parsed.events) > max_events:
            raise FeedInvalid(
                "too_many_events", f"The feed holds more than {max_events} events (recurrences expanded)."
            )
    parsed.events = _capped(parsed, window=window, max_nights=max_stay_nights())
    return parsed


def _uid_of(component: Event) -> str:
    uid = str(component.get("UID", "")).strip().replace("\x00", "") or _synthetic_uid(component)
    if len(uid) > 255:  # our key column is 255 wide: keep long UIDs stable by hashing them
        uid = _hashed(uid)
    return uid


def _hashed(uid: str) -> str:
    return "sha256-" + hashlib.sha256(uid.encode("utf-8", "replace")).hexdigest()


def _key(uid: str, suffix: str) -> str:
    """``<uid>#<suffix>``, fitting the 255-character key column."""
    key = f"{uid}#{suffix}"
    return key if len(key) <= 255 else f"{_hashed(uid)}#{suffix}"


def _read(component: Event, *, uid: str, tz: zoneinfo.ZoneInfo, end_inclusive: bool, parsed: ParsedFeed):
    try:
        return _event_from(component, uid=uid, tz=tz, end_inclusive=end_inclusive)
    except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
        parsed.skipped.append({"uid": uid, "reason": str(exc)[:300]})
        return None


def _plain_events(
    parsed: ParsedFeed, *, uid: str, components: list[Event], tz: zoneinfo.ZoneInfo, end_inclusive: bool
) -> None:
    events = []
    for component in components:
        event = _read(component, uid=uid, tz=tz, end_inclusive=end_inclusive, parsed=parsed)
        if event is not None and event not in events:  # identical copies count once
            events.append(event)
    if len(events) == 1:
        parsed.events.append(events[0])
        return
    if not events:
        return
    keys: dict[str, IcalEvent] = {}
    for event in sorted(events, key=lambda e: (e.start, e.end, e.cancelled)):
        key = _key(uid, f"{event.start:%Y%m%d}")
        if key in keys and not keys[key].cancelled:  # same start twice: the longer one closes more
            if event.cancelled or event.end <= keys[key].end:
                continue
        keys[key] = replace(event, uid=key)
    parsed.duplicates.append({"uid": uid, "instances": len(events), "keys": sorted(keys)})
    parsed.events.extend(keys.values())


def _expand_series(
    parsed: ParsedFeed,
    *,
    uid: str,
    components: list[Event],
    tz: zoneinfo.ZoneInfo,
    end_inclusive: bool,
    window: tuple[date, date],
    max_events: int,
) -> None:
    import recurring_ical_events

    series = Calendar()
    for component in components:
        series.add_component(component)
    try:
        occurrences = recurring_ical_events.of(series, skip_bad_series=False).between(*window)
    except Exception as exc:  # a broken RRULE is this event's problem only: keep what we had for it
        parsed.skipped.append({"uid": uid, "reason": f"recurrence: {type(exc).__name__}: {str(exc)[:200]}"})
        return
    seen: set[str] = set()
    for occurrence in occurrences:
        recurrence_id = occurrence.get("RECURRENCE-ID")
        marker = getattr(recurrence_id, "dt", None) or getattr(occurrence.get("DTSTART"), "dt", None)
        if not isinstance(marker, date):
            parsed.skipped.append({"uid": uid, "reason": "An occurrence has no start."})
            continue
        key = _key(uid, f"{_local_date(marker, tz)[0]:%Y%m%d}")
        event = _read(occurrence, uid=key, tz=tz, end_inclusive=end_inclusive, parsed=parsed)
        if event is not None and key not in seen:
            seen.add(key)
            parsed.events.append(event)
            if len(parsed.events) > max_events:
                raise FeedInvalid(
                    "too_many_events", f"The feed holds more than {max_events} events (recurrences expanded)."
                )
    parsed.recurring.append({"uid": uid, "occurrences": len(seen)})


def _capped(parsed: ParsedFeed, *, window: tuple[date, date], max_nights: int) -> list[IcalEvent]:
    """Keep every event inside the window and at most ``max_nights`` long (see ``parse_feed``)."""
    low, high = window
    kept: list[IcalEvent] = []
    for event in parsed.events:
        if event.start >= low and event.end <= high and event.nights <= max_nights:
            kept.append(event)
            continue
        start, end = max(event.start, low), min(event.end, high)
        note = {"uid": event.uid, "start": event.start.isoformat(), "end": event.end.isoformat()}
        if end <= start:
            parsed.clipped.append({**note, "action": "dropped: outside the dates this calendar sells"})
            continue
        pieces = 0
        while start < end:
            piece_end = min(end, start + timedelta(days=max_nights))
            pieces += 1
            kept.append(
                replace(
                    event,
                    uid=event.uid if pieces == 1 else _key(event.uid, f"part{pieces}"),
                    start=start,
                    end=piece_end,
                )
            )
            start = piece_end
        parsed.clipped.append(
            {**note, "action": f"kept {max(event.start, low)} to {min(event.end, high)} in {pieces} piece(s)"}
        )
    return kept


def _event_from(component: Event, *, uid: str, tz: zoneinfo.ZoneInfo, end_inclusive: bool) -> IcalEvent | None:
    if str(component.get("TRANSP", "")).upper() == "TRANSPARENT":
        return None  # free time, does not block
    dtstart = _prop_value(component, "DTSTART")
    if dtstart is None:
        raise ValueError("The event has no DTSTART.")
    if not isinstance(dtstart, date):
        raise ValueError(f"DTSTART is not a date or date-time: {dtstart!r}")
    start, _ = _local_date(dtstart, tz)
    dtend = _prop_value(component, "DTEND")
    if dtend is None and component.get("DURATION") is not None:
        duration = _prop_value(component, "DURATION")
        if isinstance(duration, timedelta):
            dtend = dtstart + duration
    if dtend is None:
        end = start + timedelta(days=1)  # RFC 5545: a DATE start without end lasts one day
    else:
        if not isinstance(dtend, date):
            raise ValueError(f"DTEND is not a date or date-time: {dtend!r}")
        end, has_time = _local_date(dtend, tz)
        if end_inclusive and not has_time:
            end += timedelta(days=1)
    if end <= start:
        end = start + timedelta(days=1)  # zero-length or inverted: at least the first night
    status = str(component.get("STATUS", "")).upper()
    return IcalEvent(
        uid=uid,
        start=start,
        end=end,
        kind=classify_summary(str(component.get("SUMMARY", ""))),
        cancelled=status == "CANCELLED",
    )


# --- export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportEvent:
    uid: str
    start: date
    end: date  # exclusive
    summary: str  # never guest data: "Reserved" / "Blocked"
    stamp: datetime  # DTSTAMP (UTC), e.g. the row's last change


def build_feed(*, events: Iterable[ExportEvent], name: str = "") -> bytes:
    """An RFC 5545 calendar of all-day events (VALUE=DATE, exclusive DTEND)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", item.stamp.astimezone(UTC))
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", item.summary)
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    return cal.to_ical()
