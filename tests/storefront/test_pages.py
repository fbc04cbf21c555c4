"""Guest pages over Django's test client: search, property, checkout, payment, confirmation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from apps.bookings import services as booking_services
from apps.bookings import tokens
from apps.bookings.models import Booking, BookingStatus
from apps.properties.models import Property
from tests.factories import PropertyFactory, future

from .helpers import GUEST, checkout_url, property_url

pytestmark = pytest.mark.django_db


# --- search ---------------------------------------------------------------------------------------


def test_search_lists_active_homes_with_nightly_price(client, home, alice):
    PropertyFactory(owner=alice, name="Draft Hut", slug="draft-hut", status=Property.Status.DRAFT)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lakeside Loft" in html
    assert "Draft Hut" not in html
    assert "€120.00" in html  # nightly from, no dates
    assert "/static/demo/photo-1.svg" in html


def test_search_with_dates_shows_the_total_and_hides_taken_homes(client, home, alice):
    other = PropertyFactory(owner=alice, name="Busy Barn", slug="busy-barn", city="Potsdam")
    booking_services.booking_create(
        property_id=other.pk, check_in=future(20), check_out=future(23), guests=2, status=BookingStatus.CONFIRMED
    )
    response = client.get("/", {"location": "potsdam", "check_in": future(20), "check_out": future(23), "guests": 2})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lakeside Loft" in html and "Busy Barn" not in html
    assert "€400.00" in html  # 3 x 120 + 40 cleaning
    assert f"check_in={future(20).isoformat()}" in html  # the card links keep the stay


def test_search_filters_and_paging(client, alice):
    for i in range(14):
        PropertyFactory(owner=alice, name=f"Home {i:02d}", slug=f"home-{i}", bedrooms=1 + i % 3, amenities=["wifi"])
    PropertyFactory(owner=alice, name="Sauna House", slug="sauna-house", amenities=["sauna", "wifi"])
    page1 = client.get("/")
    assert page1.status_code == 200
    assert "15 homes found" in page1.content.decode()
    assert "page=2" in page1.content.decode()
    page2 = client.get("/", {"page": 2})
    assert page2.context["page"].page == 2 and len(page2.context["cards"]) == 3
    sauna = client.get("/", {"amenities": "sauna"})
    assert [c["property"].name for c in sauna.context["cards"]] == ["Sauna House"]
    big = client.get("/", {"min_bedrooms": 3})
    assert all(c["property"].bedrooms >= 3 for c in big.context["cards"]) and big.context["cards"]


def test_search_bad_input_is_a_form_error_not_a_500(client, home):
    response = client.get("/", {"check_in": future(10), "check_out": future(5)})
    assert response.status_code == 200
    assert "Check-out must be after check-in." in response.content.decode()
    assert client.get("/", {"check_in": "yesterday-ish", "guests": "many"}).status_code == 200


# --- property -------------------------------------------------------------------------------------


def test_property_page_shows_gallery_calendar_rules_policy(client, home):
    response = client.get(property_url(home.slug))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Lakeside Loft", "A bright loft by the lake.", "No smoking.", "Balcony", "Living room"):
        assert text in html
    assert len(response.context["months"]) == 2
    assert "Cancellation policy" in html and "5 days before check-in" in html
    assert "Book now" not in html  # no dates yet


def test_property_page_quote_and_book_now(client, home):
    response = client.get(property_url(home.slug, future(30), future(33), 2))
    html = response.content.decode()
    assert response.context["check"].bookable
    assert "€120.00 × 3 nights" in html and "Cleaning fee" in html and "€400.00" in html
    assert "Book now" in html
    assert checkout_url(home.slug, future(30), future(33), 2).replace("&", "&amp;") in html


def test_property_page_explains_why_not_bookable_and_offers_alternatives(client, home):
    booking_services.booking_create(
        property_id=home.pk, check_in=future(30), check_out=future(33), guests=2, status=BookingStatus.CONFIRMED
    )
    response = client.get(property_url(home.slug, future(31), future(34), 2))
    html = response.content.decode()
    assert response.status_code == 200
    assert "These dates can't be booked" in html
    assert "Already booked:" in html
    alts = response.context["alternatives"]
    assert alts, "nearest free dates are offered"
    assert {(a["check_in"], a["check_out"]) for a in alts} == {(future(27), future(30)), (future(33), future(36))}


def test_property_page_calendar_navigation_and_too_many_guests(client, home):
    nxt = client.get(property_url(home.slug) + "?month=2099-01")
    assert nxt.status_code == 200
    assert client.get(property_url(home.slug) + "?month=garbage").status_code == 200
    crowd = client.get(property_url(home.slug, future(30), future(33), 9))
    assert "at most 4 guests" in crowd.content.decode()


def test_unknown_or_inactive_property_is_404(client, home):
    assert client.get(property_url("nope")).status_code == 404
    Property.objects.filter(pk=home.pk).update(status=Property.Status.INACTIVE)
    assert client.get(property_url(home.slug)).status_code == 404


# --- checkout -------------------------------------------------------------------------------------


def test_checkout_creates_a_hold_then_pays_and_confirms(
    client, home, stripe_sandbox, django_capture_on_commit_callbacks
):
    url = checkout_url(home.slug, future(40), future(43))
    assert client.get(url).status_code == 200
    response = client.post(url, GUEST)
    assert response.status_code == 302 and response["Location"] == reverse("storefront:payment")
    booking = Booking.objects.get(property=home)
    assert booking.status == BookingStatus.RESERVED and booking.hold_expires_at is not None
    assert booking.source == "direct" and booking.guest.email == "ana@example.com"
    assert booking.special_requests == "Late arrival around 22:00"
    assert booking.payments.count() == 1

    pay_page = client.get(reverse("storefront:payment"))
    html = pay_page.content.decode()
    assert pay_page.status_code == 200
    assert "minutes left" in html and "Confirm and pay €400.00" in html
    assert 9 * 60 <= pay_page.context["seconds_left"] <= 600

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            reverse("storefront:payment"),
            {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2040, "cvc": "123"},
        )
    assert done.status_code == 302
    assert done["Location"] == tokens.confirmation_path(reference=booking.reference)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED

    confirmation = client.get(done["Location"])
    html = confirmation.content.decode()
    assert "Booking confirmed!" in html and booking.reference in html
    assert "15:00" in html and "11:00" in html and "Europe/Berlin" in html
    assert 'http-equiv="refresh"' not in html
    # The confirmation e-mail went out through the outbox.
    subjects = [m.subject for m in mail.outbox]
    assert f"Booking confirmed: Lakeside Loft ({booking.reference})" in subjects
    # Visiting the payment step again goes to the confirmation.
    assert client.get(reverse("storefront:payment"))["Location"] == done["Location"]


def test_declined_card_shows_the_message_and_keeps_the_hold(client, home, stripe_sandbox):
    url = checkout_url(home.slug, future(40), future(43))
    client.post(url, GUEST)
    response = client.post(
        reverse("storefront:payment"),
        {"card_number": "4000 0000 0000 0002", "exp_month": 12, "exp_year": 2040, "cvc": "123"},
    )
    assert response.status_code == 402
    assert "declined" in response.content.decode().lower()
    booking = Booking.objects.get(property=home)
    assert booking.status == BookingStatus.RESERVED


def test_back_keeps_the_details_and_the_hold(client, home, stripe_sandbox):
    url = checkout_url(home.slug, future(40), future(43))
    client.post(url, GUEST)
    first = Booking.objects.get(property=home)
    back = client.get(url)
    assert back.status_code == 200
    assert back.context["form"].initial["email"] == "ana@example.com"
    assert 'value="Ana"' in back.content.decode()
    again = client.post(url, GUEST)
    assert again.status_code == 302
    assert list(Booking.objects.filter(property=home).values_list("pk", "status")) == [(first.pk, "reserved")]
    # Changed details: the old hold is released, a new one taken.
    client.post(url, {**GUEST, "first_name": "Anabel"})
    statuses = dict(Booking.objects.filter(property=home).values_list("pk", "status"))
    assert statuses[first.pk] == "cancelled" and list(statuses.values()).count("reserved") == 1


def test_checkout_form_errors_are_400_not_500(client, home, stripe_sandbox):
    url = checkout_url(home.slug, future(40), future(43))
    response = client.post(url, {**GUEST, "email": "not-an-email", "phone": "abc"})
    assert response.status_code == 400
    assert not Booking.objects.exists()
    bad = client.get(checkout_url(home.slug, future(43), future(40)))
    assert bad.status_code == 302  # back to the property page to pick dates


def test_checkout_for_taken_dates_shows_conflict_with_alternatives(client, home, stripe_sandbox):
    page = client.get(checkout_url(home.slug, future(40), future(43)))  # a guest opens the form ...
    assert page.status_code == 200
    booking_services.booking_create(  # ... while another guest takes the dates
        property_id=home.pk,
        check_in=future(41),
        check_out=future(44),
        guests=2,
        guest=booking_services.GuestData(first_name="Bo", email="bo@example.com"),
    )
    response = client.post(checkout_url(home.slug, future(40), future(43)), GUEST)
    assert response.status_code == 409
    html = response.content.decode()
    assert "data-conflict" in html
    assert response.context["alternatives"]
    assert Booking.objects.filter(status="reserved").count() == 1


def test_expired_hold_on_the_payment_step(client, home, stripe_sandbox):
    client.post(checkout_url(home.slug, future(40), future(43)), GUEST)
    booking = Booking.objects.get(property=home)
    booking_services.booking_cancel(booking_id=booking.pk, reason="Hold expired before payment.")
    page = client.get(reverse("storefront:payment"))
    assert page.status_code == 200 and "Your hold on these dates has ended." in page.content.decode()
    post = client.post(
        reverse("storefront:payment"), {"card_number": "4242424242424242", "exp_month": 1, "exp_year": 2040, "cvc": "1"}
    )
    assert post.status_code == 410


def test_payment_step_without_a_checkout_redirects(client):
    assert client.get(reverse("storefront:payment"))["Location"] == "/"


# --- confirmation ---------------------------------------------------------------------------------


@pytest.fixture
def reserved(home):
    return booking_services.booking_create(
        property_id=home.pk,
        check_in=future(50),
        check_out=future(52),
        guests=2,
        guest=booking_services.GuestData(first_name="Ana", email="ana@example.com"),
    )


def test_confirmation_needs_a_valid_signature(client, reserved):
    url = reverse("storefront:confirmation", kwargs={"reference": reserved.reference})
    assert client.get(url).status_code == 404
    assert client.get(url + "?t=forged").status_code == 404
    other = tokens.confirmation_token(reference="PMS-2000-000001")
    assert client.get(url + f"?t={other}").status_code == 404


def test_confirmation_while_processing_refreshes(client, reserved):
    response = client.get(tokens.confirmation_path(reference=reserved.reference))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Processing your payment" in html and 'http-equiv="refresh"' in html


def test_confirmation_ics_and_print_view(client, reserved):
    booking_services.booking_confirm(booking_id=reserved.pk)
    path = tokens.confirmation_path(reference=reserved.reference)
    token = path.split("?t=")[1]
    ics = client.get(reverse("storefront:confirmation_ics", kwargs={"reference": reserved.reference}), {"t": token})
    assert ics.status_code == 200 and ics["Content-Type"].startswith("text/calendar")
    body = ics.content.decode()
    assert "BEGIN:VEVENT" in body and reserved.reference in body
    start = future(50).strftime("%Y%m%d")
    assert f"DTSTART:{start}T140000Z" in body  # 15:00 in Berlin (winter) or 13:00Z in summer
    printable = client.get(path + "&print=1")
    assert 'class="print-view"' in printable.content.decode()


def test_confirmation_ics_check_in_time_is_property_local(client, reserved):
    booking_services.booking_confirm(booking_id=reserved.pk)
    token = tokens.confirmation_token(reference=reserved.reference)
    body = client.get(
        reverse("storefront:confirmation_ics", kwargs={"reference": reserved.reference}), {"t": token}
    ).content.decode()
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    expected = datetime.combine(future(50), reserved.property.check_in_time, tzinfo=ZoneInfo("Europe/Berlin"))
    assert "DTSTART:" + expected.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") in body


def test_pages_in_german(client, home):
    client.cookies["django_language"] = "de"
    response = client.get(property_url(home.slug, future(30), future(33), 2))
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert "Jetzt buchen" in html
    assert "400,00\u00a0€" in html
    assert Decimal("400.00") == response.context["check"].quote.total


def test_lost_race_after_the_check_shows_conflict(client, home, stripe_sandbox, monkeypatch):
    """Deterministic race: the dates are free when checked, and taken just before the hold is written."""
    from apps.availability import selectors as availability_selectors

    real = availability_selectors.stay_check

    def check_then_someone_books(**kwargs):
        result = real(**kwargs)
        if not Booking.objects.exists():
            booking_services.booking_create(
                property_id=home.pk,
                check_in=future(42),
                check_out=future(45),
                guests=2,
                guest=booking_services.GuestData(first_name="Bo", email="bo@example.com"),
            )
        return result

    monkeypatch.setattr(availability_selectors, "stay_check", check_then_someone_books)
    response = client.post(checkout_url(home.slug, future(40), future(43)), GUEST)
    assert response.status_code == 409
    assert "these dates were just booked by another guest" in response.content.decode()
    alternatives = response.context["alternatives"]
    assert [(a["check_in"], a["check_out"]) for a in alternatives] == [
        (future(39), future(42)),
        (future(45), future(48)),
    ]
    assert Booking.objects.filter(status="reserved").count() == 1
