"""The one interface every platform adapter implements, and the values that cross it.

Adapters are thin translators between our values (``DayState``, ``ChannelReservation``) and a
platform's messages. They never touch the database and never hold locks: callers read the core's
state first, call the adapter (network I/O), then write results in a transaction.

Every failure is raised as ``AdapterError`` with one of four ``ErrorKind`` values, which decide
what delivery does next: retry with backoff, wait for the rate limit, alert the owner, or give up.
"""

from __future__ import annotations

import enum
import hashlib
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings

from apps.core.net import PrivateHostRefused, http_request

if TYPE_CHECKING:
    from apps.channels.models import ChannelConnection


class ErrorKind(enum.StrEnum):
    RETRYABLE = "retryable"  # network error, timeout, 5xx, platform "try again"
    RATE_LIMITED = "rate_limited"  # 429 / throttling: wait at least retry_after
    AUTH = "auth"  # 401/403, bad credentials: a person must fix the connection
    PERMANENT = "permanent"  # the platform refuses this message as such (invalid value, ...)


class AdapterError(Exception):
    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        http_status: int | None = None,
        retry_after: float | None = None,
        code: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.http_status = http_status
        self.retry_after = retry_after
        self.code = code

    def __str__(self) -> str:
        extra = f" [HTTP {self.http_status}]" if self.http_status else ""
        return f"{self.kind}: {self.message}{extra}"


class InboundRejected(Exception):
    """An inbound message failed verification (-> 403)."""


class InboundMalformed(Exception):
    """An inbound message could not be parsed (-> 400)."""


@dataclass(frozen=True)
class DayState:
    """The core's state of one night, as pushed to the platforms."""

    day: date
    available: bool
    price: Decimal | None = None
    currency: str = "EUR"
    min_stay: int | None = None
    max_stay: int | None = None
    closed_to_arrival: bool = False
    closed_to_departure: bool = False

    def restrictions(self) -> tuple:
        return (self.available, self.min_stay, self.max_stay, self.closed_to_arrival, self.closed_to_departure)


@dataclass
class ChannelReservation:
    """A reservation as a platform describes it (new, modified or cancelled)."""

    external_id: str
    status: str  # "new" | "modified" | "cancelled"
    check_in: date
    check_out: date
    guests: int = 1
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    total: Decimal | None = None
    currency: str = "EUR"
    hotel_code: str = ""
    version: str = "1"
    raw: str = ""

    @property
    def natural_key(self) -> str:
        """The dedupe key (at most 200 characters: a long version is replaced by its digest)."""
        if self.status == "new":
            return f"{self.external_id}:new"
        key = f"{self.external_id}:{self.status}:{self.version}"
        if len(key) > 200:
            digest = hashlib.sha256(str(self.version).encode()).hexdigest()[:40]
            key = f"{self.external_id}:{self.status}:#{digest}"
        return key

    @property
    def active(self) -> bool:
        return self.status != "cancelled"


def reservation_check(res: ChannelReservation) -> ChannelReservation:
    """Every field of a platform's reservation against the project's limits (``apps.core.limits``):
    id and names that fit their columns, a stay inside the sane window, a party size, a finite
    amount in an ISO 4217 currency. Raises ``ValidationFailed`` naming the field: a permanent
    refusal, never a "try again". Returns the reservation with normalised values."""
    from apps.core import limits

    limits.check_single_line(res.external_id, max_length=128, field="reservation id", required=True)
    if res.status not in ("new", "modified", "cancelled"):
        raise limits.ValidationFailed(f"Unknown reservation status “{str(res.status)[:20]}”.", details={})
    limits.check_span(res.check_in, res.check_out)
    res.guests = limits.check_guests(res.guests if res.guests else 1)
    res.currency = limits.check_currency(res.currency or "EUR")
    if res.total is not None:
        res.total = limits.check_amount(res.total, currency=res.currency, field="total")
    res.first_name = limits.check_single_line(res.first_name, max_length=100, field="first name")
    res.last_name = limits.check_single_line(res.last_name, max_length=100, field="last name")
    res.email = limits.check_single_line(res.email, max_length=254, field="e-mail")
    limits.check_single_line(res.hotel_code, max_length=64, field="property id")
    limits.check_text(res.version, max_length=100, field="version")
    return res


@dataclass
class PushResult:
    http_status: int | None = None
    latency_ms: int = 0
    requests: int = 0
    warnings: list[str] = field(default_factory=list)


