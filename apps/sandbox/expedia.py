"""The Expedia simulator: EQC AR, BR, BC (and PARR for reconciliation) with the real namespaces and
error codes, plus the Booking Notification push (shared/channels/PLATFORMS.md section 2).

Served under ``/sandbox/expedia/`` (real hosts: ``services.expediapartnercentral.com/eqc/{ar,br,bc}``):

- ``POST eqc/ar``: ``AvailRateUpdateRQ`` (ns ``.../EQC/AR/2011/06``) -> ``AvailRateUpdateRS`` (ns
  ``.../EQC/AR/2007/02``) with ``Success`` (and ``Warning code="7013"`` when a rate moves by more
  than half), or ``Error code=...``.
- ``POST eqc/br``: ``BookingRetrievalRQ`` (ns ``.../EQC/BR/2014/01``): at most 125 transactions per
  answer; per booking one new (pending) transaction per call, in sequence (Book -> Modify ->
  Cancel); a returned pending transaction becomes ``retrieved``. ``ParamSet/Status`` filters
  (default: pending and retrieved), ``ParamSet/Booking id`` names one booking, ``NbDaysInPast``
  lists bookings made in the last N days (each as its latest transaction, nothing marked
  retrieved) [INFERRED: our reconciliation read].
- ``POST eqc/bc``: ``BookingConfirmRQ`` (ns ``.../EQC/BC/2007/09``) -> ``BookingConfirmRS`` (ns
  ``.../EQC/BC/2007/08``): confirms the oldest retrieved, unconfirmed transaction of that type.
- ``POST eqc/parr``: ``ProductAvailRateRetrievalRQ`` (ns ``.../EQC/PAR/2013/07``): the calendar held.
- Booking Notification: ``push_transaction`` POSTs the SOAP ``OTA_HotelResNotifRQ`` /
  ``OTA_HotelResModifyNotifRQ`` / ``OTA_CancelRQ`` to the hotel's ``bn_url`` with the same
  ``RequestId`` on every retry (``RetryIndicator="true"``) until ``ExpirationDateTime``.

Rules: credentials inside the XML (1000 access denied: hotel not the user's; 1001 bad user or
password); one concurrent connection per hotel (3210, checked with a row lock taken NOWAIT and held
while the request is processed; ``ExpHotel.processing_ms`` makes requests slow); 2002 not XML, 2010
wrong root or namespace; 3010 invalid value, 3015 unknown room type or rate plan, 3020 start before
yesterday, 3021 end before start, 3022 beyond two years, 3135 minLOS above maxLOS; 3202 [INFERRED]
nothing to confirm. ``ExpHotel.next_error_code`` answers the next requests with any code (4xxx...).
Passwords ``ECL.DELAY`` (5 s; ``ECL.DELAY.<ms>``) and ``ECL.TIMEOUT`` (sleeps past the client's
timeout) are accepted for every hotel of the user and provoke delays, like the real simulator's.
HTTP-level faults (timeouts, 5xx, 429, malformed) come from ``SimFault`` rows (``simulator="expedia"``).
"""

from __future__ import annotations

import hmac
import time
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)

import requests
from defusedxml import ElementTree as SafeET
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from . import faults
from .models.expedia import ExpBooking, ExpDay, ExpHotel, ExpTransaction

SIMULATOR = "expedia"
AR_NS = "http://www.expediaconnect.com/EQC/AR/2011/06"
AR_RS_NS = "http://www.expediaconnect.com/EQC/AR/2007/02"
BR_NS = "http://www.expediaconnect.com/EQC/BR/2014/01"
BC_NS = "http://www.expediaconnect.com/EQC/BC/2007/09"
BC_RS_NS = "http://www.expediaconnect.com/EQC/BC/2007/08"
PAR_NS = "http://www.expediaconnect.com/EQC/PAR/2013/07"
OTA_NS = "http://www.opentravel.org/OTA/2003/05"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
BN_HEADER_NS = "http://www.newtrade.com/expedia/R14/header"
MAX_BOOKINGS = 125
HORIZON_DAYS = 730
DELAY_SECONDS = 5.0
RATE_WARNING_FACTOR = Decimal("0.5")
BN_EXPIRY = timedelta(hours=2, minutes=30)


