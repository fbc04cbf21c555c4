"""A simulated iCal feed host: named feeds whose body, status and faults can be set.

It stands in for the URLs that Airbnb, Booking.com and Vrbo publish (``.../calendar/ical/....ics``)
so imports run over real HTTP in tests and in the demo. State lives in the Django cache (Redis),
so every web process sees the same feeds; nothing is stored in the database.

Faults (per feed, ``feed_fault_set``):

* ``none``       serve the body with its status;
* ``error``      answer ``fault_status`` (default 500) with an HTML error page;
* ``timeout``    sleep ``delay`` seconds (default 30) before answering, so the client times out;
* ``slow``       sleep ``delay`` seconds, then serve normally (latency below the client timeout);
* ``truncated``  HTTP 200 with only the first half of the body (a cut transfer);
* ``empty``      HTTP 200 with an empty body;
* ``malformed``  HTTP 200 with an HTML page instead of a calendar;
* ``drip``       HTTP 200, the body one byte every ``delay`` seconds (default 0.5): a feed that never
                 stalls long enough for a read timeout but would hold a worker for minutes.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from django.core.cache import cache

from apps.core.errors import NotFound, ValidationFailed

FAULTS = ("none", "error", "timeout", "slow", "truncated", "empty", "malformed", "drip")
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
TTL_SECONDS = 7 * 24 * 3600
MAX_DELAY_SECONDS = 120.0
CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass
class HostedFeed:
    name: str
    body: str = ""
    status: int = 200
    content_type: str = CONTENT_TYPE
    fault: str = "none"
    fault_status: int = 500
    delay: float = 0.0


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str
    delay: float  # seconds to wait before answering
    drip: bool = False  # send the body a byte at a time, ``delay`` seconds apart


def _key(name: str) -> str:
    return f"sandbox:ical:feed:{name}"


def _hits_key(name: str) -> str:
    return f"sandbox:ical:hits:{name}"


def _check_name(name: str) -> None:
    if not NAME_RE.match(name or ""):
        raise ValidationFailed("A feed name is 1-80 letters, digits, '-' or '_'.", details={"name": name})


def feed_get(*, name: str) -> HostedFeed | None:
    data = cache.get(_key(name))
    return HostedFeed(**data) if data else None


def _save(feed: HostedFeed) -> HostedFeed:
    cache.set(_key(feed.name), asdict(feed), timeout=TTL_SECONDS)
    return feed


def feed_set(*, name: str, body: str | bytes, status: int = 200, content_type: str = CONTENT_TYPE) -> HostedFeed:
    """Publish (or replace) a feed's body. Its fault setting is kept."""
    _check_name(name)
    if not 100 <= int(status) <= 599:
        raise ValidationFailed("status must be an HTTP status code.", details={"status": status})
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    feed = feed_get(name=name) or HostedFeed(name=name)
    feed.body, feed.status, feed.content_type = body, int(status), content_type or CONTENT_TYPE
    return _save(feed)


def feed_fault_set(*, name: str, fault: str, fault_status: int = 500, delay: float | None = None) -> HostedFeed:
    _check_name(name)
    if fault not in FAULTS:
        raise ValidationFailed(f"Unknown fault “{fault}”; one of {', '.join(FAULTS)}.", details={"fault": fault})
    if not 400 <= int(fault_status) <= 599:
        raise ValidationFailed("fault_status must be a 4xx or 5xx code.", details={"fault_status": fault_status})
    if delay is None:
        delay = {"timeout": 30.0, "slow": 1.0, "drip": 0.5}.get(fault, 0.0)
    delay = float(delay)
    if not 0 <= delay <= MAX_DELAY_SECONDS:
        raise ValidationFailed(f"delay must be 0-{MAX_DELAY_SECONDS:.0f} seconds.", details={"delay": delay})
    feed = feed_get(name=name) or HostedFeed(name=name)
    feed.fault, feed.fault_status, feed.delay = fault, int(fault_status), delay
    return _save(feed)


def feed_delete(*, name: str) -> None:
    cache.delete_many([_key(name), _hits_key(name)])


def feed_hits(*, name: str) -> int:
    return int(cache.get(_hits_key(name)) or 0)


def feed_respond(*, name: str) -> Response:
    """What the host answers to ``GET <name>.ics`` (counts the hit)."""
    feed = feed_get(name=name)
    if feed is None:
        raise NotFound("No such feed.", details={"name": name})
    try:
        cache.incr(_hits_key(name))
    except ValueError:
        cache.set(_hits_key(name), 1, timeout=TTL_SECONDS)
    body = feed.body.encode("utf-8")
    if feed.fault == "error":
        page = f"<html><body><h1>{feed.fault_status} Server Error</h1></body></html>".encode()
        return Response(feed.fault_status, page, "text/html; charset=utf-8", feed.delay)
    if feed.fault == "truncated":
        return Response(200, body[: len(body) // 2], feed.content_type, feed.delay)
    if feed.fault == "empty":
        return Response(200, b"", feed.content_type, feed.delay)
    if feed.fault == "malformed":
        return Response(200, b"<html><body>Temporarily unavailable</body></html>", "text/html", feed.delay)
    if feed.fault == "drip":
        return Response(200, body, feed.content_type, feed.delay, drip=True)
    # none, slow, timeout: the real body, after the delay
    return Response(feed.status, body, feed.content_type, feed.delay)
