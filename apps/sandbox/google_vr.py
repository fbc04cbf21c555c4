"""The Google Vacation Rentals simulator: Hotel Center (listings from the partner's Hotel List Feed),
the ARI receiver and Google's price-accuracy check. Served under ``/sandbox/google/``.

Shapes follow PLATFORMS.md section 5 (paths are [INFERRED], as noted there):

- Feed: ``fetch_feed(account)`` GETs the account's ``feed_url`` (Hotel Center fetches the partner's
  Hotel List Feed on a schedule) and keeps its ``<listing>`` elements. A listing without the required
  items (id, name, latitude, longitude, address, ``capacity``, ``website``) is kept but disabled
  (``problems``). A hotel id already listed by another partner account is refused.
- Auth: by source address. Every ARI message names its partner (``POS/Source/RequestorID/@ID`` or
  the ``partner`` attribute); the request's address must be in that account's ``allowed_ips``
  (else HTTP 403), and the hotel must be in that account's feed (else ``Errors``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import quote
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from defusedxml import ElementTree as SafeET
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from apps.core.money import quantum

from . import faults
from .models.google_vr import GoogleAccount, GoogleAccuracyCheck, GoogleDay, GoogleListing, GoogleMessage

SIMULATOR = "google_vr"
FEED_TIMEOUT = 15
FEED_MAX_BYTES = 10 * 1024 * 1024
REQUIRED_ATTRS = ("capacity", "website")

simulator_view = faults.simulator_view(
    SIMULATOR, malformed=b'<?xml version="1.0"?><OTA_HotelAvailNotifRS><Succ', malformed_type="application/xml"
)


# --- Hotel List Feed -----------------------------------------------------------------------------
def _child_text(el: Element, tag: str) -> str:
    child = el.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def _int(value: str) -> int | None:
    try:
        return int(Decimal(value)) if value else None
    except (InvalidOperation, ValueError):
        return None


def parse_listing(el: Element) -> dict:
    """One ``<listing>`` as plain values, with the list of what a vacation rental lacks."""
    attrs: dict[str, str] = {}
    content = el.find("content")
    photos: list[str] = []
    description = ""
    if content is not None:
        holder = content.find("attributes")
        if holder is not None:
            for attr in holder.findall("client_attr"):
                attrs[attr.get("name", "")] = (attr.text or "").strip()
            website = holder.find("website")
            if website is not None and website.text:
                attrs.setdefault("website", website.text.strip())
        photos = [img.get("url", "") for img in content.findall("image") if img.get("url")]
        text = content.find("text")
        if text is not None:
            description = _child_text(text, "body")
    address_el = el.find("address")
    address = {}
    if address_el is not None:
        address = {c.get("name", ""): (c.text or "").strip() for c in address_el.findall("component")}
        if not address and (address_el.text or "").strip():
            address = {"addr1": address_el.text.strip()}
    values = {
        "hotel_id": _child_text(el, "id"),
        "name": _child_text(el, "name"),
        "latitude": _decimal(_child_text(el, "latitude")),
        "longitude": _decimal(_child_text(el, "longitude")),
        "address": address,
        "country": _child_text(el, "country")[:2],
        "capacity": _int(attrs.get("capacity", "")),
        "bedrooms": _int(attrs.get("number_of_bedrooms", "")),
        "bathrooms": _decimal(attrs.get("number_of_bathrooms", "")),
        "website": attrs.get("website", "")[:1000],
        "amenities": sorted(k for k, v in attrs.items() if v == "Yes" and k != "instant_bookable"),
        "photos": photos,
        "description": description,
    }
    problems = [f for f in ("hotel_id", "name", "latitude", "longitude", "address") if not values[f]]
    problems += [a for a in REQUIRED_ATTRS if not values[a]]
    values["problems"] = problems
    return values


def fetch_feed(account: GoogleAccount) -> dict:
    """Fetch and apply the account's Hotel List Feed. Returns a summary (also kept on the account)."""
    now = timezone.now()

    def done(status: str, **summary) -> dict:
        GoogleAccount.objects.filter(pk=account.pk).update(last_feed_fetch_at=now, last_feed_status=status[:500])
        return {"status": status, **summary}

    if not account.feed_url:
        return done("no feed URL")
    try:
        response = requests.get(account.feed_url, timeout=FEED_TIMEOUT)
    except requests.RequestException as exc:
        return done(f"fetch failed: {type(exc).__name__}")
    if response.status_code != 200:
        return done(f"fetch failed: HTTP {response.status_code}")
    if len(response.content) > FEED_MAX_BYTES:
        return done("feed too large")
    return apply_feed(account, response.content, done=done)


