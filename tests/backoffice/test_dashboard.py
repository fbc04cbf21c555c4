"""The dashboard (the admin's index): today's movements, occupancy / ADR / RevPAR / revenue by period and
channel (checked against the same figures computed here from the bookings), what needs the owner, in a
fixed number of queries; a second owner's data never shows."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.backoffice import selectors
from apps.bookings import services as booking_services
from apps.bookings.models import Booking, BookingStatus
from apps.channels.models import ChannelAlert
from tests.factories import PropertyFactory


def month_start(d: date, shift: int = 0) -> date:
    m = d.month - 1 + shift
    return date(d.year + m // 12, m % 12 + 1, 1)


def book(prop, check_in, nights, *, name, source="direct", status=BookingStatus.CONFIRMED, total=None):
    kwargs = {"external_id": f"X-{name}"} if source not in ("direct", "api") else {}
    return booking_services.booking_create(
        property_id=prop.pk,
        check_in=check_in,
        check_out=check_in + timedelta(days=nights),
        guests=2,
        status=status,
        source=source,
        guest=booking_services.GuestData(first_name=name, email=f"{name.lower()}@example.com", phone="+49 30 1234"),
        total_price=Decimal(total) if total is not None else None,
        enforce_rules=False,
        **kwargs,
    )


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def stays(alice, bob, prop, bob_prop, today):
    second = PropertyFactory(owner=alice, name="Alice's Barn", slug="alices-barn")
    this_month, last_month = month_start(today), month_start(today, -1)
    made = {
        # spans last month into this month
        "span": book(second, this_month - timedelta(days=2), 4, name="Span", total="400.00"),
        "bcom": book(second, last_month + timedelta(days=3), 3, name="Bcom", source="booking_com", total="333.33"),
        "airbnb": book(
            second, month_start(today, -5) + timedelta(days=10), 7, name="Abnb", source="airbnb", total="910.00"
        ),
        "arrives": book(prop, today, 2, name="Arriving", total="210.00"),
        "next": book(second, today + timedelta(days=3), 2, name="Soon", total="199.99"),
        "hold": book(prop, today + timedelta(days=20), 2, name="Holdy", status=BookingStatus.RESERVED),
        "inquiry": book(prop, today + timedelta(days=40), 2, name="Asky", status=BookingStatus.INQUIRY),
        "bob": book(bob_prop, today, 3, name="Bobguest", total="999.00"),
    }
    cancelled = book(prop, today + timedelta(days=60), 2, name="Gone", total="100.00")
    booking_services.booking_cancel(booking_id=cancelled.pk, reason="test")
    made["cancelled"] = cancelled
    ChannelAlert.objects.create(property=bob_prop, kind="conflict", message="bob-alert")
    ChannelAlert.objects.create(property=prop, kind="conflict", message="alice-alert")
    return made


def expected(bookings, props, start, end):
    """Occupancy / ADR / RevPAR computed night by night from the bookings, independently of the selector."""
    sold_nights, revenue, by_source = 0, Decimal("0.00"), {}
    for b in bookings:
        if b.status not in ("confirmed", "checked_in", "checked_out"):
            continue
        nights_inside = sum(1 for i in range(b.nights) if start <= b.check_in + timedelta(days=i) < end)
        if not nights_inside:
            continue
        share = (b.total_price * nights_inside / b.nights).quantize(Decimal("0.01"), ROUND_HALF_UP)
        sold_nights += nights_inside
        revenue += share
        by_source[b.source] = by_source.get(b.source, Decimal("0.00")) + share
    available = len(props) * (end - start).days
    return {
        "sold": sold_nights,
        "revenue": revenue,
        "occupancy": (Decimal(sold_nights) * 100 / available).quantize(Decimal("0.1"), ROUND_HALF_UP),
        "adr": (revenue / sold_nights).quantize(Decimal("0.01"), ROUND_HALF_UP) if sold_nights else Decimal("0.00"),
        "revpar": (revenue / available).quantize(Decimal("0.01"), ROUND_HALF_UP),
        "by_source": by_source,
    }


@pytest.mark.django_db
def test_figures_equal_an_independent_computation(alice, prop, stays, today):
    board = selectors.dashboard(user=alice, today=today)
    mine = list(Booking.objects.filter(property__owner=alice))
    props = [prop, prop.owner.properties.get(slug="alices-barn")]
    assert board.currencies == ["EUR"]
    for period in board.periods:
        want = expected(mine, props, period.start, period.end)
        got = period.totals["EUR"]
        assert (got.sold_nights, got.revenue, got.occupancy, got.adr, got.revpar) == (
            want["sold"],
            want["revenue"],
            want["occupancy"],
            want["adr"],
            want["revpar"],
        ), period.key
        assert {s: f.revenue for s, f in period.by_channel["EUR"].items()} == want["by_source"], period.key
    twelve = board.periods[2]
    assert twelve.start == month_start(today, -11) and twelve.end == month_start(today, 1)
    assert sum(row["revenue"]["EUR"] for row in board.monthly) == twelve.totals["EUR"].revenue
    assert "airbnb" in twelve.by_channel["EUR"] and "booking_com" in board.periods[1].by_channel["EUR"]
    assert board.periods[0].cancellations == 1
    assert [m.booking.reference for m in board.arrivals_today] == [stays["arrives"].reference]
    assert stays["next"].reference in [m.booking.reference for m in board.arrivals_week]
    assert [h.reference for h in board.open_holds] == [stays["hold"].reference]
    assert board.attention["alerts"] == 1 and board.attention["inquiries"] == 1


@pytest.mark.django_db
def test_dashboard_page_shows_the_figures_and_nothing_of_another_owner(client, alice, bob, prop, stays, today):
    client.force_login(alice)
    page = client.get(reverse("admin:index")).content.decode()
    board = selectors.dashboard(user=alice, today=today)
    row = re.search(r'<tr data-period="this_month">(.*?)</tr>', page, re.S).group(1)
    assert f'data-figure="occupancy">{board.periods[0].totals["EUR"].occupancy} %' in row
    assert f'data-figure="revenue">{board.periods[0].totals["EUR"].revenue}<' in row
    assert "Arriving" in page and "arriving@example.com" in page and "+49 30 1234" in page
    assert 'id="fig-alerts">1<' in page
    assert "<svg" in page and "Revenue per month" in page
    for secret in ("Bobguest", stays["bob"].reference, "Bob&#x27;s Cabin", "Bob's Cabin", "bob-alert", "999.00"):
        assert secret not in page
    client.force_login(bob)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Bobguest" in page
    for secret in ("Arriving", "Span", stays["arrives"].reference, "Alice", "alice-alert"):
        assert secret not in page


@pytest.mark.django_db
def test_dashboard_takes_a_fixed_number_of_queries(client, alice, prop, today):
    book(prop, today, 2, name="First", total="100")
    client.force_login(alice)
    client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("admin:index")).status_code == 200
    for i in range(20):
        p = PropertyFactory(owner=alice)
        book(p, today - timedelta(days=i * 5 + 3), 3, name=f"P{i}", source="booking_com" if i % 2 else "direct")
        book(p, today + timedelta(days=i % 7), 2, name=f"Q{i}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("admin:index")).status_code == 200
    print(f"\ndashboard 1 property: {len(few)} queries; 21 properties: {len(many)} queries")
    assert len(many) == len(few) <= 18


@pytest.mark.django_db
def test_user_without_properties_gets_an_empty_dashboard(client, charlie):
    client.force_login(charlie)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200 and 'id="fig-arrivals">0<' in response.content.decode()
