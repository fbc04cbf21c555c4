"""Airbnb adapter: the partner API's JSON (see shared/channels/PLATFORMS.md section 3).

- Auth: OAuth2 per host. The connection holds the refresh token (encrypted) and the current access
  token (encrypted, with ``token_expires_at``); every call sends ``X-Airbnb-API-Key: <client id>`` and
  ``X-Airbnb-OAuth-Token: <access token>``. The access token is refreshed (``POST v2/oauth2/token``,
  ``grant_type=refresh_token``) a minute before it expires and once more when a call answers 401; a
  refresh that Airbnb refuses means the host revoked the grant: an ``auth`` error (dead letter + alert).
  The one database write of this adapter is storing a refreshed access token (one UPDATE, no lock held).
- ARI push: ``POST v2/calendar_operations?_allow_dates_overlap=true`` with one operation per run of
  equal nights (availability + ``available_count``, ``daily_price``, ``min_nights``, ``max_nights``,
  ``closed_to_arrival``, ``closed_to_departure``), state-based. Pricing settings (currency, cleaning fee,
  guests included, extra-guest fee) and availability rules (lead time, max days notice, default stay)
  are sent with ``PUT v2/pricing_settings/{id}`` / ``PUT v2/availability_rules/{id}`` whenever they differ
  from what this process last sent for the connection (so after every change of the property or its
  rules, and once per worker process).
- Reservations reach us synchronously (``apps.channels.inbound_airbnb``); reconciliation reads
  ``GET v2/reservations?listing_id=`` and ``GET v2/calendars/{listing_id}``.
- Errors: ``{"error_code", "error_type", "error_message"}``; 401 -> refresh and retry once, then auth;
  403 ``no_access`` (listing unlinked, not the host's) -> auth; 429 -> rate-limited (``Retry-After``);
  5xx, timeouts -> retryable; other 4xx -> permanent. Only ``error_type`` is shown to owners.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from .base import (
    AdapterError,
    ChannelAdapter,
    ChannelReservation,
    DayState,
    ErrorKind,
    InboundMalformed,
    InboundRejected,
    PushResult,
    error_for_status,
)

REFRESH_MARGIN_SECONDS = 60
_tokens: dict[int, tuple[str, float]] = {}  # connection id -> (access token, expires at epoch)
_settings_sent: dict[int, str] = {}  # connection id -> digest of the settings last sent
_lock = threading.Lock()
_ERROR_TYPE = re.compile(r"^[a-z_]{1,40}$")


def forget(connection_id: int) -> None:
    """Drop what this process caches for a connection (after a new grant, a revocation)."""
    with _lock:
        _tokens.pop(connection_id, None)
        _settings_sent.pop(connection_id, None)


def operations(days: list[DayState]) -> list[dict[str, Any]]:
    """One calendar operation per run of consecutive nights in the same state."""

    def state(d: DayState) -> tuple:
        return (d.available, d.price, d.min_stay, d.max_stay, d.closed_to_arrival, d.closed_to_departure)

    runs: list[tuple[date, date, DayState]] = []
    for d in sorted(days, key=lambda x: x.day):
        if runs and state(runs[-1][2]) == state(d) and runs[-1][1] + timedelta(days=1) == d.day:
            runs[-1] = (runs[-1][0], d.day, runs[-1][2])
        else:
            runs.append((d.day, d.day, d))
    out = []
    for first, last, d in runs:
        op: dict[str, Any] = {
            "dates": [f"{first.isoformat()}:{last.isoformat()}"],
            "availability": "available" if d.available else "unavailable",
            "available_count": 1 if d.available else 0,
            "min_nights": d.min_stay,
            "max_nights": d.max_stay,
            "closed_to_arrival": d.closed_to_arrival,
            "closed_to_departure": d.closed_to_departure,
        }
        if d.price is not None:
            op["daily_price"] = float(d.price)
        out.append(op)
    return out


@dataclass
class AirbnbStay(ChannelReservation):
    """A reservation from Airbnb; its idempotency key is the confirmation code + the action that
    carried it (+ the alteration number for alterations)."""

    action: str = ""

    @property
    def natural_key(self) -> str:
        if not self.action:
            return super().natural_key
        key = f"{self.external_id}:{self.action}"
        if self.status == "modified":
            key += f":{self.version}"
        return key[:200]


def _error(response) -> AdapterError:
    err = error_for_status(response.status_code, retry_after=response.headers.get("Retry-After"))
    try:
        error_type = str(response.json().get("error_type") or response.json().get("error") or "")
    except (ValueError, AttributeError):
        error_type = ""
    if error_type and _ERROR_TYPE.match(error_type):
        err.code = error_type
        err.message = f"{err.message} (Airbnb: {error_type})"
    return err


def _parse_date(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def reservation_from_json(data: dict[str, Any], *, action: str = "") -> ChannelReservation:
    """A reservation as Airbnb describes it (notification, PUT body or reservation list). Raises
    ``ValueError`` naming what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("reservation must be an object")
    code = data.get("confirmation_code")
    if not isinstance(code, str) or not code:
        raise ValueError("confirmation_code missing")
    try:
        check_in = _parse_date(data.get("start_date"))
        nights = int(data.get("nights"))
    except (TypeError, ValueError):
        raise ValueError("start_date (YYYY-MM-DD) and nights (a whole number) are required") from None
    if not 1 <= nights <= 1125:
        raise ValueError("nights out of range")
    guests = data.get("number_of_guests")
    if guests is None and isinstance(data.get("guest_details"), dict):
        details = data["guest_details"]
        guests = sum(int(details.get(k) or 0) for k in ("number_of_adults", "number_of_children"))
    try:
        guests = int(guests or 1)
        base = data.get("listing_base_price_accurate", data.get("listing_base_price"))
        fee = data.get("listing_cleaning_fee_accurate", data.get("listing_cleaning_fee")) or 0
        total = None if base is None else Decimal(str(base)) + Decimal(str(fee))
    except (TypeError, ValueError, InvalidOperation):
        raise ValueError("number_of_guests and prices must be numbers") from None
    status_type = str(data.get("status_type") or "accepted")
    status = "cancelled" if status_type in ("cancelled", "canceled", "denied") else "new"
    if action == "reservation_alteration_confirmation":
        status = "modified"
    if action == "reservation_cancellation_confirmation":
        status = "cancelled"
    return AirbnbStay(
        external_id=code,
        status=status,
        check_in=check_in,
        check_out=check_in + timedelta(days=nights),
        guests=guests,
        first_name=str(data.get("guest_first_name") or ""),
        last_name=str(data.get("guest_last_name") or ""),
        email=str(data.get("guest_email") or ""),
        total=total,
        currency=str(data.get("listing_currency") or "EUR"),
        hotel_code=str(data.get("listing_id") or ""),
        version=str(data.get("alteration_version") or 0),
        action=action,
    )