def apply_feed(account: GoogleAccount, content: bytes, *, done=None) -> dict:
    """Apply a Hotel List Feed's content to the account (what ``fetch_feed`` does after the GET)."""
    if done is None:
        now = timezone.now()

        def done(status: str, **summary) -> dict:
            GoogleAccount.objects.filter(pk=account.pk).update(last_feed_fetch_at=now, last_feed_status=status[:500])
            return {"status": status, **summary}

    try:
        root = SafeET.fromstring(content)
    except Exception:  # noqa: BLE001 - any parse failure: the feed is unreadable, nothing changes
        return done("feed is not well-formed XML")
    if root.tag != "listings":
        return done("feed root is not <listings>")
    seen, refused, disabled = [], [], []
    with transaction.atomic():
        for el in root.findall("listing"):
            values = parse_listing(el)
            hotel_id = values.pop("hotel_id")
            if not hotel_id:
                continue
            taken = GoogleListing.objects.filter(hotel_id=hotel_id, listed=True).exclude(account=account).exists()
            if taken:
                refused.append(hotel_id)  # another partner lists this id: never re-assigned by a feed
                continue
            GoogleListing.objects.update_or_create(
                account=account, hotel_id=hotel_id, defaults={**values, "listed": True}
            )
            seen.append(hotel_id)
            if values["problems"]:
                disabled.append(hotel_id)
        GoogleListing.objects.filter(account=account).exclude(hotel_id__in=seen).update(listed=False)
    return done(
        f"ok: {len(seen)} listing(s), {len(disabled)} disabled, {len(refused)} refused",
        listed=seen,
        disabled=disabled,
        refused=refused,
    )


def active_listing(account: GoogleAccount, hotel_id: str) -> GoogleListing | None:
    """The account's listing ``hotel_id`` if it is in the account's last feed."""
    return GoogleListing.objects.filter(account=account, hotel_id=hotel_id, listed=True).first()


# --- ARI receiver --------------------------------------------------------------------------------
OTA_NS = "http://www.opentravel.org/OTA/2003/05"
NS = {"ota": OTA_NS}
MAX_AGE = timedelta(hours=24)


def _q(tag: str) -> str:
    return f"{{{OTA_NS}}}{tag}"


def _local(tag: str) -> str:
    return tag.split("}")[-1]


def _response(rs_tag: str, *, errors: list[tuple[str, str]] = (), warnings: list[str] = (), status: int = 200):
    ota = rs_tag.startswith("OTA_")
    root = Element(rs_tag, {"xmlns": OTA_NS} if ota else {})
    root.set("TimeStamp" if ota else "timestamp", timezone.now().isoformat(timespec="seconds"))
    if errors:
        holder = SubElement(root, "Errors")
        for code, text in errors:
            SubElement(holder, "Error", Type="3", Code=code, ShortText=text[:300])
    else:
        SubElement(root, "Success")
        if warnings:
            holder = SubElement(root, "Warnings")
            for text in warnings:
                SubElement(holder, "Warning", Type="10", ShortText=text[:300])
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")
    return HttpResponse(body, status=status, content_type="application/xml")


def _timestamp(value: str | None) -> datetime | None:
    try:
        ts = datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else None


def _dates(start: str | None, end: str | None) -> list[date]:
    """Google's Start/End are both inclusive."""
    first, last = date.fromisoformat(start or ""), date.fromisoformat(end or "")
    if last < first or (last - first).days > 800:
        raise ValueError("bad range")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class Refused(Exception):
    def __init__(self, code: str, text: str, status: int = 200) -> None:
        super().__init__(text)
        self.code, self.text, self.status = code, text, status


@dataclass
class Incoming:
    kind: str
    account: GoogleAccount
    listing: GoogleListing
    message_id: str
    ts: datetime
    root: Element


