"""Reviewer's edge cases for ``POST /webhooks/<platform>/``: odd input is always a 4xx, never a
500 or 503, the raw message is kept, and a hotel code cannot be claimed by a second owner."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from apps.channels.models import ChannelConnection, InboundMessage
from apps.sandbox import booking_com as sim
from apps.sandbox.models import SimListing
from tests.factories import PropertyFactory, make_owner

pytestmark = pytest.mark.django_db

SECRET = "whsec-review"  # noqa: S105


class RES_XML:  # noqa: N801 - a tiny stand-in with the format() of a template
    @staticmethod
    def format(*, code: str) -> str:
        """A real-shaped reservation message for hotel ``code`` (from the simulator)."""
        from datetime import date, timedelta

        listing, _ = SimListing.objects.get_or_create(
            hotel_code=code, defaults={"username": f"u{code}", "password": "p", "room_code": "101"}
        )
        start = date.today() + timedelta(days=40)
        res = sim.create_reservation(listing=listing, check_in=start, check_out=start + timedelta(days=2), force=True)
        doc = sim.tostring(sim.reservation_document([res], modify=False), encoding="unicode")
        return '<?xml version="1.0"?>' + doc


@pytest.fixture
def conn(prop):
    c = ChannelConnection(property=prop, platform="booking_com", external_property_id="777")
    c.set_secret("webhook_secret", SECRET)
    c.save()
    return c


def _post(client, body: bytes, headers: dict | None = None, platform: str = "booking_com", **kw):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items() if k != "Content-Type"}
    ctype = (headers or {}).get("Content-Type", kw.pop("content_type", "application/xml"))
    return client.post(reverse("channels:webhook", args=[platform]), data=body, content_type=ctype, **extra)


def _signed(body: bytes, ts: int | None = None) -> dict:
    return sim.signed_headers(secret=SECRET, body=body, event_id="e1", timestamp=ts)


def test_nul_bytes_in_body_are_a_400_and_the_raw_message_is_kept(client, conn):
    body = b"<OTA_HotelResNotifRQ>\x00\x00</OTA_HotelResNotifRQ>"
    r = _post(client, body, _signed(body))
    assert r.status_code == 400, r.content
    msg = InboundMessage.objects.get()
    assert msg.status == "invalid" and "OTA_HotelResNotifRQ" in msg.body


def test_nul_bytes_in_a_header_do_not_lose_the_message(client, conn):
    body = b"<x/>"
    r = _post(client, body, {**_signed(body), "X-Odd": "a\x00b"})
    assert r.status_code == 400, r.content
    assert InboundMessage.objects.get().status == "invalid"


@pytest.mark.parametrize(
    ("body", "headers", "platform", "expected"),
    [
        (b"", None, "booking_com", 403),  # empty, unsigned
        (b"", "signed", "booking_com", 400),  # empty, signed
        (b"<x/>", "signed", "nope", 404),  # unknown platform
        (b"<x/>", "signed", "airbnb", 404),  # known platform without a webhook adapter here
        (b'{"json": true}', "signed-json", "booking_com", 400),  # wrong content type / format
        (b"\xff\xfe\xfa not utf-8", "signed", "booking_com", 400),
        (("res", "999"), "signed", "booking_com", 403),  # unknown hotel
        (("res", ""), "signed", "booking_com", 403),  # no hotel code
        (("res", "777"), "old", "booking_com", 403),
        (("res", "777"), "future", "booking_com", 403),
        (("res", "777"), "huge-ts", "booking_com", 403),
        (("res", "777"), "junk-sig", "booking_com", 403),
    ],
)
def test_odd_webhooks_are_4xx_and_stored(client, conn, body, headers, platform, expected):
    now = int(time.time())
    if isinstance(body, tuple):
        body = RES_XML.format(code=body[1]).encode()
    hdrs = {
        None: {},
        "signed": _signed(body),
        "signed-json": {**_signed(body), "Content-Type": "application/json"},
        "old": _signed(body, ts=now - 86400 * 365),
        "future": _signed(body, ts=now + 86400 * 365),
        "huge-ts": {**_signed(body), "X-Timestamp": "9" * 5000},
        "junk-sig": {**_signed(body), "X-Signature": "sha256=\u00e9\u00e9"},
    }[headers]
    r = _post(client, body, hdrs, platform=platform)
    assert r.status_code == expected, r.content
    assert InboundMessage.objects.count() == 1
    msg = InboundMessage.objects.get()
    assert msg.property_id is None or msg.signature_valid is not False or msg.property_id == conn.property_id


def test_unknown_hotel_never_lands_in_an_owners_log(client, conn, bob_prop):
    """A blank hotel code must not route to a connection that has no hotel id yet."""
    ChannelConnection.objects.create(property=bob_prop, platform="booking_com", external_property_id="")
    body = RES_XML.format(code="").encode()
    assert _post(client, body, _signed(body)).status_code == 403
    assert InboundMessage.objects.get().property_id is None


def test_a_second_owner_cannot_claim_anothers_hotel_code(client, alice, conn, prop):
    """Mallory adds a Booking.com connection with Alice's hotel id: refused (form error), so
    Alice's reservations (guest names) can never be routed into Mallory's inbound log."""
    mallory = make_owner("mallory")
    mprop = PropertyFactory(owner=mallory, name="Mallory's", slug="mallorys")
    client.force_login(mallory)
    r = client.post(
        reverse("admin:channels_channelconnection_add"),
        {
            "property": mprop.pk,
            "platform": "booking_com",
            "label": "",
            "external_property_id": "777",
            "external_room_id": "",
            "external_rate_plan_id": "",
            "base_url": "",
            "auth_scheme": "basic",
            "username": "",
            "ical_import_url": "",
            "ical_source": "",
            "sync_enabled": "on",
            "access_token": "",
            "webhook_secret": "mallory-secret",
        },
    )
    assert r.status_code == 200, "the form must refuse the duplicate hotel id"
    assert not ChannelConnection.objects.filter(property=mprop).exists()


def test_oversized_message_is_a_413_and_its_start_is_kept(client, conn):
    from apps.channels.inbound import MAX_BODY

    body = b"<OTA_HotelResNotifRQ>" + b"x" * MAX_BODY
    r = _post(client, body, _signed(body))
    assert r.status_code == 413, r.content
    msg = InboundMessage.objects.get()
    assert msg.status == "invalid" and "larger than" in msg.parse_error
    assert msg.body.startswith("<OTA_HotelResNotifRQ>") and len(msg.body) == MAX_BODY
