"""Exports (CSV, scoped) and the import of existing bookings and blocks through booking_create / block_create:
500 bookings with 3 conflicting rows import 497 and report the 3; nothing twice; outsiders' properties refused."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.availability.models import AvailabilityBlock
from apps.bookings import services as booking_services
from apps.bookings.models import Booking, BookingStatus
from apps.ledger.exchange import IMPORT_COLUMNS, bookings_import, export_bookings, export_guests, export_payments
from apps.ledger.selectors import ledger_drift
from apps.payments import services as payment_services
from tests.factories import PropertyFactory, future

pytestmark = pytest.mark.django_db


def _file(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(IMPORT_COLUMNS))
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def _row(prop, start, nights=2, n=0, **extra) -> dict:
    return {
        "property": prop.slug, "check_in": start.isoformat(),
        "check_out": (start + timedelta(days=nights)).isoformat(),
        "guests": "2", "first_name": f"Guest{n}", "last_name": "Moved", "email": f"g{n}@example.com",
        "total_price": "250.00", "source": "direct", "status": "confirmed", **extra,
    }  # fmt: skip


def test_500_bookings_with_3_conflicts_import_497_and_report_the_3(alice):
    props = [PropertyFactory(owner=alice) for _ in range(10)]
    rows = []
    for i in range(500):
        prop = props[i % 10]
        rows.append(_row(prop, future(5 + 3 * (i // 10)), n=i))
    # three rows that collide with rows already in the file (same home, overlapping nights)
    conflicts = {
        100: _row(props[0], future(5 + 3 * 10) + timedelta(days=1), n=9001),
        250: _row(props[3], future(5 + 3 * 20), n=9002),
        400: _row(props[7], future(5 + 3 * 30) - timedelta(days=1), n=9003),
    }
    body = []
    for i, row in enumerate(rows):
        body.append(row)
        if i in conflicts:
            body.append(conflicts[i])
    assert len(body) == 503
    result = bookings_import(user=alice, data=_file(body).encode())
    assert len(result.imported) == 500 and len(result.refused) == 3, result.refused
    assert [r["code"] for r in result.refused] == ["conflict"] * 3
    # the refused rows' line numbers (the header is line 1)
    assert [r["line"] for r in result.refused] == [103, 254, 405]
    assert Booking.objects.filter(property__owner=alice).count() == 500
    assert Booking.objects.filter(client_reference__startswith="import:").count() == 500
    assert ledger_drift() == []  # every imported booking is in the ledger, reconciled


def test_the_issue_case_497_of_500(alice):
    """The acceptance as worded: a file of 500 booking rows of which 3 conflict imports 497."""
    prop = PropertyFactory(owner=alice)
    rows = [_row(prop, future(2 + 2 * i), nights=2, n=i) for i in range(497)]
    rows.insert(10, _row(prop, future(2 + 2 * 5) + timedelta(days=1), n=7001))
    rows.insert(200, _row(prop, future(2 + 2 * 150), n=7002))
    rows.insert(499, _row(prop, future(2 + 2 * 300) - timedelta(days=1), n=7003))
    assert len(rows) == 500
    result = bookings_import(user=alice, data=_file(rows))
    assert (len(result.imported), len(result.refused)) == (497, 3)
    assert {r["code"] for r in result.refused} == {"conflict"}


def test_reimport_bad_rows_blocks_and_outsiders(alice, bob):
    mine, bobs = PropertyFactory(owner=alice), PropertyFactory(owner=bob)
    rows = [
        _row(mine, future(10), n=1),
        {"type": "block", "property": str(mine.pk), "check_in": future(20).isoformat(),
         "check_out": future(25).isoformat(), "note": "Owner stay"},
        _row(bobs, future(10), n=2),  # another owner's home
        _row(mine, future(30), n=3, check_in="2026-02-30"),
        _row(mine, future(40), n=4, guests="many"),
        _row(mine, future(50), n=5, total_price="=1+1"),
        {"type": "block", "property": mine.slug, "check_in": future(11).isoformat(),
         "check_out": future(12).isoformat()},  # over the imported booking
    ]  # fmt: skip
    result = bookings_import(user=alice, data=_file(rows))
    assert [r["kind"] for r in result.imported] == ["booking", "block"]
    codes = {r["line"]: r["code"] for r in result.refused}
    assert codes == {4: "property", 5: "invalid", 6: "invalid", 7: "invalid", 8: "conflict"}, result.refused
    assert not Booking.objects.filter(property=bobs).exists()
    assert AvailabilityBlock.objects.filter(property=mine, note="Owner stay").count() == 1
    again = bookings_import(user=alice, data=_file(rows[:1]))
    assert again.imported == [] and again.refused[0]["code"] == "already_imported"
    with pytest.raises(Exception, match="header row lacks"):
        bookings_import(user=alice, data="a,b\n1,2\n")
    with pytest.raises(Exception, match="UTF-8"):
        bookings_import(user=alice, data=b"\xff\xfe\x00x")


def test_exports_are_scoped(alice, bob):
    mine = booking_services.booking_create(
        property_id=PropertyFactory(owner=alice).pk, check_in=future(10), check_out=future(12), guests=1,
        status=BookingStatus.CONFIRMED, guest=booking_services.GuestData(first_name="=cmd", email="a@example.com"),
    )  # fmt: skip
    payment_services.payment_record(booking_id=mine.pk, amount=mine.total_price, reference="x")
    bobs = booking_services.booking_create(
        property_id=PropertyFactory(owner=bob).pk, check_in=future(10), check_out=future(12), guests=1,
        status=BookingStatus.CONFIRMED, guest=booking_services.GuestData(first_name="Bert", email="b@example.com"),
    )  # fmt: skip
    bookings = export_bookings(user=alice)
    assert mine.reference in bookings and bobs.reference not in bookings
    assert "'=cmd" in bookings  # no formula reaches a spreadsheet
    guests = export_guests(user=alice)
    assert "a@example.com" in guests and "b@example.com" not in guests
    payments = export_payments(user=alice)
    assert mine.reference in payments and bobs.reference not in payments


def test_admin_exchange_page_and_command(client, alice, bob, charlie, tmp_path):
    prop = PropertyFactory(owner=alice, slug="alices-home")
    client.force_login(alice)
    page = client.get("/admin/ledger/ownerstatement/exchange/")
    assert page.status_code == 200 and 'id="import-form"' in page.content.decode()
    upload = SimpleUploadedFile("b.csv", _file([_row(prop, future(10), n=1), _row(prop, future(11), n=2)]).encode())
    answer = client.post("/admin/ledger/ownerstatement/exchange/", {"file": upload})
    html = answer.content.decode()
    assert "1 row(s) imported, 1 refused." in html and "conflict" in html
    export = client.get("/admin/ledger/ownerstatement/exchange/", {"export": "bookings"})
    assert export["Content-Type"].startswith("text/csv")
    assert Booking.objects.get(property=prop).reference in export.content.decode()
    client.force_login(charlie)
    assert client.get("/admin/ledger/ownerstatement/exchange/").status_code == 403
    assert client.get("/admin/ledger/ownerstatement/exchange/", {"export": "bookings"}).status_code == 403

    path = tmp_path / "in.csv"
    path.write_text(_file([_row(prop, future(20), n=3), _row(prop, future(21), n=4)]))
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 row"):
        call_command("import_bookings", str(path), "--owner", "alice", stdout=out)
    assert "line 3: conflict" in out.getvalue() and "1 row(s) imported" in out.getvalue()
    with pytest.raises(CommandError, match="No user"):
        call_command("import_bookings", str(path), "--owner", "nobody")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_bookings", str(path), "--owner", "bob", stdout=out)  # not bob's home
    assert "line 2: property" in out.getvalue()
