"""The Booking.com simulator: the subset of the Supply XML API our adapter uses, OTA 2003B shapes.

Served under ``/sandbox/booking_com/`` (see PLATFORMS.md section 1 for the real endpoints):

- ``POST hotels/ota/OTA_HotelAvailNotif`` / ``OTA_HotelRateAmountNotif``: store calendar state.
  Dates more than one day in the past -> ``Errors/Error`` "NOT_A_VALID_DATE".
- ``GET hotels/ota/OTA_HotelResNotif``: un-acked new reservations as ``OTA_HotelResNotifRQ``;
  ``POST`` an ``OTA_HotelResNotifRS`` to acknowledge (``Success``) or refuse (``Errors/Error``
  ``Code="RESERVATION_REFUSED"``, [INFERRED]); any other error keeps the reservation queued.
- ``GET/POST hotels/ota/OTA_HotelResModifyNotif``: the same for modifications/cancellations.
- ``GET hotels/xml/reservations`` and ``GET hotels/xml/roomrateavailability``: what the platform
  holds, for reconciliation [INFERRED, B.XML-like].
- ``POST token-based-authentication/exchange``: client id + secret -> bearer token (1 h).
- Auth: Basic or Bearer; 401 on bad credentials, 403 when the hotel is not the account's.
- Faults (``SimFault`` rows): latency, 5xx, 429 + Retry-After, timeout, malformed body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)

import requests
from defusedxml import ElementTree as SafeET
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from . import faults
from .models import SimCalendarDay, SimListing, SimReservation, SimToken

OTA_NS = "http://www.opentravel.org/OTA/2003/05"
NS = {"ota": OTA_NS}
SIMULATOR = "booking_com"


def _q(tag: str) -> str:
    return f"{{{OTA_NS}}}{tag}"


def _root(tag: str, **attrs: str) -> Element:
    return Element(tag, {"xmlns": OTA_NS, "TimeStamp": timezone.now().replace(microsecond=0).isoformat(), **attrs})


def _xml_response(el: Element, status: int = 200) -> HttpResponse:
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(el, encoding="utf-8")
    return HttpResponse(body, status=status, content_type="application/xml")


def ota_error(tag: str, code: str, text: str, *, status: int = 200, error_type: str = "3") -> HttpResponse:
    root = _root(tag, Version="1.0")
    err = SubElement(SubElement(root, "Errors"), "Error", Type=error_type, Code=code, ShortText=text)
    err.text = text
    return _xml_response(root, status=status)


def ota_success(tag: str, warnings: list[str] | None = None) -> HttpResponse:
    root = _root(tag, Version="1.0")
    SubElement(root, "Success")
    if warnings:
        w = SubElement(root, "Warnings")
        for text in warnings:
            SubElement(w, "Warning", Type="10", ShortText=text)
    return _xml_response(root)


simulator_view = faults.simulator_view(
    SIMULATOR, malformed=b'<?xml version="1.0"?><OTA_HotelAvailNotifRS><Succ', malformed_type="application/xml"
)


# --- auth --------------------------------------------------------------------------------------
def _account(request: HttpRequest) -> str | None:
    """The machine account's username, or None when the credentials are wrong."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        for listing in SimListing.objects.filter(simulator=SIMULATOR, username=user):
            if hmac.compare_digest(listing.password, password):
                return user
        return None
    if header.startswith("Bearer "):
        token = SimToken.objects.filter(token=header[7:], expires_at__gt=timezone.now()).first()
        return token.listing_username if token else None
    return None


def _unauthorized() -> HttpResponse:
    response = HttpResponse("Unauthorized", status=401, content_type="text/plain")
    response["WWW-Authenticate"] = 'Basic realm="booking.com"'
    return response


def _listing(account: str, hotel_code: str) -> SimListing | None:
    return SimListing.objects.filter(simulator=SIMULATOR, username=account, hotel_code=hotel_code).first()


