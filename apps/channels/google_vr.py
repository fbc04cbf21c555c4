"""Google Vacation Rentals, the PMS side that is not the adapter (see PLATFORMS.md section 5).

Google never sends reservations: it lists our homes (the Hotel List Feed), shows the prices we push
(ARI, ``adapters/google_vr.py``) and sends travellers to our own booking pages (landing pages).

**Partner account.** A ``google_vr`` connection names its Google partner account in ``username``
(the partner key Google gives, e.g. ``olivia-vr``) and its listing id in ``external_property_id``
(Google's "partner hotel id"). One owner's account is the set of their own properties whose
``google_vr`` connection names that partner key; nothing else is ever in it.

**Hotel List Feed.** Each owner account's feed is served at an unguessable URL
(``feed_path(owner_id=..., partner=...)``: an HMAC of the owner id and the partner key under
``SECRET_KEY``), which the owner registers in Hotel Center; Google fetches it on its schedule. It lists
only that owner's active properties connected under that partner key, with the vacation-rental
attributes Google requires (id, name, latitude, longitude, address, ``capacity``, ``website``) and
the recommended ones (bedrooms, bathrooms, amenities, photos, description). A wrong token, an unknown
partner and another owner's id all answer the same 404.

**Landing pages.** ``landing_url_template()`` is what the owner enters in Hotel Center:
``SITE_URL/go/google/(PARTNER-HOTEL-ID)/?checkin=(CHECKINYEAR)-(CHECKINMONTH)-(CHECKINDAY)&nights=
(LENGTH)&guests=(NUM-GUESTS)&currency=(USER-CURRENCY)``.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

PLATFORM = "google_vr"
FEED_SALT = "apps.channels.google_vr.feed"

#: our amenity codes -> Google's vacation-rental ``client_attr`` names (value "Yes")
AMENITY_ATTRS = {
    "wifi": "wifi",
    "kitchen": "kitchen",
    "parking": "free_parking",
    "free_parking": "free_parking",
    "pool": "pool",
    "air_conditioning": "air_conditioning",
    "washer": "washer_dryer",
    "dryer": "washer_dryer",
    "tv": "tv",
    "heating": "heating",
    "pets_allowed": "pets_allowed",
    "hot_tub": "hot_tub",
    "fireplace": "fireplace",
    "balcony": "balcony",
    "garden": "garden",
    "beach_access": "beach_access",
    "bbq": "bbq_grill",
    "dishwasher": "dishwasher",
    "elevator": "elevator",
    "wheelchair_accessible": "wheelchair_accessible",
}


def feed_token(*, owner_id: int, partner: str) -> str:
    return salted_hmac(FEED_SALT, f"{owner_id}:{partner}", algorithm="sha256").hexdigest()[:40]


def feed_token_valid(*, owner_id: int, partner: str, token: str) -> bool:
    return hmac.compare_digest(feed_token(owner_id=owner_id, partner=partner), token or "")


def feed_path(*, owner_id: int, partner: str) -> str:
    return reverse(
        "channels:google_vr_feed",
        kwargs={"partner": partner, "owner_id": owner_id, "token": feed_token(owner_id=owner_id, partner=partner)},
    )


def feed_url(*, owner_id: int, partner: str) -> str:
    return settings.SITE_URL.rstrip("/") + feed_path(owner_id=owner_id, partner=partner)


def landing_url_template() -> str:
    """The landing-page template the owner enters in Hotel Center (Google fills the placeholders)."""
    return (
        settings.SITE_URL.rstrip("/")
        + "/go/google/(PARTNER-HOTEL-ID)/?checkin=(CHECKINYEAR)-(CHECKINMONTH)-(CHECKINDAY)"
        + "&nights=(LENGTH)&guests=(NUM-GUESTS)&currency=(USER-CURRENCY)"
    )


def account_connections(*, owner_id: int, partner: str):
    """The ``google_vr`` connections of one owner account: the owner's own properties only."""
    from .models import ChannelConnection

    return (
        ChannelConnection.objects.filter(
            platform=PLATFORM, username=partner, property__owner_id=owner_id, sync_enabled=True
        )
        .exclude(external_property_id="")
        .select_related("property")
        .order_by("external_property_id")
    )


