"""A guest books through the real pages in headless Chromium: search -> property -> checkout ->
sandbox payment -> confirmation; and a declined card. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from apps.properties.models import PropertyPhoto
from tests.factories import PropertyFactory, future

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def homes(alice):
    lake = PropertyFactory(
        owner=alice,
        name="Lakeside Loft",
        slug="lakeside-loft",
        city="Potsdam",
        description="A bright loft by the lake, with a balcony over the water.\nBikes and a canoe are included.",
        house_rules="No smoking. No parties. Quiet after 22:00.",
        amenities=["wifi", "kitchen", "balcony", "canoe"],
        base_price=Decimal("120.00"),
        cleaning_fee=Decimal("40.00"),
        bedrooms=2,
        max_guests=4,
    )
    for i, caption in enumerate(["Living room", "Bedroom", "Kitchen", "Balcony", "Lake"]):
        PropertyPhoto.objects.create(property=lake, url=f"/static/demo/photo-{i + 1}.svg", caption=caption, position=i)
    cabin = PropertyFactory(
        owner=alice, name="Forest Cabin", slug="forest-cabin", city="Potsdam", base_price=Decimal("95.00"), bedrooms=1
    )
    PropertyPhoto.objects.create(property=cabin, url="/static/demo/photo-6.svg", caption="Cabin", position=0)
    return lake, cabin


def fill_guest(page):
    page.fill("#id_first_name", "Ana")
    page.fill("#id_last_name", "Silva")
    page.fill("#id_email", "ana@example.com")
    page.fill("#id_phone", "+49 30 1234567")
    page.select_option("#id_country", "DE")
    page.fill("#id_special_requests", "We arrive late, around 22:00.")


def fill_card(page, number: str):
    page.fill("#id_card_number", number)
    page.fill("#id_exp_month", "12")
    page.fill("#id_exp_year", "2040")
    page.fill("#id_cvc", "123")


def test_search_to_confirmation(live_server, stripe_sandbox, homes, page, shot):
    check_in, check_out = future(21), future(24)
    page.goto(live_server.url + "/")
    page.fill("#id_location", "Potsdam")
    page.fill("#id_check_in", check_in.isoformat())
    page.fill("#id_check_out", check_out.isoformat())
    page.fill("#id_guests", "2")
    page.click("button:has-text('Search')")
    page.wait_for_selector(".card")
    assert "2 homes found" in page.inner_text("#results-title")
    assert "€400.00" in page.inner_text("body")
    shot(page, "01-search-results")

    page.click("text=Lakeside Loft")
    page.wait_for_selector("#book")
    assert "€120.00 × 3 nights" in page.inner_text(".book-box")
    assert page.locator(".month").count() == 2
    shot(page, "02-property")

    page.click("[data-book-now]")
    page.wait_for_selector("#id_first_name")
    fill_guest(page)
    shot(page, "03-checkout-details")
    page.click("button:has-text('Continue to payment')")
    page.wait_for_selector("#id_card_number")
    assert re.search(r"\d+:\d\d", page.inner_text("[data-countdown]")), "the hold countdown runs"
    fill_card(page, "4242 4242 4242 4242")
    shot(page, "04-payment")
    page.click("button:has-text('Confirm and pay')")
    page.wait_for_selector("text=Booking confirmed!")
    reference = page.inner_text("[data-reference]")
    assert re.fullmatch(r"PMS-\d{4}-\d{6}", reference)
    body = page.inner_text("body")
    assert "15:00" in body and "11:00" in body and "€400.00" in body
    shot(page, "05-confirmation")

    with page.expect_download() as download:
        page.click("text=Add to calendar")
    assert download.value.suggested_filename == f"{reference}.ics"


def test_declined_card_keeps_the_hold(live_server, stripe_sandbox, homes, page, shot):
    page.goto(live_server.url + f"/properties/lakeside-loft/?check_in={future(30)}&check_out={future(32)}&guests=2")
    page.click("[data-book-now]")
    fill_guest(page)
    page.click("button:has-text('Continue to payment')")
    fill_card(page, "4000 0000 0000 0002")
    page.click("button:has-text('Confirm and pay')")
    page.wait_for_selector("[data-payment-error]")
    assert "declined" in page.inner_text("[data-payment-error]").lower()
    assert page.locator("[data-countdown]").count() == 1, "still on the payment step with the hold"
    shot(page, "06-declined-card")

    fill_card(page, "4242 4242 4242 4242")
    page.click("button:has-text('Confirm and pay')")
    page.wait_for_selector("text=Booking confirmed!")


def test_guest_portal_in_german_cancel_with_refund(live_server, stripe_sandbox, homes, browser, shot):
    from django.core import mail

    from apps.bookings import services as booking_services
    from apps.bookings.models import Booking
    from apps.payments import services as payment_services

    lake, _ = homes
    booking = booking_services.booking_create(
        property_id=lake.pk,
        check_in=future(30),
        check_out=future(33),
        guests=2,
        guest=booking_services.GuestData(
            first_name="Jonas", last_name="Weber", email="jonas@example.com", language="de"
        ),
    )
    assert payment_services.sandbox_card_pay(
        booking_id=booking.pk, card_number="4242424242424242", exp_month=12, exp_year=2040, cvc="123"
    ).succeeded
    mail.outbox.clear()

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE", is_mobile=True)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/manage/")
        page.fill("#id_email", "jonas@example.com")
        page.fill("#id_reference", booking.reference)
        page.click("button:has-text('Link senden')")
        page.wait_for_selector("[data-sent]")
        shot(page, "07-portal-request-de-mobile")
        link = next(line.strip() for line in mail.outbox[0].body.splitlines() if "/manage/" in line)
        assert mail.outbox[0].subject == f"Ihr Link zur Buchung {booking.reference}"
        page.goto(live_server.url + link[link.index("/manage/") :])
        page.wait_for_selector("text=Ihre Buchung")
        assert "400,00" in page.inner_text("body")
        shot(page, "08-portal-de-mobile")
        page.click("text=Buchung stornieren …")
        page.wait_for_selector("[data-refund]")
        assert "Erstattung: 400,00" in page.inner_text("[data-refund]")
        shot(page, "09-portal-cancel-de-mobile")
        page.click("button:has-text('Ja, Buchung stornieren')")
        page.wait_for_selector("text=Ihre Buchung wurde storniert.")
        shot(page, "10-portal-cancelled-de-mobile")
    finally:
        context.close()
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