def _open(request: HttpRequest, *, root_tag: str, rs_tag: str) -> Incoming | HttpResponse:
    """What every ARI message shares: POST, well-formed, the partner's allowlisted source address, a
    listing of that partner's feed, an id and a timestamp no older than 24 hours."""
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        root = SafeET.fromstring(request.body)
    except Exception:  # noqa: BLE001 - anything unparseable is a 400 with a reason
        return _response(rs_tag, errors=[("INVALID_XML", "The body is not well-formed XML.")], status=400)
    if _local(root.tag) != root_tag:
        return _response(rs_tag, errors=[("INVALID_VALUE", f"Expected a {root_tag}.")], status=400)
    ota = root_tag.startswith("OTA_")
    if ota:
        requestor = root.find("ota:POS/ota:Source/ota:RequestorID", NS)
        partner = requestor.get("ID", "") if requestor is not None else ""
        message_id, ts = root.get("EchoToken", ""), _timestamp(root.get("TimeStamp"))
        holder = next(iter(root.findall("ota:*[@HotelCode]", NS)), None)
        hotel_id = holder.get("HotelCode", "") if holder is not None else ""
    else:
        partner, message_id, ts = root.get("partner", ""), root.get("id", ""), _timestamp(root.get("timestamp"))
        hotel_el = {"Transaction": "PropertyDataSet/Property", "TaxFeeInfo": "Property/ID"}.get(root_tag)
        if hotel_el:
            hotel_id = (root.findtext(hotel_el) or "").strip()
        else:
            promos = root.find("HotelPromotions")
            hotel_id = promos.get("hotel_id", "") if promos is not None else ""
    account = GoogleAccount.objects.filter(partner=partner).first()
    if account is None or not account.ip_allowed(request.META.get("REMOTE_ADDR", "")):
        # the same answer for an unknown partner and a sender outside its allowlist
        return _response(
            rs_tag, errors=[("NOT_AUTHORIZED", "Source address not allowed for this partner.")], status=403
        )
    if not message_id or ts is None:
        return _response(rs_tag, errors=[("INVALID_VALUE", "Every message needs an id and a timestamp.")], status=400)
    listing = active_listing(account, hotel_id)
    if listing is None:
        return _response(rs_tag, errors=[("HOTEL_NOT_FOUND", f"Hotel {hotel_id[:64]} is not in your feed.")])
    return Incoming(kind=root_tag, account=account, listing=listing, message_id=message_id[:128], ts=ts, root=root)


def _receive(request: HttpRequest, *, root_tag: str, rs_tag: str, apply) -> HttpResponse:
    opened = _open(request, root_tag=root_tag, rs_tag=rs_tag)
    if isinstance(opened, HttpResponse):
        return opened
    msg = opened
    earlier = GoogleMessage.objects.filter(account=msg.account, kind=msg.kind, message_id=msg.message_id).first()
    if earlier is not None:  # a replay: the first answer again, nothing applied twice
        return HttpResponse(earlier.response, content_type="application/xml")
    if timezone.now() - msg.ts > MAX_AGE:
        status, response = (
            GoogleMessage.Status.TOO_OLD,
            _response(rs_tag, errors=[("MESSAGE_TOO_OLD", "Messages older than 24 hours are dropped.")]),
        )
    else:
        try:
            with transaction.atomic():
                GoogleListing.objects.select_for_update().filter(pk=msg.listing.pk).first()
                applied, stale = apply(msg)
        except Refused as exc:
            status, response = GoogleMessage.Status.REFUSED, _response(rs_tag, errors=[(exc.code, exc.text)])
        else:
            if stale and not applied:
                status = GoogleMessage.Status.STALE
            elif stale:
                status = GoogleMessage.Status.PARTLY_STALE
            else:
                status = GoogleMessage.Status.APPLIED
            warnings = [f"{stale} item(s) older than what Google holds were ignored."] if stale else []
            response = _response(rs_tag, warnings=warnings)
    GoogleMessage.objects.get_or_create(
        account=msg.account,
        kind=msg.kind,
        message_id=msg.message_id,
        defaults={"timestamp": msg.ts, "status": status, "response": response.content.decode()},
    )
    return response


def _days_for(listing: GoogleListing, days: list[date]) -> dict[date, GoogleDay]:
    have = {d.day: d for d in GoogleDay.objects.filter(listing=listing, day__in=days)}
    missing = [GoogleDay(listing=listing, day=d) for d in days if d not in have]
    if missing:
        GoogleDay.objects.bulk_create(missing, ignore_conflicts=True)
        have = {d.day: d for d in GoogleDay.objects.filter(listing=listing, day__in=days)}
    return have


