"""Expedia reservations, in the model each connection chose (``settings["reservation_model"]``).

Pull (EQC BR + BC, the default): beat polls ``BookingRetrievalRQ``; every transaction (Book, Modify,
Cancel of one booking, released in sequence) is applied through ``inbound.process_reservation`` and
confirmed with ``BookingConfirmRQ`` carrying our booking reference. A transaction retrieved before
but not confirmed (the confirmation was lost) comes back as ``retrieved``: it is a duplicate here and
is only confirmed again. A refused one (the dates are taken) is never confirmed; the alert is raised
and the refused nights are pushed again.

Push (Booking Notification): Expedia POSTs SOAP ``OTA_HotelResNotifRQ`` / ``OTA_HotelResModifyNotifRQ``
/ ``OTA_CancelRQ`` to ``/webhooks/expedia/bn/`` with the credentials we gave it in the SOAP header.
We answer ``Committed`` / ``Modified`` / ``Cancelled`` with our confirmation id (``ResID_Type="3"``),
or the OTA refusal ``Errors/Error Type="3" Code="322"`` (no availability) when the dates are taken.
Expedia retries a message it got no answer for with the same ``RequestId`` and
``RetryIndicator="true"``: the RequestId is the dedupe key, so a replay gets the same answer and
never a second booking. An unknown hotel, a pull-model connection and wrong credentials all get the
same SOAP Fault (403): a stranger learns nothing about which hotel ids are connected.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)

from django.utils import timezone

from apps.bookings.models import Booking
from apps.core.errors import unavailable_dependency

from . import breaker
from .adapters import get_adapter
from .adapters.base import AdapterError, ChannelReservation
from .adapters.expedia import MAX_BOOKINGS_PER_ANSWER, parse_xml
from .inbound import MAX_BODY, PullResult, _finish, _overall, _storable, process_reservation, safe_headers
from .models import ChannelAlert, ChannelConnection, InboundKey, InboundMessage, Platform
from .services import alert_create, channel_booking_find, refusal_reclose

logger = logging.getLogger(__name__)

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
HEADER_NS = "http://www.newtrade.com/expedia/R14/header"
OTA_NS = "http://www.opentravel.org/OTA/2003/05"
PAYLOADS = {
    "OTA_HotelResNotifRQ": ("new", "OTA_HotelResNotifRS", "Committed"),
    "OTA_HotelResModifyNotifRQ": ("modified", "OTA_HotelResModifyNotifRS", "Modified"),
    "OTA_CancelRQ": ("cancelled", "OTA_CancelRS", "Cancelled"),
}
_PASSWORD = re.compile(r'Password="[^"]*"')
MAX_ROUNDS = 8  # BR calls per poll while Expedia's answers are full
CONFIRMED_OUTCOMES = {"created", "exists", "changed", "unchanged", "cancelled"}


def _ota(tag: str) -> str:
    return f"{{{OTA_NS}}}{tag}"


# --- pull: BR + BC ------------------------------------------------------------------------------
def _reference(booking_id: int | None) -> str:
    if booking_id is None:
        return ""
    return Booking.objects.filter(pk=booking_id).values_list("reference", flat=True).first() or ""


def reservations_pull(*, connection: ChannelConnection) -> PullResult:
    """One poll: BR, apply, BC; again while Expedia's answer was full (125), a few rounds at most."""
    out = PullResult(connection_id=connection.pk)
    adapter = get_adapter(connection)
    if adapter.reservation_model != "pull":
        return out  # Booking Notification pushes this connection's reservations to us
    errors: list[str] = []
    for _round in range(MAX_ROUNDS):
        allowed, _ = breaker.allow(connection.platform)
        if not allowed:
            out.error = "circuit breaker open"
            return out
        try:
            found = adapter.retrieve()
        except AdapterError as exc:
            if exc.kind in ("retryable", "rate_limited"):
                breaker.record_failure(connection.platform)
            out.error = "; ".join([*errors, str(exc)])
            ChannelConnection.objects.filter(pk=connection.pk).update(sync_status="error", last_error=str(exc)[:2000])
            return out
        breaker.record_success(connection.platform)
        out.fetched += len(found)
        errors += _apply_round(connection, adapter, found, out)
        if len(found) < MAX_BOOKINGS_PER_ANSWER or errors:
            break
    out.error = "; ".join(errors)
    ChannelConnection.objects.filter(pk=connection.pk).update(
        last_sync_at=timezone.now(), **({"sync_status": "ok", "last_error": ""} if not errors else {})
    )
    return out