class AirbnbAdapter(ChannelAdapter):
    platform = "airbnb"
    supports_push = True
    supports_pull = False

    # --- plumbing ---------------------------------------------------------------------------
    def _config(self):
        from apps.channels.airbnb import app_config

        return app_config()

    def _url(self, path: str) -> str:
        base = (self.connection.base_url or self._config().api_url).rstrip("/")
        return f"{base}/{path.lstrip('/')}"

    def _access_token(self) -> str:
        conn = self.connection
        key = conn.pk or 0
        now = time.time()
        with _lock:
            cached = _tokens.get(key)
        if cached and cached[1] > now + REFRESH_MARGIN_SECONDS:
            return cached[0]
        if conn.has_secret("access_token") and conn.token_expires_at:
            expires = conn.token_expires_at.timestamp()
            if expires > now + REFRESH_MARGIN_SECONDS:
                token = conn.get_secret("access_token")
                with _lock:
                    _tokens[key] = (token, expires)
                return token
        return self.refresh_access_token()

    def refresh_access_token(self) -> str:
        """A new access token from the refresh token; stored encrypted on the connection."""
        conn = self.connection
        refresh = conn.get_secret("refresh_token") if conn.has_secret("refresh_token") else ""
        if not refresh:
            raise AdapterError("Airbnb is not connected (no authorization): connect Airbnb again.", kind=ErrorKind.AUTH)
        config = self._config()
        response, _ = self._http(
            "POST",
            self._url("v2/oauth2/token"),
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "client_id": config.client_id,
                "client_secret": config.client_secret,
            },
        )
        if response.status_code in (400, 401, 403):
            raise AdapterError(
                "Airbnb refused to renew the access token (the host revoked the authorization, or it expired): "
                "connect Airbnb again.",
                kind=ErrorKind.AUTH,
                http_status=response.status_code,
                code="invalid_grant",
            )
        if response.status_code >= 300:
            raise _error(response)
        try:
            data = response.json()
            token, ttl = str(data["access_token"]), float(data.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise AdapterError(
                "Airbnb's token endpoint answered something unreadable.", kind=ErrorKind.RETRYABLE
            ) from None
        expires = time.time() + ttl
        expires_at = datetime.fromtimestamp(expires, tz=UTC)
        conn.set_secret("access_token", token)
        conn.token_expires_at = expires_at
        if conn.pk:
            from apps.channels.models import ChannelConnection

            ChannelConnection.objects.filter(pk=conn.pk).update(
                access_token_encrypted=conn.access_token_encrypted, token_expires_at=expires_at
            )
        with _lock:
            _tokens[conn.pk or 0] = (token, expires)
        return token

    def _call(
        self, method: str, path: str, *, body: dict | None = None, params: dict | None = None, _retried: bool = False
    ) -> tuple[dict[str, Any], int, int]:
        headers = {
            "X-Airbnb-API-Key": self._config().client_id,
            "X-Airbnb-OAuth-Token": self._access_token(),
            "Accept": "application/json",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        response, ms = self._http(
            method,
            self._url(path),
            data=json.dumps(body).encode() if body is not None else None,
            params=params,
            headers=headers,
        )
        if response.status_code == 401 and not _retried:
            self.refresh_access_token()
            data, status, more = self._call(method, path, body=body, params=params, _retried=True)
            return data, status, ms + more
        if not 200 <= response.status_code < 300:
            raise _error(response)
        try:
            data = response.json()
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            raise AdapterError(
                "Airbnb sent a malformed response.", kind=ErrorKind.RETRYABLE, http_status=response.status_code
            ) from None
        return data, response.status_code, ms

    def _listing_id(self) -> str:
        listing = self.connection.external_property_id
        if not listing:
            raise AdapterError("No Airbnb listing is chosen for this property yet.", kind=ErrorKind.PERMANENT)
        return listing

    # --- settings (pricing settings, availability rules) -------------------------------------
    def _settings(self) -> tuple[dict, dict, str]:
        from apps.channels.airbnb import listing_settings

        pricing, rules = listing_settings(self.connection.property)
        digest = hashlib.sha256(
            json.dumps([self.connection.external_property_id, pricing, rules], sort_keys=True).encode()
        ).hexdigest()
        return pricing, rules, digest

    def _settings_due(self, digest: str) -> bool:
        with _lock:
            return _settings_sent.get(self.connection.pk or 0) != digest

    # --- outbound --------------------------------------------------------------------------
    def push_calendar(self, days: list[DayState]) -> PushResult:
        listing = self._listing_id()
        today = timezone.localdate()
        days = [d for d in days if d.day >= today]
        result = PushResult()
        if days:
            _, status, ms = self._call(
                "POST",
                "v2/calendar_operations",
                params={"_allow_dates_overlap": "true"},
                body={"listing_id": int(listing) if listing.isdigit() else listing, "operations": operations(days)},
            )
            result.http_status, result.latency_ms, result.requests = status, ms, 1
        self.push_settings(result=result)
        return result

    def push_settings(self, *, result: PushResult | None = None, force: bool = False) -> PushResult:
        result = result or PushResult()
        pricing, rules, digest = self._settings()
        if not force and not self._settings_due(digest):
            return result
        listing = self._listing_id()
        for path, body in ((f"v2/pricing_settings/{listing}", pricing), (f"v2/availability_rules/{listing}", rules)):
            _, status, ms = self._call("PUT", path, body=body)
            result.http_status = result.http_status or status
            result.latency_ms += ms
            result.requests += 1
        with _lock:
            _settings_sent[self.connection.pk or 0] = digest
        return result

    def request_cost(self, days: list[DayState]) -> int:
        try:
            due = self._settings_due(self._settings()[2])
        except Exception:  # noqa: BLE001 - the cost is an estimate
            due = True
        return 1 + (2 if due else 0)

    def test_connection(self) -> str:
        if self.connection.external_property_id:
            data, *_ = self._call("GET", f"v2/listings/{self.connection.external_property_id}")
            name = str((data.get("listing") or {}).get("name", ""))[:100]
            listing = self.connection.external_property_id
            return f"Connected: Airbnb accepted the authorization; listing {listing} ({name})."
        found = self.fetch_listings()
        return f"Connected: Airbnb accepted the authorization; {len(found)} listing(s), none chosen yet."

    def fetch_listings(self) -> list[dict[str, Any]]:
        data, *_ = self._call("GET", "v2/listings")
        out = []
        for item in data.get("listings") or []:
            if isinstance(item, dict) and item.get("id") is not None:
                out.append(
                    {
                        "id": str(item["id"])[:64],
                        "name": str(item.get("name") or "")[:200],
                        "currency": str(item.get("listing_currency") or "")[:3],
                        "synchronization_category": str(item.get("synchronization_category") or "")[:40],
                    }
                )
        return out

    # --- OAuth ------------------------------------------------------------------------------
    def exchange_code(self, *, code: str, redirect_uri: str) -> dict[str, Any]:
        """The authorization code from the consent page -> tokens (``access_token``, ``refresh_token``,
        ``expires_in``, ``user_id``)."""
        config = self._config()
        response, _ = self._http(
            "POST",
            self._url("v2/oauth2/token"),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": config.client_id,
                "client_secret": config.client_secret,
            },
        )
        if response.status_code in (400, 401):
            raise AdapterError(
                "Airbnb did not accept the authorization (expired or already used): please connect again.",
                kind=ErrorKind.AUTH,
                http_status=response.status_code,
            )
        if response.status_code >= 300:
            raise _error(response)
        try:
            data = response.json()
            tokens = {
                "access_token": str(data["access_token"]),
                "refresh_token": str(data["refresh_token"]),
                "expires_in": float(data.get("expires_in", 3600)),
                "user_id": str(data.get("user_id") or "")[:64],
            }
        except (ValueError, KeyError, TypeError):
            raise AdapterError(
                "Airbnb's token endpoint answered something unreadable.", kind=ErrorKind.RETRYABLE
            ) from None
        return tokens

    # --- requests to book and inquiries ------------------------------------------------------
    def answer_request(self, code: str, action: str, *, reason: str = "") -> dict[str, Any]:
        """``accept`` / ``decline`` a request to book, ``pre_approve`` / ``decline`` an inquiry."""
        data, *_ = self._call("POST", f"v2/reservations/{code}/{action}", body={"reason": reason[:500]})
        return data.get("reservation") or {}

    def reject(self, reservation: ChannelReservation, *, reason: str) -> None:
        """The host cancels a reservation we could not take (found by reconciliation)."""
        self._call("POST", f"v2/reservations/{reservation.external_id}/cancel", body={"reason": reason[:500]})

    # --- inbound: Airbnb calls /webhooks/airbnb/{reservations,notifications} -----------------
    def verify_inbound(self, *, headers: dict[str, str], body: bytes) -> None:
        raise InboundRejected("Airbnb calls /webhooks/airbnb/reservations and /webhooks/airbnb/notifications.")

    def parse_inbound(self, *, headers: dict[str, str], body: bytes) -> list[ChannelReservation]:
        raise InboundMalformed("Airbnb calls /webhooks/airbnb/reservations and /webhooks/airbnb/notifications.")

    # --- reconciliation --------------------------------------------------------------------
    def fetch_bookings(self, *, start: date, end: date) -> list[ChannelReservation]:
        listing = self._listing_id()
        data, *_ = self._call("GET", "v2/reservations", params={"listing_id": listing, "start_date": start.isoformat()})
        out = []
        for item in data.get("reservations") or []:
            if not isinstance(item, dict) or item.get("status_type") not in ("accepted", "cancelled"):
                continue  # requests, inquiries, declined: not reservations
            try:
                res = reservation_from_json(item)
            except ValueError as exc:
                raise AdapterError(f"Unreadable reservation list: {exc}", kind=ErrorKind.RETRYABLE) from None
            if res.check_out >= start and res.check_in < end:  # a plain reservation (reconciliation copies it)
                out.append(ChannelReservation(**{k: v for k, v in res.__dict__.items() if k != "action"}))
        return out

    def fetch_calendar(self, *, start: date, end: date) -> dict[date, DayState]:
        listing = self._listing_id()
        data, *_ = self._call(
            "GET",
            f"v2/calendars/{listing}",
            params={"start_date": start.isoformat(), "end_date": (end - timedelta(days=1)).isoformat()},
        )
        out: dict[date, DayState] = {}
        for item in (data.get("calendar") or {}).get("days") or []:
            try:
                day = _parse_date(item["date"])
                price = item.get("daily_price")
                out[day] = DayState(
                    day=day,
                    available=item.get("availability") != "unavailable" and int(item.get("available_count", 1)) > 0,
                    price=Decimal(str(price)).quantize(Decimal("0.01")) if price is not None else None,
                    min_stay=int(item["min_nights"]) if item.get("min_nights") else None,
                    max_stay=int(item["max_nights"]) if item.get("max_nights") else None,
                    closed_to_arrival=bool(item.get("closed_to_arrival")),
                    closed_to_departure=bool(item.get("closed_to_departure")),
                )
            except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
                raise AdapterError(f"Unreadable calendar: {exc}", kind=ErrorKind.RETRYABLE) from None
        return out