def _apply_days(msg: Incoming, items: list[tuple[list[date], dict]], ts_field: str) -> tuple[int, int]:
    """Set each item's fields on its days where the message is newer than what set them last."""
    all_days = sorted({d for days, _ in items for d in days})
    rows = _days_for(msg.listing, all_days)
    changed: dict[int, GoogleDay] = {}
    fields: set[str] = {ts_field}
    applied = stale = 0
    for days, values in items:
        for d in days:
            row = rows[d]
            last = getattr(row, ts_field)
            if last is not None and last > msg.ts:
                stale += 1
                continue
            for key, value in values.items():
                if key == "rates":
                    value = {**row.rates, **value} if last == msg.ts else value
                setattr(row, key, value)
                fields.add(key)
            setattr(row, ts_field, msg.ts)
            changed[row.pk] = row
            applied += 1
    if changed:
        GoogleDay.objects.bulk_update(list(changed.values()), sorted(fields))
    return applied, stale


def _int_attr(el: Element, name: str) -> int | None:
    value = el.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise Refused("INVALID_VALUE", f"{name} must be a whole number ≥ 0.")
    return int(value)


def _offset_days(value: str | None) -> int | None:
    if not value:
        return None
    if not (value.startswith("P") and value.endswith("D") and value[1:-1].isdigit()):
        raise Refused("INVALID_VALUE", "Advance-booking offsets are ISO durations in days (P3D).")
    return int(value[1:-1])


def _control_days(el: Element, listing: GoogleListing) -> list[date]:
    ctl = el.find("ota:StatusApplicationControl", NS)
    if ctl is None:
        raise Refused("INVALID_VALUE", "StatusApplicationControl is missing.")
    if ctl.get("InvTypeCode") != listing.hotel_id:
        raise Refused("INVALID_VALUE", "For vacation rentals InvTypeCode must equal HotelCode.")
    try:
        return _dates(ctl.get("Start"), ctl.get("End"))
    except ValueError:
        raise Refused("INVALID_VALUE", "Start/End must be dates, Start <= End.") from None


def _apply_avail(msg: Incoming) -> tuple[int, int]:
    items = []
    for el in msg.root.iter(_q("AvailStatusMessage")):
        days = _control_days(el, msg.listing)
        values: dict = {}
        limit = _int_attr(el, "BookingLimit")
        if limit is not None:
            values["booking_limit"] = limit
        for attr, key in (
            ("MinAdvancedBookingOffset", "min_advance_days"),
            ("MaxAdvancedBookingOffset", "max_advance_days"),
        ):
            if el.get(attr) is not None:
                values[key] = _offset_days(el.get(attr))
        for los in el.iter(_q("LengthOfStay")):
            time_value = _int_attr(los, "Time")
            kind = los.get("MinMaxMessageType")
            if kind == "SetMinLOS":
                values["min_los"] = time_value
            elif kind == "SetMaxLOS":
                values["max_los"] = time_value
            else:
                raise Refused("INVALID_VALUE", f"MinMaxMessageType {str(kind)[:20]} is not supported.")
        for restriction in el.iter(_q("RestrictionStatus")):
            if restriction.get("Status") not in ("Open", "Close"):
                raise Refused("INVALID_VALUE", "RestrictionStatus/@Status must be Open or Close.")
            closed = restriction.get("Status") == "Close"
            which = restriction.get("Restriction", "Master")
            key = {"Master": "closed", "Arrival": "closed_to_arrival", "Departure": "closed_to_departure"}.get(which)
            if key is None:
                raise Refused("INVALID_VALUE", "Restriction must be Master, Arrival or Departure.")
            values[key] = closed
        items.append((days, values))
    return _apply_days(msg, items, "avail_ts")


def _apply_inv(msg: Incoming) -> tuple[int, int]:
    items = []
    for el in msg.root.iter(_q("Inventory")):
        days = _control_days(el, msg.listing)
        count = el.find("ota:InvCounts/ota:InvCount", NS)
        if count is None:
            raise Refused("INVALID_VALUE", "InvCounts/InvCount is missing.")
        items.append((days, {"inventory": _int_attr(count, "Count") or 0}))
    return _apply_days(msg, items, "inv_ts")