def _apply_round(connection: ChannelConnection, adapter, found: list, out: PullResult) -> list[str]:
    """Apply one BR answer's transactions in order and confirm them; returns the errors."""
    platform = connection.platform
    confirmations: list[tuple[str, str, str]] = []
    refused: list[ChannelReservation] = []
    for item in found:
        res = item.reservation
        if res.hotel_code and res.hotel_code != connection.external_property_id:
            continue  # only this connection's hotel, whatever the platform sends
        prior = (
            InboundKey.objects.filter(connection=connection, natural_key=res.natural_key)
            .select_related("message")
            .first()
        )
        if prior is not None:  # retrieved before: its confirmation may have been lost
            first = prior.message.result.get("reservations", {}).get(res.natural_key, {})
            out.duplicates += 1
            out.outcomes.append("duplicate")
            if first.get("outcome") in CONFIRMED_OUTCOMES:
                number = _reference(prior.message.booking_id or first.get("booking_id"))
                if number:
                    confirmations.append((res.external_id, item.booking_type, number))
            continue
        msg = InboundMessage.objects.create(
            platform=platform,
            via=InboundMessage.Channel.PULL,
            connection=connection,
            property_id=connection.property_id,
            body=_storable(res.raw[:MAX_BODY]),
            signature_valid=None,
            verification_error="pulled over the platform's authenticated API (EQC BR)",
            natural_key=res.natural_key[:200],
        )
        result = process_reservation(msg=msg, connection=connection, res=res)
        out.outcomes.append(result.outcome)
        _finish(
            msg,
            status=_overall([result]),
            http=200,
            body={"reservations": {res.natural_key: result.as_dict()}, "booking_type": item.booking_type},
            booking_id=result.booking_id,
        )
        if result.outcome == "duplicate":  # a concurrent pull applied it first
            out.duplicates += 1
        elif result.outcome == "created":
            out.created += 1
        if result.outcome in CONFIRMED_OUTCOMES and (number := _reference(result.booking_id)):
            confirmations.append((res.external_id, item.booking_type, number))
        elif result.refused:
            out.refused += 1
            refused.append(res)
    errors = []
    if confirmations:
        try:
            adapter.confirm(confirmations)
            out.acked += len(confirmations)
        except AdapterError as exc:  # stays "retrieved" on Expedia: the next pull confirms it again
            errors.append(f"confirm: {exc}")
    for res in refused:  # EQC has no refusal: the booking stays unconfirmed; close the nights again
        refusal_reclose(connection=connection, reservation=res)
    return errors


# --- push: Booking Notification ---------------------------------------------------------------
class BnMalformed(ValueError):
    pass


@dataclass
class BnMessage:
    request_id: str
    retry: bool
    username: str
    password: str
    payload: str  # the body element's name
    hotel_code: str
    reservation: ChannelReservation


@dataclass
class BnAnswer:
    http_status: int
    body: bytes
    message: InboundMessage | None = None


