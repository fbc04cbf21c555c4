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
    ``requests`` (timeouts, size cap), parses it (``apps.channels.adapters.ical``) and mirrors its
    events as blocked ``AvailabilityBlock`` rows keyed (property, source, connection_id, UID)
    through ``apps.availability.services``. Events that vanished (or turned ``CANCELLED``) release
    their block **only** when the fetch was whole and valid (HTTP 200, a complete VCALENDAR that
    parses); an empty, truncated, failed or unparsable fetch changes nothing and is reported.
    Events that collide with a booking are reported in ``ImportResult.conflicts``, logged as a
    warning and raised as an alert (when the channels app has an alert model); collisions with
    other blocks (dates closed anyway, e.g. Airbnb's cross-blocks) go to ``overlaps``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.availability import services as availability_services
from apps.availability.models import AvailabilityBlock, BlockSource
from apps.bookings.errors import BookingConflict
from apps.bookings.models import BLOCKING_STATUSES, Booking
from apps.core.errors import NotFound, ValidationFailed
from apps.core.net import PrivateHostRefused, assert_public_url, http_request
from apps.properties.models import Property, new_feed_token

from .adapters import ical as adapter
from .models import ChannelAlert, ChannelConnection, Platform

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


def _fetch(url: str) -> bytes:
    _check_public_host(url)
    timeout = float(settings.ICAL_FETCH_TIMEOUT)
    max_bytes = int(settings.ICAL_MAX_BYTES)
    try:
        with http_request(
            "GET",
            url,
            timeout=(min(timeout, 5.0), timeout),
            stream=True,
            headers={"User-Agent": "PMS-Webapp iCal import", "Accept": "text/calendar, */*;q=0.5"},
        ) as response:
            if response.status_code != 200:
                raise _FetchFailed(
                    "http_error", f"The feed answered HTTP {response.status_code}.", response.status_code
                )
            chunks, size, started = [], 0, time.monotonic()
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > max_bytes:
                    raise _FetchFailed("too_large", f"The feed is larger than {max_bytes} bytes.", 200)
                if time.monotonic() - started > timeout * 4:
                    raise _FetchFailed("timeout", "The feed took too long to download.", 200)
                chunks.append(chunk)
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


def import_feed(
    *,
    property_id: int,
    source: str,
    connection_id: int | None,
    url: str,
    end_inclusive: bool = False,
    today: date | None = None,
) -> ImportResult:
    """Fetch one platform feed and mirror it as channel blocks (see the module doc)."""
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
    lock_key = f"ical:import:running:{property_id}:{source}:{connection_id or 0}"
    if not cache.add(lock_key, 1, timeout=int(settings.ICAL_FETCH_TIMEOUT * 6) + 60):
        result.error_code, result.error = "busy", "Another import of this feed is running."
        return _finish(result, started)
    try:
        try:
            body = _fetch(url)
            result.http_status = 200
            parsed = adapter.parse_feed(body, tz=prop.tz, end_inclusive=end_inclusive)
        except _FetchFailed as exc:
            result.error_code, result.error, result.http_status = exc.code, exc.message, exc.http_status
            return _finish(result, started)
        except adapter.FeedInvalid as exc:
            result.error_code, result.error = exc.code, exc.message
            return _finish(result, started)
        result.platform, result.events = parsed.platform, len(parsed.events)
        result.skipped = parsed.skipped
        _apply(prop=prop, source=source, connection_id=connection_id, parsed=parsed, result=result, today=today)
        result.ok = True
        return _finish(result, started)
    finally:
        cache.delete(lock_key)


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
    existing_qs = AvailabilityBlock.objects.filter(property=prop, source=source).exclude(external_uid="")
    if connection_id is None:
        existing_qs = existing_qs.filter(connection_id__isnull=True)
    else:
        existing_qs = existing_qs.filter(connection_id=connection_id)
    existing = {b.external_uid: b for b in existing_qs}
    # Past events are not created; a block already made for one is left alone.
    wanted = {e.uid: e for e in parsed.active if e.end > today}
    present = {e.uid for e in parsed.active} | {s["uid"] for s in parsed.skipped}
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


def _alert(*, prop: Property, connection_id: int | None, message: str, details: dict) -> None:
    """Raise a ``ChannelAlert`` (kind "conflict"); never fail the import because of it."""
    if connection_id is not None and not ChannelConnection.objects.filter(pk=connection_id).exists():
        details = {**details, "connection_id": connection_id}
        connection_id = None
    try:
        with transaction.atomic():
            ChannelAlert.objects.create(
                property=prop,
                connection_id=connection_id,
                kind=ChannelAlert.Kind.CONFLICT,
                message=message[:2000],
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


def import_connection(*, connection_id: int) -> ImportResult:
    """Import one connection's feed now ("sync now")."""
    specs = ical_connections(connection_id=connection_id)
    if not specs:
        raise NotFound(
            "No enabled connection with an iCal import URL has this id.", details={"connection_id": connection_id}
        )
    return import_feed(**specs[0])


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
