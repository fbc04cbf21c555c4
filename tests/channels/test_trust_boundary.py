"""Issue 9: a message that arrives through connection C touches only C's property.

Alice and Bob each connect their own property to Booking.com with their own hotel id and their
own webhook secret. Bob (the outsider here) signs messages correctly with *his* secret and *his*
hotel id, but names Alice's reservation ids. Nothing of Alice's may change, nothing in Bob's
answers may reveal that the id exists, and Bob can never pre-claim an id so that Alice's genuine
reservation is lost.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.bookings.models import Booking
from apps.channels.adapters.base import AdapterError, ChannelReservation
from apps.channels.models import ChannelAlert, ChannelConnection, InboundMessage
from apps.channels.services import reservation_apply
from apps.sandbox import booking_com as sim
from apps.sandbox.models import SimListing, SimReservation

pytestmark = pytest.mark.django_db

ALICE_SECRET = "whsec-alice"  # noqa: S105
BOB_SECRET = "whsec-bob"  # noqa: S105


def _conn(prop, hotel: str, secret: str) -> ChannelConnection:
    conn = ChannelConnection(property=prop, platform="booking_com", external_property_id=hotel)
    conn.set_secret("webhook_secret", secret)
    conn.save()
    return conn


@pytest.fixture
def alice_conn(prop):
    return _conn(prop, "1111", ALICE_SECRET)


@pytest.fixture
def bob_conn(bob_prop):
    return _conn(bob_prop, "2222", BOB_SECRET)


def _message(*, hotel: str, res_id: str, days_ahead: int, nights: int = 3, status: str = "new", total="300.00"):
    """A real-shaped, signable Booking.com message (built by the simulator's own code)."""
    listing, _ = SimListing.objects.get_or_create(
        hotel_code=hotel, defaults={"username": f"u{hotel}", "password": "p", "room_code": "101"}
    )
    start = timezone.localdate() + timedelta(days=days_ahead)
    res = sim.create_reservation(
        listing=listing, check_in=start, check_out=start + timedelta(days=nights), total=Decimal(total), force=True
    )
    SimReservation.objects.filter(pk=res.pk).update(
        version=1 if status == "new" else 2,
        status={"new": "booked", "modified": "modified", "cancelled": "cancelled"}[status],
    )
    res.refresh_from_db()
    doc = sim.reservation_document([res], modify=status != "new")
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + sim.tostring(doc, encoding="utf-8")
    # the simulator numbers its own reservations: name the id this test is about instead
    return body.replace(f'ResID_Value="{res.res_id}"'.encode(), f'ResID_Value="{res_id}"'.encode())


def _post(client, body: bytes, secret: str):
    headers = sim.signed_headers(secret=secret, body=body, event_id="e")
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    return client.post(
        reverse("channels:webhook", args=["booking_com"]), data=body, content_type="application/xml", **extra
    )


@pytest.fixture
def alices_booking(client, alice_conn):
    r = _post(client, _message(hotel="1111", res_id="R-100", days_ahead=30), ALICE_SECRET)
    assert r.status_code == 200, r.content
    booking = Booking.objects.get(source="booking_com", external_id="R-100")
    assert booking.property_id == alice_conn.property_id
    return booking


def _unchanged(booking: Booking) -> None:
    before = (booking.check_in, booking.check_out, booking.total_price, booking.status, booking.guests)
    booking.refresh_from_db()
    assert (booking.check_in, booking.check_out, booking.total_price, booking.status, booking.guests) == before


@pytest.mark.parametrize("status", ["modified", "cancelled", "new"])
def test_another_owners_connection_cannot_change_cancel_or_answer_for_a_booking(
    client, alices_booking, bob_conn, status
):
    body = _message(hotel="2222", res_id="R-100", days_ahead=60, status=status, total="1.00")
    r = _post(client, body, BOB_SECRET)
    assert r.status_code == 200, r.content
    _unchanged(alices_booking)
    # Bob's answer and Bob's inbound log say nothing about Alice's booking
    answered_ids = {v.get("booking_id") for v in r.json()["reservations"].values()} | {r.json().get("booking_id")}
    assert alices_booking.pk not in answered_ids
    assert alices_booking.reference not in json.dumps(r.json())
    msg = InboundMessage.objects.filter(connection=bob_conn).latest("received_at")
    assert msg.booking_id != alices_booking.pk
    assert alices_booking.reference not in json.dumps(msg.result)
    # the same answer as for an id nobody holds
    unknown = _post(client, _message(hotel="2222", res_id="R-nobody", days_ahead=90, status=status), BOB_SECRET)
    assert r.json()["status"] == unknown.json()["status"]
    outcome = next(iter(r.json()["reservations"].values()))["outcome"]
    assert outcome == next(iter(unknown.json()["reservations"].values()))["outcome"]
    # staff are told; neither owner's alert list shows the other's property
    collision = ChannelAlert.objects.get(kind="id_collision")
    assert collision.property_id is None and collision.details["connection_id"] == bob_conn.pk
    assert not ChannelAlert.objects.visible_to(bob_conn.property.owner).filter(kind="id_collision").exists()
    assert not ChannelAlert.objects.visible_to(alices_booking.property.owner).filter(kind="id_collision").exists()


def test_a_pre_claimed_id_does_not_stop_the_genuine_reservation(client, alice_conn, bob_conn):
    # Bob claims Alice's (future) reservation id first ...
    r = _post(client, _message(hotel="2222", res_id="R-200", days_ahead=40), BOB_SECRET)
    assert r.status_code == 200
    # ... Alice's genuine, correctly signed message for the same id still makes her booking
    r = _post(client, _message(hotel="1111", res_id="R-200", days_ahead=40), ALICE_SECRET)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "processed", r.json()
    outcome = next(iter(r.json()["reservations"].values()))
    assert outcome["outcome"] == "created"
    alices = Booking.objects.get(property=alice_conn.property, external_id="R-200")
    assert alices.status == "confirmed" and outcome["booking_id"] == alices.pk
    # and a replay of Alice's message is a duplicate of *hers*
    r = _post(client, _message(hotel="1111", res_id="R-200", days_ahead=40), ALICE_SECRET)
    assert next(iter(r.json()["reservations"].values()))["booking_id"] == alices.pk
    assert Booking.objects.filter(external_id="R-200").count() == 2  # one per property, never merged


def test_pulled_and_reconciled_reservations_are_scoped_to_the_connection(alices_booking, bob_conn):
    """The pull and reconciliation paths apply through the same scoped lookup."""
    start = timezone.localdate() + timedelta(days=70)
    for status in ("modified", "cancelled"):
        result = reservation_apply(
            connection=bob_conn,
            reservation=ChannelReservation(
                external_id="R-100",
                status=status,
                check_in=start,
                check_out=start + timedelta(days=2),
                total=Decimal("1.00"),
                hotel_code="2222",
                version="9",
            ),
        )
        assert result.booking_id != alices_booking.pk
        _unchanged(alices_booking)


def test_unsigned_or_unknown_hotel_answers_do_not_reveal_which_hotels_are_connected(client, alice_conn):
    known = _post(client, _message(hotel="1111", res_id="R-1", days_ahead=20), "wrong-secret")
    unknown = _post(client, _message(hotel="9999", res_id="R-2", days_ahead=20), "wrong-secret")
    assert known.status_code == unknown.status_code == 403
    strip = lambda answer: {k: v for k, v in answer.items() if k != "message_id"}  # noqa: E731
    assert strip(known.json()) == strip(unknown.json())


# --- outbound: the SSRF guard holds on every hop and every connected address -----------------------
class _Target(BaseHTTPRequestHandler):
    """A tiny HTTP server: /redirect -> 302 to ``location``, /secret -> 400 with a private body."""

    location = ""

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.server.location)
            self.end_headers()
        elif self.path.startswith("/secret"):
            body = b"INTERNAL-ONLY root:x:0:0 database password hunter2"
            self.send_response(400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            body = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args):
        pass


