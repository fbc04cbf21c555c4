"""Expedia adapter: EQC ("Expedia QuickConnect") XML over HTTPS (shared/channels/PLATFORMS.md section 2).

- ARI push (EQC AR): ``POST {base}/eqc/ar`` with an ``AvailRateUpdateRQ`` (ns ``.../EQC/AR/2011/06``):
  one ``AvailRateUpdate`` per run of equal nights (``DateRange``), the room type's ``Inventory``
  (``totalInventoryAvailable`` 1 or 0) and ``closed``, the rate plan's ``Rate``/``PerDay`` and
  ``Restrictions`` (``closedToArrival``, ``closedToDeparture``, ``minLOS``, ``maxLOS``).
  Date rules: nothing before yesterday (we start today), nothing beyond two years (cut).
- Reservations, pull model (EQC BR + BC): ``POST {base}/eqc/br`` (``BookingRetrievalRQ``, ns
  ``.../EQC/BR/2014/01``) returns at most 125 booking transactions, one per booking and call in
  sequence (Book -> Modify -> Cancel); each applied one is confirmed with ``POST {base}/eqc/bc``
  (``BookingConfirmRQ``, ns ``.../EQC/BC/2007/09``) carrying our booking reference as confirmNumber.
  The push model (Booking Notification, SOAP POSTed to us) is ``apps.channels.inbound_expedia``.
- Credentials travel inside the XML (``Authentication username password``), never in headers.
- Errors: the RS's ``Error code`` -> 1xxx auth; 2xxx/3xxx permanent (the code kept); 4xxx and 5000
  retryable, except 4100/4101 permanent; ``Warning`` (7xxx) codes are kept on the delivery. HTTP
  401/403/429/5xx and timeouts as everywhere (``error_for_status``).
- One concurrent connection per hotel is a platform rule (error 3210): every call for a hotel holds
  a Redis lock on the hotel id, so pushes, pulls and confirmations of one hotel are serialised across
  workers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)

import redis
from defusedxml import ElementTree as SafeET
from django.utils import timezone

from .base import AdapterError, ChannelAdapter, ChannelReservation, DayState, ErrorKind, PushResult, error_for_status

logger = logging.getLogger(__name__)

AR_NS = "http://www.expediaconnect.com/EQC/AR/2011/06"
AR_RS_NS = "http://www.expediaconnect.com/EQC/AR/2007/02"
BR_NS = "http://www.expediaconnect.com/EQC/BR/2014/01"
BC_NS = "http://www.expediaconnect.com/EQC/BC/2007/09"
BC_RS_NS = "http://www.expediaconnect.com/EQC/BC/2007/08"
PAR_NS = "http://www.expediaconnect.com/EQC/PAR/2013/07"
DEFAULT_BASE = "https://services.expediapartnercentral.com"
MAX_UPDATES_PER_REQUEST = 100  # [INFERRED] AvailRateUpdate elements per AvailRateUpdateRQ
MAX_BOOKINGS_PER_ANSWER = 125
HORIZON_DAYS = 730  # "nothing beyond two years"
RECONCILE_DAYS_IN_PAST = 365  # [INFERRED] NbDaysInPast our reconciliation asks for
TYPE_OF_STATUS = {"new": "Book", "modified": "Modify", "cancelled": "Cancel"}
STATUS_OF_TYPE = {v: k for k, v in TYPE_OF_STATUS.items()}


def error_kind(code: str) -> ErrorKind:
    """PLATFORMS.md section 2: 1xxx auth; 2xxx/3xxx permanent; 4xxx/5000 retryable except 4100/4101."""
    try:
        n = int(code)
    except (TypeError, ValueError):
        return ErrorKind.PERMANENT
    if 1000 <= n < 2000:
        return ErrorKind.AUTH
    if n in (4100, 4101):
        return ErrorKind.PERMANENT
    if 4000 <= n < 5000 or n == 5000:
        return ErrorKind.RETRYABLE
    return ErrorKind.PERMANENT


def error_from_eqc(errors: list[tuple[str, str]], http_status: int) -> AdapterError:
    """One AdapterError for the RS's errors: auth before permanent before retryable."""
    kinds = {error_kind(code) for code, _ in errors}
    kind = next(k for k in (ErrorKind.AUTH, ErrorKind.PERMANENT, ErrorKind.RETRYABLE) if k in kinds)
    text = "; ".join(f"{code} {msg}".strip() for code, msg in errors)[:500]
    codes = ",".join(sorted({code for code, _ in errors}))
    return AdapterError(f"Expedia error {text}", kind=kind, http_status=http_status, code=codes)