def _text(parent: Element, tag: str, value: Any, **attrs: str) -> Element:
    el = SubElement(parent, tag, attrs)
    el.text = "" if value is None else str(value)
    return el


def _attr(parent: Element, name: str, value: Any) -> None:
    _text(parent, "client_attr", value, name=name)


def listing_element(parent: Element, conn: Any, *, site: str) -> Element:
    """One ``<listing>`` of the Hotel List Feed with the vacation-rental attributes."""
    prop = conn.property
    listing = SubElement(parent, "listing")
    _text(listing, "id", conn.external_property_id)
    _text(listing, "name", prop.name)
    address = SubElement(listing, "address", format="simple")
    parts = prop.address or {}
    for name, value in (
        ("addr1", parts.get("street", "")),
        ("city", prop.city),
        ("province", parts.get("region", "")),
        ("postal_code", parts.get("postal_code", "")),
    ):
        if value:
            _text(address, "component", value, name=name)
    _text(listing, "country", prop.country)
    _text(listing, "latitude", prop.latitude if prop.latitude is not None else "")
    _text(listing, "longitude", prop.longitude if prop.longitude is not None else "")
    _text(listing, "category", "vacation rental")
    content = SubElement(listing, "content")
    website = site + reverse("storefront:property", kwargs={"slug": prop.slug})
    if prop.description:
        text = SubElement(content, "text", type="description")
        _text(text, "link", website)
        _text(text, "title", prop.name)
        _text(text, "body", prop.description[:5000])
    attributes = SubElement(content, "attributes")
    _attr(attributes, "website", website)
    _attr(attributes, "capacity", prop.max_guests)
    _attr(attributes, "number_of_bedrooms", prop.bedrooms)
    _attr(attributes, "number_of_bathrooms", f"{prop.bathrooms.normalize():f}")
    _attr(attributes, "instant_bookable", "Yes")
    seen: set[str] = set()
    for code in prop.amenities or []:
        name = AMENITY_ATTRS.get(code)
        if name and name not in seen:
            seen.add(name)
            _attr(attributes, name, "Yes")
    for photo in prop.photos.all().order_by("position", "id"):
        src = photo.src
        if not src:
            continue
        url = src if src.startswith(("http://", "https://")) else site + src
        image = SubElement(content, "image", type="photo", url=url)
        if photo.caption:
            _text(image, "title", photo.caption)
    return listing


def hotel_list_feed(*, owner_id: int, partner: str) -> bytes:
    """The owner account's Hotel List Feed (only that owner's connected, active properties)."""
    site = settings.SITE_URL.rstrip("/")
    root = Element("listings")
    _text(root, "language", "en")
    for conn in account_connections(owner_id=owner_id, partner=partner).prefetch_related("property__photos"):
        if conn.property.status != "active":
            continue
        listing_element(root, conn, site=site)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")


# --- what an ARI push carries beyond the nightly calendar ----------------------------------------
@dataclass(frozen=True)
class PushState:
    """Everything the Google messages of one push carry, read from the core at one moment.

    Nightly ``days`` come from ``calendar_states`` (prices after per-night rules, restrictions,
    availability). Stay-level pricing travels as Google's own concepts: the cleaning fee, extra-guest
    fees and taxes as ``TaxFeeInfo``; length-of-stay and last-minute rules as ``Promotions`` (in our
    priority order), so Google can compute the full price of any stay exactly as our quote does.
    """

    hotel_id: str
    partner: str
    name: str
    currency: str
    timezone: str
    capacity: int
    min_advance_days: int
    max_advance_days: int
    days: list = field(default_factory=list)
    taxes: list[dict] = field(default_factory=list)
    fees: list[dict] = field(default_factory=list)
    promotions: list[dict] = field(default_factory=list)


