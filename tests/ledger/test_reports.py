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