def _apply_rates(msg: Incoming) -> tuple[int, int]:
    if msg.root.get("NotifType", "Overlay") not in ("Overlay", "Delta"):
        raise Refused("INVALID_VALUE", "NotifType must be Overlay or Delta.")
    items = []
    for el in msg.root.iter(_q("RateAmountMessage")):
        days = _control_days(el, msg.listing)
        rates: dict[str, str] = {}
        currency = ""
        for amt in el.iter(_q("BaseByGuestAmt")):
            try:
                amount = Decimal(amt.get("AmountBeforeTax", ""))
                guests = int(amt.get("NumberOfGuests", ""))
            except (InvalidOperation, ValueError):
                raise Refused("INVALID_VALUE", "AmountBeforeTax and NumberOfGuests are required.") from None
            if amount < 0 or not amount.is_finite() or guests < 1:
                raise Refused("INVALID_VALUE", "Amounts must be ≥ 0 and guests ≥ 1.")
            rates[str(guests)] = str(amount)
            currency = amt.get("CurrencyCode", "")
        if not rates:
            raise Refused("INVALID_VALUE", "BaseByGuestAmts is empty.")
        items.append((days, {"rates": rates, "currency": currency[:3]}))
    return _apply_days(msg, items, "rate_ts")


def _newer(listing: GoogleListing, ts_field: str, ts: datetime) -> bool:
    last = getattr(listing, ts_field)
    return last is None or last <= ts


def _apply_transaction(msg: Incoming) -> tuple[int, int]:
    listing = msg.listing
    if not _newer(listing, "property_data_ts", msg.ts):
        return 0, 1
    data = msg.root.find("PropertyDataSet")
    room = data.find("RoomData") if data is not None else None
    if room is None:
        raise Refused("INVALID_VALUE", "PropertyDataSet/RoomData is missing.")
    if (room.findtext("RoomID") or "").strip() != listing.hotel_id:
        raise Refused("INVALID_VALUE", "For vacation rentals RoomID must equal the property id.")
    capacity = (room.findtext("Capacity") or "").strip()
    if not capacity.isdigit():
        raise Refused("INVALID_VALUE", "RoomData/Capacity must be a whole number.")
    name = room.find("Name/Text")
    tz = (data.findtext("Timezone") or "UTC").strip()
    try:
        ZoneInfo(tz)
    except (ValueError, ZoneInfoNotFoundError):
        raise Refused("INVALID_VALUE", "Unknown time zone.") from None
    GoogleListing.objects.filter(pk=listing.pk).update(
        room_capacity=int(capacity),
        room_name=(name.get("text", "") if name is not None else "")[:300],
        timezone=tz,
        property_data_ts=msg.ts,
    )
    return 1, 0


def _charges(holder: Element | None, tag: str) -> list[dict]:
    out = []
    for el in holder.findall(tag) if holder is not None else []:
        item = {
            k: (el.findtext(k) or "").strip() for k in ("Type", "Basis", "Period", "Amount", "Currency", "GuestsAbove")
        }
        if item["Type"] not in ("percent", "amount") or item["Basis"] not in ("room", "person"):
            raise Refused("INVALID_VALUE", f"{tag}: Type percent|amount, Basis room|person.")
        if item["Period"] not in ("stay", "night"):
            raise Refused("INVALID_VALUE", f"{tag}: Period stay|night.")
        try:
            Decimal(item["Amount"])
        except InvalidOperation:
            raise Refused("INVALID_VALUE", f"{tag}: Amount must be a number.") from None
        if item["GuestsAbove"] and not item["GuestsAbove"].isdigit():
            raise Refused("INVALID_VALUE", f"{tag}: GuestsAbove must be a whole number.")
        out.append(item)
    return out


def _apply_taxes(msg: Incoming) -> tuple[int, int]:
    if not _newer(msg.listing, "taxes_ts", msg.ts):
        return 0, 1
    prop = msg.root.find("Property")
    taxes, fees = _charges(prop.find("Taxes"), "Tax"), _charges(prop.find("Fees"), "Fee")
    GoogleListing.objects.filter(pk=msg.listing.pk).update(taxes=taxes, fees=fees, taxes_ts=msg.ts)
    return 1, 0


def _apply_promotions(msg: Incoming) -> tuple[int, int]:
    if not _newer(msg.listing, "promotions_ts", msg.ts):
        return 0, 1
    promos = []
    for el in msg.root.find("HotelPromotions").findall("Promotion"):
        los, window, discount = el.find("LengthOfStay"), el.find("BookingWindow"), el.find("Discount")
        if discount is None or (los is None) == (window is None):
            raise Refused("INVALID_VALUE", "A promotion needs a Discount and either LengthOfStay or BookingWindow.")
        try:
            promo = {
                "id": el.get("id", ""),
                "min_nights": int(los.get("min", "0")) if los is not None else None,
                "max_days_before": int(window.get("max", "0")) if window is not None else None,
                "percentage": str(Decimal(discount.get("percentage"))) if discount.get("percentage") else None,
                "fixed_amount": str(Decimal(discount.get("fixed_amount"))) if discount.get("fixed_amount") else None,
            }
        except (ValueError, InvalidOperation):
            raise Refused("INVALID_VALUE", "Promotion values must be numbers.") from None
        if (promo["percentage"] is None) == (promo["fixed_amount"] is None):
            raise Refused("INVALID_VALUE", "A Discount has either percentage or fixed_amount.")
        promos.append(promo)
    GoogleListing.objects.filter(pk=msg.listing.pk).update(promotions=promos, promotions_ts=msg.ts)
    return 1, 0