def push_state(*, connection: Any, start: date, end: date) -> PushState:
    """The core's state for a push of [start, end) to one ``google_vr`` connection (reads only)."""
    from apps.availability import pricing

    from .selectors import calendar_states

    prop = connection.property
    rules = pricing.sort_rules(pricing.load_rules([prop.pk])[prop.pk])
    taxes, fees, promotions = [], [], []
    if prop.cleaning_fee:
        fees.append(
            {"id": "cleaning_fee", "type": "amount", "basis": "room", "period": "stay", "amount": prop.cleaning_fee}
        )
    for rule in rules:
        if rule.rule_type == "extra_guest_fee":
            fees.append(
                {
                    "id": f"rule-{rule.id}",
                    "type": "amount",
                    "basis": "person",
                    "period": "night",
                    "amount": rule.value,
                    "guests_above": rule.above_guests,
                }
            )
        elif rule.rule_type == "tax_percentage":
            taxes.append(
                {"id": f"rule-{rule.id}", "type": "percent", "basis": "room", "period": "stay", "amount": rule.value}
            )
        elif rule.rule_type == "tax_per_person_night":
            taxes.append(
                {"id": f"rule-{rule.id}", "type": "amount", "basis": "person", "period": "night", "amount": rule.value}
            )
        elif rule.rule_type in ("length_of_stay", "last_minute"):
            promotions.append(
                {
                    "id": f"rule-{rule.id}",
                    "kind": rule.rule_type,
                    "min_nights": rule.min_nights,
                    "max_days_before": rule.max_days_before,
                    "adjustment": rule.adjustment_type,  # percentage | fixed (per stay)
                    "value": rule.value,  # our sign: negative = discount
                }
            )
    return PushState(
        hotel_id=connection.external_property_id,
        partner=connection.username,
        name=prop.name,
        currency=prop.currency,
        timezone=prop.timezone,
        capacity=prop.max_guests,
        # Today's arrivals and the notice period are never offered on Google: a whole extra day keeps
        # its stays inside what our pages sell whatever the hour (never a price we then refuse).
        min_advance_days=math.ceil(prop.min_notice_hours / 24) + 1,
        max_advance_days=prop.max_advance_days,
        days=calendar_states(prop=prop, start=start, end=end),
        taxes=taxes,
        fees=fees,
        promotions=promotions,
    )


def landing_property(*, hotel_id: str) -> Any | None:
    """The home behind a Google landing-page link: an active property whose active ``google_vr``
    connection has this listing id (anything else: None, the same for every unknown id)."""
    from .models import ChannelConnection

    conn = (
        ChannelConnection.objects.filter(
            platform=PLATFORM, external_property_id=hotel_id, sync_enabled=True, property__status="active"
        )
        .select_related("property")
        .first()
    )
    return conn.property if conn is not None else None


# --- price accuracy, on our side -----------------------------------------------------------------
SAMPLE_HORIZON_DAYS = 60
SAMPLE_MAX_NIGHTS = 14


def _round(value: Decimal, q: Decimal) -> Decimal:
    return value.quantize(q, rounding=ROUND_HALF_UP)