def parse_xml(body: bytes | str) -> Element:
    try:
        return SafeET.fromstring(body)
    except Exception as exc:  # ParseError, DefusedXmlException, ...
        raise ValueError(f"not well-formed XML ({type(exc).__name__}: {str(exc)[:200]})") from None


def _xml(el: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(el, encoding="utf-8")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def date_window(today: date | None = None) -> tuple[date, date]:
    """The nights an AR may name: from yesterday to two years ahead (inclusive)."""
    today = today or timezone.localdate()
    return today - timedelta(days=1), today + timedelta(days=HORIZON_DAYS)


def runs(days: list[DayState]) -> list[tuple[date, date, DayState]]:
    """Consecutive nights with the same state: (first, last inclusive, sample)."""

    def key(d: DayState) -> tuple:
        return (d.restrictions(), d.price, d.currency)

    out: list[tuple[date, date, DayState]] = []
    for d in sorted(days, key=lambda d: d.day):
        if out and key(out[-1][2]) == key(d) and out[-1][1] + timedelta(days=1) == d.day:
            out[-1] = (out[-1][0], d.day, out[-1][2])
        else:
            out.append((d.day, d.day, d))
    return out


def _auth(root: Element, username: str, password: str) -> None:
    SubElement(root, "Authentication", username=username, password=password)


def build_ar(*, username: str, password: str, hotel_id: str, room_type: str, rate_plan: str, chunk) -> bytes:
    root = Element("AvailRateUpdateRQ", xmlns=AR_NS)
    _auth(root, username, password)
    SubElement(root, "Hotel", id=hotel_id)
    for first, last, d in chunk:
        update = SubElement(root, "AvailRateUpdate")
        SubElement(update, "DateRange", {"from": first.isoformat(), "to": last.isoformat()})
        room = SubElement(update, "RoomType", id=room_type, closed=_bool(not d.available))
        SubElement(room, "Inventory", totalInventoryAvailable="1" if d.available else "0")
        plan = SubElement(room, "RatePlan", id=rate_plan, closed=_bool(not d.available))
        if d.price is not None:
            rate = SubElement(plan, "Rate", currency=d.currency or "EUR")
            SubElement(rate, "PerDay", rate=f"{Decimal(d.price):.2f}")
        restrictions = {
            "closedToArrival": _bool(d.closed_to_arrival),
            "closedToDeparture": _bool(d.closed_to_departure),
            "minLOS": str(d.min_stay or 1),
        }
        if d.max_stay:
            restrictions["maxLOS"] = str(d.max_stay)
        SubElement(plan, "Restrictions", restrictions)
    return _xml(root)


def build_br(
    *,
    username: str,
    password: str,
    hotel_id: str,
    statuses: tuple[str, ...] = (),
    booking_id: str = "",
    days_in_past: int | None = None,
) -> bytes:
    root = Element("BookingRetrievalRQ", xmlns=BR_NS)
    _auth(root, username, password)
    SubElement(root, "Hotel", id=hotel_id)
    params = SubElement(root, "ParamSet")
    if booking_id:
        SubElement(params, "Booking", id=booking_id)
    elif days_in_past is not None:
        SubElement(params, "NbDaysInPast").text = str(days_in_past)
    for status in statuses:
        SubElement(params, "Status", value=status)
    return _xml(root)


def build_bc(*, username: str, password: str, hotel_id: str, confirmations: list[tuple[str, str, str]]) -> bytes:
    """``confirmations``: (Expedia booking id, bookingType, our confirmation number)."""
    root = Element("BookingConfirmRQ", xmlns=BC_NS)
    _auth(root, username, password)
    SubElement(root, "Hotel", id=hotel_id)
    numbers = SubElement(root, "BookingConfirmNumbers")
    now = timezone.now().replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    for booking_id, booking_type, number in confirmations:
        SubElement(
            numbers,
            "BookingConfirmNumber",
            bookingID=booking_id,
            bookingType=booking_type,
            confirmNumber=number,
            confirmTime=now,
        )
    return _xml(root)


def build_parr(*, username: str, password: str, hotel_id: str, start: date, end: date) -> bytes:
    root = Element("ProductAvailRateRetrievalRQ", xmlns=PAR_NS)
    _auth(root, username, password)
    SubElement(root, "Hotel", id=hotel_id)
    params = SubElement(root, "ParamSet")
    SubElement(params, "AvailRateRetrieval", {"from": start.isoformat(), "to": end.isoformat()})
    return _xml(root)


def _date(value: str | None) -> date:
    if not value:
        raise ValueError("missing date")
    return date.fromisoformat(value[:10])


@dataclass
class RetrievedBooking:
    """One transaction of a ``BookingRetrievalRS``: what to apply, and what to confirm it with."""

    reservation: ChannelReservation
    booking_type: str  # Book | Modify | Cancel
    expedia_status: str  # pending | retrieved | confirmed


def parse_br(root: Element) -> list[RetrievedBooking]:
    if _local(root.tag) != "BookingRetrievalRS":
        raise ValueError(f"unexpected root element {_local(root.tag)}")
    out = []
    for el in root.iter(f"{{{BR_NS}}}Booking"):
        booking_id, booking_type = el.get("id", ""), el.get("type", "")
        if not booking_id or booking_type not in STATUS_OF_TYPE:
            raise ValueError("Booking without id or with an unknown type")
        stay = el.find(f"{{{BR_NS}}}RoomStay")
        if stay is None:
            raise ValueError(f"Booking {booking_id[:40]} without RoomStay")
        dates = stay.find(f"{{{BR_NS}}}StayDate")
        if dates is None:
            raise ValueError(f"Booking {booking_id[:40]} without StayDate")
        count = stay.find(f"{{{BR_NS}}}GuestCount")
        guests = 1
        if count is not None:
            guests = int(count.get("adult", "0") or 0) + int(count.get("child", "0") or 0) or 1
        total_el = stay.find(f"{{{BR_NS}}}Total")
        total, currency = None, "EUR"
        if total_el is not None and total_el.get("amountAfterTaxes"):
            try:
                total = Decimal(total_el.get("amountAfterTaxes"))
            except InvalidOperation:
                raise ValueError("Total/@amountAfterTaxes is not a number") from None
            currency = total_el.get("currency") or currency
        name = el.find(f"{{{BR_NS}}}PrimaryGuest/{{{BR_NS}}}Name")
        email = el.find(f"{{{BR_NS}}}PrimaryGuest/{{{BR_NS}}}Email")
        hotel = el.find(f"{{{BR_NS}}}Hotel")
        res = ChannelReservation(
            external_id=booking_id,
            status=STATUS_OF_TYPE[booking_type],
            check_in=_date(dates.get("arrival")),
            check_out=_date(dates.get("departure")),
            guests=guests,
            first_name=name.get("givenName", "") if name is not None else "",
            last_name=name.get("surname", "") if name is not None else "",
            email=(email.text or "").strip() if email is not None else "",
            total=total,
            currency=currency,
            hotel_code=hotel.get("id", "") if hotel is not None else "",
            # one transaction of one booking: its type and when Expedia created it
            version=f"{booking_type}@{el.get('createDateTime', '')}",
        )
        out.append(RetrievedBooking(res, booking_type, el.get("status", "")))
    return out


class ExpediaAdapter(ChannelAdapter):
    platform = "expedia"
    supports_push = True
    supports_pull = True  # BR/BC (or nothing, for Booking Notification): apps.channels.inbound_expedia

    # --- connection options -------------------------------------------------------------------
    @property
    def reservation_model(self) -> str:
        """``pull`` (BR/BC polled by beat) or ``push`` (Booking Notification POSTed to us)."""
        value = (self.connection.settings or {}).get("reservation_model", "pull")
        return value if value in ("pull", "push") else "pull"

    # --- plumbing -----------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        base = (self.connection.base_url or DEFAULT_BASE).rstrip("/")
        return f"{base}/{path.lstrip('/')}"

    def _credentials(self) -> dict[str, str]:
        return {"username": self.connection.username, "password": self.connection.get_secret("access_token")}

    def _hotel_lock(self):
        """One concurrent EQC connection per hotel (error 3210): a Redis lock on the hotel id, held for
        the whole request; it expires by itself if its holder dies."""
        from apps.channels import redis as chredis

        return chredis.client().lock(
            chredis.key("expedia", "hotel", self.connection.external_property_id),
            timeout=self.timeout + 5,
            blocking_timeout=self.timeout + 5,
        )

    def _call(self, path: str, body: bytes) -> tuple[Element, int, int, list[str]]:
        """POST one EQC request for this connection's hotel; returns (root, http status, ms, warnings)."""
        try:
            lock = self._hotel_lock()
            acquired = lock.acquire()
        except redis.RedisError as exc:
            raise AdapterError(
                f"Cannot serialise calls to the Expedia hotel (Redis unavailable: {type(exc).__name__}).",
                kind=ErrorKind.RETRYABLE,
            ) from None
        if not acquired:
            raise AdapterError("Another call to this Expedia hotel is still running.", kind=ErrorKind.RETRYABLE)
        try:
            response, ms = self._http(
                "POST", self._url(path), data=body, headers={"Content-Type": "text/xml; charset=utf-8"}
            )
        finally:
            try:
                lock.release()
            except redis.RedisError:  # expired or Redis gone: it lapses by itself
                logger.warning("could not release the Expedia hotel lock", exc_info=True)
        err = error_for_status(response.status_code, retry_after=response.headers.get("Retry-After"))
        if err:
            raise err
        try:
            root = parse_xml(response.content)
        except ValueError as exc:
            raise AdapterError(
                f"Expedia sent a malformed response: {exc}", kind=ErrorKind.RETRYABLE, http_status=response.status_code
            ) from None
        errors = [(e.get("code", ""), (e.text or "").strip()) for e in root.iter() if _local(e.tag) == "Error"]
        if errors:
            raise error_from_eqc(errors, response.status_code)
        warnings = [
            f"Expedia warning {w.get('code', '')} {(w.text or '').strip()}".strip()
            for w in root.iter()
            if _local(w.tag) == "Warning"
        ]
        return root, response.status_code, ms, warnings

    # --- outbound -------------------------------------------------------------------------------
    def _pushable(self, days: list[DayState]) -> list[DayState]:
        today = timezone.localdate()
        _, last = date_window(today)
        # we never send the past at all (Expedia accepts yesterday), nor beyond two years
        return [d for d in days if today <= d.day < last]

    def _chunks(self, days: list[DayState]) -> list[list[tuple[date, date, DayState]]]:
        all_runs = runs(self._pushable(days))
        return [all_runs[i : i + MAX_UPDATES_PER_REQUEST] for i in range(0, len(all_runs), MAX_UPDATES_PER_REQUEST)]

    def push_calendar(self, days: list[DayState]) -> PushResult:
        conn = self.connection
        result = PushResult()
        for chunk in self._chunks(days):
            body = build_ar(
                **self._credentials(),
                hotel_id=conn.external_property_id,
                room_type=conn.external_room_id,
                rate_plan=conn.external_rate_plan_id,
                chunk=chunk,
            )
            _, status, ms, warnings = self._call("eqc/ar", body)
            result.http_status = status
            result.latency_ms += ms
            result.requests += 1
            result.warnings += warnings
        return result

    def request_cost(self, days: list[DayState]) -> int:
        return max(1, len(self._chunks(days)))

    def test_connection(self) -> str:
        """A harmless BR for one booking id that does not exist: checks the credentials and the hotel,
        retrieves (and so changes) nothing."""
        body = build_br(**self._credentials(), hotel_id=self.connection.external_property_id, booking_id="0")
        self._call("eqc/br", body)
        text = f"Connected: Expedia accepted the EQC credentials for hotel {self.connection.external_property_id}."
        if self.reservation_model == "push" and not self.connection.has_secret("webhook_secret"):
            text += " Booking Notification needs a webhook secret (the password Expedia sends): none is set."
        return text

    # --- reservations (pull model) -----------------------------------------------------------------
    def retrieve(self) -> list[RetrievedBooking]:
        """Pending transactions, and retrieved ones not confirmed yet (a lost confirmation is sent again)."""
        body = build_br(
            **self._credentials(),
            hotel_id=self.connection.external_property_id,
            statuses=("pending", "retrieved"),
        )
        root, *_ = self._call("eqc/br", body)
        try:
            found = parse_br(root)
        except ValueError as exc:
            raise AdapterError(f"Expedia sent an unreadable booking: {exc}", kind=ErrorKind.RETRYABLE) from None
        raw = _xml(root).decode()
        for item in found:
            item.reservation.raw = raw
        return found

    def confirm(self, confirmations: list[tuple[str, str, str]]) -> None:
        """BC: (Expedia booking id, bookingType, our confirmation number) for each applied transaction."""
        if confirmations:
            body = build_bc(
                **self._credentials(), hotel_id=self.connection.external_property_id, confirmations=confirmations
            )
            self._call("eqc/bc", body)

    def fetch_reservations(self) -> list[ChannelReservation]:
        if self.reservation_model != "pull":
            return []
        return [item.reservation for item in self.retrieve()]

    # --- reconciliation ---------------------------------------------------------------------------
    def fetch_bookings(self, *, start: date, end: date) -> list[ChannelReservation]:
        """Bookings made in the last ``RECONCILE_DAYS_IN_PAST`` days, each in its current state (the
        latest transaction); retrieves nothing (no status changes)."""
        body = build_br(
            **self._credentials(),
            hotel_id=self.connection.external_property_id,
            days_in_past=RECONCILE_DAYS_IN_PAST,
        )
        root, *_ = self._call("eqc/br", body)
        try:
            found = parse_br(root)
        except ValueError as exc:
            raise AdapterError(f"Expedia sent an unreadable booking: {exc}", kind=ErrorKind.RETRYABLE) from None
        latest: dict[str, ChannelReservation] = {}
        for item in found:
            latest[item.reservation.external_id] = item.reservation  # in sequence: the last one wins
        return [r for r in latest.values() if r.check_out > start and r.check_in < end]

    def fetch_calendar(self, *, start: date, end: date) -> dict[date, DayState]:
        """PARR (``ProductAvailRateRetrievalRQ``): what Expedia holds for the room type and rate plan."""
        first, last = date_window()
        start, end = max(start, first + timedelta(days=1)), min(end, last)
        if end <= start:
            return {}
        body = build_parr(
            **self._credentials(),
            hotel_id=self.connection.external_property_id,
            start=start,
            end=end - timedelta(days=1),
        )
        root, *_ = self._call("eqc/parr", body)
        out: dict[date, DayState] = {}
        try:
            for el in root.iter(f"{{{PAR_NS}}}AvailRate"):
                day = _date(el.get("date"))
                room = el.find(f"{{{PAR_NS}}}RoomType")
                plan = room.find(f"{{{PAR_NS}}}RatePlan") if room is not None else None
                if room is None or plan is None:
                    raise ValueError("AvailRate without RoomType/RatePlan")
                inventory = room.find(f"{{{PAR_NS}}}Inventory")
                rate = plan.find(f".//{{{PAR_NS}}}PerDay")
                rate_el = plan.find(f"{{{PAR_NS}}}Rate")
                restr = plan.find(f"{{{PAR_NS}}}Restrictions")
                r = restr.attrib if restr is not None else {}
                available = (
                    room.get("closed") != "true"
                    and plan.get("closed") != "true"
                    and inventory is not None
                    and int(inventory.get("totalInventoryAvailable", "0") or 0) > 0
                )
                out[day] = DayState(
                    day=day,
                    available=available,
                    price=Decimal(rate.get("rate")) if rate is not None and rate.get("rate") else None,
                    currency=rate_el.get("currency", "EUR") if rate_el is not None else "EUR",
                    min_stay=int(r["minLOS"]) if r.get("minLOS") and r["minLOS"] != "1" else None,
                    max_stay=int(r["maxLOS"]) if r.get("maxLOS") else None,
                    closed_to_arrival=r.get("closedToArrival") == "true",
                    closed_to_departure=r.get("closedToDeparture") == "true",
                )
        except (ValueError, InvalidOperation, TypeError) as exc:
            raise AdapterError(f"Unreadable calendar: {exc}", kind=ErrorKind.RETRYABLE) from None
        return out