class ChannelAdapter:
    """Base class. Subclasses set ``platform`` and implement what their platform supports."""

    platform: str = ""
    supports_push: bool = True
    supports_pull: bool = False
    #: False for platforms that never hold reservations (Google: guests book on our pages), so
    #: reconciliation compares only the calendar
    holds_reservations: bool = True

    def __init__(self, connection: ChannelConnection) -> None:
        self.connection = connection
        self.timeout = float(settings.CHANNEL_HTTP_TIMEOUT)

    # --- outbound --------------------------------------------------------------------------
    def push_calendar(self, days: list[DayState]) -> PushResult:
        """Send availability, prices and restrictions for these nights (state-based, idempotent)."""
        raise NotImplementedError

    def request_cost(self, days: list[DayState]) -> int:
        """How many platform requests ``push_calendar(days)`` sends (tokens taken from the rate limit)."""
        return 1

    def test_connection(self) -> str:
        """A cheap authenticated call; returns a human-readable result or raises AdapterError."""
        raise NotImplementedError

    # --- reservations ----------------------------------------------------------------------
    def fetch_reservations(self) -> list[ChannelReservation]:
        """New, modified and cancelled reservations not yet acknowledged."""
        return []

    def acknowledge(self, reservations: list[ChannelReservation]) -> None:
        """Tell the platform these reservations were processed."""

    def reject(self, reservation: ChannelReservation, *, reason: str) -> None:
        """Refuse a reservation on the platform (e.g. the dates are taken)."""
        raise NotImplementedError

    # --- inbound webhooks ------------------------------------------------------------------
    def verify_inbound(self, *, headers: dict[str, str], body: bytes) -> None:
        """Raise InboundRejected unless the message is authentic and fresh."""
        raise InboundRejected("This platform does not send webhooks.")

    def parse_inbound(self, *, headers: dict[str, str], body: bytes) -> list[ChannelReservation]:
        """Raise InboundMalformed if the body cannot be understood."""
        raise InboundMalformed("This platform does not send webhooks.")

    # --- reconciliation --------------------------------------------------------------------
    def fetch_bookings(self, *, start: date, end: date) -> list[ChannelReservation]:
        raise NotImplementedError

    def fetch_calendar(self, *, start: date, end: date) -> dict[date, DayState]:
        raise NotImplementedError

    # --- HTTP helper -----------------------------------------------------------------------
    def _http(self, method: str, url: str, **kwargs: Any) -> tuple[requests.Response, int]:
        """One request; network failures become RETRYABLE AdapterErrors. Returns (response, ms)."""
        started = time.monotonic()
        try:
            response = http_request(method, url, timeout=self.timeout, **kwargs)
        except PrivateHostRefused as exc:
            raise AdapterError(f"Refused to call the platform: {exc}", kind=ErrorKind.PERMANENT) from None
        except requests.TooManyRedirects:
            raise AdapterError("The platform redirected too many times.", kind=ErrorKind.PERMANENT) from None
        except requests.Timeout:
            raise AdapterError("The platform did not answer in time.", kind=ErrorKind.RETRYABLE) from None
        except requests.RequestException as exc:
            raise AdapterError(
                f"Could not reach the platform ({type(exc).__name__}).", kind=ErrorKind.RETRYABLE
            ) from None
        return response, int((time.monotonic() - started) * 1000)


def error_for_status(status: int, *, retry_after: str | None = None) -> AdapterError | None:
    """Map an HTTP status to our error kinds (None for 2xx)."""
    if 200 <= status < 300:
        return None
    if status == 429:
        try:
            wait = float(retry_after) if retry_after else None
        except ValueError:
            wait = None
        return AdapterError(
            "The platform is throttling requests.", kind=ErrorKind.RATE_LIMITED, http_status=429, retry_after=wait
        )
    if status in (401, 403):
        return AdapterError("The platform refused our credentials.", kind=ErrorKind.AUTH, http_status=status)
    if status in (408, 425) or status >= 500:
        return AdapterError("The platform had a temporary error.", kind=ErrorKind.RETRYABLE, http_status=status)
    # The platform's answer body is never echoed: owners see the status (and the platform's error
    # code where its protocol has one), not whatever a misconfigured or hostile host sends back.
    return AdapterError("The platform refused the request.", kind=ErrorKind.PERMANENT, http_status=status)
