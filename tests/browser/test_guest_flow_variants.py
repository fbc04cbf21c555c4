"""The guest flow on a phone in English and on a desktop in German, dates picked by clicking the
calendar (another stay's arrival day as departure), and the booking widget framed on an owner's page.
Screenshots go to artifacts/screenshots/ (kept by CI as the guest pages' pictures)."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from datetime import timedelta

import pytest

from apps.bookings import services as booking_services
from apps.bookings.models import BookingStatus
from tests.browser.test_checkout_flow import fill_card, fill_guest, homes  # noqa: F401
from tests.factories import future

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VARIANTS = {
    "phone-en": {"viewport": {"width": 390, "height": 844}, "locale": "en-GB", "is_mobile": True, "has_touch": True},
    "desktop-de": {"viewport": {"width": 1280, "height": 900}, "locale": "de-DE"},
}
TEXT = {
    "phone-en": {
        "book": "Book now",
        "continue": "Continue to payment",
        "pay": "Confirm and pay",
        "done": "Booking confirmed!",
    },
    "desktop-de": {
        "book": "Jetzt buchen",
        "continue": "Weiter zur Zahlung",
        "pay": "Bestätigen und",
        "done": "Buchung bestätigt!",
    },
}


def day_cell(page, day):
    return page.locator(f'a.day[href*="{day.isoformat()}"]').first


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_guest_books_by_clicking_the_calendar(live_server, stripe_sandbox, homes, browser, shot, variant):  # noqa: F811
    lake, _ = homes
    arrival, other = future(24), future(27)
    booking_services.booking_create(
        property_id=lake.pk,
        check_in=other,
        check_out=other + timedelta(days=2),
        guests=2,
        status=BookingStatus.CONFIRMED,
    )
    text = TEXT[variant]
    context = browser.new_context(**VARIANTS[variant])
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(live_server.url + "/")
        page.wait_for_selector(".card")
        shot(page, f"{variant}-01-search")
        page.goto(live_server.url + f"/properties/{lake.slug}/?month={arrival:%Y-%m}")
        page.wait_for_selector(".month")
        shot(page, f"{variant}-02-property")
        day_cell(page, arrival).click()
        page.wait_for_selector("[data-pick-out]")
        assert page.locator(".errorlist").count() == 0, "no error before the second click"
        # The other stay arrives on `other`: still a departure day for this guest.
        page.locator(f'a.day.day-out-only[href*="check_out={other.isoformat()}"]').click()
        page.wait_for_selector("[data-book-now]")
        rows = page.locator("#book .breakdown tr").all_inner_texts()
        assert len(rows) >= 3, rows
        shot(page, f"{variant}-03-stay-picked")
        page.click("[data-book-now]")
        page.wait_for_selector("#id_first_name")
        fill_guest(page)
        shot(page, f"{variant}-04-details")
        page.click(f"button:has-text('{text['continue']}')")
        page.wait_for_selector("#id_card_number")
        fill_card(page, "4242 4242 4242 4242")
        shot(page, f"{variant}-05-payment")
        page.click(f"button:has-text('{text['pay']}')")
        page.wait_for_selector(f"text={text['done']}")
        assert re.fullmatch(r"PMS-\d{4}-\d{6}", page.inner_text("[data-reference]"))
        shot(page, f"{variant}-06-confirmation")
        if variant.startswith("phone"):
            # On a phone the Book box follows the calendar and comes before the reviews.
            page.goto(live_server.url + f"/properties/{lake.slug}/")
            book_y = page.locator("#book").bounding_box()["y"]
            assert page.locator("#availability").bounding_box()["y"] < book_y
            assert book_y < page.locator(".reviews-panel").bounding_box()["y"]
    finally:
        context.close()


def test_booking_widget_framed_on_an_owners_page(live_server, homes, browser, shot, tmp_path):  # noqa: F811
    lake, _ = homes
    owner_page = tmp_path / "owner-site.html"
    owner_page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'></head><body style='font-family:sans-serif;margin:24px'>"
        "<h1>Lakeside Loft – our holiday flat</h1><p>Book directly with us:</p>"
        f"<script src='{live_server.url}/static/storefront/embed.js' data-home='{lake.slug}' async></script>"
        "</body></html>"
    )
    # The owner's site: another origin (its own little web server on another port).
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context(viewport={"width": 900, "height": 1000}, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/owner-site.html")
        frame = page.frame_locator("iframe")
        frame.locator(".month").first.wait_for()
        day_cell(frame, future(30)).click()
        frame.locator("[data-pick-out]").wait_for()
        day_cell(frame, future(33)).click()
        frame.locator("[data-book-now]").wait_for()
        href = frame.locator("[data-book-now]").get_attribute("href")
        assert f"/properties/{lake.slug}/book/?check_in={future(30)}" in href.replace("&amp;", "&")
        page.wait_for_function("document.querySelector('iframe').offsetHeight > 700")  # sized to its content
        shot(page, "widget-01-on-owner-site")
    finally:
        context.close()
        server.shutdown()
        server.server_close()
