"""Database sessions terminated (``pg_terminate_backend``) under load (issue 12, findings 1 and 4).

A thread ends every session of the test database but the test's own, again and again, while API
clients create bookings (each with its Idempotency-Key, retrying whatever failed) and guests pay on
the guest pages. Asserted: no 500 (a lost connection is a 503 with Retry-After), every client retry
gets its own booking (never a conflict with it, never a second one), no guest whose card was charged
is shown an error for it, every paid booking ends confirmed and ``paid``, no overlapping stay; the
recovery times are printed.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

import pytest
import requests
from django.db import connection

from apps.api.models import IdempotencyRecord
from apps.availability import calendar
from apps.bookings.models import Booking, BookingStatus, PaymentStatus
from apps.core import outbox
from apps.core.db import reconnecting
from apps.core.models import SyncEvent
from apps.payments import gateway
from apps.payments import services as payment_services
from apps.payments.models import Payment
from tests.api.conftest import client_for
from tests.factories import PropertyFactory, future

from .conftest import BackendKiller, assert_no_overlap, connection_dies_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
RETRYABLE = {502, 503, 504}


def _retry_pause(response: requests.Response | None) -> float:
    if response is not None and response.headers.get("Retry-After", "").isdigit():
        return min(1.0, float(response.headers["Retry-After"]))  # a hurried client
    return 0.1


def test_api_creates_while_database_sessions_are_terminated(live_server, report):
    owner = PropertyFactory().owner
    prop = PropertyFactory(owner=owner)
    token = client_for(owner).raw_token
    clients, per_client = 3, 3
    outcomes: dict[str, requests.Response] = {}
    seen: Counter = Counter()
    recovery: list[float] = []
    errors: list[str] = []

    def client(c: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        for i in range(per_client):
            key = f"storm-{c}-{i}"
            start = 10 + (c * per_client + i) * 3  # every client's stays are its own: a 409 would be a bug
            body = {"property": prop.pk, "check_in": str(future(start)), "check_out": str(future(start + 2)),
                    "guests": 2, "client_reference": key}  # fmt: skip
            first_failure = None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                response = None
                try:
                    response = session.post(
                        live_server.url + "/api/v1/bookings/", json=body, headers={"Idempotency-Key": key}, timeout=30
                    )
                    seen[response.status_code] += 1
                    if not response.headers.get("Content-Type", "").startswith("application/json"):
                        errors.append(f"{key}: non-JSON answer {response.status_code}")
                    retry = response.status_code in RETRYABLE or (
                        response.status_code == 409 and response.json()["error"]["code"] == "idempotency_in_progress"
                    )
                except requests.RequestException as exc:
                    seen[type(exc).__name__] += 1
                    retry = True
                if not retry:
                    break
                first_failure = first_failure or time.monotonic()
                time.sleep(_retry_pause(response))
            outcomes[key] = response
            if first_failure is not None:
                recovery.append(time.monotonic() - first_failure)

    # widen the window in which a session dies inside the booking's transaction
    calendar.after_check_hook = lambda: time.sleep(0.05)
    try:
        with BackendKiller(interval=0.25, rounds=24) as killer:
            threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=300)
    finally:
        calendar.after_check_hook = None

    report(
        f"API creates under pg_terminate_backend: {killer.kills} sessions terminated; answers "
        f"{dict(seen)}; slowest recovery of a client's create {max(recovery, default=0):.2f} s"
    )
    assert not errors, errors
    assert killer.kills > 0
    assert 500 not in seen, seen
    assert len(outcomes) == clients * per_client
    for key, response in outcomes.items():
        assert response is not None and response.status_code == 201, (key, response and response.text[:300])
    ids = {r.json()["id"] for r in outcomes.values()}
    assert len(ids) == clients * per_client
    bookings = Booking.objects.filter(property=prop)
    assert bookings.count() == clients * per_client  # nobody got a second booking
    assert set(bookings.values_list("pk", flat=True)) == ids
    assert {b.client_reference: b.pk for b in bookings} == {k: r.json()["id"] for k, r in outcomes.items()}
    assert not IdempotencyRecord.objects.filter(state="in_progress", resource_id="").exists()
    for event_id in outbox.pending_event_ids(older_than_seconds=0):  # what beat's sweeper does
        outbox.event_dispatch(event_id=event_id)
    assert not SyncEvent.objects.filter(processed_at__isnull=True).exists()
    assert_no_overlap()


def test_guest_payments_while_database_sessions_are_terminated(live_server, stripe_sandbox, report):
    prop = PropertyFactory(slug="faulty-loft", max_guests=4)
    guests = 3
    base = live_server.url
    charged_then_error: list[str] = []
    seen: Counter = Counter()
    results: dict[int, str] = {}
    sessions: dict[int, requests.Session] = {}

    def with_retries(label: str, do, ok) -> requests.Response:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                response = do()
            except requests.RequestException as exc:
                seen[f"{label} {type(exc).__name__}"] += 1
                time.sleep(0.1)
                continue
            seen[f"{label} {response.status_code}"] += 1
            if ok(response):
                return response
            assert response.status_code in RETRYABLE, (label, response.status_code, response.text[:500])
            time.sleep(_retry_pause(response))
        raise AssertionError(f"{label}: no good answer within 120 s")

    def checkout(g: int) -> None:
        session = sessions[g] = requests.Session()
        check_in, check_out = future(20 + 5 * g), future(23 + 5 * g)
        url = f"/properties/{prop.slug}/book/?check_in={check_in}&check_out={check_out}&guests=2"
        page = with_retries("details page", lambda: session.get(base + url, timeout=30), lambda r: r.status_code == 200)
        details = {"first_name": f"Guest{g}", "last_name": "Faulty", "email": f"guest{g}@example.com",
                   "phone": "+49 30 1", "country": "DE", "special_requests": "",
                   "csrfmiddlewaretoken": CSRF.search(page.text).group(1)}  # fmt: skip
        with_retries(
            "details post",
            lambda: session.post(
                base + url, data=details, headers={"Referer": base + url}, allow_redirects=False, timeout=60
            ),  # fmt: skip
            lambda r: r.status_code == 302,
        )
        results[g] = "held"

    def pay(g: int) -> None:
        try:
            _pay(g)
        finally:
            connection.close()

    def _pay(g: int) -> None:
        session = sessions[g]
        page = with_retries(
            "payment page",
            lambda: session.get(base + "/checkout/payment/", timeout=30),
            lambda r: r.status_code == 200,
        )
        card = {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2040, "cvc": "123",
                "csrfmiddlewaretoken": CSRF.search(page.text).group(1)}  # fmt: skip
        booking = bookings[g]

        def post() -> requests.Response:
            response = session.post(
                base + "/checkout/payment/",
                data=card,
                headers={"Referer": base + "/checkout/payment/"},
                allow_redirects=False,
                timeout=60,
            )
            if response.status_code != 302:
                # an error page is only allowed while the card was not charged (this thread's own
                # database session is terminated too: look it up the way the app does, reconnecting)
                intents = reconnecting(lambda: list(Payment.objects.filter(booking=booking).values_list("intent_id")))
                for (intent_id,) in intents:
                    if gateway.payment_intent_retrieve(intent_id=intent_id).status == "succeeded":
                        charged_then_error.append(f"guest {g}: {response.status_code} after the charge")
            return response

        paid = with_retries("payment post", post, lambda r: r.status_code == 302)
        assert f"/bookings/{booking.reference}/" in paid.headers["Location"], paid.headers["Location"]
        results[g] = "paid"

    for g in range(guests):
        checkout(g)
    bookings = {
        g: Booking.objects.get(guest__email=f"guest{g}@example.com", status=BookingStatus.RESERVED)
        for g in range(guests)
    }
    started = time.monotonic()
    with BackendKiller(interval=0.25, rounds=24) as killer:
        threads = [threading.Thread(target=pay, args=(g,)) for g in range(guests)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    storm = time.monotonic() - started

    # whatever a lost connection left unsettled, the sweep settles (its 60 s grace aside)
    for payment in Payment.objects.filter(status=Payment.Status.SUCCEEDED, settled_at__isnull=True):
        payment_services.payment_sync(payment_id=payment.pk)
    payment_services.payment_status_repair()
    report(
        f"guest payments under pg_terminate_backend: {killer.kills} sessions terminated in {storm:.1f} s; "
        f"answers {dict(seen)}"
    )
    assert results == dict.fromkeys(range(guests), "paid"), results
    assert not charged_then_error, charged_then_error
    assert not [k for k in seen if k.endswith(" 500")], seen
    for booking in Booking.objects.filter(property=prop):
        assert booking.status == BookingStatus.CONFIRMED, booking
        assert booking.payment_status == PaymentStatus.PAID, booking
        assert booking.payments.filter(status=Payment.Status.SUCCEEDED).count() == 1  # charged once
    assert_no_overlap()


def test_guest_charged_while_the_database_connection_dies_sees_the_confirmation(live_server, stripe_sandbox):
    """The card is charged, then every attempt to record it finds its connection terminated: the guest
    is told the payment was received (never an error page); the sweep confirms the booking after."""
    prop = PropertyFactory(slug="flaky-loft", max_guests=4)
    session = requests.Session()
    base = live_server.url
    url = f"/properties/{prop.slug}/book/?check_in={future(30)}&check_out={future(33)}&guests=2"
    page = session.get(base + url, timeout=30)
    details = {"first_name": "Kim", "last_name": "Lost", "email": "kim@example.com", "phone": "", "country": "DE",
               "special_requests": "", "csrfmiddlewaretoken": CSRF.search(page.text).group(1)}  # fmt: skip
    held = session.post(base + url, data=details, headers={"Referer": base + url}, allow_redirects=False, timeout=60)
    assert held.status_code == 302, held.text[:300]
    page = session.get(base + "/checkout/payment/", timeout=30)
    card = {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2040, "cvc": "123",
            "csrfmiddlewaretoken": CSRF.search(page.text).group(1)}  # fmt: skip
    # every attempt the checkout makes (six fresh connections) finds its connection terminated
    with connection_dies_at(payment_services, "payment_apply_intent", times=6) as calls:
        paid = session.post(
            base + "/checkout/payment/", data=card, headers={"Referer": base + "/checkout/payment/"},
            allow_redirects=False, timeout=60,
        )  # fmt: skip
    assert calls["n"] == 6
    booking = Booking.objects.get(guest__email="kim@example.com")
    assert paid.status_code == 302 and f"/bookings/{booking.reference}/" in paid.headers["Location"], paid.text[:300]
    shown = session.get(base + paid.headers["Location"], timeout=30)
    assert shown.status_code == 200 and booking.reference in shown.text
    # nothing recorded yet; the sweep (or Stripe's webhook) settles it
    payment = Payment.objects.get(booking=booking)
    assert payment.status != Payment.Status.SUCCEEDED and booking.status == BookingStatus.RESERVED
    payment_services.payment_sync(payment_id=payment.pk)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.payment_status == PaymentStatus.PAID


def test_guest_sending_the_details_form_again_after_a_lost_answer_keeps_its_hold(live_server, stripe_sandbox):
    """The hold commits, then the connection dies before the answer (and before the session learns the
    hold): 503; the guest sends the form again and gets the hold it already has, not "just booked"."""
    prop = PropertyFactory(slug="held-loft", max_guests=4)
    session = requests.Session()
    base = live_server.url
    url = f"/properties/{prop.slug}/book/?check_in={future(40)}&check_out={future(43)}&guests=2"
    page = session.get(base + url, timeout=30)
    details = {"first_name": "Lou", "last_name": "Again", "email": "lou@example.com", "phone": "", "country": "DE",
               "special_requests": "", "csrfmiddlewaretoken": CSRF.search(page.text).group(1)}  # fmt: skip
    with connection_dies_at(payment_services, "checkout_start", times=1):
        lost = session.post(base + url, data=details, headers={"Referer": base + url}, allow_redirects=False,
                            timeout=60)  # fmt: skip
    assert lost.status_code == 503 and lost.headers["Retry-After"] == "2", lost.text[:300]
    hold = Booking.objects.get(property=prop)
    assert hold.status == BookingStatus.RESERVED and hold.client_reference.startswith("web-")
    again = session.post(base + url, data=details, headers={"Referer": base + url}, allow_redirects=False, timeout=60)
    assert again.status_code == 302 and again.headers["Location"] == "/checkout/payment/", again.text[:500]
    assert list(Booking.objects.filter(property=prop).values_list("pk", flat=True)) == [hold.pk]
    payment_page = session.get(base + "/checkout/payment/", timeout=30)
    assert payment_page.status_code == 200 and 'name="card_number"' in payment_page.text
    # another browser with the same details is another guest: it cannot take this hold
    other = requests.Session()
    page = other.get(base + url, timeout=30)
    theirs = other.post(base + url, data={**details, "csrfmiddlewaretoken": CSRF.search(page.text).group(1)},
                        headers={"Referer": base + url}, allow_redirects=False, timeout=60)  # fmt: skip
    assert theirs.status_code == 409