def google_stay_total(state: PushState, *, check_in: date, nights: int, guests: int, today: date) -> Decimal | None:
    """What Google computes for the stay from exactly what we push (``state``): nightly rates, then
    the promotions (most specific of each kind, in the order sent), then fees and taxes, each line
    rounded once. None when a night has no rate in ``state``."""
    from apps.core.money import quantum

    by_day = {d.day: d for d in state.days}
    stay = [check_in + timedelta(days=i) for i in range(nights)]
    if any(d not in by_day or by_day[d].price is None for d in stay):
        return None
    q = quantum(state.currency)
    rent = sum((Decimal(by_day[d].price) for d in stay), Decimal(0))
    lead = (check_in - today).days
    chosen: dict[str, dict] = {}
    for promo in state.promotions:
        kind = promo["kind"]
        if kind == "length_of_stay" and nights >= promo["min_nights"]:
            if kind not in chosen or promo["min_nights"] > chosen[kind]["min_nights"]:
                chosen[kind] = promo
        elif kind == "last_minute" and 0 <= lead <= promo["max_days_before"]:
            if kind not in chosen or promo["max_days_before"] < chosen[kind]["max_days_before"]:
                chosen[kind] = promo
    for promo in state.promotions:
        if promo not in chosen.values():
            continue
        discount = -Decimal(promo["value"])
        amount = _round(rent * discount / 100, q) if promo["adjustment"] == "percentage" else _round(discount, q)
        rent -= min(amount, rent)
    total = rent
    for item in [*state.fees, *state.taxes]:
        if item["type"] == "percent":
            total += _round(rent * Decimal(item["amount"]) / 100, q)
            continue
        units = Decimal(1)
        if item["basis"] == "person":
            units *= max(0, guests - int(item.get("guests_above") or 0))
        if item["period"] == "night":
            units *= nights
        if units:
            total += _round(Decimal(item["amount"]) * units, q)
    return total


def price_accuracy_check(*, connection_id: int, samples: int = 20, seed: int | None = None) -> dict:
    """Compare, for ``samples`` bookable stays, the price Google computes from what we push with our
    own quote (the landing page's price). Records the score on the connection
    (``settings["price_accuracy"]``) and raises a ``ChannelAlert`` when any stay differs."""
    import random

    from apps.availability.pricing import local_today
    from apps.availability.selectors import stay_check

    from .models import ChannelAlert, ChannelConnection
    from .services import alert_create

    conn = ChannelConnection.objects.select_related("property").get(pk=connection_id, platform=PLATFORM)
    prop = conn.property
    today = local_today(prop)
    start = today + timedelta(days=1)
    state = push_state(
        connection=conn, start=start, end=start + timedelta(days=SAMPLE_HORIZON_DAYS + SAMPLE_MAX_NIGHTS)
    )
    rng = random.Random(seed)  # noqa: S311 - sampling, not security
    checked, mismatches = 0, []
    for _ in range(samples * 20):
        if checked >= samples:
            break
        check_in = start + timedelta(days=rng.randrange(SAMPLE_HORIZON_DAYS))
        nights, guests = rng.randint(1, SAMPLE_MAX_NIGHTS), rng.randint(1, max(1, prop.max_guests))
        check = stay_check(prop=prop, check_in=check_in, check_out=check_in + timedelta(days=nights), guests=guests)
        if not check.bookable or check.quote is None:
            continue
        checked += 1
        google = google_stay_total(state, check_in=check_in, nights=nights, guests=guests, today=today)
        if google != check.quote.total:
            mismatches.append(
                {"check_in": check_in.isoformat(), "nights": nights, "guests": guests,
                 "google": str(google), "ours": str(check.quote.total)}
            )  # fmt: skip
    score = (checked - len(mismatches)) / checked if checked else None
    result = {
        "checked_at": timezone.now().isoformat(),
        "sampled": checked,
        "matched": checked - len(mismatches),
        "score": score,
        "mismatches": mismatches[:10],
    }
    ChannelConnection.objects.filter(pk=conn.pk).update(settings={**(conn.settings or {}), "price_accuracy": result})
    if mismatches:
        alert_create(
            connection=conn,
            property_id=prop.pk,
            kind=ChannelAlert.Kind.RECONCILIATION,
            message=f"Google price accuracy: {len(mismatches)} of {checked} sampled stays would show a price "
            "that differs from our booking page.",
            details={"check": "google_price_accuracy", **result},
        )
    return result