@simulator_view
def token_exchange(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    client_id, secret = request.POST.get("client_id", ""), request.POST.get("client_secret", "")
    ok = any(
        hmac.compare_digest(listing.password, secret)
        for listing in SimListing.objects.filter(simulator=SIMULATOR, username=client_id)
    )
    if not ok:
        return JsonResponse({"error": "invalid_client"}, status=401)
    token = secrets.token_urlsafe(24)
    SimToken.objects.create(listing_username=client_id, token=token, expires_at=timezone.now() + timedelta(hours=1))
    return JsonResponse({"jwt": token, "expires_in": 3600, "token_type": "Bearer"})


# --- ARI ---------------------------------------------------------------------------------------
def _parse(request: HttpRequest) -> Element | None:
    try:
        return SafeET.fromstring(request.body)
    except Exception:
        return None


def _dates(start: str | None, end: str | None) -> list[date]:
    first, last = date.fromisoformat(start or ""), date.fromisoformat(end or "")
    if last < first:
        raise ValueError("End before Start")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _too_old(days: list[date]) -> bool:
    return bool(days) and days[0] < timezone.localdate() - timedelta(days=1)


def _open_notif(request: HttpRequest, *, rs: str, root_tag: str, container: str):
    """The common start of an ARI push: POST, auth, the right root, the hotel the account may update.
    Returns ``(listing, messages_element)`` or the error response to send."""
    if request.method != "POST":
        return HttpResponse(status=405)
    account = _account(request)
    if account is None:
        return _unauthorized()
    root = _parse(request)
    if root is None or root.tag != _q(root_tag):
        return ota_error(rs, "320", f"Invalid value: body is not an {root_tag}", status=400)
    msgs = root.find(f"ota:{container}", NS)
    if msgs is None:
        return ota_error(rs, "320", f"Invalid value: {container} missing", status=400)
    listing = _listing(account, msgs.get("HotelCode", ""))
    if listing is None:
        return HttpResponse("No access to this hotel", status=403, content_type="text/plain")
    return listing, msgs


@simulator_view
def avail_notif(request: HttpRequest) -> HttpResponse:
    rs = "OTA_HotelAvailNotifRS"
    opened = _open_notif(request, rs=rs, root_tag="OTA_HotelAvailNotifRQ", container="AvailStatusMessages")
    if isinstance(opened, HttpResponse):
        return opened
    listing, msgs = opened
    updates: list[tuple[list[date], dict]] = []
    for msg in msgs.findall("ota:AvailStatusMessage", NS):
        ctl = msg.find("ota:StatusApplicationControl", NS)
        if ctl is None:
            return ota_error(rs, "320", "Invalid value: StatusApplicationControl missing", status=400)
        try:
            days = _dates(ctl.get("Start"), ctl.get("End"))
        except ValueError:
            return ota_error(rs, "320", "Invalid value: Start/End", status=400)
        if _too_old(days):
            return ota_error(rs, "NOT_A_VALID_DATE", "Updates may reach at most one day into the past")
        fields: dict = {}
        try:
            if msg.get("BookingLimit") is not None:
                fields["rooms_to_sell"] = int(msg.get("BookingLimit"))
            for los in msg.iter(_q("LengthOfStay")):
                kind, value = los.get("MinMaxMessageType"), int(los.get("Time", "0") or 0) or None
                if kind == "SetMinLOS":
                    fields["min_stay"] = value
                elif kind == "SetMaxLOS":
                    fields["max_stay"] = value
        except ValueError:
            return ota_error(rs, "320", "Invalid value: BookingLimit/Time must be whole numbers", status=400)
        if fields.get("rooms_to_sell", 0) < 0 or any((fields.get(k) or 0) < 0 for k in ("min_stay", "max_stay")):
            return ota_error(rs, "320", "Invalid value: negative numbers", status=400)
        restriction = msg.find("ota:RestrictionStatus", NS)
        if restriction is not None:
            closed = restriction.get("Status") == "Close"
            which = restriction.get("Restriction", "Master")
            key = {"Arrival": "closed_to_arrival", "Departure": "closed_to_departure"}.get(which, "stop_sell")
            fields[key] = closed
        updates.append((days, fields))
    with transaction.atomic():
        _lock_listings([listing.pk])
        for days, fields in updates:
            _upsert_days(listing, days, fields)
    return ota_success(rs)


def _lock_listings(listing_ids) -> None:
    """Every write to a listing's calendar or reservations takes the listing's row lock first (several
    listings in id order): a refusal freeing nights and an availability push of the same nights then
    queue up instead of locking day rows (and the listing, for the day rows' foreign key) in opposite
    orders, which deadlocked and answered 500."""
    list(SimListing.objects.filter(pk__in=sorted(set(listing_ids))).order_by("pk").select_for_update())


def _upsert_days(listing: SimListing, days: list[date], fields: dict) -> None:
    """Set ``fields`` on the listing's days (created if missing). Callers hold the listing's lock."""
    if not fields:
        return
    existing = set(SimCalendarDay.objects.filter(listing=listing, day__in=days).values_list("day", flat=True))
    SimCalendarDay.objects.bulk_create(
        [SimCalendarDay(listing=listing, day=d) for d in days if d not in existing], ignore_conflicts=True
    )
    SimCalendarDay.objects.filter(listing=listing, day__in=days).update(**fields, updated_at=timezone.now())


@simulator_view
def rate_notif(request: HttpRequest) -> HttpResponse:
    rs = "OTA_HotelRateAmountNotifRS"
    opened = _open_notif(request, rs=rs, root_tag="OTA_HotelRateAmountNotifRQ", container="RateAmountMessages")
    if isinstance(opened, HttpResponse):
        return opened
    listing, msgs = opened
    updates = []
    for msg in msgs.findall("ota:RateAmountMessage", NS):
        ctl = msg.find("ota:StatusApplicationControl", NS)
        amt = msg.find(".//ota:BaseByGuestAmt", NS)
        if ctl is None or amt is None:
            return ota_error(rs, "320", "Invalid value: StatusApplicationControl/BaseByGuestAmt missing", status=400)
        try:
            days = _dates(ctl.get("Start"), ctl.get("End"))
            price = Decimal(amt.get("AmountAfterTax", ""))
        except (ValueError, InvalidOperation):
            return ota_error(rs, "320", "Invalid value: dates or amount", status=400)
        if _too_old(days):
            return ota_error(rs, "NOT_A_VALID_DATE", "Updates may reach at most one day into the past")
        updates.append((days, {"price": price, "currency": amt.get("CurrencyCode", listing.currency)}))
    with transaction.atomic():
        _lock_listings([listing.pk])
        for days, fields in updates:
            _upsert_days(listing, days, fields)
    return ota_success(rs)


# --- reservations ------------------------------------------------------------------------------
def reservation_element(parent: Element, res: SimReservation, *, item_tag: str, res_status: str) -> Element:
    hr = SubElement(
        parent,
        item_tag,
        ResStatus=res_status,
        CreateDateTime=res.created_at.replace(microsecond=0).isoformat(),
        LastModifyDateTime=f"{res.updated_at.isoformat()}#{res.version}",
    )
    stay = SubElement(SubElement(hr, "RoomStays"), "RoomStay", IndexNumber="1")
    SubElement(SubElement(stay, "RoomTypes"), "RoomType", RoomTypeCode=res.listing.room_code)
    SubElement(SubElement(stay, "RatePlans"), "RatePlan", RatePlanCode=res.listing.rate_plan_code)
    SubElement(SubElement(stay, "GuestCounts"), "GuestCount", AgeQualifyingCode="10", Count=str(res.guests))
    SubElement(stay, "TimeSpan", Start=res.check_in.isoformat(), End=res.check_out.isoformat())
    SubElement(stay, "Total", AmountAfterTax=f"{res.total:.2f}", CurrencyCode=res.currency)
    SubElement(stay, "BasicPropertyInfo", HotelCode=res.listing.hotel_code)
    guest = SubElement(SubElement(hr, "ResGuests"), "ResGuest", ResGuestRPH="1")
    customer = SubElement(
        SubElement(SubElement(SubElement(guest, "Profiles"), "ProfileInfo"), "Profile", ProfileType="1"), "Customer"
    )
    name = SubElement(customer, "PersonName")
    SubElement(name, "GivenName").text = res.first_name
    SubElement(name, "Surname").text = res.last_name
    if res.email:
        SubElement(customer, "Email").text = res.email
    ids = SubElement(SubElement(hr, "ResGlobalInfo"), "HotelReservationIDs")
    SubElement(ids, "HotelReservationID", ResID_Type="14", ResID_Value=res.res_id)
    return hr


def reservation_document(reservations: list[SimReservation], *, modify: bool) -> Element:
    if modify:
        root = _root("OTA_HotelResModifyNotifRQ", Target="Production", Version="2.001")
        holder = SubElement(root, "HotelResModifies")
        for res in reservations:
            status = "Cancel" if res.status == SimReservation.Status.CANCELLED else "Modify"
            reservation_element(holder, res, item_tag="HotelResModify", res_status=status)
    else:
        root = _root("OTA_HotelResNotifRQ", Target="Production", Version="2.001")
        holder = SubElement(root, "HotelReservations")
        for res in reservations:
            reservation_element(holder, res, item_tag="HotelReservation", res_status="Book")
    return root


def _queue(account: str, request: HttpRequest, *, modify: bool):
    qs = SimReservation.objects.filter(listing__simulator=SIMULATOR, listing__username=account).select_related(
        "listing"
    )
    hotel_ids = [h for h in request.GET.get("hotel_ids", "").split(",") if h]
    if hotel_ids:
        qs = qs.filter(listing__hotel_code__in=hotel_ids)
    if request.GET.get("id"):
        qs = qs.filter(res_id=request.GET["id"])
    if modify:
        qs = qs.filter(new_acked_at__isnull=False, version__gt=F("acked_version")).exclude(
            status=SimReservation.Status.REFUSED
        )
    else:
        qs = qs.filter(new_acked_at__isnull=True).exclude(status=SimReservation.Status.REFUSED)
    limit = request.GET.get("max")
    if limit is not None and limit.isdigit():
        qs = qs[: int(limit)]
    return list(qs)


def _handle_ack(request: HttpRequest, account: str, *, modify: bool) -> HttpResponse:
    rq_name = "OTA_HotelResModifyNotif" if modify else "OTA_HotelResNotif"
    root = _parse(request)
    if root is None or root.tag != _q(f"{rq_name}RS"):
        return ota_error(f"{rq_name}RS", "320", f"Invalid value: expected {rq_name}RS", status=400)
    res_ids = [el.get("ResID_Value", "") for el in root.iter(_q("HotelReservationID"))]
    errors = list(root.iter(_q("Error")))
    refused = next((e for e in errors if e.get("Code") == "RESERVATION_REFUSED"), None)
    now = timezone.now()
    mine = SimReservation.objects.filter(res_id__in=res_ids, listing__username=account, listing__simulator=SIMULATOR)
    with transaction.atomic():
        _lock_listings(mine.values_list("listing_id", flat=True))
        for res in mine.select_for_update(of=("self",)).select_related("listing").order_by("pk"):
            if refused is not None:
                res.status = SimReservation.Status.REFUSED
                res.refusal = (refused.text or refused.get("ShortText") or "")[:2000]
                res.new_acked_at = res.new_acked_at or now
                res.acked_version = res.version
                res.save()
                _free_nights(res)
            elif not errors:  # success ack; an error ack leaves the reservation queued
                if not modify:
                    res.new_acked_at = res.new_acked_at or now
                    res.acked_version = max(res.acked_version, 1)
                else:
                    res.acked_version = res.version
                res.save(update_fields=["new_acked_at", "acked_version", "updated_at"])
    return ota_success(f"{rq_name}RS")


def _free_nights(res: SimReservation) -> None:
    days = [res.check_in + timedelta(days=i) for i in range((res.check_out - res.check_in).days)]
    SimCalendarDay.objects.filter(listing=res.listing, day__in=days).update(rooms_to_sell=1)


def _reservations_view(request: HttpRequest, *, modify: bool) -> HttpResponse:
    account = _account(request)
    if account is None:
        return _unauthorized()
    hotel_ids = [h for h in request.GET.get("hotel_ids", "").split(",") if h]
    for code in hotel_ids:
        if _listing(account, code) is None:
            return HttpResponse("No access to reservation", status=403, content_type="text/plain")
    if request.method == "GET":
        return _xml_response(reservation_document(_queue(account, request, modify=modify), modify=modify))
    if request.method == "POST":
        return _handle_ack(request, account, modify=modify)
    return HttpResponse(status=405)


@simulator_view
def res_notif(request: HttpRequest) -> HttpResponse:
    return _reservations_view(request, modify=False)


@simulator_view
def res_modify_notif(request: HttpRequest) -> HttpResponse:
    return _reservations_view(request, modify=True)


# --- reconciliation reads [INFERRED] -----------------------------------------------------------
@simulator_view
def all_reservations(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    if account is None:
        return _unauthorized()
    root = Element("reservations")
    qs = SimReservation.objects.filter(listing__username=account, listing__simulator=SIMULATOR).select_related(
        "listing"
    )
    hotel_ids = [h for h in request.GET.get("hotel_ids", "").split(",") if h]
    if hotel_ids:
        qs = qs.filter(listing__hotel_code__in=hotel_ids)
    for res in qs.exclude(status=SimReservation.Status.REFUSED):
        SubElement(
            root,
            "reservation",
            id=res.res_id,
            hotel_id=res.listing.hotel_code,
            status=res.status,
            checkin=res.check_in.isoformat(),
            checkout=res.check_out.isoformat(),
            guests=str(res.guests),
            first_name=res.first_name,
            last_name=res.last_name,
            total=f"{res.total:.2f}",
            currency=res.currency,
            modified=f"{res.updated_at.isoformat()}#{res.version}",
        )
    return _xml_response(root)


@simulator_view
def room_rate_availability(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    if account is None:
        return _unauthorized()
    listing = _listing(account, request.GET.get("hotel_id", ""))
    if listing is None:
        return HttpResponse("No access to this hotel", status=403, content_type="text/plain")
    try:
        start, end = date.fromisoformat(request.GET["start"]), date.fromisoformat(request.GET["end"])
    except (KeyError, ValueError):
        return HttpResponse("start and end (YYYY-MM-DD) are required", status=400, content_type="text/plain")
    root = Element("roomrateavailability", hotel_id=listing.hotel_code)
    room = SubElement(root, "room", id=listing.room_code)
    for d in SimCalendarDay.objects.filter(listing=listing, day__gte=start, day__lt=end).order_by("day"):
        attrs = {
            "value": d.day.isoformat(),
            "roomstosell": str(d.rooms_to_sell),
            "closed": "1" if d.stop_sell else "0",
            "closedonarrival": "1" if d.closed_to_arrival else "0",
            "closedondeparture": "1" if d.closed_to_departure else "0",
        }
        if d.price is not None:
            attrs["price"] = f"{d.price:.2f}"
        if d.min_stay:
            attrs["minimumstay"] = str(d.min_stay)
        if d.max_stay:
            attrs["maximumstay"] = str(d.max_stay)
        SubElement(room, "date", attrs)
    return _xml_response(root)


# --- simulator actions (staff page, command, tests) --------------------------------------------
def nights_closed(listing: SimListing, check_in: date, check_out: date) -> bool:
    days = [check_in + timedelta(days=i) for i in range((check_out - check_in).days)]
    return (
        SimCalendarDay.objects.filter(listing=listing, day__in=days)
        .filter(Q(rooms_to_sell=0) | Q(stop_sell=True))
        .exists()
    )


def create_reservation(
    *,
    listing: SimListing,
    check_in: date,
    check_out: date,
    guests: int = 2,
    first_name: str = "Test",
    last_name: str = "Guest",
    email: str = "",
    total: Decimal | None = None,
    force: bool = False,
) -> SimReservation:
    """Book on the simulator, as a guest on Booking.com would. Unless ``force`` (to stage a race),
    the nights must be open on the simulator's calendar."""
    days = [check_in + timedelta(days=i) for i in range((check_out - check_in).days)]
    with transaction.atomic():
        _lock_listings([listing.pk])
        closed = SimCalendarDay.objects.filter(listing=listing, day__in=days).filter(
            Q(rooms_to_sell=0) | Q(stop_sell=True)
        )
        if not force and closed.exists():
            raise ValueError("The simulator's calendar is closed for some of these nights.")
        if total is None:
            prices = dict(SimCalendarDay.objects.filter(listing=listing, day__in=days).values_list("day", "price"))
            total = sum((prices.get(d) or Decimal("100")) for d in days)
        res = SimReservation.objects.create(
            listing=listing,
            check_in=check_in,
            check_out=check_out,
            guests=guests,
            first_name=first_name,
            last_name=last_name,
            email=email,
            total=total,
            currency=listing.currency,
        )
        _upsert_days(listing, days, {"rooms_to_sell": 0})
    return res


def modify_reservation(
    *, res: SimReservation, check_in: date | None = None, check_out: date | None = None, cancel: bool = False
) -> SimReservation:
    with transaction.atomic():
        _lock_listings([res.listing_id])
        res = SimReservation.objects.select_for_update(of=("self",)).select_related("listing").get(pk=res.pk)
        _free_nights(res)
        if cancel:
            res.status = SimReservation.Status.CANCELLED
        else:
            res.check_in, res.check_out = check_in or res.check_in, check_out or res.check_out
            res.status = SimReservation.Status.MODIFIED
            days = [res.check_in + timedelta(days=i) for i in range((res.check_out - res.check_in).days)]
            _upsert_days(res.listing, days, {"rooms_to_sell": 0})
        res.version += 1
        res.save()
    return res


def signed_headers(*, secret: str, body: bytes, event_id: str, timestamp: int | None = None) -> dict[str, str]:
    """The simulator's webhook signature (PLATFORMS.md section 7): HMAC-SHA256 of ``ts + "." + body``."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/xml",
        "X-Timestamp": ts,
        "X-Signature": f"sha256={sig}",
        "X-Event-Id": event_id,
    }


def push_reservation(res: SimReservation, *, url: str | None = None, secret: str | None = None) -> requests.Response:
    """Push mode [simulator-specific]: POST the reservation, signed, to the PMS webhook."""
    modify = res.version > 1 or res.status != SimReservation.Status.BOOKED
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(
        reservation_document([res], modify=modify), encoding="utf-8"
    )
    headers = signed_headers(
        secret=secret if secret is not None else res.listing.webhook_secret,
        body=body,
        event_id=f"{res.res_id}:{res.version}",
    )
    return requests.post(url or res.listing.webhook_url, data=body, headers=headers, timeout=10)


class SyncProbe:
    """The ``benchmark sync`` probe of this simulator (registry: ``apps.benchmarks.sync.SYNC_PROBES``)."""

    platform = SIMULATOR

    def connect(self, *, prop, tag: str, index: int, base_url: str):
        from apps.channels.models import ChannelConnection

        name = f"{tag}-{index}"
        listing = SimListing.objects.create(hotel_code=f"B{name}", username=f"bench-{name}", password=f"pw-{tag}")
        conn = ChannelConnection(
            property=prop,
            platform=SIMULATOR,
            external_property_id=listing.hotel_code,
            external_room_id=listing.room_code,
            external_rate_plan_id=listing.rate_plan_code,
            base_url=f"{base_url}/sandbox/booking_com",
            username=listing.username,
        )
        conn.set_secret("access_token", listing.password)
        conn.save()
        return conn

    def nights_closed(self, *, connection, nights: list[date]) -> bool:
        rows = SimCalendarDay.objects.filter(
            listing__simulator=SIMULATOR, listing__hotel_code=connection.external_property_id, day__in=nights
        ).values_list("rooms_to_sell", "stop_sell")
        days = list(rows)
        return len(days) == len(nights) and all(rooms == 0 or stop for rooms, stop in days)
