"""FeWo-direkt / Vrbo real-time requests (PLATFORMS.md section 4): the platform calls us and waits.

- ``POST /vrbo/booking`` with a ``bookingRequest`` (HTTP Basic auth of one ``fewo_direkt``
  connection): stored raw (``InboundMessage``), parsed, checked against the property's stay rules,
  then applied through ``inbound.process_reservation`` (dedupe on ``trackingUuid`` per connection,
  ``booking_create`` under the property lock, a conflict refused with an alert). The answer is a
  ``bookingResponse`` carrying our booking reference as ``externalId``, or an ``errorList`` naming why
  (``DATES_NOT_AVAILABLE`` with the taken nights, a stay rule, an unknown listing). A replay of the
  same ``trackingUuid`` answers what the first request got and books nothing more.
- ``cancelBookingRequest`` and ``bookingModificationRequest`` [INFERRED: no public source shows
  Vrbo's shapes for these; ours name the booking by its ``trackingUuid`` and carry their own
  ``cancelTrackingUuid`` / ``modificationUuid`` for idempotency] cancel or move a Vrbo booking of
  the same connection; a move onto taken dates is refused and the booking stays as it was.
- ``POST /vrbo/quote``: the quote / fast-availability (FAS) JSON request, answered from the same
  engine as our storefront (``stay_check``).

A listing that is not the authenticated connection's answers exactly like one that does not exist.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)

from defusedxml import ElementTree as SafeET

from apps.availability import pricing
from apps.availability.selectors import stay_check
from apps.bookings.models import Booking
from apps.core import limits
from apps.core.errors import DomainError

from . import vrbo
from .adapters.base import ChannelReservation, reservation_check
from .inbound import MAX_BODY, _finish, _storable, process_reservation, safe_headers
from .models import ChannelConnection, InboundMessage
from .services import channel_booking_find

logger = logging.getLogger(__name__)

ROOTS = {
    "bookingRequest": "bookingRequestDetails",
    "cancelBookingRequest": "cancelBookingRequestDetails",
    "bookingModificationRequest": "bookingModificationRequestDetails",
}
#: stay reasons a booking request is refused for before the calendar is asked (the calendar itself
#: is checked under the property's lock by booking_create)
RULE_CODES = {
    "min_stay": "MIN_STAY_NOT_MET",
    "max_stay": "MAX_STAY_EXCEEDED",
    "closed_to_arrival": "ARRIVAL_NOT_ALLOWED",
    "closed_to_departure": "DEPARTURE_NOT_ALLOWED",
    "too_short_notice": "MIN_PRIOR_NOTIFY_NOT_MET",
    "beyond_max_advance": "ARRIVAL_TOO_FAR_AHEAD",
    "over_capacity": "MAX_GUESTS_EXCEEDED",
    "property_inactive": "LISTING_INACTIVE",
    "invalid_dates": "INVALID_DATES",
    "invalid_guests": "INVALID_GUESTS",
}


class Malformed(ValueError):
    pass


@dataclass
class VrboAnswer:
    http_status: int
    body: bytes
    content_type: str = "application/xml; charset=utf-8"


def _xml(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")


def _text(parent: Element, tag: str, value: Any) -> Element:
    el = SubElement(parent, tag)
    el.text = "" if value is None else str(value)
    return el


def error_list(errors: list[tuple[str, str]], **extra: Any) -> bytes:
    root = Element("errorList")
    for code, message in errors:
        err = SubElement(root, "error")
        _text(err, "errorCode", code)
        _text(err, "message", message)
        for key, value in extra.items():
            _text(err, key, value)
    return _xml(root)


def booking_response(conn: ChannelConnection, booking: Booking, *, tracking: str, status: str) -> bytes:
    root = Element("bookingResponse")
    _text(root, "documentVersion", "1.1")
    details = SubElement(root, "bookingResponseDetails")
    _text(details, "advertiserAssignedId", vrbo.advertiser_id(conn))
    _text(details, "listingExternalId", vrbo.listing_external_id(conn))
    _text(details, "unitExternalId", vrbo.unit_external_id(conn))
    _text(details, "externalId", booking.reference)
    _text(details, "trackingUuid", tracking)
    _text(details, "bookingStatus", status)
    dates = SubElement(details, "reservationDates")
    _text(dates, "beginDate", booking.check_in.isoformat())
    _text(dates, "endDate", booking.check_out.isoformat())
    _text(details, "totalAmount", f"{booking.total_price:.2f}").set("currency", booking.currency)
    return _xml(root)


# --- parsing -------------------------------------------------------------------------------------
def _req(el: Element, path: str, what: str) -> str:
    value = (el.findtext(path) or "").strip()
    if not value:
        raise Malformed(f"{what} ({path}) is missing.")
    return value


def _date(el: Element, path: str) -> date:
    value = _req(el, path, "a date")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise Malformed(f"{path} is not a date (YYYY-MM-DD).") from None


def _int(el: Element, path: str, default: int = 0) -> int:
    value = (el.findtext(path) or "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise Malformed(f"{path} is not a whole number.") from None


def parse_request(body: bytes) -> tuple[str, Element]:
    try:
        root = SafeET.fromstring(body)
    except Exception as exc:  # ParseError, DefusedXmlException, ...
        raise Malformed(f"not well-formed XML ({type(exc).__name__})") from None
    if root.tag not in ROOTS:
        raise Malformed(f"unexpected root element {root.tag[:50]}; expected one of {', '.join(ROOTS)}")
    details = root.find(ROOTS[root.tag])
    if details is None:
        raise Malformed(f"{ROOTS[root.tag]} is missing.")
    return root.tag, details


def reservation_from_request(details: Element) -> ChannelReservation:
    adults = _int(details, "reservation/numberOfAdults", 1)
    children = _int(details, "reservation/numberOfChildren", 0)
    total = None
    currency = "EUR"
    amounts = details.findall("orderItemList/orderItem/totalAmount")
    if amounts:
        try:
            total = sum((Decimal((a.text or "").strip()) for a in amounts), Decimal(0))
        except InvalidOperation:
            raise Malformed("orderItem/totalAmount is not a number.") from None
        currency = amounts[0].get("currency") or currency
    return ChannelReservation(
        external_id=_req(details, "trackingUuid", "the trackingUuid"),
        status="new",
        check_in=_date(details, "reservation/reservationDates/beginDate"),
        check_out=_date(details, "reservation/reservationDates/endDate"),
        guests=max(0, adults) + max(0, children),
        first_name=(details.findtext("inquirer/firstName") or "").strip(),
        last_name=(details.findtext("inquirer/lastName") or "").strip(),
        email=(details.findtext("inquirer/emailAddress") or "").strip(),
        total=total,
        currency=currency,
        hotel_code=_req(details, "listingExternalId", "the listingExternalId"),
        version="1",
    )


# --- the request ---------------------------------------------------------------------------------
def _store(headers: dict[str, str], body: bytes) -> InboundMessage:
    return InboundMessage.objects.create(
        platform=vrbo.PLATFORM,
        via=InboundMessage.Channel.WEBHOOK,
        headers=safe_headers(headers),
        body=_storable(body[:MAX_BODY].decode("utf-8", "replace")),
    )


def _refuse(msg: InboundMessage, *, status: str, http: int, code: str, message: str, **fields: Any) -> VrboAnswer:
    _finish(msg, status=status, http=http, body={"error_code": code, "error": message}, **fields)
    return VrboAnswer(http, error_list([(code, message)]))


def booking_request_receive(*, headers: dict[str, str], body: bytes) -> VrboAnswer:
    """Store, authenticate, parse and answer one booking, cancellation or modification request."""
    msg = _store(headers, body)
    if len(body) > MAX_BODY:
        return _refuse(
            msg, status=InboundMessage.Status.INVALID, http=413, code="REQUEST_TOO_LARGE", message="Too large."
        )
    lower = {k.lower(): v for k, v in headers.items()}
    conn = vrbo.authenticate(lower.get("authorization", ""))
    if conn is None:
        answer = _refuse(
            msg,
            status=InboundMessage.Status.REJECTED,
            http=401,
            code="UNAUTHORIZED",
            message="Authentication required.",
            signature_valid=False,
            verification_error="Basic credentials of no Vrbo connection.",
        )
        return answer
    msg.connection, msg.property_id, msg.signature_valid = conn, conn.property_id, True
    msg.save(update_fields=["connection", "property", "signature_valid"])
    try:
        kind, details = parse_request(body)
        listing = _req(details, "listingExternalId", "the listingExternalId")
    except Malformed as exc:
        return _refuse(
            msg,
            status=InboundMessage.Status.INVALID,
            http=400,
            code="MALFORMED_REQUEST",
            message=f"Malformed request: {str(exc)[:300]}",
            parse_error=str(exc)[:2000],
        )
    if listing != vrbo.listing_external_id(conn):  # another owner's listing looks like none at all
        return _refuse(
            msg, status=InboundMessage.Status.IGNORED, http=200, code="LISTING_NOT_FOUND", message="Unknown listing."
        )
    try:
        if kind == "bookingRequest":
            return _book(msg, conn, details)
        return _change(msg, conn, kind, details)
    except Malformed as exc:
        return _refuse(
            msg,
            status=InboundMessage.Status.INVALID,
            http=400,
            code="MALFORMED_REQUEST",
            message=f"Malformed request: {str(exc)[:300]}",
            parse_error=str(exc)[:2000],
        )


def _answer_result(msg, conn, res: ChannelReservation, result, *, ok_status: str) -> VrboAnswer:
    """The answer for what ``process_reservation`` did (a duplicate answers what the first got)."""
    outcome = result.outcome
    if outcome == "duplicate":
        outcome = result.details.get("first_outcome") or "exists"
    booking = (
        Booking.objects.filter(pk=result.booking_id, property_id=conn.property_id).first()
        if result.booking_id
        else None
    )
    body = {"reservations": {res.natural_key: result.as_dict()}}
    status = InboundMessage.Status.DUPLICATE if result.outcome == "duplicate" else InboundMessage.Status.PROCESSED
    if outcome == "refused":
        conflicts = result.details.get("conflicts", [])
        _finish(
            msg, status=InboundMessage.Status.REFUSED if result.outcome != "duplicate" else status, http=200, body=body
        )
        nights = ", ".join(f"{c.get('start', '')} to {c.get('end', '')}" for c in conflicts if isinstance(c, dict))
        message = "The dates are not available" + (f" ({nights})." if nights else ".")
        return VrboAnswer(200, error_list([("DATES_NOT_AVAILABLE", message)], trackingUuid=res.external_id))
    if booking is None or outcome in ("failed", "invalid", "ignored"):
        _finish(msg, status=InboundMessage.Status.FAILED, http=200, body=body)
        code = "BOOKING_NOT_FOUND" if outcome == "ignored" else "REQUEST_REFUSED"
        return VrboAnswer(200, error_list([(code, result.message or "The request could not be applied.")]))
    _finish(msg, status=status, http=200, body=body, booking_id=booking.pk)
    booking_status = "CANCELLED" if booking.status == "cancelled" else ok_status
    return VrboAnswer(200, booking_response(conn, booking, tracking=res.external_id, status=booking_status))


def _book(msg: InboundMessage, conn: ChannelConnection, details: Element) -> VrboAnswer:
    res = reservation_from_request(details)
    try:
        res = reservation_check(res)  # dates inside the sane window, party size, amounts, names
    except DomainError as exc:
        return _refuse(
            msg, status=InboundMessage.Status.INVALID, http=400, code="INVALID_REQUEST", message=str(exc)[:300]
        )
    msg.natural_key = res.natural_key[:200]
    msg.save(update_fields=["natural_key"])
    if channel_booking_find(connection=conn, external_id=res.external_id) is None:
        reasons = [
            r
            for r in pricing.stay_reasons(
                prop=conn.property, check_in=res.check_in, check_out=res.check_out, guests=max(1, res.guests)
            )
            if r["code"] not in ("booked", "blocked")  # the calendar is decided under the lock
        ]
        if reasons:
            errors = [(RULE_CODES.get(r["code"], r["code"].upper()), r["message"]) for r in reasons]
            _finish(
                msg,
                status=InboundMessage.Status.IGNORED,
                http=200,
                body={"error_code": errors[0][0], "error": errors[0][1], "reasons": [r["code"] for r in reasons]},
            )
            return VrboAnswer(200, error_list(errors, trackingUuid=res.external_id))
    result = process_reservation(msg=msg, connection=conn, res=res)
    return _answer_result(msg, conn, res, result, ok_status="BOOKED")


def _change(msg: InboundMessage, conn: ChannelConnection, kind: str, details: Element) -> VrboAnswer:
    tracking = _req(details, "trackingUuid", "the trackingUuid")
    booking = channel_booking_find(connection=conn, external_id=tracking)
    if booking is None:
        return _refuse(
            msg, status=InboundMessage.Status.IGNORED, http=200, code="BOOKING_NOT_FOUND", message="Unknown booking."
        )
    if kind == "cancelBookingRequest":
        res = ChannelReservation(
            external_id=tracking,
            status="cancelled",
            check_in=booking.check_in,
            check_out=booking.check_out,
            guests=booking.guests,
            hotel_code=vrbo.listing_external_id(conn),
            version=(details.findtext("cancelTrackingUuid") or "1").strip(),
        )
    else:
        res = ChannelReservation(
            external_id=tracking,
            status="modified",
            check_in=_date(details, "reservation/reservationDates/beginDate"),
            check_out=_date(details, "reservation/reservationDates/endDate"),
            guests=_int(details, "reservation/numberOfAdults", booking.guests)
            + _int(details, "reservation/numberOfChildren", 0),
            total=booking.total_price,
            currency=booking.currency,
            hotel_code=vrbo.listing_external_id(conn),
            version=_req(details, "modificationUuid", "the modificationUuid"),
        )
    try:
        res = reservation_check(res)
    except DomainError as exc:
        return _refuse(
            msg, status=InboundMessage.Status.INVALID, http=400, code="INVALID_REQUEST", message=str(exc)[:300]
        )
    msg.natural_key = res.natural_key[:200]
    msg.save(update_fields=["natural_key"])
    result = process_reservation(msg=msg, connection=conn, res=res)
    return _answer_result(msg, conn, res, result, ok_status="BOOKED")


# --- quote / FAS -----------------------------------------------------------------------------------
def quote_receive(*, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    """The FAS / quote JSON request -> (HTTP status, JSON answer), from ``stay_check``."""
    lower = {k.lower(): v for k, v in headers.items()}
    conn = vrbo.authenticate(lower.get("authorization", ""))
    if conn is None:
        return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "Authentication required."}]}
    try:
        data = json.loads(body[:MAX_BODY] or b"null")
        if not isinstance(data, dict):
            raise ValueError("a JSON object is expected")
        listing = str(data.get("listingExternalId", ""))
        rng = data.get("dateRange") or {}
        check_in = date.fromisoformat(str(rng.get("arrivalDate", "")))
        check_out = date.fromisoformat(str(rng.get("departureDate", "")))
        adults, children = int(data.get("adults", 1) or 0), int(data.get("children", 0) or 0)
    except (ValueError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
        # OverflowError: a party size of 1e999 (infinity); RecursionError: JSON nested too deep
        return 400, {"errors": [{"code": "MALFORMED_REQUEST", "message": f"Malformed request: {str(exc)[:200]}"}]}
    if listing != vrbo.listing_external_id(conn):
        return 404, {"errors": [{"code": "LISTING_NOT_FOUND", "message": "Unknown listing."}]}
    try:
        check_in, check_out = limits.check_span(check_in, check_out)
        guests = limits.check_guests(adults + children)
    except DomainError as exc:
        return 400, {"errors": [{"code": "INVALID_REQUEST", "message": str(exc)[:300]}]}
    check = stay_check(prop=conn.property, check_in=check_in, check_out=check_out, guests=guests)
    answer: dict[str, Any] = {
        "responseVersion": "1.0",
        "listingExternalId": listing,
        "unitExternalId": vrbo.unit_external_id(conn),
        "dateRange": {"arrivalDate": check_in.isoformat(), "departureDate": check_out.isoformat()},
        "available": check.bookable,
        "reasons": [
            {"code": RULE_CODES.get(r["code"], r["code"].upper()), "message": r["message"]} for r in check.reasons
        ],
    }
    if check.quote is not None:
        q = check.quote
        answer["quote"] = {
            "currency": q.currency,
            "nightlyRates": [{"date": n.night.isoformat(), "amount": str(n.final)} for n in q.nights],
            "discounts": [{"name": a["label"], "amount": str(a["amount"])} for a in q.stay_adjustments],
            "rent": str(q.rent),
            "fees": [{"name": f["label"], "amount": str(f["amount"])} for f in q.fees],
            "taxes": [{"name": t["label"], "amount": str(t["amount"])} for t in q.taxes],
            "total": str(q.total),
            "orderItems": [
                {"feeType": "RENTAL", "amount": str(q.rent)},
                *({"feeType": "MISC", "name": f["label"], "amount": str(f["amount"])} for f in q.fees),
                *({"feeType": "TAX", "name": t["label"], "amount": str(t["amount"])} for t in q.taxes),
            ],
        }
    return 200, answer
