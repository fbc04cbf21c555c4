"""Reports from the ledger: occupancy, ADR and RevPAR by property and month; revenue, bookings,
commission and cancellations by channel; admin page (chart, CSV) and API, scoped with an outsider."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection

from apps.ledger.selectors import report_channels, report_properties
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db

D = Decimal


def _sql_nights(owner_id: int, start, end) -> int:
    """Independent: nights of the owner's stays that hold their dates, counted from the bookings table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT COALESCE(SUM(LEAST(b.check_out, %s) - GREATEST(b.check_in, %s)), 0)
               FROM bookings_booking b JOIN properties_property p ON p.id = b.property_id
               WHERE p.owner_id = %s AND b.status IN ('reserved', 'confirmed', 'checked_in', 'checked_out')
                 AND b.check_in < %s AND b.check_out > %s""",
            [end, start, owner_id, end, start],
        )
        return cursor.fetchone()[0]


def test_property_and_channel_reports(alice, bob, charlie, month_data):
    d = month_data
    props = report_properties(user=alice, start=d["start"], end=d["end"])
    loft = next(r for r in props if r["name"] == "Alice's Loft" and r["month"] == d["month"])
    days = (d["end"] - d["start"]).days
    assert loft["nights_sold"] == 6 and loft["nights_available"] == days
    assert loft["rent"] == D("700.00") and loft["adr"] == D("116.67")
    assert loft["revpar"] == (D("700.00") / days).quantize(D("0.01"))
    assert sum(r["nights_sold"] for r in props) == _sql_nights(alice.pk, d["start"], d["end"]) == 6
    assert "Bob's Cabin" not in {r["name"] for r in props}

    channels = {r["channel"]: r for r in report_channels(user=alice, start=d["start"], end=d["end"])}
    assert set(channels) == {"direct", "booking_com"}
    direct, bdc = channels["direct"], channels["booking_com"]
    # direct: the paid stay (330) and the cancelled one that kept 115; the lapsed hold is no cancellation
    assert (direct["bookings"], direct["revenue"], direct["cancellations"], direct["cancellation_kept"]) == (
        1, D("445.00"), 1, D("115.00")
    )  # fmt: skip
    assert (bdc["bookings"], bdc["nights"], bdc["revenue"], bdc["commission"]) == (1, 3, D("400.00"), D("-60.00"))

    # The outsider sees nothing; Bob only his own.
    assert report_properties(user=charlie, start=d["start"], end=d["end"]) == []
    assert report_channels(user=charlie, start=d["start"], end=d["end"]) == []
    bobs = report_properties(user=bob, start=d["start"], end=d["end"])
    assert {r["name"] for r in bobs} == {"Bob's Cabin"}


def test_reports_admin_page_and_api(client, alice, bob, charlie, month_data):
    d = month_data
    client.force_login(alice)
    page = client.get("/admin/ledger/ownerstatement/reports/", {"first_month": d["month"], "months": 1})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="channel-chart"' in html and "Booking.com" in html and "Alice&#x27;s Loft" in html
    assert "Bob&#x27;s Cabin" not in html
    answer = client.get("/admin/ledger/ownerstatement/reports/", {"first_month": d["month"], "months": 1,
                                                                   "format": "csv"})  # fmt: skip
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert any(r[:1] == ["booking_com"] and "400.00" in r for r in rows)
    assert client.get("/admin/ledger/ownerstatement/reports/", {"first_month": "2026-99"}).status_code == 200
    client.force_login(charlie)
    assert client.get("/admin/ledger/ownerstatement/reports/").status_code == 403

    api = client_for(alice)
    body = api.get("/api/v1/reports/", {"first_month": d["month"], "months": 1}).json()
    assert {r["channel"] for r in body["channels"]} == {"direct", "booking_com"}
    assert any(r["name"] == "Alice's Loft" and r["adr"] == "116.67" for r in body["properties"])
    assert api.get("/api/v1/reports/", {"first_month": d["month"], "output": "csv"})["Content-Type"].startswith(
        "text/csv"
    )
    for params in ({"first_month": "2026-13"}, {"months": 0}, {"months": 99}, {"output": "pdf"}):
        answer = api.get("/api/v1/reports/", params)
        assert answer.status_code == 400 and "error" in answer.json(), params
    outsider = client_for(charlie).get("/api/v1/reports/", {"first_month": d["month"], "months": 1}).json()
    assert outsider["properties"] == [] and outsider["channels"] == []
    bobs = client_for(bob).get("/api/v1/reports/", {"first_month": d["month"], "months": 1}).json()
    assert {r["name"] for r in bobs["properties"]} == {"Bob's Cabin"}


def test_pace_and_distributions(alice, charlie, month_data):
    from datetime import date as date_cls
    from datetime import timedelta

    from django.utils import timezone

    from apps.bookings import services as booking_services
    from apps.bookings.models import BookingStatus
    from apps.ledger.selectors import report_distributions, report_pace

    d = month_data
    # a stay in the same month last year, booked (posted) a year and a day ago
    year_ago = timezone.now() - timedelta(days=366)
    last_year = d["start"].replace(year=d["start"].year - 1) + timedelta(days=3)
    booking_services.booking_create(
        property_id=d["loft"].pk, check_in=last_year, check_out=last_year + timedelta(days=2), guests=1,
        status=BookingStatus.CONFIRMED, enforce_rules=False, now=year_ago,
        guest=booking_services.GuestData(first_name="Olga"),
    )  # fmt: skip
    # the fixture's cancellations happen at their own (later) moments: look from after them all
    later = timezone.make_aware(timezone.datetime.combine(d["end"], timezone.datetime.min.time()))
    (row,) = report_pace(user=alice, start=d["start"], months=1, as_of=later)
    assert (row["nights_on_books"], row["rent_on_books"]) == (6, D("700.00"))
    assert row["nights_last_year"] == 2
    # as it stood an hour ago: nothing of this month's stays was on the books yet
    (earlier,) = report_pace(user=alice, start=d["start"], months=1, as_of=timezone.now() - timedelta(hours=1))
    assert earlier["nights_on_books"] == 0
    # now, before those later cancellations: the cancelled stays' nights are still on the books
    assert report_pace(user=alice, start=d["start"], months=1)[0]["nights_on_books"] == 10
    assert report_pace(user=charlie, start=d["start"], months=1)[0]["nights_on_books"] == 0

    dist = report_distributions(user=alice, start=d["start"], end=d["end"])
    los = {r["bucket"]: r["bookings"] for r in dist["length_of_stay"]}
    assert los["3 nights"] == 2 and sum(los.values()) == 2  # the paid and the channel stay (cancelled ones not)
    today = date_cls.today()
    leads = [(d["paid"].check_in - today).days, (d["channel"].check_in - today).days]
    counted = {r["bucket"]: r["bookings"] for r in dist["lead_time"]}
    expected = {}
    for lead in leads:
        label = next(text for lo, hi, text in
                     [(0, 7, "0-7 days"), (8, 30, "8-30 days"), (31, 90, "31-90 days"), (91, 180, "91-180 days"),
                      (181, 10**5, "181+ days")] if lo <= lead <= hi)  # fmt: skip
        expected[label] = expected.get(label, 0) + 1
    assert {k: v for k, v in counted.items() if v} == expected
    assert report_distributions(user=charlie, start=d["start"], end=d["end"])["lead_time"][0]["bookings"] == 0
