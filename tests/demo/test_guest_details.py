"""The details a first guest notices: the calendar takes another stay's arrival day as departure and
shows no error before the second click; reasons and policies say what they mean; German e-mails
are German; the portal shows refunds; a lapsed hold is not "pending"; pages work offline (favicon,
API docs without CDNs, proper 404/500 pages); the booking widget may be framed, nothing else."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.bookings.emails import send_booking_confirmation
from apps.bookings.models import Booking, BookingStatus, PaymentStatus
from apps.properties.models import Property
from tests.factories import PropertyFactory, future
from tests.storefront.helpers import property_url

pytestmark = pytest.mark.django_db


def book(prop, check_in, check_out, **kw):
    kw.setdefault("status", BookingStatus.CONFIRMED)
    return booking_services.booking_create(property_id=prop.pk, check_in=check_in, check_out=check_out, guests=2, **kw)


def day_link(html: str, day) -> str | None:
    """The href of the calendar cell of ``day`` (None when the day is not a link)."""
    label = day.strftime("%A, %-d %B %Y")
    match = re.search(r'<a class="day[^"]*" href="([^"]+)" rel="nofollow"\s+aria-label="' + re.escape(label), html)
    return match.group(1).replace("&amp;", "&") if match else None


# --- calendar -------------------------------------------------------------------------------------


def test_another_stays_arrival_day_is_a_departure_day(client, home):
    """Spree View Studio: a stay arrives on the 13th; a guest arriving on the 10th may leave on the 13th."""
    arrival, other = future(20), future(23)
    book(home, other, other + timedelta(days=3))
    first = client.get(property_url(home.slug).rstrip("/") + f"/?check_in={arrival}&guests=2&month={arrival:%Y-%m}")
    html = first.content.decode()
    assert first.status_code == 200
    assert "This field is required" not in html and 'class="errorlist' not in html  # no error after one click
    assert "now pick your departure day" in html
    link = day_link(html, other)  # taken night, but a valid departure day
    assert link and f"check_out={other}" in link and f"check_in={arrival}" in link
    assert "departure only" in html
    beyond = day_link(html, other + timedelta(days=4))  # past the other stay: a new arrival day
    assert beyond and "check_out" not in beyond and f"check_in={other + timedelta(days=4)}" in beyond

    second = client.get(property_url(home.slug) + link.split("#")[0])
    html = second.content.decode()
    assert "data-book-now" in html and "These dates can&#x27;t be booked" not in html
    assert Booking.objects.filter(property=home, check_in=other).count() == 1


def test_a_sent_form_still_says_what_is_missing(client, home):
    response = client.get(property_url(home.slug) + f"?check_in={future(10)}&check_out=&guests=2")
    assert "Please choose both a check-in and a check-out date." in response.content.decode()


# --- reasons, policies, e-mails, portal, holds ----------------------------------------------------


def test_short_notice_says_how_much_notice_is_needed(client, home):
    Property.objects.filter(pk=home.pk).update(min_notice_hours=48, default_min_stay=1)
    today = timezone.localdate()
    html = client.get(property_url(home.slug, today + timedelta(days=1), today + timedelta(days=3))).content.decode()
    assert "must be booked at least 2 days before check-in" in html
    Property.objects.filter(pk=home.pk).update(min_notice_hours=30)
    html = client.get(property_url(home.slug, today + timedelta(days=1), today + timedelta(days=3))).content.decode()
    assert "at least 30 hours before check-in" in html


def test_policy_box_lists_no_deadline_that_has_passed(client, home):
    """Moderate policy, arrival in 3 days: the 5-day full-refund deadline is gone."""
    html = client.get(property_url(home.slug, future(3), future(5))).content.decode()
    deadlines = re.search(r'<ul class="deadlines">(.*?)</ul>', html, re.S).group(1)
    assert "Full refund" not in deadlines and "50% refund" in deadlines


def test_german_email_is_german_from_the_storefront_brand(home, settings):
    Property.objects.filter(pk=home.pk).update(amenities=["wifi", "washer"])
    from apps.availability.models import PricingRule

    PricingRule.objects.create(
        property=home, name="Tourist tax", rule_type="tax_per_person_night", adjustment_type="fixed", adjustment_value=2
    )
    PricingRule.objects.create(
        property=home,
        name="Weekly discount",
        rule_type="length_of_stay",
        adjustment_type="percentage",
        adjustment_value=-10,
        conditions={"min_nights": 7},
    )
    booking = book(
        home,
        future(30),
        future(37),
        guest=booking_services.GuestData(first_name="Jonas", last_name="Weber", email="j@example.com", language="de"),
    )
    mail.outbox.clear()
    send_booking_confirmation(booking_id=booking.pk)
    message = mail.outbox[-1]
    assert message.from_email.startswith(settings.STOREFRONT_NAME)
    for german in ("7 Nächte", "Endreinigung", "Kurtaxe", "Wochenrabatt", "Gesamt"):
        assert german in message.body, german
    for english in ("nights", "Cleaning fee", "Tourist tax", "Weekly discount"):
        assert english not in message.body, english


def test_german_pages_translate_amenities_and_dates(client, home):
    Property.objects.filter(pk=home.pk).update(amenities=["wifi", "washer"], cancellation_policy="moderate")
    client.cookies["django_language"] = "de"
    html = client.get(property_url(home.slug, future(40), future(43))).content.decode()
    assert "WLAN" in html and "Waschmaschine" in html
    deadline = future(40) - timedelta(days=5)
    assert f"vor {deadline.day}. " in html  # "vor 9. März 2027, 15:00", never "vor 9 März"


def test_portal_shows_the_refund_after_cancelling(client, home, stripe_sandbox):
    from apps.bookings import tokens
    from apps.payments import services as payment_services

    booking = book(
        home,
        future(30),
        future(33),
        status=BookingStatus.RESERVED,
        guest=booking_services.GuestData(first_name="Ana", last_name="Silva", email="ana@example.com"),
    )
    assert payment_services.sandbox_card_pay(
        booking_id=booking.pk, card_number="4242424242424242", exp_month=12, exp_year=2040, cvc="123"
    ).succeeded
    payment_services.booking_cancel_by_guest(booking_id=booking.pk, reason="Plans changed")
    token = tokens.portal_token(booking_id=booking.pk, email="ana@example.com")
    html = client.get(reverse("storefront:portal", kwargs={"token": token})).content.decode()
    assert "data-refunds" in html and "Refund: €400.00" in html


def test_a_lapsed_hold_is_not_left_pending(home):
    booking = book(home, future(30), future(33), status=BookingStatus.RESERVED)
    assert booking.payment_status == PaymentStatus.PENDING
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    assert booking_services.holds_expire() == [booking.pk]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.payment_status == PaymentStatus.VOID


# --- offline, icons, error pages ------------------------------------------------------------------


def test_api_docs_and_icons_are_served_locally(client, settings):
    for url in ("/api/docs/", "/api/docs/redoc/"):
        html = client.get(url).content.decode()
        external = [u for u in re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)]
        assert external == [], (url, external)
        assert "fonts.googleapis" not in html
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon["Location"].endswith("favicon.ico")
    html = client.get("/").content.decode()
    assert 'rel="icon"' in html


def test_guest_404_and_500_pages(client, home):
    response = client.get("/properties/no-such-home/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-error-page="404"' in html and "Find a stay" in html and "site.css" in html
    from django.views.defaults import server_error

    page = server_error(RequestFactory().get("/boom/"))
    assert page.status_code == 500 and b'data-error-page="500"' in page.content


# --- the booking widget ---------------------------------------------------------------------------


def test_booking_widget_may_be_framed_and_hands_off_to_checkout(client, home, settings):
    settings.SITE_URL = "https://book.example.com"
    url = reverse("storefront:embed", kwargs={"slug": home.slug})
    response = client.get(url, {"check_in": future(20), "check_out": future(23), "guests": 2, "lang": "de"})
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"].endswith("; frame-ancestors *")  # the rest: apps.core.security
    html = response.content.decode()
    assert 'class="month"' in html and "Verfügbarkeit" in html  # calendar, in the snippet's language
    lines = re.search(r'<table class="breakdown">(.*?)</table>', html, re.S)
    assert lines and "400,00" in lines.group(1)
    book_now = re.search(r'href="([^"]+)" target="_blank" rel="noopener" data-book-now', html).group(1)
    assert book_now.replace("&amp;", "&").startswith(
        f"https://book.example.com/properties/{home.slug}/book/?check_in={future(20)}&check_out={future(23)}"
    )
    # every other page refuses to be framed
    page = client.get(property_url(home.slug))
    assert page["X-Frame-Options"] == "DENY" and page["Content-Security-Policy"].endswith("; frame-ancestors 'none'")


def test_booking_widget_garbage_and_inactive_homes(client, home, alice):
    url = reverse("storefront:embed", kwargs={"slug": home.slug})
    for params in (
        {"check_in": "2027-13-45", "check_out": "x", "guests": "-3"},
        {"check_in": future(5), "check_out": future(3), "guests": 2},
        {"month": "9999-12", "lang": "xx", "guests": "9" * 40},
    ):
        assert client.get(url, params).status_code == 200, params
    # a NUL anywhere in a query string is refused before any view runs (apps.core.badinput): a 400, not a 500
    assert client.get(url, {"check_in": "\x00", "check_out": future(3)}).status_code == 400
    draft = PropertyFactory(owner=alice, slug="draft-home", status=Property.Status.DRAFT)
    assert client.get(reverse("storefront:embed", kwargs={"slug": draft.slug})).status_code == 404


def test_owner_copies_the_widget_snippet_from_the_admin(client, home, alice, bob, settings):
    settings.SITE_URL = "https://book.example.com"
    client.force_login(alice)
    html = client.get(reverse("admin:properties_property_change", args=[home.pk])).content.decode()
    assert "data-widget-snippet" in html
    assert f"&lt;iframe src=&quot;https://book.example.com/embed/{home.slug}/&quot;" in html
    assert f"/static/storefront/embed.js&quot; data-home=&quot;{home.slug}&quot;" in html
    client.force_login(bob)
    assert client.get(reverse("admin:properties_property_change", args=[home.pk])).status_code in (302, 404)


def test_embed_script_and_frame_script_are_served(client):
    from django.contrib.staticfiles import finders

    assert finders.find("storefront/embed.js") and finders.find("storefront/embed-frame.js")