class EqcError(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def _xml_response(el: Element, status: int = 200) -> HttpResponse:
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(el, encoding="utf-8")
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def _rs(tag: str, ns: str, *, error: EqcError | None = None, warnings: list[tuple[str, str]] | None = None):
    root = Element(tag, xmlns=ns)
    if error is not None:
        SubElement(root, "Error", code=error.code).text = error.text
    else:
        success = SubElement(root, "Success")
        for code, text in warnings or []:
            SubElement(success, "Warning", code=code).text = text
    return root


simulator_view = faults.simulator_view(
    SIMULATOR, malformed=b'<?xml version="1.0"?><AvailRateUpdateRS><Succ', malformed_type="text/xml"
)


# --- the request frame: parse, authenticate, one connection per hotel -------------------------
def _parse(request: HttpRequest, *, root_tag: str, ns: str) -> Element:
    if request.method != "POST":
        raise EqcError("2002", "Only POST is supported.")
    try:
        root = SafeET.fromstring(request.body)
    except Exception:
        raise EqcError("2002", "The request is not well-formed XML.") from None
    if root.tag != f"{{{ns}}}{root_tag}":
        raise EqcError("2010", f"Expected {root_tag} in namespace {ns}.")
    return root


def _delay_for(password: str) -> float:
    if password.startswith("ECL.TIMEOUT"):
        return faults.TIMEOUT_SLEEP_SECONDS
    if password.startswith("ECL.DELAY"):
        rest = password[len("ECL.DELAY") :].lstrip(".")
        return int(rest) / 1000 if rest.isdigit() else DELAY_SECONDS
    return 0.0


def _authenticate(root: Element, ns: str) -> tuple[ExpHotel, float]:
    auth = root.find(f"{{{ns}}}Authentication")
    hotel_el = root.find(f"{{{ns}}}Hotel")
    if auth is None or hotel_el is None:
        raise EqcError("3010", "Authentication and Hotel are required.")
    username, password = auth.get("username", ""), auth.get("password", "")
    hotels = list(ExpHotel.objects.filter(username=username)) if username else []
    delay = _delay_for(password)
    if not hotels or not (delay or any(hmac.compare_digest(h.password, password) for h in hotels)):
        raise EqcError("1001", "Invalid username or password.")
    hotel = next((h for h in hotels if h.hotel_id == hotel_el.get("id", "")), None)
    if hotel is None:
        raise EqcError("1000", "Access denied: the user may not access this hotel.")
    return hotel, delay


def _lock_hotel(hotel: ExpHotel) -> ExpHotel:
    """One concurrent connection per hotel: NOWAIT on the hotel's row, held to the end of the request."""
    try:
        return ExpHotel.objects.select_for_update(nowait=True).get(pk=hotel.pk)
    except OperationalError:
        raise EqcError("3210", "Only one connection per hotel at a time is allowed.") from None


def _injected_error(hotel: ExpHotel) -> EqcError | None:
    if hotel.next_error_code and hotel.next_error_count > 0:
        ExpHotel.objects.filter(pk=hotel.pk).update(next_error_count=F("next_error_count") - 1)
        return EqcError(hotel.next_error_code, f"Injected error {hotel.next_error_code}.")
    return None


def eqc_endpoint(*, rq: str, rs: str, ns: str, rs_ns: str):
    """The common frame of every EQC endpoint: the handler runs inside a transaction holding the hotel."""

    def decorate(handler):
        @simulator_view
        def view(request: HttpRequest) -> HttpResponse:
            try:
                root = _parse(request, root_tag=rq, ns=ns)
                hotel, delay = _authenticate(root, ns)
                injected = _injected_error(hotel)
                with transaction.atomic():
                    hotel = _lock_hotel(hotel)
                    if delay or hotel.processing_ms:
                        time.sleep(delay + hotel.processing_ms / 1000)
                    if injected:
                        raise injected
                    answer = handler(root, hotel)
            except EqcError as exc:
                return _xml_response(_rs(rs, rs_ns, error=exc))
            return _xml_response(answer)

        view.__name__ = handler.__name__
        return view

    return decorate


# --- AR ---------------------------------------------------------------------------------------
def _bool_attr(el: Element, name: str) -> bool | None:
    value = el.get(name)
    if value is None:
        return None
    if value not in ("true", "false", "1", "0"):
        raise EqcError("3010", f"{name} must be true or false.")
    return value in ("true", "1")


def _int_attr(el: Element, name: str) -> int | None:
    value = el.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise EqcError("3010", f"{name} must be a whole number.")
    return int(value)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _range_days(update: Element) -> list[date]:
    rng = update.find(f"{{{AR_NS}}}DateRange")
    if rng is None:
        raise EqcError("3010", "DateRange is required.")
    try:
        first, last = date.fromisoformat(rng.get("from", "")), date.fromisoformat(rng.get("to", ""))
    except ValueError:
        raise EqcError("3010", "DateRange from/to must be dates (YYYY-MM-DD).") from None
    today = timezone.localdate()
    if first < today - timedelta(days=1):
        raise EqcError("3020", "The start date cannot be before yesterday.")
    if last < first:
        raise EqcError("3021", "The end date is before the start date.")
    if last > today + timedelta(days=HORIZON_DAYS):
        raise EqcError("3022", "The end date cannot be more than two years in the future.")
    chosen = {i for i, name in enumerate(WEEKDAYS) if rng.get(name) == "true"}
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [d for d in days if not chosen or d.weekday() in chosen]


def _ar_fields(update: Element, hotel: ExpHotel) -> dict:
    room = update.find(f"{{{AR_NS}}}RoomType")
    if room is None:
        raise EqcError("3010", "RoomType is required.")
    if room.get("id") != hotel.room_type_id:
        raise EqcError("3015", f"Room type {str(room.get('id'))[:32]} is not a room type of this hotel.")
    fields: dict = {}
    if (closed := _bool_attr(room, "closed")) is not None:
        fields["room_closed"] = closed
    inventory = room.find(f"{{{AR_NS}}}Inventory")
    if inventory is not None and (total := _int_attr(inventory, "totalInventoryAvailable")) is not None:
        fields["inventory"] = total
    for plan in room.findall(f"{{{AR_NS}}}RatePlan"):
        if plan.get("id") != hotel.rate_plan_id:
            raise EqcError("3015", f"Rate plan {str(plan.get('id'))[:32]} is not a rate plan of this hotel.")
        if (closed := _bool_attr(plan, "closed")) is not None:
            fields["rate_closed"] = closed
        per_day = plan.find(f"{{{AR_NS}}}Rate/{{{AR_NS}}}PerDay")
        if per_day is not None:
            try:
                rate = Decimal(per_day.get("rate", ""))
            except InvalidOperation:
                raise EqcError("3010", "PerDay rate must be a number.") from None
            if not rate.is_finite() or rate <= 0 or rate >= Decimal("100000000"):
                raise EqcError("3010", "PerDay rate must be above 0.")
            fields["rate"] = rate
            fields["currency"] = plan.find(f"{{{AR_NS}}}Rate").get("currency", hotel.currency)[:3]
        restrictions = plan.find(f"{{{AR_NS}}}Restrictions")
        if restrictions is not None:
            # the whole element is the state: an absent minLOS/maxLOS clears it [INFERRED]
            min_los, max_los = _int_attr(restrictions, "minLOS"), _int_attr(restrictions, "maxLOS")
            if min_los is not None and max_los is not None and min_los > max_los:
                raise EqcError("3135", "minLOS cannot be greater than maxLOS.")
            fields.update(
                min_los=min_los,
                max_los=max_los,
                closed_to_arrival=bool(_bool_attr(restrictions, "closedToArrival")),
                closed_to_departure=bool(_bool_attr(restrictions, "closedToDeparture")),
            )
    return fields


def _upsert_days(hotel: ExpHotel, days: list[date], fields: dict) -> None:
    existing = set(ExpDay.objects.filter(hotel=hotel, day__in=days).values_list("day", flat=True))
    ExpDay.objects.bulk_create([ExpDay(hotel=hotel, day=d) for d in days if d not in existing], ignore_conflicts=True)
    if fields:
        ExpDay.objects.filter(hotel=hotel, day__in=days).update(**fields, updated_at=timezone.now())


@eqc_endpoint(rq="AvailRateUpdateRQ", rs="AvailRateUpdateRS", ns=AR_NS, rs_ns=AR_RS_NS)
def avail_rate_update(root: Element, hotel: ExpHotel) -> Element:
    updates = [(_range_days(u), _ar_fields(u, hotel)) for u in root.findall(f"{{{AR_NS}}}AvailRateUpdate")]
    if not updates:
        raise EqcError("3010", "At least one AvailRateUpdate is required.")
    warned: list[tuple[str, str]] = []
    for days, fields in updates:
        if "rate" in fields and len(warned) < 20:
            before = ExpDay.objects.filter(hotel=hotel, day__in=days, rate__isnull=False).values_list("day", "rate")
            for day, old in before:
                if abs(fields["rate"] - old) > old * RATE_WARNING_FACTOR:
                    warned.append(("7013", f"Rate for {day} changed by more than 50%; please check it."))
                    break
        _upsert_days(hotel, days, fields)
    return _rs("AvailRateUpdateRS", AR_RS_NS, warnings=warned[:20])


# --- PARR (calendar read-back) ------------------------------------------------------------------
@eqc_endpoint(rq="ProductAvailRateRetrievalRQ", rs="ProductAvailRateRetrievalRS", ns=PAR_NS, rs_ns=PAR_NS)
def product_avail_rate_retrieval(root: Element, hotel: ExpHotel) -> Element:
    rng = root.find(f"{{{PAR_NS}}}ParamSet/{{{PAR_NS}}}AvailRateRetrieval")
    if rng is None:
        raise EqcError("3010", "ParamSet/AvailRateRetrieval is required.")
    try:
        first, last = date.fromisoformat(rng.get("from", "")), date.fromisoformat(rng.get("to", ""))
    except ValueError:
        raise EqcError("3010", "from/to must be dates.") from None
    if last < first:
        raise EqcError("3021", "The end date is before the start date.")
    if (last - first).days > HORIZON_DAYS:
        raise EqcError("3022", "At most two years per request.")
    out = Element("ProductAvailRateRetrievalRS", xmlns=PAR_NS)
    holder = SubElement(out, "AvailRateList")
    for d in ExpDay.objects.filter(hotel=hotel, day__gte=first, day__lte=last).order_by("day"):
        item = SubElement(holder, "AvailRate", date=d.day.isoformat())
        room = SubElement(item, "RoomType", id=hotel.room_type_id, closed="true" if d.room_closed else "false")
        SubElement(room, "Inventory", totalInventoryAvailable=str(d.inventory))
        plan = SubElement(room, "RatePlan", id=hotel.rate_plan_id, closed="true" if d.rate_closed else "false")
        if d.rate is not None:
            SubElement(SubElement(plan, "Rate", currency=d.currency or hotel.currency), "PerDay", rate=f"{d.rate:.2f}")
        restrictions = {
            "closedToArrival": "true" if d.closed_to_arrival else "false",
            "closedToDeparture": "true" if d.closed_to_departure else "false",
        }
        if d.min_los:
            restrictions["minLOS"] = str(d.min_los)
        if d.max_los:
            restrictions["maxLOS"] = str(d.max_los)
        SubElement(plan, "Restrictions", restrictions)
    return out


# --- BR -------------------------------------------------------------------------------------------
def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.get_fixed_timezone(0)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def booking_element(parent: Element, txn: ExpTransaction) -> Element:
    b, hotel = txn.booking, txn.booking.hotel
    attrs = {
        "id": b.booking_id,
        "type": txn.type,
        "createDateTime": _stamp(txn.created_at),
        "source": "Expedia",
        "status": txn.status if txn.status in ("pending", "retrieved", "confirmed") else "retrieved",
    }
    if txn.type != ExpTransaction.Type.BOOK and b.confirm_number:
        attrs["confirmNumber"] = b.confirm_number
    el = SubElement(parent, "Booking", attrs)
    SubElement(el, "Hotel", id=hotel.hotel_id)
    stay = SubElement(el, "RoomStay", roomTypeID=hotel.room_type_id, ratePlanID=hotel.rate_plan_id)
    SubElement(stay, "StayDate", arrival=txn.check_in.isoformat(), departure=txn.check_out.isoformat())
    SubElement(stay, "GuestCount", adult=str(txn.adults), child=str(txn.children))
    nights = max(1, (txn.check_out - txn.check_in).days)
    rates = SubElement(stay, "PerDayRates", currency=b.currency)
    per_night = (txn.total / nights).quantize(Decimal("0.01"))
    for i in range(nights):
        day = txn.check_in + timedelta(days=i)
        SubElement(rates, "PerDayRate", stayDate=day.isoformat(), baseRate=f"{per_night:.2f}")
    SubElement(stay, "Total", amountAfterTaxes=f"{txn.total:.2f}", amountOfTaxes="0.00", currency=b.currency)
    guest = SubElement(el, "PrimaryGuest")
    SubElement(guest, "Name", givenName=b.given_name, surname=b.surname)
    if b.email:
        SubElement(guest, "Email").text = b.email
    return el


def _statuses(params: Element | None) -> set[str]:
    if params is None:
        return {"pending", "retrieved"}
    values = {s.get("value", "") for s in params.findall(f"{{{BR_NS}}}Status")}
    unknown = values - {"pending", "retrieved", "confirmed"}
    if unknown:
        raise EqcError("3010", "Status value must be pending, retrieved or confirmed.")
    return values or {"pending", "retrieved"}


@eqc_endpoint(rq="BookingRetrievalRQ", rs="BookingRetrievalRS", ns=BR_NS, rs_ns=BR_NS)
def booking_retrieval(root: Element, hotel: ExpHotel) -> Element:
    params = root.find(f"{{{BR_NS}}}ParamSet")
    out = Element("BookingRetrievalRS", xmlns=BR_NS)
    holder = SubElement(out, "Bookings")
    bookings = ExpBooking.objects.filter(hotel=hotel).order_by("created_at", "id")
    one = params.find(f"{{{BR_NS}}}Booking") if params is not None else None
    past = params.find(f"{{{BR_NS}}}NbDaysInPast") if params is not None else None
    if past is not None:  # a read of recent bookings in their current state: nothing is retrieved
        text = (past.text or "").strip()
        if not text.isdigit() or not 1 <= int(text) <= 365:
            raise EqcError("3010", "NbDaysInPast must be a number from 1 to 365.")
        since = timezone.now() - timedelta(days=int(text))
        for b in bookings.filter(created_at__gte=since)[:MAX_BOOKINGS]:
            latest = b.transactions.exclude(status=ExpTransaction.Status.REFUSED).order_by("-seq").first()
            if latest is not None:
                booking_element(holder, latest)
        return out
    if one is not None:
        bookings = bookings.filter(booking_id=one.get("id", ""))
    statuses = _statuses(params)
    count = 0
    for b in bookings.prefetch_related("transactions"):
        if count >= MAX_BOOKINGS:
            break
        for txn in sorted(b.transactions.all(), key=lambda t: t.seq):
            if txn.status in (ExpTransaction.Status.CONFIRMED, ExpTransaction.Status.REFUSED):
                continue
            if txn.status == ExpTransaction.Status.RETRIEVED:
                if "retrieved" in statuses and count < MAX_BOOKINGS:
                    booking_element(holder, txn)
                    count += 1
                continue
            # the first pending transaction of this booking: released now, later ones wait
            if "pending" in statuses and count < MAX_BOOKINGS:
                booking_element(holder, txn)
                count += 1
                ExpTransaction.objects.filter(pk=txn.pk).update(
                    status=ExpTransaction.Status.RETRIEVED, retrieved_count=F("retrieved_count") + 1
                )
            break
    return out


# --- BC -------------------------------------------------------------------------------------------
@eqc_endpoint(rq="BookingConfirmRQ", rs="BookingConfirmRS", ns=BC_NS, rs_ns=BC_RS_NS)
def booking_confirm(root: Element, hotel: ExpHotel) -> Element:
    numbers = root.findall(f"{{{BC_NS}}}BookingConfirmNumbers/{{{BC_NS}}}BookingConfirmNumber")
    if not numbers:
        raise EqcError("3010", "BookingConfirmNumbers/BookingConfirmNumber is required.")
    for el in numbers:
        booking_id, booking_type, number = el.get("bookingID", ""), el.get("bookingType", ""), el.get("confirmNumber")
        if booking_type not in ExpTransaction.Type.values or not number or len(number) > 64:
            raise EqcError("3010", "bookingType must be Book, Modify or Cancel and confirmNumber 1 to 64 characters.")
        txn = (
            ExpTransaction.objects.filter(
                booking__hotel=hotel,
                booking__booking_id=booking_id,
                type=booking_type,
                status=ExpTransaction.Status.RETRIEVED,
            )
            .order_by("seq")
            .first()
        )
        if txn is None:
            raise EqcError("3202", f"No retrieved {booking_type} transaction of booking {booking_id[:32]} to confirm.")
        ExpTransaction.objects.filter(pk=txn.pk).update(
            status=ExpTransaction.Status.CONFIRMED, confirm_count=F("confirm_count") + 1, confirm_number=number
        )
        ExpBooking.objects.filter(pk=txn.booking_id).update(confirm_number=number)
    return _rs("BookingConfirmRS", BC_RS_NS)


# --- a guest books on Expedia (admin page, command, tests) --------------------------------------
def _nights(check_in: date, check_out: date) -> list[date]:
    return [check_in + timedelta(days=i) for i in range((check_out - check_in).days)]


def nights_closed(hotel: ExpHotel, check_in: date, check_out: date) -> bool:
    return (
        ExpDay.objects.filter(hotel=hotel, day__in=_nights(check_in, check_out))
        .filter(Q(inventory=0) | Q(room_closed=True) | Q(rate_closed=True))
        .exists()
    )


def _take_nights(hotel: ExpHotel, days: list[date], *, free: bool) -> None:
    _upsert_days(hotel, days, {})
    ExpDay.objects.filter(hotel=hotel, day__in=days).update(inventory=1 if free else 0)


def _transaction(b: ExpBooking, kind: str) -> ExpTransaction:
    seq = (b.transactions.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    return ExpTransaction.objects.create(
        booking=b,
        seq=seq,
        type=kind,
        check_in=b.check_in,
        check_out=b.check_out,
        adults=b.adults,
        children=b.children,
        total=b.total,
    )


def create_booking(
    *,
    hotel: ExpHotel,
    check_in: date,
    check_out: date,
    adults: int = 2,
    children: int = 0,
    given_name: str = "Test",
    surname: str = "Guest",
    email: str = "",
    total: Decimal | None = None,
    force: bool = False,
) -> ExpTransaction:
    """A guest books on Expedia. Unless ``force`` (to stage a race), the nights must be open here.
    Returns the Book transaction (queued for BR; push it with ``push_transaction`` in push mode)."""
    if check_out <= check_in:
        raise ValueError("Check-out must be after check-in.")
    days = _nights(check_in, check_out)
    with transaction.atomic():
        hotel = ExpHotel.objects.select_for_update().get(pk=hotel.pk)
        if not force and nights_closed(hotel, check_in, check_out):
            raise ValueError("Expedia's calendar is closed for some of these nights.")
        if total is None:
            rates = dict(ExpDay.objects.filter(hotel=hotel, day__in=days).values_list("day", "rate"))
            total = sum((rates.get(d) or Decimal("100")) for d in days)
        b = ExpBooking.objects.create(
            hotel=hotel,
            check_in=check_in,
            check_out=check_out,
            adults=adults,
            children=children,
            given_name=given_name,
            surname=surname,
            email=email,
            total=total,
            currency=hotel.currency,
        )
        _take_nights(hotel, days, free=False)
        return _transaction(b, ExpTransaction.Type.BOOK)


def modify_booking(
    *, booking: ExpBooking, check_in: date | None = None, check_out: date | None = None, adults: int | None = None
) -> ExpTransaction:
    with transaction.atomic():
        ExpHotel.objects.select_for_update().get(pk=booking.hotel_id)
        b = ExpBooking.objects.select_for_update().get(pk=booking.pk)
        if not b.blocking:
            raise ValueError("Only an active booking can be modified.")
        _take_nights(b.hotel, _nights(b.check_in, b.check_out), free=True)
        b.check_in, b.check_out = check_in or b.check_in, check_out or b.check_out
        if b.check_out <= b.check_in:
            raise ValueError("Check-out must be after check-in.")
        b.adults = adults or b.adults
        nights = (b.check_out - b.check_in).days
        b.total = (Decimal("100") * nights).quantize(Decimal("0.01"))
        b.status = ExpBooking.Status.MODIFIED
        b.save()
        _take_nights(b.hotel, _nights(b.check_in, b.check_out), free=False)
        return _transaction(b, ExpTransaction.Type.MODIFY)


def cancel_booking(*, booking: ExpBooking) -> ExpTransaction:
    with transaction.atomic():
        ExpHotel.objects.select_for_update().get(pk=booking.hotel_id)
        b = ExpBooking.objects.select_for_update().get(pk=booking.pk)
        if not b.blocking:
            raise ValueError("Only an active booking can be cancelled.")
        b.status = ExpBooking.Status.CANCELLED
        b.save()
        _take_nights(b.hotel, _nights(b.check_in, b.check_out), free=True)
        return _transaction(b, ExpTransaction.Type.CANCEL)


# --- Booking Notification (push model) ------------------------------------------------------------
PAYLOAD = {
    ExpTransaction.Type.BOOK: "OTA_HotelResNotifRQ",
    ExpTransaction.Type.MODIFY: "OTA_HotelResModifyNotifRQ",
    ExpTransaction.Type.CANCEL: "OTA_CancelRQ",
}
EXPECTED = {
    ExpTransaction.Type.BOOK: ("OTA_HotelResNotifRS", "Committed"),
    ExpTransaction.Type.MODIFY: ("OTA_HotelResModifyNotifRS", "Modified"),
    ExpTransaction.Type.CANCEL: ("OTA_CancelRS", "Cancelled"),
}


def _ota(parent: Element | None, tag: str, attrs: dict | None = None) -> Element:
    attrs = {k: v for k, v in (attrs or {}).items() if v is not None}
    return SubElement(parent, tag, attrs) if parent is not None else Element(tag, attrs)


def _reservation(parent: Element, txn: ExpTransaction, *, item: str, res_status: str) -> None:
    b, hotel = txn.booking, txn.booking.hotel
    hr = _ota(parent, item, {"CreateDateTime": _stamp(txn.created_at), "CreatorID": "Expedia", "ResStatus": res_status})
    _ota(hr, "UniqueID", {"Type": "14", "ID": b.booking_id})
    stay = _ota(_ota(hr, "RoomStays"), "RoomStay")
    _ota(_ota(stay, "RoomTypes"), "RoomType", {"RoomTypeCode": hotel.room_type_id})
    _ota(_ota(stay, "RatePlans"), "RatePlan", {"RatePlanCode": hotel.rate_plan_id})
    counts = _ota(stay, "GuestCounts")
    _ota(counts, "GuestCount", {"AgeQualifyingCode": "10", "Count": str(txn.adults)})
    if txn.children:
        _ota(counts, "GuestCount", {"AgeQualifyingCode": "8", "Count": str(txn.children)})
    _ota(stay, "TimeSpan", {"Start": txn.check_in.isoformat(), "End": txn.check_out.isoformat()})
    _ota(stay, "Total", {"AmountAfterTax": f"{txn.total:.2f}", "CurrencyCode": b.currency})
    _ota(stay, "BasicPropertyInfo", {"HotelCode": hotel.hotel_id})
    customer = _ota(_ota(_ota(_ota(_ota(hr, "ResGuests"), "ResGuest"), "Profiles"), "ProfileInfo"), "Profile")
    customer = _ota(customer, "Customer")
    name = _ota(customer, "PersonName")
    _ota(name, "GivenName").text = b.given_name
    _ota(name, "Surname").text = b.surname
    if b.email:
        _ota(customer, "Email").text = b.email
    ids = _ota(_ota(hr, "ResGlobalInfo"), "HotelReservationIDs")
    _ota(ids, "HotelReservationID", {"ResID_Type": "8", "ResID_Value": b.booking_id, "ResID_Source": "Expedia"})
    if txn.type != ExpTransaction.Type.BOOK and b.confirm_number:
        _ota(ids, "HotelReservationID", {"ResID_Type": "3", "ResID_Value": b.confirm_number})


def bn_message(txn: ExpTransaction, *, retry: bool, expires_at: datetime | None = None) -> bytes:
    """The SOAP envelope of one transaction (the same RequestId on every retry)."""
    b, hotel = txn.booking, txn.booking.hotel
    payload = PAYLOAD[txn.type]
    env = Element(f"{{{SOAP_NS}}}Envelope")
    header = SubElement(env, f"{{{SOAP_NS}}}Header")
    iface = SubElement(header, f"{{{BN_HEADER_NS}}}Interface", Name="ExpediaDirectConnect", Version="4.0")
    info = SubElement(
        iface,
        f"{{{BN_HEADER_NS}}}PayloadInfo",
        RequestId=str(txn.request_id),
        RequestorId="Expedia.com",
        ResponderId="EQCHotelPartner",
        ExpirationDateTime=_stamp(expires_at or (txn.created_at + BN_EXPIRY)),
        Location="Body",
    )
    comm = SubElement(
        info,
        f"{{{BN_HEADER_NS}}}CommDescriptor",
        SourceId="ExpediaDC",
        DestinationId="EQCHotelPartner",
        RetryIndicator="true" if retry else "false",
    )
    SubElement(comm, f"{{{BN_HEADER_NS}}}Authentication", Username=hotel.bn_username, Password=hotel.bn_password)
    descriptor = SubElement(info, f"{{{BN_HEADER_NS}}}PayloadDescriptor", Name=payload, Version="2003A")
    SubElement(descriptor, f"{{{BN_HEADER_NS}}}PayloadReference", SupplierHotelCode=hotel.hotel_id)
    body = SubElement(env, f"{{{SOAP_NS}}}Body")
    common = {
        "xmlns": OTA_NS,
        "EchoToken": str(txn.request_id),
        "TimeStamp": _stamp(timezone.now()),
        "Target": "Production",
        "Version": "1.000",
        "PrimaryLangID": "en-us",
    }
    if txn.type == ExpTransaction.Type.BOOK:
        rq = SubElement(body, payload, {**common, "ResStatus": "Commit"})
        _reservation(_ota(rq, "HotelReservations"), txn, item="HotelReservation", res_status="Commit")
    elif txn.type == ExpTransaction.Type.MODIFY:
        rq = SubElement(body, payload, {**common, "ResStatus": "Commit"})
        _reservation(_ota(rq, "HotelResModifies"), txn, item="HotelResModify", res_status="Modify")
    else:
        rq = SubElement(body, payload, {**common, "CancelType": "Commit"})
        _ota(rq, "UniqueID", {"Type": "14", "ID": b.booking_id})
        verification = _ota(rq, "Verification")
        _ota(verification, "ReservationTimeSpan", {"Start": txn.check_in.isoformat(), "End": txn.check_out.isoformat()})
        _ota(_ota(verification, "TPA_Extensions"), "BasicPropertyInfo", {"HotelCode": hotel.hotel_id})
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(env, encoding="utf-8")


def _bn_outcome(txn: ExpTransaction, response: requests.Response) -> tuple[str, str]:
    """(transaction status, partner confirmation number) from the partner's answer."""
    if response.status_code != 200:
        return ExpTransaction.Status.FAILED, ""
    try:
        env = SafeET.fromstring(response.content)
    except Exception:
        return ExpTransaction.Status.FAILED, ""
    rs_tag, expected = EXPECTED[txn.type]
    rs = env.find(f".//{{{OTA_NS}}}{rs_tag}")
    if rs is None:
        return ExpTransaction.Status.FAILED, ""  # a SOAP Fault or something else: Expedia retries
    if rs.find(f"{{{OTA_NS}}}Errors") is not None:
        return ExpTransaction.Status.REFUSED, ""
    answered = rs.get("ResResponseType") or rs.get("Status")
    ours = next(
        (
            el.get("ResID_Value") or el.get("ID", "")
            for el in rs.iter()
            if (el.get("ResID_Type") == "3" or (el.tag.endswith("UniqueID") and el.get("Type") == "3"))
        ),
        "",
    )
    if answered != expected or not ours:
        return ExpTransaction.Status.FAILED, ""
    return ExpTransaction.Status.CONFIRMED, ours


def push_transaction(txn: ExpTransaction, *, retry: bool | None = None, url: str = "") -> ExpTransaction:
    """Expedia POSTs one BN message to the hotel's ``bn_url`` and records the partner's answer. A
    transport failure or SOAP Fault leaves it ``failed`` (push it again: ``RetryIndicator="true"``);
    after ``ExpirationDateTime`` Expedia gives up (falls back to e-mail in reality)."""
    txn = ExpTransaction.objects.select_related("booking__hotel").get(pk=txn.pk)
    hotel = txn.booking.hotel
    retry = txn.bn_attempts > 0 if retry is None else retry
    body = bn_message(txn, retry=retry)
    try:
        response = requests.post(
            url or hotel.bn_url, data=body, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30
        )
    except requests.RequestException as exc:
        ExpTransaction.objects.filter(pk=txn.pk).update(
            status=ExpTransaction.Status.FAILED, bn_attempts=F("bn_attempts") + 1, bn_last_answer=str(exc)[:2000]
        )
        txn.refresh_from_db()
        return txn
    status, number = _bn_outcome(txn, response)
    fields = {"bn_attempts": F("bn_attempts") + 1, "bn_last_answer": response.text[:5000]}
    if txn.status != ExpTransaction.Status.CONFIRMED:  # a replay's answer never undoes the first
        fields["status"] = status
    if status == ExpTransaction.Status.CONFIRMED:
        fields.update(confirm_count=F("confirm_count") + 1, confirm_number=number)
        ExpBooking.objects.filter(pk=txn.booking_id).update(confirm_number=number)
    with transaction.atomic():
        ExpTransaction.objects.filter(pk=txn.pk).update(**fields)
        if status == ExpTransaction.Status.REFUSED and txn.type == ExpTransaction.Type.BOOK:
            b = ExpBooking.objects.select_for_update().get(pk=txn.booking_id)
            b.status = ExpBooking.Status.REFUSED
            b.save(update_fields=["status", "updated_at"])
            _take_nights(hotel, _nights(b.check_in, b.check_out), free=True)
    txn.refresh_from_db()
    return txn


def push_due(*, now: datetime | None = None) -> list[ExpTransaction]:
    """Retry every BN message not accepted yet whose ExpirationDateTime has not passed."""
    now = now or timezone.now()
    due = ExpTransaction.objects.filter(
        booking__hotel__reservation_model=ExpHotel.Model.PUSH,
        status__in=[ExpTransaction.Status.PENDING, ExpTransaction.Status.FAILED],
        created_at__gt=now - BN_EXPIRY,
    ).order_by("booking_id", "seq")
    return [push_transaction(t, retry=t.bn_attempts > 0) for t in due]


def guest_books(**kwargs) -> ExpTransaction:
    """The "guest books on Expedia" action: queued for BR, or pushed at once as a BN message."""
    txn = create_booking(**kwargs)
    return deliver(txn)


def deliver(txn: ExpTransaction) -> ExpTransaction:
    hotel = txn.booking.hotel
    if hotel.reservation_model == ExpHotel.Model.PUSH and hotel.bn_url:
        return push_transaction(txn, retry=False)
    return txn


def describe(txn: ExpTransaction) -> str:
    """One line for the admin and the command: what happened to this transaction."""
    b = txn.booking
    stay = f"{txn.check_in} to {txn.check_out}"
    head = f"Expedia booking {b.booking_id} ({txn.type}, {stay}, hotel {b.hotel.hotel_id})"
    if txn.bn_attempts:
        answer = {
            "confirmed": f"accepted, partner confirmation {txn.confirm_number}",
            "refused": "refused by the partner",
            "failed": "not accepted yet (send it again later)",
        }.get(txn.status, txn.status)
        return f"{head}: pushed as a Booking Notification, {answer}."
    return f"{head}: queued for the partner's next booking retrieval (BR)."


class SyncProbe:
    """The ``benchmark sync`` probe of this simulator (registry: ``apps.benchmarks.sync.SYNC_PROBES``)."""

    platform = SIMULATOR

    def connect(self, *, prop, tag: str, index: int, base_url: str):
        from apps.channels.models import ChannelConnection

        name = f"{tag}-{index}"
        hotel = ExpHotel.objects.create(hotel_id=f"E{name}", username=f"bench-{name}", password=f"pw-{tag}")
        conn = ChannelConnection(
            property=prop,
            platform=SIMULATOR,
            external_property_id=hotel.hotel_id,
            external_room_id=hotel.room_type_id,
            external_rate_plan_id=hotel.rate_plan_id,
            base_url=f"{base_url}/sandbox/expedia",
            username=hotel.username,
            settings={"reservation_model": "pull"},
        )
        conn.set_secret("access_token", hotel.password)
        conn.save()
        return conn

    def nights_closed(self, *, connection, nights: list[date]) -> bool:
        rows = list(
            ExpDay.objects.filter(hotel__hotel_id=connection.external_property_id, day__in=nights).values_list(
                "inventory", "room_closed"
            )
        )
        return len(rows) == len(nights) and all(inv == 0 or closed for inv, closed in rows)