def _text(el: Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _date(value: str | None) -> date:
    if not value:
        raise BnMalformed("missing date")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise BnMalformed(f"not a date: {value[:20]}") from None


def parse_bn(body: bytes) -> BnMessage:
    try:
        env = parse_xml(body)
    except ValueError as exc:
        raise BnMalformed(str(exc)) from None
    if env.tag != f"{{{SOAP_NS}}}Envelope":
        raise BnMalformed("not a SOAP envelope")
    info = env.find(f"{{{SOAP_NS}}}Header/{{{HEADER_NS}}}Interface/{{{HEADER_NS}}}PayloadInfo")
    if info is None or not info.get("RequestId"):
        raise BnMalformed("SOAP header without Interface/PayloadInfo/@RequestId")
    comm = info.find(f"{{{HEADER_NS}}}CommDescriptor")
    auth = comm.find(f"{{{HEADER_NS}}}Authentication") if comm is not None else None
    body_el = env.find(f"{{{SOAP_NS}}}Body")
    rq = next(iter(body_el), None) if body_el is not None else None
    if rq is None or rq.tag.split("}")[-1] not in PAYLOADS or not rq.tag.startswith(f"{{{OTA_NS}}}"):
        raise BnMalformed("the body is not an OTA_HotelResNotifRQ, OTA_HotelResModifyNotifRQ or OTA_CancelRQ")
    payload = rq.tag.split("}")[-1]
    status = PAYLOADS[payload][0]
    request_id = info.get("RequestId", "")[:100]
    if payload == "OTA_CancelRQ":
        unique = rq.find(_ota("UniqueID"))
        external_id = unique.get("ID", "") if unique is not None else ""
        span = rq.find(f"{_ota('Verification')}/{_ota('ReservationTimeSpan')}")
        hotel = rq.find(f".//{_ota('BasicPropertyInfo')}")
        check_in = _date(span.get("Start")) if span is not None else None
        check_out = _date(span.get("End")) if span is not None else None
        res = ChannelReservation(
            external_id=external_id,
            status=status,
            check_in=check_in or timezone.localdate(),
            check_out=check_out or timezone.localdate() + timedelta(days=1),
            hotel_code=hotel.get("HotelCode", "") if hotel is not None else "",
            version=request_id,
        )
    else:
        item = rq.find(f".//{_ota('HotelReservation')}")
        if item is None:
            item = rq.find(f".//{_ota('HotelResModify')}")
        if item is None:
            raise BnMalformed("no HotelReservation / HotelResModify")
        ids = [el for el in item.iter(_ota("HotelReservationID")) if el.get("ResID_Type") == "8"]
        unique = item.find(_ota("UniqueID"))
        external_id = ids[0].get("ResID_Value", "") if ids else (unique.get("ID", "") if unique is not None else "")
        stay = item.find(f".//{_ota('RoomStay')}")
        span = stay.find(_ota("TimeSpan")) if stay is not None else None
        if span is None:
            raise BnMalformed("RoomStay/TimeSpan is required")
        try:
            guests = sum(int(g.get("Count", "0") or 0) for g in stay.iter(_ota("GuestCount"))) or 1
        except ValueError:
            raise BnMalformed("GuestCount/@Count must be a number") from None
        total_el = stay.find(_ota("Total"))
        total, currency = None, "EUR"
        if total_el is not None and total_el.get("AmountAfterTax"):
            try:
                total = Decimal(total_el.get("AmountAfterTax"))
            except InvalidOperation:
                raise BnMalformed("Total/@AmountAfterTax is not a number") from None
            currency = total_el.get("CurrencyCode") or currency
        hotel = stay.find(_ota("BasicPropertyInfo"))
        res = ChannelReservation(
            external_id=external_id,
            status=status,
            check_in=_date(span.get("Start")),
            check_out=_date(span.get("End")),
            guests=guests,
            first_name=_text(item.find(f".//{_ota('PersonName')}/{_ota('GivenName')}")),
            last_name=_text(item.find(f".//{_ota('PersonName')}/{_ota('Surname')}")),
            email=_text(item.find(f".//{_ota('Customer')}/{_ota('Email')}")),
            total=total,
            currency=currency,
            hotel_code=hotel.get("HotelCode", "") if hotel is not None else "",
            version=request_id,
        )
    if not res.external_id:
        raise BnMalformed("no Expedia reservation id (ResID_Type 8 / UniqueID)")
    return BnMessage(
        request_id=request_id,
        retry=(comm.get("RetryIndicator", "false") == "true") if comm is not None else False,
        username=auth.get("Username", "") if auth is not None else "",
        password=auth.get("Password", "") if auth is not None else "",
        payload=payload,
        hotel_code=res.hotel_code,
        reservation=res,
    )


def _envelope(request_id: str, rs_name: str) -> tuple[Element, Element]:
    env = Element(f"{{{SOAP_NS}}}Envelope")
    header = SubElement(env, f"{{{SOAP_NS}}}Header")
    iface = SubElement(header, f"{{{HEADER_NS}}}Interface", Name="ExpediaDirectConnect", Version="4.0")
    info = SubElement(
        iface,
        f"{{{HEADER_NS}}}PayloadInfo",
        RequestId=request_id,
        RequestorId="EQCHotelPartner",
        ResponderId="Expedia.com",
        Location="Body",
    )
    SubElement(info, f"{{{HEADER_NS}}}CommDescriptor", SourceId="EQCHotelPartner", DestinationId="ExpediaDC")
    SubElement(info, f"{{{HEADER_NS}}}PayloadDescriptor", Name=rs_name, Version="2003A")
    return env, SubElement(env, f"{{{SOAP_NS}}}Body")


def _serialise(env: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(env, encoding="utf-8")


def soap_fault(*, code: str, text: str, request_id: str = "") -> bytes:
    env, body = _envelope(request_id, "Fault")
    fault = SubElement(body, f"{{{SOAP_NS}}}Fault")
    SubElement(fault, "faultcode").text = f"soap-env:{code}"
    SubElement(fault, "faultstring").text = text
    return _serialise(env)


def bn_answer(msg: BnMessage, *, outcome: str, reference: str, reason: str = "") -> bytes:
    """The OTA answer: Committed / Modified / Cancelled with our id (type 3), or the refusal."""
    _, rs_name, response_type = PAYLOADS[msg.payload]
    env, body = _envelope(msg.request_id, rs_name)
    now = timezone.now().replace(microsecond=0).isoformat()
    attrs = {"xmlns": OTA_NS, "EchoToken": msg.request_id, "TimeStamp": now, "Version": "1.000"}
    ok = outcome in CONFIRMED_OUTCOMES and bool(reference)
    if msg.payload == "OTA_CancelRQ":
        rs = SubElement(body, rs_name, {**attrs, **({"Status": response_type} if ok else {})})
    else:
        rs = SubElement(body, rs_name, {**attrs, **({"ResResponseType": response_type} if ok else {})})
    if not ok:
        errors = SubElement(rs, "Errors")
        if outcome == "refused":  # OTA EWT 3 (business rule), ERR 322: no availability
            code, short = "322", "No availability"
        else:  # [INFERRED] 320 invalid value: a reservation we cannot take as sent
            code, short = "320", "Invalid value"
        SubElement(errors, "Error", Type="3", Code=code, ShortText=short).text = (reason or short)[:300]
        return _serialise(env)
    SubElement(rs, "Success")
    res = msg.reservation
    if msg.payload == "OTA_CancelRQ":
        SubElement(rs, "UniqueID", Type="14", ID=res.external_id)
        SubElement(SubElement(rs, "CancelInfoRS"), "UniqueID", Type="3", ID=reference)
        return _serialise(env)
    modify = msg.payload == "OTA_HotelResModifyNotifRQ"
    holder = SubElement(rs, "HotelResModifies" if modify else "HotelReservations")
    item = SubElement(holder, "HotelResModify" if modify else "HotelReservation")
    ids = SubElement(SubElement(item, "ResGlobalInfo"), "HotelReservationIDs")
    SubElement(ids, "HotelReservationID", ResID_Type="8", ResID_Value=res.external_id, ResID_Source="Expedia")
    SubElement(ids, "HotelReservationID", ResID_Type="3", ResID_Value=reference)
    return _serialise(env)


def _bn_connection(msg: BnMessage) -> ChannelConnection | None:
    """The one push-model connection of this hotel whose BN credentials match, else None."""
    if not msg.hotel_code:
        return None
    matches = list(
        ChannelConnection.objects.filter(platform=Platform.EXPEDIA, external_property_id=msg.hotel_code)
        .exclude(external_property_id="")
        .select_related("property")[:2]
    )
    if len(matches) != 1:
        return None
    conn = matches[0]
    settings = conn.settings or {}
    expected_user = str(settings.get("bn_username") or conn.username)
    expected_password = conn.get_secret("webhook_secret") if conn.has_secret("webhook_secret") else ""
    user_ok = hmac.compare_digest(expected_user.encode(), msg.username.encode())
    password_ok = hmac.compare_digest(expected_password.encode(), msg.password.encode())
    if not (expected_password and user_ok and password_ok and settings.get("reservation_model") == "push"):
        return None
    return conn


def bn_receive(*, headers: dict[str, str], body: bytes) -> BnAnswer:
    """Store, authenticate, parse, dedupe on RequestId and apply one BN message. Never raises for bad input."""
    msg_row = InboundMessage.objects.create(
        platform=Platform.EXPEDIA,
        via=InboundMessage.Channel.WEBHOOK,
        headers=safe_headers(headers),
        # stored raw, but never the password Expedia authenticates with
        body=_PASSWORD.sub('Password="[redacted]"', _storable(body[:MAX_BODY].decode("utf-8", "replace"))),
    )
    try:
        return _bn_process(msg_row, body)
    except Exception as exc:
        if unavailable_dependency(exc) is not None:
            raise  # a fault that can pass: the view answers 503 and Expedia retries
        logger.exception("Booking Notification %s could not be processed", msg_row.pk)
        if msg_row.connection_id:
            alert_create(
                connection=msg_row.connection,
                property_id=msg_row.connection.property_id,
                kind=ChannelAlert.Kind.INBOUND_FAILED,
                message=f"An Expedia Booking Notification could not be processed ({type(exc).__name__}); it is kept.",
                details={"message_id": str(msg_row.pk)},
            )
        _finish(
            msg_row,
            status=InboundMessage.Status.FAILED,
            http=422,
            parse_error=f"{type(exc).__name__}: {exc}"[:2000],
            body={},
        )
        return BnAnswer(422, soap_fault(code="Server", text="The message could not be processed."), msg_row)


def _bn_process(msg_row: InboundMessage, body: bytes) -> BnAnswer:
    try:
        bn = parse_bn(body)
    except BnMalformed as exc:
        _finish(msg_row, status=InboundMessage.Status.INVALID, http=400, parse_error=str(exc)[:2000], body={})
        return BnAnswer(400, soap_fault(code="Client", text=f"Malformed message: {str(exc)[:300]}"), msg_row)
    connection = _bn_connection(bn)
    if connection is None:
        _finish(
            msg_row,
            status=InboundMessage.Status.REJECTED,
            http=403,
            signature_valid=False,
            verification_error="Unknown hotel, not a Booking Notification connection, or wrong credentials.",
            body={"request_id": bn.request_id},
        )
        return BnAnswer(403, soap_fault(code="Client", text="Authentication failed.", request_id=bn.request_id))
    msg_row.connection, msg_row.property_id = connection, connection.property_id
    msg_row.signature_valid = True
    res = bn.reservation
    booking = channel_booking_find(connection=connection, external_id=res.external_id)
    if res.status == "cancelled" and booking is not None:
        res.check_in, res.check_out = booking.check_in, booking.check_out  # the booking's own stay
    msg_row.natural_key = res.natural_key[:200]
    msg_row.result = {"request_id": bn.request_id, "retry": bn.retry}
    msg_row.save(update_fields=["connection", "property", "signature_valid", "natural_key", "result"])
    result = process_reservation(msg=msg_row, connection=connection, res=res)
    outcome = result.outcome
    booking_id = result.booking_id
    if outcome == "duplicate":  # a replay (RetryIndicator="true"): the first one's answer
        outcome = result.details.get("first_outcome", "")
        found = channel_booking_find(connection=connection, external_id=res.external_id)
        booking_id = booking_id or (found.pk if found else None)
        if not outcome and found is not None:  # the first one committed but is still writing its outcome
            outcome = "cancelled" if res.status == "cancelled" and found.status == "cancelled" else "exists"
        if not outcome:  # the first one is still being applied: Expedia retries later
            _finish(msg_row, status=InboundMessage.Status.DUPLICATE, http=503, body={"answered": "retry"})
            fault = soap_fault(
                code="Server", text="The first delivery is still being processed.", request_id=bn.request_id
            )
            return BnAnswer(503, fault, msg_row)
    reference = _reference(booking_id) if outcome in CONFIRMED_OUTCOMES else ""
    _finish(
        msg_row,
        status=_overall([result]),
        http=200,
        body={"reservations": {res.natural_key: result.as_dict()}, "answered": outcome, "confirmation": reference},
        booking_id=result.booking_id,
    )
    if result.refused:  # Expedia cancels what we refuse and may reopen the nights: close them again
        refusal_reclose(connection=connection, reservation=res)
    return BnAnswer(200, bn_answer(bn, outcome=outcome, reference=reference, reason=result.message), msg_row)
