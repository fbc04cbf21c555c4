"""Booking.com adapter: OTA 2003B XML over HTTPS (see shared/channels/PLATFORMS.md section 1).

- ARI push: ``POST /hotels/ota/OTA_HotelAvailNotif`` (rooms to sell, stop-sell, min/max LOS, CTA/CTD)
  and ``POST /hotels/ota/OTA_HotelRateAmountNotif`` (prices), one request per calendar month.
- Reservations: ``GET /hotels/ota/OTA_HotelResNotif`` returns the queue of un-acked new
  reservations (``OTA_HotelResNotifRQ``); ``POST`` of an ``OTA_HotelResNotifRS`` acknowledges.
  Modifications and cancellations: the same with ``OTA_HotelResModifyNotif``.
- Refusal [INFERRED, simulator contract]: an RS whose ``Errors/Error`` has
  ``Code="RESERVATION_REFUSED"`` refuses the reservation (the platform cancels it).
- Reconciliation [INFERRED, simulator contract]: ``GET /hotels/xml/reservations`` (all reservations
  of the account, B.XML-like) and ``GET /hotels/xml/roomrateavailability`` (calendar state).
- Auth: ``Authorization: Basic`` (username + password) or a bearer token from
  ``POST /token-based-authentication/exchange`` (client id + secret, valid 1 h).
- Errors: HTTP 401/403 -> auth; 429 -> rate-limited; 5xx -> retryable; OTA ``Errors/Error``
  codes 497 -> auth, 448/450 -> retryable, others (320 invalid value, NOT_A_VALID_DATE) -> permanent.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from itertools import groupby
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)

from defusedxml import ElementTree as SafeET
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

OTA_NS = "http://www.opentravel.org/OTA/2003/05"
NS = {"ota": OTA_NS}
REFUSED_CODE = "RESERVATION_REFUSED"
AUTH_CODES = {"497"}
RETRYABLE_CODES = {"448", "450"}

_token_cache: dict[int, tuple[str, float]] = {}
_token_lock = threading.Lock()


def _q(tag: str) -> str:
    return f"{{{OTA_NS}}}{tag}"


def _root(tag: str, **attrs: str) -> Element:
    el = Element(tag, {"xmlns": OTA_NS, "TimeStamp": timezone.now().replace(microsecond=0).isoformat(), **attrs})
    return el


def _xml(el: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(el, encoding="utf-8")


def month_chunks(days: list[DayState]) -> list[list[DayState]]:
    """Booking.com: batch by month, one hotel per request."""
    return [list(g) for _, g in groupby(sorted(days, key=lambda d: d.day), key=lambda d: (d.day.year, d.day.month))]


def runs(days: list[DayState], key) -> list[tuple[date, date, DayState]]:
    """Consecutive days with the same ``key(day)``: (first, last inclusive, sample)."""
    out: list[tuple[date, date, DayState]] = []
    for d in sorted(days, key=lambda d: d.day):
        if out and key(out[-1][2]) == key(d) and out[-1][1] + timedelta(days=1) == d.day:
            out[-1] = (out[-1][0], d.day, out[-1][2])
        else:
            out.append((d.day, d.day, d))
    return out


def build_avail_notif(*, hotel_code: str, room: str, rate_plan: str, days: list[DayState]) -> bytes:
    root = _root("OTA_HotelAvailNotifRQ", Version="1.0")
    msgs = SubElement(root, "AvailStatusMessages", HotelCode=hotel_code)
    for start, end, d in runs(days, key=lambda d: d.restrictions()):
        ctl = {"Start": start.isoformat(), "End": end.isoformat(), "InvTypeCode": room}
        if rate_plan:
            ctl["RatePlanCode"] = rate_plan
        msg = SubElement(msgs, "AvailStatusMessage", BookingLimit="1" if d.available else "0")
        SubElement(msg, "StatusApplicationControl", ctl)
        if d.min_stay or d.max_stay:
            los = SubElement(msg, "LengthsOfStay")
            if d.min_stay:
                SubElement(los, "LengthOfStay", MinMaxMessageType="SetMinLOS", Time=str(d.min_stay))
            if d.max_stay:
                SubElement(los, "LengthOfStay", MinMaxMessageType="SetMaxLOS", Time=str(d.max_stay))
        SubElement(msg, "RestrictionStatus", Status="Open" if d.available else "Close")
        for restriction, closed in (("Arrival", d.closed_to_arrival), ("Departure", d.closed_to_departure)):
            extra = SubElement(msgs, "AvailStatusMessage")
            SubElement(extra, "StatusApplicationControl", ctl)
            SubElement(extra, "RestrictionStatus", Restriction=restriction, Status="Close" if closed else "Open")
    return _xml(root)


def build_rate_notif(*, hotel_code: str, room: str, rate_plan: str, days: list[DayState]) -> bytes | None:
    priced = [d for d in days if d.price is not None]
    if not priced:
        return None
    root = _root("OTA_HotelRateAmountNotifRQ", Version="1.0")
    msgs = SubElement(root, "RateAmountMessages", HotelCode=hotel_code)
    for start, end, d in runs(priced, key=lambda d: (d.price, d.currency)):
        msg = SubElement(msgs, "RateAmountMessage")
        SubElement(
            msg,
            "StatusApplicationControl",
            {"Start": start.isoformat(), "End": end.isoformat(), "InvTypeCode": room, "RatePlanCode": rate_plan},
        )
        rate = SubElement(SubElement(msg, "Rates"), "Rate")
        SubElement(
            SubElement(rate, "BaseByGuestAmts"),
            "BaseByGuestAmt",
            AmountAfterTax=f"{d.price:.2f}",
            CurrencyCode=d.currency,
        )
    return _xml(root)


def build_ack(*, root_tag: str, res_ids: Iterable[str], refuse_reason: str = "") -> bytes:
    root = _root(root_tag, Version="2.001")
    if refuse_reason:
        errors = SubElement(root, "Errors")
        err = SubElement(errors, "Error", Type="3", Code=REFUSED_CODE, ShortText="Reservation refused")
        err.text = refuse_reason[:500]
    else:
        SubElement(root, "Success")
    container = "HotelResModifies" if "Modify" in root_tag else "HotelReservations"
    item = "HotelResModify" if "Modify" in root_tag else "HotelReservation"
    holder = SubElement(root, container)
    for res_id in res_ids:
        hr = SubElement(holder, item)
        ids = SubElement(SubElement(hr, "ResGlobalInfo"), "HotelReservationIDs")
        SubElement(ids, "HotelReservationID", ResID_Value=res_id, ResID_Type="14")
    return _xml(root)


def parse_xml(body: bytes | str) -> Element:
    try:
        return SafeET.fromstring(body)
    except Exception as exc:  # ParseError, DefusedXmlException, ...
        raise ValueError(f"not well-formed XML ({type(exc).__name__}: {str(exc)[:200]})") from None


def ota_errors(root: Element) -> tuple[list[tuple[str, str]], list[str]]:
    """(errors as (code, text), warnings) of an OTA response."""
    errors = [(e.get("Code", ""), (e.get("ShortText") or e.text or "").strip()) for e in root.iter(_q("Error"))] + [
        (e.get("Code", ""), (e.get("ShortText") or e.text or "").strip()) for e in root.iter("Error")
    ]
    warnings = [(w.get("ShortText") or w.text or "").strip() for w in root.iter(_q("Warning"))]
    return errors, warnings


def error_from_ota(errors: list[tuple[str, str]], http_status: int) -> AdapterError:
    codes = {c for c, _ in errors}
    text = "; ".join(f"{c} {t}".strip() for c, t in errors)[:500]
    if codes & AUTH_CODES:
        kind = ErrorKind.AUTH
    elif codes and codes <= RETRYABLE_CODES:
        kind = ErrorKind.RETRYABLE
    else:
        kind = ErrorKind.PERMANENT
    return AdapterError(f"Booking.com error: {text}", kind=kind, http_status=http_status, code=",".join(sorted(codes)))


def _date(value: str | None) -> date:
    if not value:
        raise ValueError("missing date")
    return date.fromisoformat(value[:10])


def parse_reservations(root: Element) -> list[ChannelReservation]:
    """Reservations of an ``OTA_HotelResNotifRQ`` or ``OTA_HotelResModifyNotifRQ``."""
    tag = root.tag.split("}")[-1]
    if tag not in ("OTA_HotelResNotifRQ", "OTA_HotelResModifyNotifRQ"):
        raise ValueError(f"unexpected root element {tag}")
    modify = tag == "OTA_HotelResModifyNotifRQ"
    items = root.iter(_q("HotelResModify")) if modify else root.iter(_q("HotelReservation"))
    out = []
    for hr in items:
        res_id_el = hr.find(".//ota:HotelReservationID", NS)
        if res_id_el is None or not res_id_el.get("ResID_Value"):
            raise ValueError("reservation without HotelReservationID/@ResID_Value")
        stay = hr.find(".//ota:RoomStay", NS)
        if stay is None:
            raise ValueError("reservation without RoomStay")
        span = stay.find("ota:TimeSpan", NS)
        if span is None:
            raise ValueError("RoomStay without TimeSpan")
        check_in, check_out = _date(span.get("Start")), _date(span.get("End"))
        guests = sum(int(g.get("Count", "0") or 0) for g in stay.iter(_q("GuestCount"))) or 1
        total_el = stay.find("ota:Total", NS)
        total = None
        currency = "EUR"
        if total_el is not None and total_el.get("AmountAfterTax"):
            try:
                total = Decimal(total_el.get("AmountAfterTax"))
            except InvalidOperation:
                raise ValueError("Total/@AmountAfterTax is not a number") from None
            currency = total_el.get("CurrencyCode") or currency
        hotel = stay.find("ota:BasicPropertyInfo", NS)
        given = hr.find(".//ota:PersonName/ota:GivenName", NS)
        surname = hr.find(".//ota:PersonName/ota:Surname", NS)
        email = hr.find(".//ota:Customer/ota:Email", NS)
        res_status = (hr.get("ResStatus") or ("Modify" if modify else "Book")).lower()
        status = {"book": "new", "commit": "new", "modify": "modified", "cancel": "cancelled"}.get(res_status)
        if status is None:
            raise ValueError(f"unknown ResStatus {hr.get('ResStatus')}")
        out.append(
            ChannelReservation(
                external_id=res_id_el.get("ResID_Value"),
                status=status,
                check_in=check_in,
                check_out=check_out,
                guests=guests,
                first_name=(given.text or "").strip() if given is not None else "",
                last_name=(surname.text or "").strip() if surname is not None else "",
                email=(email.text or "").strip() if email is not None else "",
                total=total,
                currency=currency,
                hotel_code=hotel.get("HotelCode", "") if hotel is not None else "",
                version=hr.get("LastModifyDateTime") or hr.get("CreateDateTime") or "1",
            )
        )
    return out


class BookingComAdapter(ChannelAdapter):
    platform = "booking_com"
    supports_push = True
    supports_pull = True

    # --- plumbing ---------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        base = (self.connection.base_url or "https://supply-xml.booking.com").rstrip("/")
        return f"{base}/{path.lstrip('/')}"

    def _auth_headers(self) -> dict[str, str]:
        conn = self.connection
        if conn.auth_scheme == "token":
            return {"Authorization": f"Bearer {self._bearer()}"}
        if conn.auth_scheme == "basic":
            raw = f"{conn.username}:{conn.get_secret('access_token')}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        return {}

    def _bearer(self) -> str:
        key = self.connection.pk or 0
        with _token_lock:
            cached = _token_cache.get(key)
            if cached and cached[1] > time.time() + 60:
                return cached[0]
        response, _ = self._http(
            "POST",
            self._url("token-based-authentication/exchange"),
            data={"client_id": self.connection.username, "client_secret": self.connection.get_secret("access_token")},
        )
        err = error_for_status(response.status_code, retry_after=response.headers.get("Retry-After"))
        if err:
            raise err
        try:
            data = response.json()
            token, ttl = data["jwt"], float(data.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise AdapterError("The token exchange answered something unreadable.", kind=ErrorKind.RETRYABLE) from None
        with _token_lock:
            _token_cache[key] = (token, time.time() + ttl)
        return token

    def _call(self, method: str, path: str, *, body: bytes | None = None, params: dict | None = None):
        headers = {"Content-Type": "application/xml", "Accept-Version": "1.1", **self._auth_headers()}
        response, ms = self._http(method, self._url(path), data=body, headers=headers, params=params)
        err = error_for_status(response.status_code, retry_after=response.headers.get("Retry-After"))
        if err:
            raise err
        try:
            root = parse_xml(response.content)
        except ValueError as exc:
            raise AdapterError(
                f"Booking.com sent a malformed response: {exc}",
                kind=ErrorKind.RETRYABLE,
                http_status=response.status_code,
            ) from None
        errors, warnings = ota_errors(root)
        if errors:
            raise error_from_ota(errors, response.status_code)
        return root, response.status_code, ms, warnings

    # --- outbound --------------------------------------------------------------------------
    def push_calendar(self, days: list[DayState]) -> PushResult:
        conn = self.connection
        # Updates may reach at most one day into the past; we never send the past at all.
        today = timezone.localdate()
        days = [d for d in days if d.day >= today]
        result = PushResult()
        for chunk in month_chunks(days):
            common = {
                "hotel_code": conn.external_property_id,
                "room": conn.external_room_id or "1",
                "rate_plan": conn.external_rate_plan_id or "1",
                "days": chunk,
            }
            messages = [("hotels/ota/OTA_HotelAvailNotif", build_avail_notif(**common))]
            rate = build_rate_notif(**common)
            if rate is not None:
                messages.append(("hotels/ota/OTA_HotelRateAmountNotif", rate))
            for path, body in messages:
                _, status, ms, warnings = self._call("POST", path, body=body)
                result.http_status = status
                result.latency_ms += ms
                result.requests += 1
                result.warnings += warnings
        return result

    def request_cost(self, days: list[DayState]) -> int:
        return 2 * len(month_chunks(days))  # availability + rates, one request each per month

    def test_connection(self) -> str:
        self._call(
            "GET",
            "hotels/ota/OTA_HotelResNotif",
            params={"hotel_ids": self.connection.external_property_id, "max": "0"},
        )
        return "Connected: credentials accepted by Booking.com."

    # --- reservations ----------------------------------------------------------------------
    def fetch_reservations(self) -> list[ChannelReservation]:
        params = {"hotel_ids": self.connection.external_property_id}
        out = []
        for path in ("hotels/ota/OTA_HotelResNotif", "hotels/ota/OTA_HotelResModifyNotif"):
            root, *_ = self._call("GET", path, params=params)
            try:
                found = parse_reservations(root)
            except ValueError as exc:
                raise AdapterError(
                    f"Booking.com sent an unreadable reservation: {exc}", kind=ErrorKind.RETRYABLE
                ) from None
            raw = _xml(root).decode()
            for r in found:
                r.raw = raw
            out += found
        return out

    def _ack_paths(self, reservations: list[ChannelReservation]) -> dict[str, list[str]]:
        by_path: dict[str, list[str]] = {}
        for r in reservations:
            key = "OTA_HotelResNotif" if r.status == "new" else "OTA_HotelResModifyNotif"
            by_path.setdefault(key, []).append(r.external_id)
        return by_path

    def acknowledge(self, reservations: list[ChannelReservation]) -> None:
        for name, ids in self._ack_paths(reservations).items():
            self._call("POST", f"hotels/ota/{name}", body=build_ack(root_tag=f"{name}RS", res_ids=ids))

    def reject(self, reservation: ChannelReservation, *, reason: str) -> None:
        for name, ids in self._ack_paths([reservation]).items():
            self._call(
                "POST", f"hotels/ota/{name}", body=build_ack(root_tag=f"{name}RS", res_ids=ids, refuse_reason=reason)
            )

    # --- inbound (simulator push mode; Booking.com itself has no reservation webhooks) -------
    def verify_inbound(self, *, headers: dict[str, str], body: bytes) -> None:
        from apps.channels.inbound import verify_hmac

        secret = self.connection.get_secret("webhook_secret") if self.connection.pk else ""
        if not secret:
            raise InboundRejected("No webhook secret is configured for this connection.")
        verify_hmac(headers=headers, body=body, secret=secret)

    def parse_inbound(self, *, headers: dict[str, str], body: bytes) -> list[ChannelReservation]:
        try:
            found = parse_reservations(parse_xml(body))
        except ValueError as exc:
            raise InboundMalformed(str(exc)) from None
        if not found:
            raise InboundMalformed("the message carries no reservation")
        return found

    # --- reconciliation --------------------------------------------------------------------
    def fetch_bookings(self, *, start: date, end: date) -> list[ChannelReservation]:
        root, *_ = self._call(
            "GET",
            "hotels/xml/reservations",
            params={
                "hotel_ids": self.connection.external_property_id,
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        )
        out = []
        for el in root.iter("reservation"):
            try:
                out.append(
                    ChannelReservation(
                        external_id=el.get("id", ""),
                        status={"booked": "new", "modified": "modified"}.get(el.get("status", ""), "cancelled"),
                        check_in=_date(el.get("checkin")),
                        check_out=_date(el.get("checkout")),
                        guests=int(el.get("guests", "1") or 1),
                        first_name=el.get("first_name", ""),
                        last_name=el.get("last_name", ""),
                        total=Decimal(el.get("total")) if el.get("total") else None,
                        currency=el.get("currency", "EUR"),
                        hotel_code=el.get("hotel_id", ""),
                        version=el.get("modified", "1"),
                    )
                )
            except (ValueError, InvalidOperation) as exc:
                raise AdapterError(f"Unreadable reservation list: {exc}", kind=ErrorKind.RETRYABLE) from None
        return out

    def fetch_calendar(self, *, start: date, end: date) -> dict[date, DayState]:
        root, *_ = self._call(
            "GET",
            "hotels/xml/roomrateavailability",
            params={
                "hotel_id": self.connection.external_property_id,
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        )
        out: dict[date, DayState] = {}
        for el in root.iter("date"):
            try:
                day = _date(el.get("value"))
                price = el.get("price")
                out[day] = DayState(
                    day=day,
                    available=el.get("roomstosell", "0") != "0" and el.get("closed", "0") != "1",
                    price=Decimal(price) if price else None,
                    min_stay=int(el.get("minimumstay")) if el.get("minimumstay") else None,
                    max_stay=int(el.get("maximumstay")) if el.get("maximumstay") else None,
                    closed_to_arrival=el.get("closedonarrival") == "1",
                    closed_to_departure=el.get("closedondeparture") == "1",
                )
            except (ValueError, InvalidOperation) as exc:
                raise AdapterError(f"Unreadable calendar: {exc}", kind=ErrorKind.RETRYABLE) from None
        return out
