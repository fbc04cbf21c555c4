"""An owner runs the back office in headless Chromium: dashboard -> calendar -> select three nights on a
row -> block them -> the block is on the calendar and the nights are closed on the Booking.com simulator;
open a booking from its bar; bulk-change a week's price and see it in the quote; sync health; the calendar
on a phone; a view-only co-host cannot change anything. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from apps.availability.models import AvailabilityBlock
from apps.bookings import services as booking_services
from apps.channels.models import Delivery
from apps.sandbox.models import SimCalendarDay, SimListing
from tests.channels.conftest import SIM_PASSWORD, SIM_USER, make_connection
from tests.factories import PropertyFactory, UserFactory, future

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-1234"  # tests.factories.UserFactory


@pytest.fixture
def setup(alice, prop, bob_prop, live_server):
    listing = SimListing.objects.create(
        hotel_code="7654321",
        name=prop.name,
        username=SIM_USER,
        password=SIM_PASSWORD,
        room_code="101",
        rate_plan_code="987654",
    )
    bcom = make_connection(prop, base_url=live_server.url + "/sandbox/booking_com", hotel_code="7654321")
    bcom.external_property_id = "7654321"
    bcom.save()
    PropertyFactory(owner=alice, name="Alice's Cabin", slug="alices-cabin")
    guest = booking_services.GuestData(first_name="Ann", last_name="Arbor", email="ann@example.com")
    booking = booking_services.booking_create(
        property_id=prop.pk, check_in=future(2), check_out=future(5), guests=2, status="confirmed", guest=guest
    )
    booking_services.booking_create(
        property_id=bob_prop.pk,
        check_in=future(2),
        check_out=future(5),
        guests=2,
        status="confirmed",
        guest=booking_services.GuestData(first_name="Bertram", email="bertram@example.com"),
    )
    return {"listing": listing, "connection": bcom, "booking": booking}


def login(page, base: str, username: str) -> None:
    page.goto(base + "/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard")


def pick(page, prop_pk: int, first, last) -> None:
    row = page.locator(f'tr[data-property="{prop_pk}"]')
    row.locator(f'td[data-date="{first.isoformat()}"]').click()
    row.locator(f'td[data-date="{last.isoformat()}"]').click()
    page.wait_for_selector("#calendar-edit-form")


def test_owner_blocks_nights_opens_a_booking_and_changes_a_weeks_price(live_server, setup, prop, page, shot):
    base = live_server.url
    login(page, base, "alice")
    assert "Ann Arbor" in page.inner_text("#dash-week") and "Bertram" not in page.inner_text("body")
    shot(page, "backoffice-01-dashboard")

    page.click("#open-calendar")
    page.wait_for_selector("#tape-chart")
    start = future(1)
    page.goto(base + f"/admin/calendar/?view=2w&start={start.isoformat()}")
    assert page.locator(f'tr[data-property="{prop.pk}"] a[data-booking]').count() == 1
    assert "Bob" not in page.inner_text("#tape-chart")
    shot(page, "backoffice-02-calendar-desktop")

    # select three nights on the row and block them
    first, last = future(8), future(10)
    pick(page, prop.pk, first, last)
    assert page.input_value("#id_first_night") == first.isoformat()
    assert page.input_value("#id_last_night") == last.isoformat()
    page.check("input[name=action][value=block]")
    page.fill("#id_note", "Painting the hall")
    page.click("input[name=_apply]")
    page.wait_for_selector("#tape-chart")
    block = AvailabilityBlock.objects.get(property=prop, block_type="blocked")
    assert (block.start_date, block.end_date) == (first, last + timedelta(days=1))
    page.goto(base + f"/admin/calendar/?view=2w&start={start.isoformat()}")
    assert page.locator(f'a[data-block="{block.pk}"]').is_visible()
    # ... and the Booking.com simulator has the three nights closed (pushed through the outbox)
    days = {d.day: d for d in SimCalendarDay.objects.filter(listing=setup["listing"])}
    assert all(not days[first + timedelta(days=i)].open for i in range(3))
    assert Delivery.objects.filter(connection=setup["connection"], status="succeeded").exists()

    # open a booking from its bar
    page.click(f'a[data-booking="{setup["booking"].reference}"]')
    page.wait_for_selector("#booking_form")
    assert setup["booking"].reference in page.inner_text("#content")

    # bulk-change a week's price and see it in the quote
    page.goto(base + f"/admin/calendar/?view=month&start={future(20).replace(day=1).isoformat()}")
    week = future(20)
    pick(page, prop.pk, week, week + timedelta(days=6))
    page.check("input[name=action][value=rates]")
    page.fill("#id_price", "180")
    page.click("input[name=_apply]")
    page.wait_for_selector("#tape-chart")
    cell = page.locator(f'tr[data-property="{prop.pk}"] td[data-date="{(week + timedelta(days=3)).isoformat()}"]')
    assert cell.inner_text().startswith("180")
    page.goto(
        base + f"/admin/availability/pricingrule/test-stay/?property={prop.pk}&check_in={week + timedelta(days=2)}"
        f"&check_out={week + timedelta(days=4)}&guests=2"
    )
    assert page.locator("#bookable").is_visible()
    assert page.inner_text("#quote-nights").count("180.00") >= 2

    page.goto(base + "/admin/sync-health/")
    row = page.locator(f'tr[data-connection="{setup["connection"].pk}"]')
    assert "ago" in row.locator('[data-figure="last_push"]').inner_text()
    shot(page, "backoffice-03-sync-health")


def test_calendar_on_a_phone_scrolls_sideways(live_server, setup, prop, browser, shot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        login(page, live_server.url, "alice")
        page.goto(live_server.url + f"/admin/calendar/?view=2w&start={future(1).isoformat()}")
        scroll = page.locator(".bo-scroll")
        assert scroll.evaluate("el => el.scrollWidth > el.clientWidth")
        bar = page.locator(f'a[data-booking="{setup["booking"].reference}"]')
        assert bar.bounding_box()["height"] >= 28 and "Ann" in bar.inner_text()
        shot(page, "backoffice-04-calendar-phone")
    finally:
        context.close()


def test_view_only_cohost_cannot_change_anything_from_the_calendar(live_server, setup, prop, page):
    viewer = UserFactory(username="vera")
    viewer.groups.add(Group.objects.get(name="Co-hosts"))
    assign_perm("properties.view_property", viewer, prop)
    login(page, live_server.url, "vera")
    page.goto(live_server.url + f"/admin/calendar/?view=2w&start={future(1).isoformat()}")
    row = page.locator(f'tr[data-property="{prop.pk}"]')
    assert row.get_attribute("data-writable") == "0"
    row.locator(f'td[data-date="{future(8).isoformat()}"]').click()
    row.locator(f'td[data-date="{future(9).isoformat()}"]').click()
    page.wait_for_timeout(300)
    assert "/admin/calendar/edit/" not in page.url
    response = page.goto(live_server.url + f"/admin/calendar/edit/?property={prop.pk}")
    assert response.status == 403
    assert not AvailabilityBlock.objects.filter(property=prop).exists()
