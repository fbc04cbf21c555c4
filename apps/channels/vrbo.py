"""FeWo-direkt / Vrbo: the feeds we host for the platform to crawl (PLATFORMS.md section 4).

Vrbo's model is the reverse of Booking.com's: the platform reads our documents, and pushes booking
requests to us (``apps.channels.inbound_vrbo``). Each ``fewo_direkt`` connection is one listing:

- its credentials (``username`` + the ``access_token`` secret) are what the platform sends as HTTP
  Basic auth; a username held by two connections authenticates nobody (we never guess whose it is);
- ``listingExternalId`` is the connection's ``external_property_id`` (else ``P<property id>``),
  ``unitExternalId`` its ``external_room_id`` (else ``<listing>-1``), ``advertiserAssignedId`` its
  ``settings["advertiser_id"]`` (else the username).

Documents (XML, built from the core on every read; nothing is cached, so a committed change is in the
next read): an index per kind listing the per-listing documents with their ``lastUpdatedDate``, and
the documents: ``listing`` (content), ``lodgingConfigurationContent`` (check-in/out times, house rules,
time zone), ``lodgingRateContent`` (rates from our pricing engine, see ``rates_document``),
``unitAvailabilityContent`` (one character per day) and ``bookingContentIndex`` / ``bookingUpdate``.
Each carries an ``ETag`` (a digest of its bytes) and ``Last-Modified`` (the last outbox event of the
property, at least the start of the property's local day: the documents start "today").

[INFERRED] where no public source showed it: the index root names, ``<priority>`` on discounts,
``lastMinuteDiscounts``, ``fixedAmountDiscounts``, ``perGuestPerNight`` fees and ``perPersonPerNightTaxRules``
(our engine's other rule types), ``<timeZone>`` in the lodging configuration.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)

from django.conf import settings
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from apps.availability import pricing
from apps.availability.selectors import calendar_days
from apps.bookings.models import Booking, BookingStatus
from apps.core.models import SyncEvent

from .models import ChannelAlert, ChannelConnection, VrboFeedRead

PLATFORM = "fewo_direkt"
DOCUMENT_VERSION = "1.3"
MAX_FEED_DAYS = 1096
KINDS = ("listing", "lodging", "rates", "availability")
INDEX_ROOTS = {
    "listing": ("listingContentIndex", "listingContentIndexEntry", "listingUrl"),
    "lodging": ("lodgingConfigurationContentIndex", "lodgingConfigurationContentIndexEntry", "lodgingConfigurationUrl"),
    "rates": ("lodgingRateContentIndex", "lodgingRateContentIndexEntry", "lodgingRateUrl"),
    "availability": ("unitAvailabilityContentIndex", "unitAvailabilityContentIndexEntry", "unitAvailabilityUrl"),
}
DOC_OF_KIND = {
    "listing": VrboFeedRead.Document.LISTING,
    "lodging": VrboFeedRead.Document.LODGING,
    "rates": VrboFeedRead.Document.RATES,
    "availability": VrboFeedRead.Document.AVAILABILITY,
}
INDEX_OF_KIND = {
    "listing": VrboFeedRead.Document.LISTING_INDEX,
    "lodging": VrboFeedRead.Document.LODGING_INDEX,
    "rates": VrboFeedRead.Document.RATES_INDEX,
    "availability": VrboFeedRead.Document.AVAILABILITY_INDEX,
}


# --- identity --------------------------------------------------------------------------------------
def listing_external_id(conn: ChannelConnection) -> str:
    return conn.external_property_id or f"P{conn.property_id}"


def unit_external_id(conn: ChannelConnection) -> str:
    return conn.external_room_id or f"{listing_external_id(conn)}-1"


def advertiser_id(conn: ChannelConnection) -> str:
    return str((conn.settings or {}).get("advertiser_id") or conn.username or f"A{conn.property_id}")


def feed_days() -> int:
    return max(1, min(MAX_FEED_DAYS, int(getattr(settings, "VRBO_FEED_DAYS", 730))))


_DUMMY = "x" * 32


def authenticate(authorization: str) -> ChannelConnection | None:
    """The one ``fewo_direkt`` connection whose Basic credentials these are, or None."""
    if not authorization.startswith("Basic "):
        return None
    try:
        user, sep, password = base64.b64decode(authorization[6:], validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not sep or not user or "\x00" in user:  # PostgreSQL text cannot hold a NUL: no one's name
        return None
    found = list(
        ChannelConnection.objects.filter(platform=PLATFORM, username=user).select_related(
            "property", "property__owner"
        )[:2]
    )
    if len(found) != 1:
        hmac.compare_digest(_DUMMY.encode(), password.encode("utf-8", "replace"))  # same work either way
        return None
    conn = found[0]
    secret = conn.get_secret("access_token")
    if not secret or not hmac.compare_digest(secret.encode(), password.encode("utf-8", "replace")):
        return None
    if not conn.sync_enabled:
        return None
    return conn


# --- documents -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedDocument:
    body: bytes
    last_modified: datetime

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:40] + '"'


def _xml(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")


def _text(parent: Element, tag: str, value: Any) -> Element:
    el = SubElement(parent, tag)
    el.text = "" if value is None else str(value)
    return el


def _money(value: Decimal) -> str:
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_today(prop: Any) -> date:
    return pricing.local_today(prop)


def _day_start(prop: Any) -> datetime:
    return datetime.combine(local_today(prop), time(0), tzinfo=prop.tz).astimezone(UTC)


def calendar_changed_at(prop: Any) -> datetime:
    """When the property's calendar, prices or terms last changed (its last outbox event, or the
    property row), at least the start of its local day (the documents begin today)."""
    last_event = SyncEvent.objects.filter(property_id=prop.pk).aggregate(m=Max("created_at"))["m"]
    stamps = [s for s in (last_event, prop.updated_at, _day_start(prop)) if s is not None]
    return max(stamps)


def content_changed_at(prop: Any) -> datetime:
    return prop.updated_at


def _url(name: str, **kwargs: Any) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(f"vrbo:{name}", kwargs=kwargs)


def listing_document(conn: ChannelConnection) -> FeedDocument:
    prop = conn.property
    root = Element("listing")
    _text(root, "externalId", listing_external_id(conn))
    _text(root, "active", "true" if prop.status == "active" else "false")
    ad = SubElement(root, "adContent")
    # Every language we hold: a property has one description, in the site's default language.
    lang = settings.LANGUAGE_CODE.split("-")[0]
    for tag, value in (("headline", prop.name), ("description", prop.description or prop.name)):
        texts = SubElement(SubElement(ad, tag), "texts")
        text = SubElement(texts, "text", locale=lang)
        _text(text, "textValue", value)
    location = SubElement(root, "location")
    address = SubElement(location, "address")
    addr = prop.address if isinstance(prop.address, dict) else {}
    _text(address, "addressLine1", addr.get("street", ""))
    _text(address, "city", prop.city)
    _text(address, "postalCode", addr.get("postal_code", ""))
    _text(address, "stateOrProvince", addr.get("region", ""))
    _text(address, "country", prop.country)
    if prop.latitude is not None and prop.longitude is not None:
        latlng = SubElement(SubElement(location, "geoCode"), "latLng")
        _text(latlng, "latitude", prop.latitude)
        _text(latlng, "longitude", prop.longitude)
    images = SubElement(root, "images")
    site = settings.SITE_URL.rstrip("/")
    for photo in prop.photos.order_by("position", "id"):
        src = photo.src
        if not src:
            continue
        image = SubElement(images, "image")
        _text(image, "externalId", f"img-{photo.pk}")
        _text(image, "title", photo.caption)
        _text(image, "uri", src if src.startswith(("http://", "https://")) else site + src)
    unit = SubElement(SubElement(root, "units"), "unit")
    _text(unit, "externalId", unit_external_id(conn))
    _text(unit, "active", "true" if prop.status == "active" else "false")
    _text(SubElement(unit, "bathrooms"), "count", prop.bathrooms)
    _text(SubElement(unit, "bedrooms"), "count", prop.bedrooms)
    _text(unit, "maxSleep", prop.max_guests)
    features = SubElement(unit, "featureValues")
    for amenity in prop.amenities or []:
        _text(SubElement(features, "featureValue"), "unitFeatureName", amenity)
    return FeedDocument(_xml(root), content_changed_at(prop))


def lodging_document(conn: ChannelConnection) -> FeedDocument:
    prop = conn.property
    root = Element("lodgingConfigurationContent")
    _text(root, "documentVersion", DOCUMENT_VERSION)
    _text(root, "listingExternalId", listing_external_id(conn))
    _text(root, "unitExternalId", unit_external_id(conn))
    config = SubElement(root, "lodgingConfiguration")
    _text(config, "checkInTime", prop.check_in_time.strftime("%H:%M"))
    _text(config, "checkOutTime", prop.check_out_time.strftime("%H:%M"))
    _text(config, "timeZone", prop.timezone)
    _text(config, "maxGuests", prop.max_guests)
    _text(config, "cancellationPolicy", prop.cancellation_policy.upper())
    rules = SubElement(config, "houseRules")
    text = SubElement(SubElement(rules, "texts"), "text", locale=settings.LANGUAGE_CODE.split("-")[0])
    _text(text, "textValue", prop.house_rules)
    return FeedDocument(_xml(root), content_changed_at(prop))


def _runs(values: list[tuple[date, Any]]) -> list[tuple[date, date, Any]]:
    """Consecutive days with the same value: (first, last inclusive, value)."""
    out: list[tuple[date, date, Any]] = []
    for day, value in values:
        if out and out[-1][2] == value and out[-1][1] + timedelta(days=1) == day:
            out[-1] = (out[-1][0], day, value)
        else:
            out.append((day, day, value))
    return out


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _range(parent: Element, low: Any, high: Any) -> None:
    rng = SubElement(parent, "range")
    _text(rng, "max", high)
    _text(rng, "min", low)


def rates_document(conn: ChannelConnection) -> FeedDocument:
    """``lodgingRateContent`` from our pricing engine, so that a quote built from it equals ours:

    - ``nightlyRates``: per weekday the night's most frequent price over the feed's horizon, and a
      ``nightlyOverrides/override`` for every run of nights priced otherwise (base price, block price
      overrides, seasonal and weekend rules already applied: the engine's per-night prices);
    - ``discounts``: ``length_of_stay`` tiers as ``percentOfRentDiscounts`` (or ``fixedAmountDiscounts``)
      for stays of ``min`` to ``max`` nights (the most specific tier applies, as in our engine),
      ``last_minute`` tiers for arrivals within ``min``-``max`` days; ``priority`` orders them (they
      compound on the running rent, each rounded to the currency's minor unit);
    - ``fees``: the cleaning fee per stay, extra-guest fees per guest above N per night;
    - ``taxRules``: percent of rent (after discounts), per person per night;
    - ``paymentSchedule``: the whole amount at booking (Vrbo collects; we are paid by the platform).
    """
    prop = conn.property
    today = local_today(prop)
    days = calendar_days_long(prop, today, today + timedelta(days=feed_days()))
    rules = pricing.load_rules([prop.pk])[prop.pk]
    currency = prop.currency
    by_weekday: dict[int, Counter] = {i: Counter() for i in range(7)}
    for d in days:
        by_weekday[d.date.weekday()][d.price] += 1
    base = Decimal(prop.base_price)
    weekday_rate = {i: (c.most_common(1)[0][0] if c else base) for i, c in by_weekday.items()}

    root = Element("lodgingRateContent")
    _text(root, "documentVersion", DOCUMENT_VERSION)
    _text(root, "listingExternalId", listing_external_id(conn))
    _text(root, "unitExternalId", unit_external_id(conn))
    rate = SubElement(root, "lodgingRate")
    _text(rate, "currency", currency)
    _text(rate, "externalId", conn.external_rate_plan_id or "RP1")
    _text(rate, "language", settings.LANGUAGE_CODE.split("-")[0])
    _text(rate, "timeZone", prop.timezone)
    discounts = SubElement(rate, "discounts")
    ordered = pricing.sort_rules(rules)
    stay_rules = [r for r in ordered if r.rule_type in ("length_of_stay", "last_minute")]
    priority = {id(r): i for i, r in enumerate(stay_rules)}
    # length of stay: the tier with the highest min_nights the stay reaches (first by priority on ties)
    los: dict[int, pricing.Rule] = {}
    for r in ordered:
        if r.rule_type == "length_of_stay":
            los.setdefault(r.min_nights, r)
    tiers = sorted(los.values(), key=lambda r: r.min_nights)
    percent_el = SubElement(discounts, "percentOfRentDiscounts")
    fixed_el = SubElement(discounts, "fixedAmountDiscounts")
    for i, r in enumerate(tiers):
        high = tiers[i + 1].min_nights - 1 if i + 1 < len(tiers) else pricing.MAX_STAY_NIGHTS
        parent = percent_el if r.adjustment_type == "percentage" else fixed_el
        disc = SubElement(parent, "discount")
        _text(disc, "name", r.label)
        _range(SubElement(SubElement(disc, "appliesPerNight"), "forStaysOfNights"), r.min_nights, high)
        _text(disc, "percent" if r.adjustment_type == "percentage" else "amount", -r.value)
        _text(disc, "priority", priority[id(r)])
    # last minute: the tier with the lowest max_days_before the arrival is within
    lm: dict[int, pricing.Rule] = {}
    for r in ordered:
        if r.rule_type == "last_minute":
            lm.setdefault(r.max_days_before, r)
    lm_tiers = sorted(lm.values(), key=lambda r: r.max_days_before)
    lm_el = SubElement(discounts, "lastMinuteDiscounts")
    for i, r in enumerate(lm_tiers):
        low = lm_tiers[i - 1].max_days_before + 1 if i else 0
        disc = SubElement(lm_el, "discount")
        _text(disc, "name", r.label)
        _range(SubElement(disc, "forArrivalsWithinDays"), low, r.max_days_before)
        _text(disc, "percent" if r.adjustment_type == "percentage" else "amount", -r.value)
        _text(disc, "priority", priority[id(r)])
    fees = SubElement(rate, "fees")
    cleaning = SubElement(fees, "cleaningFees")
    if prop.cleaning_fee:
        fee = SubElement(cleaning, "fee")
        _text(fee, "amount", _money(Decimal(prop.cleaning_fee)))
        SubElement(fee, "appliesPerStay")
    guest_fees = SubElement(fees, "perGuestPerNightFees")
    for r in ordered:
        if r.rule_type == "extra_guest_fee":
            fee = SubElement(guest_fees, "fee")
            _text(fee, "name", r.name or f"Extra guests above {r.above_guests}")
            _text(fee, "amount", r.value)
            _text(fee, "aboveGuests", r.above_guests)
    nightly = SubElement(rate, "nightlyRates")
    for i, name in enumerate(WEEKDAYS):
        _text(nightly, name, _money(weekday_rate[i]))
    overrides = SubElement(nightly, "nightlyOverrides")
    special = [(d.date, d.price) for d in days if d.price != weekday_rate[d.date.weekday()]]
    for first, last, price in _runs(special):
        override = SubElement(overrides, "override")
        _text(override, "amount", _money(price))
        _range(SubElement(override, "nights"), first.isoformat(), last.isoformat())
    schedule = SubElement(SubElement(rate, "paymentSchedule"), "payments")
    payment = SubElement(schedule, "payment")
    _text(payment, "dueType", "AT_BOOKING")
    _text(SubElement(payment, "requiresPercentOfTotalBooking"), "percent", "100")
    taxes = SubElement(rate, "taxRules")
    pct = SubElement(taxes, "percentOfRentTaxRules")
    ppn = SubElement(taxes, "perPersonPerNightTaxRules")
    for r in ordered:
        if r.rule_type == "tax_percentage":
            rule = SubElement(pct, "rule")
            _text(rule, "name", r.name or f"Tax {r.value}%")
            _text(rule, "percent", r.value)
        elif r.rule_type == "tax_per_person_night":
            rule = SubElement(ppn, "rule")
            _text(rule, "name", r.name or "Tax per person per night")
            _text(rule, "amount", r.value)
    return FeedDocument(_xml(root), calendar_changed_at(prop))


def calendar_days_long(prop: Any, start: date, end: date) -> list:
    """``calendar_days`` over any span (it answers at most 750 days per call)."""
    out: list = []
    cursor = start
    while cursor < end:
        chunk_end = min(end, cursor + timedelta(days=366))
        out += calendar_days(prop=prop, start=cursor, end=chunk_end)
        cursor = chunk_end
    return out


def change_over(arrival: bool, departure: bool) -> str:
    return {(True, True): "C", (True, False): "I", (False, True): "O", (False, False): "X"}[(arrival, departure)]


def availability_document(conn: ChannelConnection) -> FeedDocument:
    """``unitAvailabilityContent``: one value per day from the property's local today, ``feed_days()``
    days: availability Y/N (the night), changeOver C/I/O/X (arrival and departure allowed that day:
    closed-to-arrival, closed-to-departure and arrivals beyond the property's max advance are closed),
    minStay/maxStay of stays arriving that day, minPriorNotify in days (the notice in hours, rounded
    up). A property that is not on sale is N everywhere."""
    prop = conn.property
    today = local_today(prop)
    end = today + timedelta(days=feed_days())
    days = calendar_days_long(prop, today, end)
    on_sale = prop.status == "active"
    notice_days = math.ceil(prop.min_notice_hours / 24) if prop.min_notice_hours else 0
    root = Element("unitAvailabilityContent")
    _text(root, "documentVersion", DOCUMENT_VERSION)
    _text(root, "listingExternalId", listing_external_id(conn))
    _text(root, "unitExternalId", unit_external_id(conn))
    ua = SubElement(root, "unitAvailability")
    _text(ua, "availabilityDefault", "N")
    _text(ua, "changeOverDefault", "X")
    rng = SubElement(ua, "dateRange")
    _text(rng, "beginDate", today.isoformat())
    _text(rng, "endDate", (end - timedelta(days=1)).isoformat())
    _text(ua, "maxStayDefault", prop.default_max_stay)
    _text(ua, "minPriorNotifyDefault", notice_days)
    _text(ua, "minStayDefault", prop.default_min_stay)
    cfg = SubElement(ua, "unitAvailabilityConfiguration")
    _text(cfg, "availability", "".join("Y" if d.available and on_sale else "N" for d in days))
    _text(
        cfg,
        "changeOver",
        "".join(
            change_over(
                not d.closed_to_arrival and (d.date - today).days <= prop.max_advance_days,
                not d.closed_to_departure,
            )
            for d in days
        ),
    )
    _text(cfg, "maxStay", ",".join(str(d.max_stay) for d in days))
    _text(cfg, "minPriorNotify", ",".join([str(notice_days)] * len(days)))
    _text(cfg, "minStay", ",".join(str(d.min_stay) for d in days))
    return FeedDocument(_xml(root), calendar_changed_at(prop))


DOCUMENTS = {
    "listing": listing_document,
    "lodging": lodging_document,
    "rates": rates_document,
    "availability": availability_document,
}


def index_document(conn: ChannelConnection, kind: str) -> FeedDocument:
    """The index of one kind: the connection's one listing, its document URL and ``lastUpdatedDate``."""
    root_tag, entry_tag, url_tag = INDEX_ROOTS[kind]
    prop = conn.property
    changed = calendar_changed_at(prop) if kind in ("rates", "availability") else content_changed_at(prop)
    root = Element(root_tag)
    _text(root, "documentVersion", DOCUMENT_VERSION)
    advertiser = SubElement(root, "advertiser")
    _text(advertiser, "assignedId", advertiser_id(conn))
    entry = SubElement(advertiser, entry_tag)
    _text(entry, "listingExternalId", listing_external_id(conn))
    _text(entry, "unitExternalId", unit_external_id(conn))
    _text(entry, "active", "true" if prop.status == "active" else "false")
    _text(entry, "lastUpdatedDate", _iso(changed))
    _text(entry, url_tag, _url("document", kind=kind, listing=listing_external_id(conn)))
    return FeedDocument(_xml(root), changed)


# --- bookings made on Vrbo -----------------------------------------------------------------------
def vrbo_bookings(conn: ChannelConnection):
    """Bookings that came through this connection (its property, source fewo_direkt), still updatable
    (until 45 days after check-out, as VCM keeps them)."""
    horizon = local_today(conn.property) - timedelta(days=45)
    return Booking.objects.filter(
        property_id=conn.property_id, source=PLATFORM, external_id__isnull=False, check_out__gte=horizon
    ).order_by("pk")


def booking_index_document(conn: ChannelConnection) -> FeedDocument:
    bookings = list(vrbo_bookings(conn))
    root = Element("bookingContentIndex")
    _text(root, "documentVersion", DOCUMENT_VERSION)
    advertiser = SubElement(root, "advertiser")
    _text(advertiser, "assignedId", advertiser_id(conn))
    for b in bookings:
        entry = SubElement(advertiser, "bookingContentIndexEntry")
        _text(entry, "bookingUpdateUrl", _url("booking_update", external_id=b.external_id))
        _text(entry, "lastUpdatedDate", _iso(b.updated_at))
    changed = max([b.updated_at for b in bookings], default=conn.created_at)
    return FeedDocument(_xml(root), changed)


ORDER_STATUS = {
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.INQUIRY: "PENDING",
    BookingStatus.RESERVED: "PENDING",
}


def booking_update_document(conn: ChannelConnection, booking: Booking) -> FeedDocument:
    root = Element("bookingUpdate")
    _text(root, "documentVersion", DOCUMENT_VERSION)
    details = SubElement(root, "bookingUpdateDetails")
    _text(details, "advertiserAssignedId", advertiser_id(conn))
    _text(details, "listingExternalId", listing_external_id(conn))
    _text(details, "unitExternalId", unit_external_id(conn))
    _text(details, "externalId", booking.reference)
    _text(details, "trackingUuid", booking.external_id)
    status = ORDER_STATUS.get(booking.status, "ACCEPTED")
    _text(details, "status", "CANCELLED" if status == "CANCELLED" else "BOOKED")
    reservation = SubElement(details, "reservation")
    _text(reservation, "numberOfAdults", booking.guests)
    dates = SubElement(reservation, "reservationDates")
    _text(dates, "beginDate", booking.check_in.isoformat())
    _text(dates, "endDate", booking.check_out.isoformat())
    order = SubElement(SubElement(details, "orderList"), "order")
    _text(order, "currency", booking.currency)
    _text(order, "externalId", booking.reference)
    item = SubElement(SubElement(order, "orderItemList"), "orderItem")
    _text(item, "feeType", "RENTAL")
    _text(item, "name", "Total")
    _text(item, "status", status)
    _text(item, "totalAmount", _money(booking.total_price)).set("currency", booking.currency)
    return FeedDocument(_xml(root), booking.updated_at)


def booking_for_update(conn: ChannelConnection, external_id: str) -> Booking | None:
    """Only this connection's own Vrbo bookings; anything else is unknown (same answer)."""
    return vrbo_bookings(conn).filter(external_id=external_id).first()


# --- crawl log and staleness -----------------------------------------------------------------------
def feed_read_record(*, conn: ChannelConnection, document: str, item: str, status_code: int, etag: str) -> None:
    VrboFeedRead.objects.create(
        connection=conn,
        property_id=conn.property_id,
        document=document,
        item=item[:128],
        status_code=status_code,
        etag=etag[:80],
    )


def last_read(conn: ChannelConnection, document: str = VrboFeedRead.Document.AVAILABILITY) -> VrboFeedRead | None:
    return VrboFeedRead.objects.filter(connection=conn, document=document).order_by("-read_at", "-id").first()


def has_current_availability(conn: ChannelConnection, read: VrboFeedRead | None) -> bool:
    """Whether the platform's last read got (200) or confirmed (304) the document as it is now."""
    return read is not None and read.etag == availability_document(conn).etag


def staleness_text(conn: ChannelConnection, *, now: datetime | None = None) -> str:
    """What the owner reads: "Vrbo last read your availability 4 minutes ago (downloaded)."."""
    now = now or timezone.now()
    read = last_read(conn)
    if read is None:
        return "Vrbo has not read your availability yet."
    minutes = int((now - read.read_at).total_seconds() // 60)
    ago = "less than a minute ago" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    state = "unchanged since its previous read" if read.status_code == 304 else "downloaded"
    behind = "" if has_current_availability(conn, read) else " It has not seen your latest change yet."
    return f"Vrbo last read your availability {ago} ({state}).{behind}"


def stale_minutes() -> int:
    return int(getattr(settings, "VRBO_STALE_MINUTES", 60))


def staleness_check(*, now: datetime | None = None) -> list[int]:
    """Alert for every Vrbo connection whose availability changed more than ``VRBO_STALE_MINUTES``
    ago and has not been read since; resolve the alert once it has been read. Returns the ids of the
    alerts raised."""
    now = now or timezone.now()
    limit = timedelta(minutes=stale_minutes())
    raised: list[int] = []
    conns = ChannelConnection.objects.filter(platform=PLATFORM, sync_enabled=True).select_related("property")
    for conn in conns:
        changed = calendar_changed_at(conn.property)
        read = last_read(conn)
        open_alerts = ChannelAlert.objects.filter(
            connection=conn, kind=ChannelAlert.Kind.FEED_STALE, resolved_at__isnull=True
        )
        if has_current_availability(conn, read):
            open_alerts.update(resolved_at=now)
            continue
        if now - changed < limit or open_alerts.exists():
            continue
        since = "never" if read is None else f"{int((now - read.read_at).total_seconds() // 60)} minutes ago"
        alert = ChannelAlert.objects.create(
            connection=conn,
            property_id=conn.property_id,
            kind=ChannelAlert.Kind.FEED_STALE,
            message=f"Vrbo has not read your changed availability for {int((now - changed).total_seconds() // 60)} "
            f"minutes (last read: {since}). Guests on Vrbo may see old dates.",
            details={"changed_at": changed.isoformat(), "last_read_at": read.read_at.isoformat() if read else None},
        )
        raised.append(alert.pk)
    return raised
