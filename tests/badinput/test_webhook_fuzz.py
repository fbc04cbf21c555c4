"""Fuzz every inbound route (issue 11): platform webhooks, Airbnb's calls, the Stripe webhook.

The routes are read from the URL configuration (everything under ``/webhooks/`` and
``/payments/``), so a route added later is fuzzed too. Each gets hostile bodies (random bytes, 3 MiB,
XML bombs and external entities, deep JSON and XML, NUL bytes, non-UTF-8, wrong content types) with
every method, and correctly signed messages carrying out-of-range values (Booking.com: hypothesis
over every field of a real-shaped reservation; Stripe: hypothesis over the event's fields). Each
answer must be below 500, and where the input was refused nothing stored may change: no booking,
no night taken, no payment touched.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import stripe
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.availability.models import OccupiedNight
from apps.bookings.models import Booking
from apps.channels.models import ChannelConnection, InboundMessage
from apps.payments.models import Payment
from apps.sandbox import booking_com as sim
from apps.sandbox.models import SimListing, SimReservation
from tests.stripe_fixtures import WEBHOOK_SECRET

from .fuzz import FAILURES, TRIED, examples, fixed_bodies

pytestmark = pytest.mark.django_db

SECRET = "whsec-fuzz"  # noqa: S105
HOTEL = "4242"
SAMPLE = {"platform": "booking_com", "partner": "fuzz", "owner_id": "1", "token": "x", "code": "HM123",
          "external_id": "R-1", "kind": "listings"}  # fmt: skip
#: where platforms call us: webhooks, Stripe, and the FeWo-direkt / Vrbo endpoints it calls and crawls
INBOUND_PREFIXES = ("webhooks/", "payments/", "vrbo/")


def inbound_routes() -> list[str]:
    """Every URL under /webhooks/, /payments/ and /vrbo/, with sample values for its parameters."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern):
                found.append(prefix + route)

    walk(get_resolver().url_patterns, "")
    out = set()
    for route in found:
        if not route.startswith(INBOUND_PREFIXES):
            continue
        path = "/" + route.lstrip("^").rstrip("$")
        for name, value in SAMPLE.items():
            for conv in ("slug", "int", "str", "path"):
                path = path.replace(f"<{conv}:{name}>", value)
        out.add(path)
    for platform in ("booking_com", "expedia", "fewo_direkt", "google_vr", "ical", "no-such-platform"):
        out.add(f"/webhooks/{platform}/")
    return sorted(out)


def _stored() -> tuple:
    return (
        Booking.objects.count(),
        OccupiedNight.objects.count(),
        list(Payment.objects.values_list("pk", "status", "amount_received", "amount_refunded").order_by("pk")),
    )


@pytest.fixture
def conn(prop):
    c = ChannelConnection(property=prop, platform="booking_com", external_property_id=HOTEL)
    c.set_secret("webhook_secret", SECRET)
    c.save()
    return c


def _client() -> Client:
    return Client(raise_request_exception=False)


def test_every_inbound_route_survives_hostile_bodies(conn, stripe_sandbox):
    routes = inbound_routes()
    assert "/payments/stripe/webhook/" in routes and "/webhooks/booking_com/" in routes
    before = _stored()
    client = _client()
    bodies = fixed_bodies()
    for path in routes:
        for name, body, ctype in bodies:
            for method in ("post", "put", "patch", "get", "delete"):
                data = body if method in ("post", "put", "patch") else None
                kwargs = {"data": data, "content_type": ctype} if data is not None else {}
                # signed with the right secrets, so the body reaches the parsers behind the signature
                stamp = str(int(time.time()))
                headers = sim.signed_headers(secret=SECRET, body=body, event_id="fuzz", timestamp=int(stamp))
                kwargs["HTTP_X_TIMESTAMP"] = headers["X-Timestamp"]
                kwargs["HTTP_X_SIGNATURE"] = headers["X-Signature"]
                text = body.decode("utf-8", "surrogateescape")
                try:
                    kwargs["HTTP_STRIPE_SIGNATURE"] = stripe.WebhookSignature.generate_signature_header(
                        text, WEBHOOK_SECRET
                    )
                except UnicodeEncodeError:
                    pass
                response = getattr(client, method)(path, **kwargs)
                TRIED["inbound routes: hostile bodies"] += 1
                if response.status_code >= 500:
                    FAILURES["inbound routes: hostile bodies"] += 1
                assert response.status_code < 500, (method, path, name, response.status_code, response.content[:200])
    assert _stored() == before
    assert not InboundMessage.objects.filter(status="received").exists()  # none left half-processed