@pytest.fixture
def servers():
    """Two local servers: ``public`` (allow-listed, stands for a platform) and ``internal``."""
    started = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
    public, internal = started
    yield public, internal
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture
def guard_on(settings, servers):
    public, _ = servers
    settings.ALLOW_PRIVATE_HOSTS = False
    settings.SSRF_ALLOWED_HOSTS = [f"127.0.0.1:{public.server_port}"]
    return settings


def _url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_port}{path}"


def test_a_redirect_to_a_private_address_is_refused(guard_on, servers):
    from apps.core.net import PrivateHostRefused, http_request

    public, internal = servers
    assert http_request("GET", _url(public, "/feed.ics"), timeout=5).status_code == 200  # control: allowed
    public.location = _url(public, "/feed.ics")
    assert http_request("GET", _url(public, "/redirect"), timeout=5).status_code == 200  # hop to itself: fine
    public.location = _url(internal, "/feed.ics")
    with pytest.raises(PrivateHostRefused):
        http_request("GET", _url(public, "/redirect"), timeout=5)
    # a host name resolving to loopback is judged by the address actually connected
    public.location = f"http://localhost:{internal.server_port}/feed.ics"
    with pytest.raises(PrivateHostRefused):
        http_request("GET", _url(public, "/redirect"), timeout=5)


