"""The calendar (tape chart) in the admin: what an owner sees, what they may change, and in how many
queries; outsiders (a second owner) and view-only co-hosts never see or change what is not theirs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from guardian.shortcuts import assign_perm

from apps.availability import services as availability_services
from apps.availability.models import AvailabilityBlock, OccupiedNight
from apps.availability.selectors import calendar_days, stay_check
from apps.bookings import services as booking_services
from apps.bookings.models import BookingStatus
from apps.core.models import SyncEvent
from tests.factories import PropertyFactory, UserFactory, future

CAL = "admin:backoffice_calendar"
EDIT = "admin:backoffice_calendar_edit"


def book(prop, start, nights, *, name="Ann", status=BookingStatus.CONFIRMED, source="direct", email=None):
    return booking_services.booking_create(
        property_id=prop.pk,
        check_in=start,
        check_out=start + timedelta(days=nights),
        guests=2,
        status=status,
        source=source,
        guest=booking_services.GuestData(first_name=name, email=email or f"{name.lower()}@example.com"),
        enforce_rules=False,
    )


def cal_url(start: date, view: str = "2w") -> str:
    return reverse(CAL) + f"?view={view}&start={start.isoformat()}"


@pytest.fixture
def viewer(prop):
    user = UserFactory(username="vera")
    user.groups.add(Group.objects.get(name="Co-hosts"))
    assign_perm("properties.view_property", user, prop)
    return user


@pytest.mark.django_db
def test_owner_sees_bars_blocks_prices_and_only_their_properties(client, alice, prop, bob_prop):
    start = future(10)
    mine = book(prop, start + timedelta(days=1), 3, name="Ann")
    hold = book(prop, start + timedelta(days=6), 2, name="Hal", status=BookingStatus.RESERVED)
    theirs = book(bob_prop, start + timedelta(days=1), 3, name="Bert")
    availability_services.block_create(
        property_id=prop.pk,
        start_date=start + timedelta(days=9),
        end_date=start + timedelta(days=11),
        block_type=AvailabilityBlock.Type.MAINTENANCE,
        note="paint",
    )
    availability_services.block_create(
        property_id=bob_prop.pk,
        start_date=start + timedelta(days=9),
        end_date=start + timedelta(days=11),
        note="bob-private-note",
    )
    client.force_login(alice)
    page = client.get(cal_url(start)).content.decode()
    assert "Alice&#x27;s Loft" in page or "Alice's Loft" in page
    assert reverse("admin:bookings_booking_change", args=[mine.pk]) in page
    assert f'data-booking="{mine.reference}"' in page and "Ann" in page and "3n" in page
    assert "bo-src-direct bo-st-reserved" in page and hold.reference in page
    assert "Maintenance" in page
    assert "100</span>" in page  # the nightly base price on free nights
    # the outsider's property, booking, guest and block are nowhere
    assert "Bob" not in page and theirs.reference not in page and "Bert" not in page
    assert "bob-private-note" not in page and f'data-property="{bob_prop.pk}"' not in page


@pytest.mark.django_db
def test_calendar_of_50_properties_over_90_days_takes_a_fixed_number_of_queries(client, alice):
    start = future(3)
    props = [PropertyFactory(owner=alice) for _ in range(3)]
    for i, p in enumerate(props):
        book(p, start + timedelta(days=i), 2, name=f"G{i}")
    client.force_login(alice)
    client.get(cal_url(start, "90d"))  # warm-up (session, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(cal_url(start, "90d")).status_code == 200
    props += [PropertyFactory(owner=alice) for _ in range(47)]
    for i, p in enumerate(props[3:]):
        book(p, start + timedelta(days=i % 80), 3, name=f"H{i}")
        availability_services.block_create(
            property_id=p.pk, start_date=start + timedelta(days=85), end_date=start + timedelta(days=88)
        )
        availability_services.calendar_range_update(
            property_id=p.pk,
            start=start + timedelta(days=40),
            end=start + timedelta(days=47),
            changes={"price_override": Decimal("150"), "min_stay": 3},
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(cal_url(start, "90d"))
    assert response.status_code == 200
    assert response.content.decode().count('class="bo-row') == 50
    print(f"\ncalendar 3 properties: {len(few)} queries; 50 properties x 90 days: {len(many)} queries")
    assert len(many) == len(few) <= 12


@pytest.mark.django_db
def test_select_three_nights_and_block_them(client, alice, prop):
    start = future(20)
    client.force_login(alice)
    form = client.get(
        reverse(EDIT), {"property": prop.pk, "first_night": start, "last_night": start + timedelta(days=2)}
    )
    assert form.status_code == 200 and "100.00 EUR" in form.content.decode()
    events = SyncEvent.objects.filter(property=prop).count()
    response = client.post(
        reverse(EDIT),
        {
            "property": prop.pk,
            "first_night": start,
            "last_night": start + timedelta(days=2),
            "action": "block",
            "note": "family visit",
        },
    )
    assert response.status_code == 302
    block = AvailabilityBlock.objects.get(property=prop, block_type="blocked")
    assert (block.start_date, block.end_date, block.source, block.note) == (
        start,
        start + timedelta(days=3),
        "owner",
        "family visit",
    )
    assert OccupiedNight.objects.filter(block=block).count() == 3
    assert SyncEvent.objects.filter(property=prop).count() == events + 1  # the channels hear of it
    page = client.get(response.url).content.decode()
    assert f'data-block="{block.pk}"' in page and "family visit" in page


@pytest.mark.django_db
def test_blocking_booked_nights_is_a_form_error_and_changes_nothing(client, alice, prop):
    start = future(20)
    booking = book(prop, start + timedelta(days=1), 2)
    client.force_login(alice)
    response = client.post(
        reverse(EDIT),
        {"property": prop.pk, "first_night": start, "last_night": start + timedelta(days=3), "action": "maintenance"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="form-errors"' in body and "not available" in body and booking.reference in body
    assert not AvailabilityBlock.objects.filter(property=prop).exists()


@pytest.mark.django_db
def test_bulk_price_and_min_stay_for_a_week_reaches_the_quote(client, alice, prop):
    start = future(30)
    availability_services.calendar_range_update(
        property_id=prop.pk,
        start=start - timedelta(days=2),
        end=start + timedelta(days=3),
        changes={"min_stay": 2},
    )
    client.force_login(alice)
    response = client.post(
        reverse(EDIT),
        {
            "property": prop.pk,
            "first_night": start,
            "last_night": start + timedelta(days=6),
            "action": "rates",
            "price": "180",
            "closed_to_arrival": "",
            "closed_to_departure": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    days = {d.date: d for d in calendar_days(prop=prop, start=start - timedelta(days=3), end=start + timedelta(days=8))}
    assert days[start - timedelta(days=3)].price == Decimal("100.00")
    assert [days[start + timedelta(days=i)].price for i in range(7)] == [Decimal("180.00")] * 7
    assert days[start + timedelta(days=7)].price == Decimal("100.00")
    # min stay kept where it was set before, untouched where it was not
    assert days[start - timedelta(days=2)].min_stay == 2 and days[start + timedelta(days=2)].min_stay == 2
    assert days[start + timedelta(days=3)].min_stay == 1
    check = stay_check(prop=prop, check_in=start + timedelta(days=3), check_out=start + timedelta(days=5), guests=2)
    assert check.bookable and check.quote.nights[0].final == Decimal("180.00")
    assert SyncEvent.objects.filter(property=prop, payload__reason="range.updated").exists()
    # back to the base price: no range is left where nothing differs from the defaults
    availability_services.calendar_range_update(
        property_id=prop.pk,
        start=start - timedelta(days=5),
        end=start + timedelta(days=10),
        changes={"price_override": None, "min_stay": None},
    )
    assert not AvailabilityBlock.objects.filter(property=prop).exists()


@pytest.mark.django_db
def test_invalid_range_values_are_form_errors(client, alice, prop):
    start = future(30)
    client.force_login(alice)
    for data in (
        {"action": "rates"},  # nothing to change
        {"action": "rates", "min_stay": "5", "max_stay": "2"},
        {"action": "block", "last_night": (start - timedelta(days=1)).isoformat()},
        {"action": "rates", "price": "-3"},
        {"action": "teleport"},
    ):
        payload = {"property": prop.pk, "first_night": start, "last_night": start + timedelta(days=2), **data}
        response = client.post(reverse(EDIT), payload)
        assert response.status_code == 200, data
        assert "errorlist" in response.content.decode() or 'id="form-errors"' in response.content.decode(), data
    assert not AvailabilityBlock.objects.filter(property=prop).exists()


@pytest.mark.django_db
def test_outsider_cannot_open_or_change_another_owners_calendar(client, bob, prop):
    client.force_login(bob)
    start = future(20)
    assert client.get(reverse(EDIT), {"property": prop.pk}).status_code == 404
    response = client.post(
        reverse(EDIT), {"property": prop.pk, "first_night": start, "last_night": start, "action": "block"}
    )
    assert response.status_code == 404
    assert client.post(reverse(EDIT), {"property": "99999999999999999999", "action": "block"}).status_code == 200
    assert not AvailabilityBlock.objects.exists()
    assert f'data-property="{prop.pk}"' not in client.get(reverse(CAL)).content.decode()


@pytest.mark.django_db
def test_view_only_cohost_sees_a_read_only_calendar_and_cannot_write(client, viewer, prop):
    start = future(20)
    book(prop, start, 2, name="Ann")
    client.force_login(viewer)
    page = client.get(cal_url(start)).content.decode()
    assert f'data-property="{prop.pk}" data-writable="0"' in page and "view only" in page
    assert client.get(reverse(EDIT), {"property": prop.pk}).status_code == 403
    for action in ("block", "maintenance", "rates", "booking"):
        response = client.post(
            reverse(EDIT),
            {
                "property": prop.pk,
                "first_night": start + timedelta(days=5),
                "last_night": start + timedelta(days=6),
                "action": action,
                "price": "1",
            },
        )
        assert response.status_code == 403, action
    assert not AvailabilityBlock.objects.exists()


@pytest.mark.django_db
def test_garbage_parameters_fall_back_to_a_page(client, alice, prop):
    client.force_login(alice)
    for query in (
        "?start=garbage&view=zzz",
        "?month=2026-13",
        "?start=9999-01-01",
        "?start=0001-01-01&view=90d",
        "?month=xx",
    ):
        assert client.get(reverse(CAL) + query).status_code == 200, query
    assert client.get(reverse(EDIT), {"property": "abc", "first_night": "x"}).status_code == 200


@pytest.mark.django_db
def test_month_navigation(client, alice, prop):
    client.force_login(alice)
    page = client.get(reverse(CAL) + "?view=month&start=2027-01-15").content.decode()
    assert "start=2026-12-01" in page and "start=2027-02-01" in page
    assert page.count('class="bo-day') == 31


@pytest.mark.django_db
def test_anonymous_and_non_staff_are_sent_to_the_login(client, prop):
    assert client.get(reverse(CAL)).status_code == 302
    user = UserFactory(username="guesty", is_staff=False)
    client.force_login(user)
    assert client.get(reverse(CAL)).status_code == 302


@pytest.mark.django_db
def test_many_properties_are_paged_and_found_by_name_or_city(client, alice, bob_prop):
    for i in range(55):
        PropertyFactory(owner=alice, name=f"Flat {i:02d}", city="Hamburg" if i == 7 else "Berlin")
    client.force_login(alice)
    first = client.get(reverse(CAL)).content.decode()
    assert first.count('class="bo-row') == 50 and "Page 1 of 2 (55 properties)" in first
    second = client.get(reverse(CAL) + "?page=2").content.decode()
    assert second.count('class="bo-row') == 5 and "Flat 54" in second
    assert client.get(reverse(CAL) + "?page=99").content.decode().count('class="bo-row') == 5  # the last page
    assert client.get(reverse(CAL) + "?page=x").status_code == 200
    found = client.get(reverse(CAL) + "?q=hamburg").content.decode()
    assert found.count('class="bo-row') == 1 and "Flat 07" in found and "cal-pager" not in found
    assert client.get(reverse(CAL) + "?q=Cabin").content.decode().count('class="bo-row') == 0  # bob's: not found
