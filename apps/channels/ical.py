"""iCal services: the export feed of a property, and the import of platforms' feeds.

Export
    ``export_feed(prop=...)`` -> an RFC 5545 calendar with one all-day event (exclusive DTEND)
    per blocking booking and blocking block; summaries are "Reserved" / "Blocked", never guest
    data. It is served at ``/ical/<Property.ical_token>.ics``; ``feed_token_regenerate`` revokes
    the old URL. **Echo rule**: a platform that imports our feed must not get back what we
    imported from it, so give each platform its URL with ``?exclude=<source>`` (e.g.
    ``?exclude=airbnb``: drops blocks and bookings whose source is ``airbnb``; several sources
    comma-separated) and/or ``?connection=<id>`` (drops blocks made by that connection, for generic
    ``ical`` connections). The token is the only secret in the URL.

Import
    ``import_feed(property_id=..., source=..., connection_id=..., url=...)`` fetches a feed with
    ``requests`` (connect/read timeouts, a total wall-clock deadline ``ICAL_FETCH_DEADLINE`` that
    every read respects, a size cap), parses it (``apps.channels.adapters.ical``) and mirrors its
    events as blocked ``AvailabilityBlock`` rows keyed (property, source, connection_id, UID)
    through ``apps.availability.services``. Events that vanished (or turned ``CANCELLED``) release
    their block **only** when the fetch was whole and valid (HTTP 200, a complete VCALENDAR that
    parses); an empty, truncated, failed or unparsable fetch changes nothing and is reported.
    Events that collide with a booking are reported in ``ImportResult.conflicts``, logged as a
    warning and raised as an alert (when the channels app has an alert model); collisions with
    other blocks (dates closed anyway, e.g. Airbnb's cross-blocks) go to ``overlaps``.

    One import per feed at a time: a PostgreSQL advisory lock keyed (property, source, connection)
    is held for the whole fetch-and-apply (a second import answers ``busy``); it cannot expire while
    the first still runs and PostgreSQL drops it with a dead worker's session.

    Recurring events are expanded (``recurring-ical-events``), duplicate UIDs are kept as separate
    events, and spans are capped by ``apps.core.limits`` (see ``adapters.ical.parse_feed``).

Empty feeds
    A whole, valid feed without a single event, from a feed whose blocks still close future dates,
    is far more often a platform fault than the truth: it releases **nothing**, the run of empty
    fetches is counted (``IcalFeedState``), the result says ``error_code="empty_feed"`` with the
    number of blocks ``held``, and the owner gets one ``feed_empty`` alert per run. The blocks are
    released only when (a) the feed has come back empty in ``ICAL_EMPTY_RELEASE_FETCHES``
    consecutive whole fetches (default 4) spread over at least ``ICAL_EMPTY_RELEASE_HOURS`` (default
    24), or (b) the owner confirms it (admin action "Accept an empty iCal feed", or
    ``import_connection(connection_id=..., accept_empty=True)``). Any fetch with an event ends the
    run. A failed, truncated or unparsable fetch never counts.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from apps.availability import services as availability_services
from apps.availability.models import AvailabilityBlock, BlockSource
from apps.bookings.errors import BookingConflict
from apps.bookings.models import BLOCKING_STATUSES, Booking
from apps.core import audit
from apps.core.errors import NotFound, ValidationFailed
from apps.core.net import PrivateHostRefused, assert_public_url, http_request
from apps.properties.models import Property, new_feed_token

from .adapters import ical as adapter
from .models import ChannelAlert, ChannelConnection, IcalFeedState, Platform
from .services import alert_create

logger = logging.getLogger(__name__)

__all__ = [
    "ImportResult",
    "export_feed",
    "export_events",
    "feed_token_regenerate",
    "import_all_feeds",
    "import_connection",
    "import_feed",
    "import_status",
    "parse_exclude",
]

UID_DOMAIN = "pms-webapp"
#: Sources an import may write blocks as (a platform name, or plain "ical").
IMPORT_SOURCES = frozenset(BlockSource.values) - {BlockSource.OWNER, BlockSource.RECONCILIATION}
#: ChannelConnection.platform values -> block source.
PLATFORM_SOURCES = {
    "airbnb": BlockSource.AIRBNB,
    "booking_com": BlockSource.BOOKING_COM,
    "booking": BlockSource.BOOKING_COM,
    "bookingcom": BlockSource.BOOKING_COM,
    "expedia": BlockSource.EXPEDIA,
    "fewo_direkt": BlockSource.FEWO_DIREKT,
    "vrbo": BlockSource.FEWO_DIREKT,
    "homeaway": BlockSource.FEWO_DIREKT,
    "google_vr": BlockSource.GOOGLE_VR,
    "ical": BlockSource.ICAL,
}
EXPORT_PAST_DAYS = 30


# --- export -----------------------------------------------------------------------------------


def parse_exclude(value: str | None) -> tuple[str, ...]:
    """``"airbnb,booking_com"`` -> sources; unknown names raise ``ValidationFailed``."""
    names = tuple(sorted({part.strip() for part in (value or "").split(",") if part.strip()}))
    unknown = [n for n in names if n not in BlockSource.values]
    if unknown:
        raise ValidationFailed(
            f"Unknown source in exclude: {', '.join(unknown)}. Use one of {', '.join(BlockSource.values)}.",
            details={"exclude": unknown},
        )
    return names


def export_events(
    *,
    prop: Property,
    exclude_sources: tuple[str, ...] | list[str] = (),
    exclude_connection_ids: tuple[int, ...] | list[int] = (),
    today: date | None = None,
) -> list[adapter.ExportEvent]:
    today = today or datetime.now(prop.tz).date()
    since = today - timedelta(days=EXPORT_PAST_DAYS)
    bookings = Booking.objects.filter(property=prop, status__in=BLOCKING_STATUSES, check_out__gte=since)
    blocks = AvailabilityBlock.objects.filter(
        property=prop, block_type__in=AvailabilityBlock.BLOCKING_TYPES, end_date__gte=since
    )
    if exclude_sources:
        bookings = bookings.exclude(source__in=exclude_sources)
        blocks = blocks.exclude(source__in=exclude_sources)
    if exclude_connection_ids:
        blocks = blocks.exclude(connection_id__in=exclude_connection_ids)
    events = [
        adapter.ExportEvent(
            uid=f"booking-{b.pk}@{UID_DOMAIN}",
            start=b.check_in,
            end=b.check_out,
            summary="Reserved",
            stamp=b.updated_at,
        )
        for b in bookings.only("pk", "check_in", "check_out", "updated_at")
    ]
    events += [
        adapter.ExportEvent(
            uid=f"block-{b.pk}@{UID_DOMAIN}", start=b.start_date, end=b.end_date, summary="Blocked", stamp=b.updated_at
        )
        for b in blocks.only("pk", "start_date", "end_date", "updated_at")
    ]
    return sorted(events, key=lambda e: (e.start, e.uid))


def export_feed(
    *,
    prop: Property,
    exclude_sources: tuple[str, ...] | list[str] = (),
    exclude_connection_ids: tuple[int, ...] | list[int] = (),
    today: date | None = None,
) -> bytes:
    """The property's calendar as RFC 5545 bytes (see the module doc for the echo rule)."""
    events = export_events(
        prop=prop, exclude_sources=exclude_sources, exclude_connection_ids=exclude_connection_ids, today=today
    )
    return adapter.build_feed(events=events, name=prop.name)