@simulator_view
def property_data(request: HttpRequest) -> HttpResponse:
    return _receive(request, root_tag="Transaction", rs_tag="TransactionResponse", apply=_apply_transaction)


@simulator_view
def taxes(request: HttpRequest) -> HttpResponse:
    return _receive(request, root_tag="TaxFeeInfo", rs_tag="TaxFeeInfoResponse", apply=_apply_taxes)


@simulator_view
def promotions(request: HttpRequest) -> HttpResponse:
    return _receive(request, root_tag="Promotions", rs_tag="PromotionsResponse", apply=_apply_promotions)


@simulator_view
def avail_notif(request: HttpRequest) -> HttpResponse:
    return _receive(request, root_tag="OTA_HotelAvailNotifRQ", rs_tag="OTA_HotelAvailNotifRS", apply=_apply_avail)


@simulator_view
def rate_notif(request: HttpRequest) -> HttpResponse:
    return _receive(
        request, root_tag="OTA_HotelRateAmountNotifRQ", rs_tag="OTA_HotelRateAmountNotifRS", apply=_apply_rates
    )


@simulator_view
def inv_count_notif(request: HttpRequest) -> HttpResponse:
    return _receive(request, root_tag="OTA_HotelInvCountNotifRQ", rs_tag="OTA_HotelInvCountNotifRS", apply=_apply_inv)


# --- how Google prices a stay from what it holds -------------------------------------------------
@dataclass
class StayPrice:
    total: Decimal | None
    currency: str = ""
    reason: str = ""


def _round(value: Decimal, q: Decimal) -> Decimal:
    return value.quantize(q, rounding=ROUND_HALF_UP)


def stay_price(
    listing: GoogleListing, *, check_in: date, nights: int, guests: int, today: date | None = None
) -> StayPrice:
    """The price Google shows for the stay, computed only from the ARI it received: nightly
    ``BaseByGuestAmt`` for the party size; of each promotion kind the most specific match (longest
    ``LengthOfStay/@min`` reached, shortest ``BookingWindow/@max`` the arrival is within), applied in
    the order sent; then fees and taxes (``Basis`` person = per guest, ``Period`` night = per night,
    ``percent`` = of the rent after promotions). Each line is rounded once to the currency's minor unit.
    Or the reason there is no price (Google's "unavailable rate" reasons)."""
    if today is None:
        today = timezone.now().astimezone(ZoneInfo(listing.timezone or "UTC")).date()
    if not listing.listed or listing.problems:
        return StayPrice(None, reason="listing disabled")
    if listing.room_capacity is None:
        return StayPrice(None, reason="no property data")
    if guests > listing.room_capacity:
        return StayPrice(None, reason="invalid occupancy")
    stay = [check_in + timedelta(days=i) for i in range(nights)]
    rows = {
        d.day: d for d in GoogleDay.objects.filter(listing=listing, day__in=[*stay, check_in + timedelta(days=nights)])
    }
    first = rows.get(check_in)
    if first is None or any(d not in rows for d in stay):
        return StayPrice(None, reason="no data for some nights")
    if any(not rows[d].sellable for d in stay):
        return StayPrice(None, reason="no vacancy")
    lead = (check_in - today).days
    if first.min_advance_days is not None and lead < first.min_advance_days:
        return StayPrice(None, reason="minimum advance purchase")
    if first.max_advance_days is not None and lead > first.max_advance_days:
        return StayPrice(None, reason="maximum advance purchase")
    if first.min_los and nights < first.min_los:
        return StayPrice(None, reason="minimum length of stay")
    if first.max_los and nights > first.max_los:
        return StayPrice(None, reason="maximum length of stay")
    if first.closed_to_arrival:
        return StayPrice(None, reason="invalid arrival")
    departure = rows.get(check_in + timedelta(days=nights))
    if departure is not None and departure.closed_to_departure:
        return StayPrice(None, reason="invalid departure")
    currencies = {rows[d].currency for d in stay}
    if len(currencies) != 1 or any(str(guests) not in rows[d].rates for d in stay):
        return StayPrice(None, reason="missing nightly rate")
    currency = currencies.pop()
    q = quantum(currency)
    rent = sum((Decimal(rows[d].rates[str(guests)]) for d in stay), Decimal(0))

    chosen: dict[str, dict] = {}
    for promo in listing.promotions:
        if promo["min_nights"] is not None:
            if nights >= promo["min_nights"] and (
                "los" not in chosen or promo["min_nights"] > chosen["los"]["min_nights"]
            ):
                chosen["los"] = promo
        elif 0 <= lead <= promo["max_days_before"] and (
            "window" not in chosen or promo["max_days_before"] < chosen["window"]["max_days_before"]
        ):
            chosen["window"] = promo
    for promo in listing.promotions:  # the order sent
        if promo not in chosen.values():
            continue
        if promo["percentage"] is not None:
            discount = _round(rent * Decimal(promo["percentage"]) / 100, q)
        else:
            discount = _round(Decimal(promo["fixed_amount"]), q)
        rent -= min(discount, rent)

    total = rent
    for item in [*listing.fees, *listing.taxes]:
        amount = Decimal(item["Amount"])
        if item["Type"] == "percent":
            total += _round(rent * amount / 100, q)
            continue
        units = Decimal(1)
        if item["Basis"] == "person":
            units *= max(0, guests - int(item["GuestsAbove"] or 0))
        if item["Period"] == "night":
            units *= nights
        if units:
            total += _round(amount * units, q)
    return StayPrice(total, currency=currency)