def test_ical_import_and_adapters_refuse_a_redirect_to_a_private_address(guard_on, servers, prop):
    from apps.channels import ical
    from apps.channels.adapters.booking_com import BookingComAdapter

    public, internal = servers
    public.location = _url(internal, "/feed.ics")
    result = ical.import_feed(property_id=prop.pk, source="airbnb", connection_id=None, url=_url(public, "/redirect"))
    assert not result.ok and result.error_code == "forbidden_host", result
    conn = ChannelConnection(property=prop, platform="booking_com", base_url=_url(public, "/redirect"))
    with pytest.raises(AdapterError) as exc:
        BookingComAdapter(conn)._http("GET", _url(public, "/redirect"))
    assert exc.value.kind == "permanent" and "not a public address" in str(exc.value)


def test_platform_error_answers_are_not_echoed_to_the_owner(guard_on, servers, prop):
    from apps.channels.adapters.booking_com import BookingComAdapter

    public, _ = servers
    conn = ChannelConnection(
        property=prop, platform="booking_com", base_url=_url(public, "/secret"), auth_scheme="none"
    )
    with pytest.raises(AdapterError) as exc:
        BookingComAdapter(conn)._call("GET", "")
    assert exc.value.http_status == 400
    assert "INTERNAL-ONLY" not in str(exc.value) and "hunter2" not in str(exc.value)


# --- every field of a signed message is checked: a permanent, recorded refusal, never a 503 ----------
@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('Count="2"', 'Count="40000"', "guests"),
        ('AmountAfterTax="300.00"', 'AmountAfterTax="1e20"', "total"),
        ('AmountAfterTax="300.00"', 'AmountAfterTax="NaN"', "total"),
        ('AmountAfterTax="300.00"', 'AmountAfterTax="Infinity"', "total"),
        ('CurrencyCode="EUR"', 'CurrencyCode="EURO"', "currency"),
        ('ResID_Value="R-9"', 'ResID_Value="' + "9" * 150 + '"', "reservation id"),
        ('ResID_Value="R-9"', 'ResID_Value="' + "9" * 400 + '"', "reservation id"),
        ("<Surname>Guest</Surname>", "<Surname>" + "x" * 300 + "</Surname>", "last name"),
        ("</PersonName>", "</PersonName><Email>" + "a" * 300 + "@x.de</Email>", "e-mail"),
    ],
)
def test_out_of_range_values_in_a_signed_message_are_refused_for_good(client, alice_conn, old, new, field):
    body = _message(hotel="1111", res_id="R-9", days_ahead=25)
    assert old.encode() in body
    body = body.replace(old.encode(), new.encode())
    r = _post(client, body, ALICE_SECRET)
    assert r.status_code == 200, r.content  # an answer, never "try again" (503)
    outcome = next(iter(r.json()["reservations"].values()))
    assert outcome["outcome"] == "invalid" and outcome["field"] == field, outcome
    msg = InboundMessage.objects.get(pk=r.json()["message_id"])
    assert msg.status == "failed" and new.encode()[:50].decode() in msg.body  # raw kept
    assert not Booking.objects.exists()
    assert ChannelAlert.objects.filter(kind="inbound_failed", property=alice_conn.property).exists()
    # a retry gets the same answer (nothing claimed, nothing half-written)
    again = _post(client, body, ALICE_SECRET)
    assert next(iter(again.json()["reservations"].values()))["outcome"] == "invalid"


@pytest.mark.parametrize(
    ("start", "nights"),
    [(-800, 3), (2000, 3), (10, 400)],
)
def test_stays_outside_the_sane_window_are_refused(client, alice_conn, start, nights):
    body = _message(hotel="1111", res_id="R-10", days_ahead=start, nights=nights)
    r = _post(client, body, ALICE_SECRET)
    assert r.status_code == 200, r.content
    assert next(iter(r.json()["reservations"].values()))["outcome"] == "invalid"
    assert not Booking.objects.exists()