@pytest.fixture
def gunicorn_url(transactional_db, settings):
    """The production web server (gunicorn, as in the Procfile) on a free port, on the test database."""
    db = settings.DATABASES["default"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pms.settings_test",
        "DATABASE_URL": (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "SECRET_KEY": "test-secret-key-not-for-production",
    }
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "pms.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()[-2000:]) from None
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def test_chunked_bodies_are_read(conn, gunicorn_url):
    """A signed message sent with ``Transfer-Encoding: chunked`` was stored empty and lost (400)."""
    body = _message(res_id="CHUNK-1", days_ahead=30)
    headers = sim.signed_headers(secret=SECRET, body=body, event_id="chunk")
    url = urlsplit(gunicorn_url)
    conn_http = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    chunks = iter([body[:100], body[100:1000], body[1000:]])
    conn_http.request("POST", "/webhooks/booking_com/", body=chunks, headers=headers, encode_chunked=True)
    response = conn_http.getresponse()
    payload = json.loads(response.read())
    conn_http.close()
    assert response.status == 200, payload
    msg = InboundMessage.objects.get(pk=payload["message_id"])
    assert msg.body.encode() == body and msg.status == "processed"
    assert Booking.objects.filter(external_id="CHUNK-1").exists()


def _message(*, res_id: str, days_ahead: int, nights: int = 3) -> bytes:
    listing, _ = SimListing.objects.get_or_create(
        hotel_code=HOTEL, defaults={"username": "fuzz", "password": "p", "room_code": "101"}
    )
    start = timezone.localdate() + timedelta(days=days_ahead)
    res = sim.create_reservation(
        listing=listing, check_in=start, check_out=start + timedelta(days=nights), total=Decimal("300.00"), force=True
    )
    SimReservation.objects.filter(pk=res.pk).update(version=1, status="booked")
    res.refresh_from_db()
    doc = sim.reservation_document([res], modify=False)
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + sim.tostring(doc, encoding="utf-8")
    return body.replace(f'ResID_Value="{res.res_id}"'.encode(), f'ResID_Value="{res_id}"'.encode())


# Booking.com: every field of a correctly signed message -------------------------------------------
FIELDS = {
    "guests": (b'Count="2"', 'Count="{}"'),
    "total": (b'AmountAfterTax="300.00"', 'AmountAfterTax="{}"'),
    "currency": (b'CurrencyCode="EUR"', 'CurrencyCode="{}"'),
    "res_id": (b'ResID_Value="R-FUZZ"', 'ResID_Value="{}"'),
    "surname": (b"<Surname>Guest</Surname>", "<Surname>{}</Surname>"),
}
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=600),
    st.sampled_from(
        ["40000", "-1", "0", "1e20", "NaN", "Infinity", "-Infinity", "EURO", "XXX", "", " ", "9" * 400, "1" * 30,
         "0001-01-01", "9999-12-31", "\t", "&amp;", "&#0;", "]]>", "<x/>", "2", "300.001"]
    ),
)  # fmt: skip


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_signed_booking_com_messages_with_hostile_fields(client, conn, field):
    template = _message(res_id="R-FUZZ", days_ahead=25)
    old, new = FIELDS[field]
    assert old in template
    area = "Booking.com signed messages: hostile field values"

    @settings(
        max_examples=examples(15),
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(value=hostile_text)
    def run(value):
        text = "".join(c for c in value if c not in "\x00\ufffe\uffff" and not 0xD800 <= ord(c) <= 0xDFFF)
        body = template.replace(old, new.format(_xml_escape(text)).encode("utf-8"))
        before = _stored()
        headers = sim.signed_headers(secret=SECRET, body=body, event_id="fuzz")
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
        response = _client().post("/webhooks/booking_com/", data=body, content_type="application/xml", **extra)
        TRIED[area] += 1
        assert response.status_code < 500, (field, value, response.content[:300])
        answer = response.json()
        outcomes = {r.get("outcome") for r in answer.get("reservations", {}).values()}
        if response.status_code >= 400 or outcomes <= {"invalid", "refused", "failed", "duplicate"}:
            assert _stored() == before, (field, value, answer)
        # whatever happened, the message was answered for good: never left "received"
        assert InboundMessage.objects.get(pk=answer["message_id"]).status != "received"

    run()


def test_too_many_reservations_in_one_message_are_refused_fast(client, conn):
    listing, _ = SimListing.objects.get_or_create(
        hotel_code=HOTEL, defaults={"username": "fuzz", "password": "p", "room_code": "101"}
    )
    start = timezone.localdate() + timedelta(days=10)
    day = timedelta(days=1)
    made = [
        sim.create_reservation(listing=listing, check_in=start + i * day, check_out=start + (i + 1) * day, force=True)
        for i in range(60)
    ]
    body = b'<?xml version="1.0"?>' + sim.tostring(sim.reservation_document(made, modify=False), encoding="utf-8")
    headers = sim.signed_headers(secret=SECRET, body=body, event_id="many")
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    response = client.post("/webhooks/booking_com/", data=body, content_type="application/xml", **extra)
    assert response.status_code == 413, response.content[:300]
    assert not Booking.objects.exists()
    assert InboundMessage.objects.get().status == "invalid"


# Stripe: correctly signed events with hostile fields --------------------------------------------
json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), st.floats(allow_nan=False),
    st.text(max_size=30), st.sampled_from(["pi_", "pi_" + "x" * 300, "evt_\u0000", "\ud800", "x" * 6000]),
)  # fmt: skip
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)  # noqa: E501