# --- "a traveller searches": Google's price-accuracy check -------------------------------------
PRICE_RE = re.compile(rb'<data class="stay-price" value="([0-9.]+)" data-currency="([A-Z]{3})"')
MAX_SAMPLE_NIGHTS = 14


def landing_url(
    account: GoogleAccount, listing: GoogleListing, *, check_in: date, nights: int, guests: int, currency: str
) -> str:
    url = account.landing_url_template or listing.website
    for placeholder, value in (
        ("(PARTNER-HOTEL-ID)", quote(listing.hotel_id, safe="")),
        ("(CHECKINYEAR)", f"{check_in.year:04d}"),
        ("(CHECKINMONTH)", f"{check_in.month:02d}"),
        ("(CHECKINDAY)", f"{check_in.day:02d}"),
        ("(LENGTH)", str(nights)),
        ("(NUM-GUESTS)", str(guests)),
        ("(USER-CURRENCY)", currency),
    ):
        url = url.replace(placeholder, value)
    return url


def pick_stay(
    listing: GoogleListing, rng: random.Random, *, tries: int = 200
) -> tuple[date, int, int, StayPrice] | None:
    """A stay Google would show a price for, picked from the simulator's own state."""
    days = list(
        GoogleDay.objects.filter(listing=listing, day__gt=timezone.localdate()).exclude(rates={}).order_by("day")
    )
    if not days or not listing.room_capacity:
        return None
    for _ in range(tries):
        first = rng.choice(days)
        low = max(1, first.min_los or 1)
        high = min(MAX_SAMPLE_NIGHTS, first.max_los or MAX_SAMPLE_NIGHTS)
        if high < low:
            continue
        nights = rng.randint(low, high)
        guests = rng.randint(1, listing.room_capacity)
        price = stay_price(listing, check_in=first.day, nights=nights, guests=guests)
        if price.total is not None:
            return first.day, nights, guests, price
    return None


def traveller_search(listing: GoogleListing, *, rng: random.Random | None = None) -> GoogleAccuracyCheck | None:
    """Pick a stay, follow our landing page over HTTP like a traveller, compare the page's price with
    the one Google computed from the ARI it received. Recorded as a ``GoogleAccuracyCheck``."""
    rng = rng or random.Random()  # noqa: S311 - sampling, not security
    picked = pick_stay(listing, rng)
    if picked is None:
        return None
    check_in, nights, guests, price = picked
    url = landing_url(
        listing.account, listing, check_in=check_in, nights=nights, guests=guests, currency=price.currency
    )
    shown = shown_currency = None
    reason = ""
    try:
        response = requests.get(url, timeout=FEED_TIMEOUT)
    except requests.RequestException as exc:
        reason = f"landing page unreachable ({type(exc).__name__})"
    else:
        found = PRICE_RE.search(response.content) if response.status_code == 200 else None
        if found is None:
            reason = f"landing page shows no price (HTTP {response.status_code})"
        else:
            shown, shown_currency = Decimal(found.group(1).decode()), found.group(2).decode()
    match = shown is not None and shown == price.total and shown_currency == price.currency
    if shown is not None and not match:
        reason = f"price differs: Google {price.total} {price.currency}, landing page {shown} {shown_currency}"
    return GoogleAccuracyCheck.objects.create(
        listing=listing,
        check_in=check_in,
        nights=nights,
        guests=guests,
        expected=price.total,
        shown=shown,
        currency=price.currency,
        match=match,
        reason=reason[:500],
        landing_url=url[:1000],
    )


