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

from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element  # noqa: S405 (typing only)

import requests
from defusedxml import ElementTree as SafeET
from django.db import transaction
from django.utils import timezone

from . import faults
from .models.google_vr import GoogleAccount, GoogleListing

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
    try:
        root = SafeET.fromstring(response.content)
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