def feed_token_regenerate(*, property_id: int) -> str:
    """Give the property a new export token; the old URL answers 404 from now on."""
    token = new_feed_token()
    updated = Property.objects.filter(pk=property_id).update(ical_token=token, updated_at=timezone.now())
    if not updated:
        raise NotFound("Property not found.", details={"property_id": property_id})
    logger.info("iCal export token regenerated for property %s", property_id)
    return token


# --- import -----------------------------------------------------------------------------------


@dataclass
class ImportResult:
    property_id: int
    source: str
    connection_id: int | None
    feed: str  # scheme://host/path of the URL (no query: it often holds the platform's secret)
    ok: bool = False
    error_code: str = ""  # "", timeout, network, http_error, too_large, empty, truncated, ...
    error: str = ""
    http_status: int | None = None
    platform: str = ""
    events: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[dict] = field(default_factory=list)  # events colliding with a booking
    overlaps: list[dict] = field(default_factory=list)  # events over other blocks (dates closed anyway)
    skipped: list[dict] = field(default_factory=list)  # events that could not be read
    duplicates: list[dict] = field(default_factory=list)  # one UID on several events (each kept)
    recurring: list[dict] = field(default_factory=list)  # RRULE/RDATE series expanded
    clipped: list[dict] = field(default_factory=list)  # events capped by the limits
    held: int = 0  # blocks kept although the feed came back empty (see "Empty feeds")
    duration_ms: int = 0
    finished_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _FetchFailed(Exception):
    def __init__(self, code: str, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.http_status = code, message, http_status


def _redact(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _check_public_host(url: str) -> None:
    try:
        assert_public_url(url)
    except PrivateHostRefused as exc:
        raise _FetchFailed("forbidden_host", f"The feed was not fetched: {exc}") from exc


def _socket_of(response: requests.Response) -> socket.socket | None:
    connection = getattr(response.raw, "_connection", None)
    return getattr(connection, "sock", None)


def _fetch(url: str, *, deadline_seconds: float | None = None) -> bytes:
    """GET the feed within a total wall-clock deadline (``ICAL_FETCH_DEADLINE``): every read waits
    at most the time left, so a feed that drips a byte at a time cannot hold a worker longer."""
    _check_public_host(url)
    timeout = float(settings.ICAL_FETCH_TIMEOUT)
    total = float(deadline_seconds or settings.ICAL_FETCH_DEADLINE)
    max_bytes = int(settings.ICAL_MAX_BYTES)
    deadline = time.monotonic() + total

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _FetchFailed("timeout", f"The feed took longer than {total:g} s to download.", 200)
        return remaining

    try:
        with http_request(
            "GET",
            url,
            timeout=(min(timeout, 5.0, total), min(timeout, total)),
            stream=True,
            headers={"User-Agent": "PMS-Webapp iCal import", "Accept": "text/calendar, */*;q=0.5"},
        ) as response:
            if response.status_code != 200:
                raise _FetchFailed(
                    "http_error", f"The feed answered HTTP {response.status_code}.", response.status_code
                )
            chunks, size = [], 0
            while True:
                sock = _socket_of(response)
                if sock is not None:
                    sock.settimeout(min(timeout, left()))
                try:
                    chunk = response.raw.read1(65536, decode_content=True)
                except (ReadTimeoutError, TimeoutError, ProtocolError, OSError) as exc:
                    left()  # past the deadline: a timeout, whatever the socket said
                    if isinstance(exc, ReadTimeoutError | TimeoutError):
                        raise _FetchFailed("timeout", f"The feed did not answer within {timeout:g} s.") from exc
                    raise _FetchFailed("truncated", "The download was cut off.", 200) from exc
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise _FetchFailed("too_large", f"The feed is larger than {max_bytes} bytes.", 200)
                chunks.append(chunk)
                left()
            return b"".join(chunks)
    except PrivateHostRefused as exc:
        raise _FetchFailed("forbidden_host", f"The feed was not fetched: {exc}") from exc
    except requests.TooManyRedirects as exc:
        raise _FetchFailed("network", "The feed redirected too many times.") from exc
    except requests.Timeout as exc:
        raise _FetchFailed("timeout", f"The feed did not answer within {timeout:g} s.") from exc
    except requests.exceptions.ChunkedEncodingError as exc:
        raise _FetchFailed("truncated", "The download was cut off.", 200) from exc
    except requests.RequestException as exc:
        raise _FetchFailed("network", f"The feed could not be fetched: {type(exc).__name__}.") from exc


def _status_key(property_id: int, source: str, connection_id: int | None) -> str:
    return f"ical:import:last:{property_id}:{source}:{connection_id or 0}"


def import_status(*, property_id: int, source: str, connection_id: int | None) -> dict[str, Any] | None:
    """The last import's result (as a dict), also kept after failures, or None."""
    return cache.get(_status_key(property_id, source, connection_id))


def _lock_key(property_id: int, source: str, connection_id: int | None) -> int:
    digest = hashlib.blake2b(f"ical-import:{property_id}:{source}:{connection_id or 0}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


@contextmanager
def _import_lock(key: int) -> Iterator[bool]:
    """One import per feed at a time: a PostgreSQL session advisory lock, held while the feed is
    fetched and applied and released in ``finally`` (or by PostgreSQL when the session ends, so a
    killed worker never leaves it behind; no expiry can let a second import in while one runs)."""
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with db_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def import_feed(
    *,
    property_id: int,
    source: str,
    connection_id: int | None,
    url: str,
    end_inclusive: bool = False,
    today: date | None = None,
    accept_empty: bool = False,
) -> ImportResult:
    """Fetch one platform feed and mirror it as channel blocks (see the module doc).

    ``accept_empty``: the owner confirmed that the feed is empty on purpose, so an empty feed
    releases the blocks it made (see "Empty feeds" in the module doc)."""
    if source not in IMPORT_SOURCES:
        raise ValidationFailed(
            f"“{source}” is not a channel source; use one of {', '.join(sorted(IMPORT_SOURCES))}.",
            details={"source": source},
        )
    if urlsplit(url or "").scheme not in ("http", "https"):
        raise ValidationFailed("The feed URL must start with http:// or https://.", details={"url": _redact(url or "")})
    prop = Property.objects.filter(pk=property_id).first()
    if prop is None:
        raise NotFound("Property not found.", details={"property_id": property_id})

    result = ImportResult(property_id=property_id, source=source, connection_id=connection_id, feed=_redact(url))
    started = time.monotonic()
    with _import_lock(_lock_key(property_id, source, connection_id)) as got:
        if not got:
            result.error_code, result.error = "busy", "Another import of this feed is running."
            return _finish(result, started)
        try:
            body = _fetch(url)
            result.http_status = 200
            parsed = adapter.parse_feed(body, tz=prop.tz, end_inclusive=end_inclusive, today=today)
        except _FetchFailed as exc:
            result.error_code, result.error, result.http_status = exc.code, exc.message, exc.http_status
            return _finish(result, started)
        except adapter.FeedInvalid as exc:
            result.error_code, result.error = exc.code, exc.message
            return _finish(result, started)
        result.platform, result.events = parsed.platform, len(parsed.events)
        result.skipped, result.duplicates = parsed.skipped, parsed.duplicates
        result.recurring, result.clipped = parsed.recurring, parsed.clipped
        if _empty_feed_held(
            prop=prop, source=source, connection_id=connection_id, parsed=parsed, result=result, accept=accept_empty
        ):
            return _finish(result, started)
        _apply(prop=prop, source=source, connection_id=connection_id, parsed=parsed, result=result, today=today)
        result.ok = True
        return _finish(result, started)


def _imported_blocks(*, prop: Property, source: str, connection_id: int | None):
    qs = AvailabilityBlock.objects.filter(property=prop, source=source).exclude(external_uid="")
    if connection_id is None:
        return qs.filter(connection_id__isnull=True)
    return qs.filter(connection_id=connection_id)


def empty_feed_may_release(*, state: IcalFeedState, now: datetime | None = None) -> bool:
    """When an empty feed may finally release the blocks it made: the owner confirmed it
    (``release_confirmed_at``), or it came back empty in at least ``ICAL_EMPTY_RELEASE_FETCHES``
    consecutive whole, valid fetches spread over at least ``ICAL_EMPTY_RELEASE_HOURS`` hours."""
    if state.release_confirmed_at is not None:
        return True
    now = now or timezone.now()
    return (
        state.empty_fetches >= int(settings.ICAL_EMPTY_RELEASE_FETCHES)
        and state.empty_since is not None
        and now - state.empty_since >= timedelta(hours=float(settings.ICAL_EMPTY_RELEASE_HOURS))
    )


def _empty_feed_held(
    *,
    prop: Property,
    source: str,
    connection_id: int | None,
    parsed: adapter.ParsedFeed,
    result: ImportResult,
    accept: bool,
) -> bool:
    """True when the feed holds no event at all while blocks it made still close future dates and
    the release rule does not allow it yet: nothing is released, the run is counted and the owner
    alerted (once per run). Any fetch with events ends the run."""
    state, _ = IcalFeedState.objects.get_or_create(property=prop, source=source, connection_id=connection_id)
    empty = not parsed.events and not parsed.skipped and not parsed.clipped
    today = datetime.now(prop.tz).date()
    holding = _imported_blocks(prop=prop, source=source, connection_id=connection_id).filter(end_date__gt=today)
    if not empty or not holding.exists():
        IcalFeedState.objects.filter(pk=state.pk).update(
            empty_since=None,
            empty_fetches=0,
            release_confirmed_at=None,
            last_events=len(parsed.events),
            updated_at=timezone.now(),
        )
        return False
    now = timezone.now()
    state.empty_since = state.empty_since or now
    state.empty_fetches += 1
    if accept and state.release_confirmed_at is None:
        state.release_confirmed_at = now
    state.save(update_fields=["empty_since", "empty_fetches", "release_confirmed_at", "updated_at"])
    if empty_feed_may_release(state=state, now=now):
        logger.warning(
            "iCal feed %s (%s, connection %s) empty since %s (%d fetches%s): releasing its blocks",
            result.feed,
            source,
            connection_id,
            state.empty_since,
            state.empty_fetches,
            ", confirmed by the owner" if state.release_confirmed_at else "",
        )
        return False
    count = holding.count()
    result.held = count
    result.error_code = "empty_feed"
    result.error = (
        f"The feed came back without any event although {count} block(s) from it close future dates; "
        f"nothing was released (empty {state.empty_fetches} time(s) in a row). They are released after "
        f"{settings.ICAL_EMPTY_RELEASE_FETCHES} empty fetches over {settings.ICAL_EMPTY_RELEASE_HOURS:g} hours, "
        "or when the owner confirms the feed is empty on purpose."
    )
    if state.empty_fetches == 1:
        _alert(
            prop=prop,
            connection_id=connection_id,
            message=f"The {source} calendar feed suddenly lists no dates at all; the {count} blocked period(s) "
            "it had are kept closed until it lists dates again, or until you confirm that the feed is empty on "
            "purpose.",
            details={"feed": result.feed, "held": count, "empty_since": state.empty_since.isoformat()},
            kind=ChannelAlert.Kind.FEED_EMPTY,
        )
    return True


def _finish(result: ImportResult, started: float) -> ImportResult:
    result.duration_ms = int((time.monotonic() - started) * 1000)
    result.finished_at = timezone.now().isoformat()
    cache.set(_status_key(result.property_id, result.source, result.connection_id), result.as_dict(), timeout=None)
    if result.ok:
        logger.info(
            "iCal import %s (%s, connection %s): %d events, %d created, %d updated, %d released, %d conflicts",
            result.feed,
            result.source,
            result.connection_id,
            result.events,
            len(result.created),
            len(result.updated),
            len(result.released),
            len(result.conflicts),
        )
    else:
        logger.warning(
            "iCal import %s (%s, connection %s) failed, nothing released: %s (%s)",
            result.feed,
            result.source,
            result.connection_id,
            result.error_code,
            result.error,
        )
    _connection_record(result)
    return result


def _apply(
    *,
    prop: Property,
    source: str,
    connection_id: int | None,
    parsed: adapter.ParsedFeed,
    result: ImportResult,
    today: date | None,
) -> None:
    today = today or datetime.now(prop.tz).date()
    existing = {b.external_uid: b for b in _imported_blocks(prop=prop, source=source, connection_id=connection_id)}
    # Past events are not created; a block already made for one is left alone.
    wanted = {e.uid: e for e in parsed.active if e.end > today}
    unreadable = {s["uid"] for s in parsed.skipped}
    present = {e.uid for e in parsed.active} | unreadable
    # an occurrence of a series that could not be read this time is kept, like any unreadable event
    present |= {uid for uid in existing if uid.rpartition("#")[0] in unreadable}
    note = f"iCal import ({parsed.platform if parsed.platform != 'unknown' else source})"

    # 1. release what vanished or was cancelled (frees dates before moved events take them)
    for uid, block in existing.items():
        if uid not in present:
            try:
                availability_services.block_delete(block_id=block.pk, source=source)
            except NotFound:
                pass
            result.released.append(uid)
    # 2. move changed events, 3. create new ones
    for uid, event in wanted.items():
        block = existing.get(uid)
        if block is not None and (block.start_date, block.end_date, block.block_type) == (
            event.start,
            event.end,
            AvailabilityBlock.Type.BLOCKED,
        ):
            result.unchanged += 1
            continue
        try:
            if block is None:
                availability_services.block_create(
                    property_id=prop.pk,
                    start_date=event.start,
                    end_date=event.end,
                    block_type=AvailabilityBlock.Type.BLOCKED,
                    note=f"{note}: {event.kind}",
                    source=source,
                    external_uid=uid,
                    connection_id=connection_id,
                )
                result.created.append(uid)
            else:
                availability_services.block_update(
                    block_id=block.pk,
                    source=source,
                    start_date=event.start,
                    end_date=event.end,
                    block_type=AvailabilityBlock.Type.BLOCKED,
                )
                result.updated.append(uid)
        except BookingConflict as exc:
            _record_collision(
                prop=prop, source=source, connection_id=connection_id, event=event, exc=exc, result=result
            )
        except ValidationFailed as exc:
            result.skipped.append({"uid": uid, "reason": exc.message})


def _record_collision(
    *,
    prop: Property,
    source: str,
    connection_id: int | None,
    event: adapter.IcalEvent,
    exc: BookingConflict,
    result: ImportResult,
) -> None:
    entry = {
        "uid": event.uid,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "kind": event.kind,
        "with": exc.conflicts,
    }
    booking_ids = [c["id"] for c in exc.conflicts if c["kind"] == "booking"]
    # The same stay known through the platform's API as a booking of this source is no conflict.
    foreign = Booking.objects.filter(pk__in=booking_ids).exclude(source=source).exists() if booking_ids else False
    if not foreign:
        result.overlaps.append(entry)
        logger.info("iCal event %s of property %s overlaps closed dates; not blocked again", event.uid, prop.pk)
        return
    result.conflicts.append(entry)
    logger.warning(
        "iCal conflict: %s event %s (%s to %s) collides with a booking of property %s: %s",
        source,
        event.uid,
        event.start,
        event.end,
        prop.pk,
        exc.message,
    )
    _alert(
        prop=prop,
        connection_id=connection_id,
        message=f"{source} calendar has {event.start} to {event.end} taken, but the dates are booked here: "
        f"{exc.message}",
        details=entry,
    )


# --- the channels models: alerts, the outcome on the connection, which connections import --------


def _alert(
    *,
    prop: Property,
    connection_id: int | None,
    message: str,
    details: dict,
    kind: str = ChannelAlert.Kind.CONFLICT,
) -> None:
    """Raise a ``ChannelAlert`` (kind "conflict" by default); never fail the import because of it."""
    if connection_id is not None and not ChannelConnection.objects.filter(pk=connection_id).exists():
        details = {**details, "connection_id": connection_id}
        connection_id = None
    try:
        with transaction.atomic():
            alert_create(
                connection=ChannelConnection.objects.filter(pk=connection_id).first() if connection_id else None,
                property_id=prop.pk,
                kind=kind,
                message=message,
                details=details,
            )
    except Exception:  # the warning is logged already
        logger.exception("could not record a ChannelAlert for property %s", prop.pk)


def _connection_record(result: ImportResult) -> None:
    """Store the outcome on the ChannelConnection (last_import_at / last_import_status, and for
    pure iCal connections sync_status / last_sync_at / last_error)."""
    if result.connection_id is None:
        return
    now = timezone.now()
    values: dict[str, Any] = {
        "last_import_at": now,
        "last_import_status": ("ok" if result.ok else result.error_code or "error")[:32],
    }
    conn = ChannelConnection.objects.filter(pk=result.connection_id).only("pk", "platform").first()
    if conn is None:
        return
    if conn.platform == Platform.ICAL:
        values["sync_status"] = "ok" if result.ok else "error"
        values["last_error"] = "" if result.ok else f"iCal import: {result.error}"[:1000]
        if result.ok:
            values["last_sync_at"] = now
    elif not result.ok:
        values["last_error"] = f"iCal import: {result.error}"[:1000]
    ChannelConnection.objects.filter(pk=result.connection_id).update(**values)


def _connection_spec(conn: ChannelConnection) -> dict[str, Any]:
    source = PLATFORM_SOURCES.get(conn.platform, BlockSource.ICAL)
    if source == BlockSource.ICAL:
        source = PLATFORM_SOURCES.get((conn.ical_source or "").casefold(), BlockSource.ICAL)
    options = conn.settings if isinstance(conn.settings, dict) else {}
    return {
        "connection_id": conn.pk,
        "property_id": conn.property_id,
        "source": source,
        "url": conn.ical_import_url,
        "end_inclusive": bool(options.get("ical_end_inclusive", False)),
    }


def ical_connections(*, connection_id: int | None = None) -> list[dict[str, Any]]:
    """Enabled connections with an iCal import URL, as ``import_feed`` keyword arguments.

    Block source: the connection's platform (airbnb, booking_com, ...); for platform ``ical``
    its ``ical_source`` when that names a platform, else ``ical``. ``settings["ical_end_inclusive"]``
    marks feeds whose DTEND is the last night."""
    qs = ChannelConnection.objects.exclude(ical_import_url="").filter(sync_enabled=True)
    if connection_id is not None:
        qs = qs.filter(pk=connection_id)
    return [_connection_spec(conn) for conn in qs.order_by("pk")]


@audit.actor_from(audit.channel_actor)  # the audit log names the connection
def import_connection(*, connection_id: int, accept_empty: bool = False) -> ImportResult:
    """Import one connection's feed now ("sync now"); ``accept_empty``: the owner confirms that an
    empty feed is empty on purpose (its blocks are released)."""
    specs = ical_connections(connection_id=connection_id)
    if not specs:
        raise NotFound(
            "No enabled connection with an iCal import URL has this id.", details={"connection_id": connection_id}
        )
    return import_feed(**specs[0], accept_empty=accept_empty)


def feed_check(*, connection_id: int) -> tuple[bool, str]:
    """ "Test connection" for an iCal feed: fetch and read it, change nothing. (ok, what was found)."""
    specs = ical_connections(connection_id=connection_id)
    if not specs:
        return False, "No enabled connection with an iCal import URL has this id."
    spec = specs[0]
    prop = Property.objects.filter(pk=spec["property_id"]).first()
    if prop is None:
        return False, "Property not found."
    try:
        body = _fetch(spec["url"])
        parsed = adapter.parse_feed(body, tz=prop.tz, end_inclusive=spec["end_inclusive"])
    except _FetchFailed as exc:
        return False, f"{_redact(spec['url'])}: {exc.message}"
    except adapter.FeedInvalid as exc:
        return False, f"{_redact(spec['url'])}: not a valid calendar ({exc.message})"
    platform = "" if parsed.platform == "unknown" else f" from {parsed.platform}"
    skipped = f", {len(parsed.skipped)} unreadable" if parsed.skipped else ""
    return True, f"{_redact(spec['url'])}: a valid calendar{platform} with {len(parsed.active)} event(s){skipped}."


def import_all_feeds() -> list[ImportResult]:
    """Import every connection's feed (beat: ``channels.import_ical_feeds``); one failing feed
    never stops the others."""
    results = []
    for spec in ical_connections():
        try:
            results.append(import_feed(**spec))
        except Exception:
            logger.exception("iCal import of connection %s crashed", spec["connection_id"])
    return results