def accuracy_score(listing: GoogleListing) -> float | None:
    """Share of the listing's price-accuracy checks that matched (None before the first check)."""
    checks = list(GoogleAccuracyCheck.objects.filter(listing=listing).values_list("match", flat=True))
    return sum(checks) / len(checks) if checks else None


class SyncProbe:
    """The ``benchmark sync`` probe of this simulator (registry: ``apps.benchmarks.sync.SYNC_PROBES``).

    The benchmark's server serves only the simulators, not our feed, so the probe lists the home on
    the simulator directly (as Hotel Center would after fetching the feed); the ARI path is the real one.
    """

    platform = SIMULATOR

    def connect(self, *, prop, tag: str, index: int, base_url: str):
        from apps.channels.models import ChannelConnection

        partner = f"bench-{tag}"[:64].lower()
        account, _ = GoogleAccount.objects.get_or_create(partner=partner)
        hotel_id = f"G{tag}-{index}"
        GoogleListing.objects.create(
            account=account, hotel_id=hotel_id, name=prop.name, capacity=prop.max_guests, website="https://example.org/"
        )
        return ChannelConnection.objects.create(
            property=prop,
            platform=SIMULATOR,
            external_property_id=hotel_id,
            external_room_id=hotel_id,
            base_url=f"{base_url}/sandbox/google",
            auth_scheme="none",
            username=partner,
        )

    def nights_closed(self, *, connection, nights: list[date]) -> bool:
        rows = list(
            GoogleDay.objects.filter(
                listing__hotel_id=connection.external_property_id, listing__account__partner=connection.username
            )
            .filter(day__in=nights)
            .values_list("booking_limit", "inventory", "closed")
        )
        return len(rows) == len(nights) and all(limit == 0 or inv == 0 or closed for limit, inv, closed in rows)


def seed_demo_google_vr(prop) -> None:
    """``make demo``: ``prop`` listed on the Google simulator (idempotent). The owner's partner account
    has the demo's feed URL and landing-page template; the feed is applied at once (the web server may
    not run yet; Hotel Center fetches it again from the admin), and the whole calendar is pushed."""
    from django.conf import settings

    from apps.channels import google_vr as pms_google
    from apps.channels.models import ChannelConnection
    from apps.channels.services import connection_sync_now
    from apps.properties.models import Property

    site = settings.SITE_URL.rstrip("/")
    if prop.latitude is None or prop.longitude is None:  # Google requires a location: the demo home's
        Property.objects.filter(pk=prop.pk).update(latitude=Decimal("52.538600"), longitude=Decimal("13.412800"))
    partner = f"{prop.owner.username}-vr"[:64]
    hotel_id = f"gvr-{prop.pk}"
    conn = ChannelConnection.objects.filter(property=prop, platform=SIMULATOR).first()
    if conn is None:
        conn = ChannelConnection.objects.create(
            property=prop,
            platform=SIMULATOR,
            label="Google Vacation Rentals (simulator)",
            external_property_id=hotel_id,
            external_room_id=hotel_id,
            base_url=f"{site}/sandbox/google",
            auth_scheme="none",
            username=partner,
        )
    elif conn.base_url.endswith("/sandbox/google") and conn.base_url != f"{site}/sandbox/google":
        ChannelConnection.objects.filter(pk=conn.pk).update(base_url=f"{site}/sandbox/google")  # another port
    account, _ = GoogleAccount.objects.get_or_create(partner=conn.username)
    GoogleAccount.objects.filter(pk=account.pk).update(
        feed_url=pms_google.feed_url(owner_id=prop.owner_id, partner=conn.username),
        landing_url_template=pms_google.landing_url_template(),
    )
    apply_feed(account, pms_google.hotel_list_feed(owner_id=prop.owner_id, partner=conn.username))
    connection_sync_now(connection_id=conn.pk)