def test_signed_stripe_events_with_hostile_fields(stripe_sandbox, alice, prop):
    area = "Stripe webhook: signed events with hostile fields"

    @settings(
        max_examples=examples(40),
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(
        event_id=st.one_of(st.text(max_size=20), st.sampled_from(["evt_ok", "evt_" + "x" * 5000, "evt_\u0000"])),
        event_type=st.one_of(
            st.sampled_from(["payment_intent.succeeded", "payment_intent.payment_failed", "ping"]), st.text(max_size=20)
        ),  # fmt: skip
        obj=st.one_of(json_value, st.fixed_dictionaries({"id": json_leaf, "object": json_leaf})),
        extra=st.dictionaries(st.text(max_size=8), json_value, max_size=3),
    )
    def run(event_id, event_type, obj, extra):
        event = {**extra, "id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}
        body = json.dumps(event)
        before = _stored()
        header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
        response = _client().post(
            "/payments/stripe/webhook/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        TRIED[area] += 1
        assert response.status_code < 500, (event, response.content[:300])
        assert _stored() == before

    run()


def test_a_300_character_last_modify_date_time_is_refused_for_good(client, conn):
    """Finding 5: a signed message with a 300-character ``LastModifyDateTime`` answered 503 forever."""
    import re

    body = re.sub(rb'LastModifyDateTime="[^"]*"', b'LastModifyDateTime="' + b"2" * 300 + b'"', _message(
        res_id="R-LONG", days_ahead=20
    ))  # fmt: skip
    assert b"2" * 300 in body
    headers = sim.signed_headers(secret=SECRET, body=body, event_id="long")
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    for _ in range(2):  # a retry gets the same permanent answer
        response = client.post("/webhooks/booking_com/", data=body, content_type="application/xml", **extra)
        assert response.status_code == 200, response.content[:300]
        outcome = next(iter(response.json()["reservations"].values()))
        assert outcome["outcome"] == "invalid" and outcome["field"] == "version", outcome
    assert not Booking.objects.exists()
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"failed"}
