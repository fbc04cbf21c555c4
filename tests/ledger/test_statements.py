"""Owner statements: figures from the ledger that equal an independent SQL sum over bookings, payments
and refunds; a cancellation with a partial refund shows its net; CSV and PDF (text read back from the
PDF); the command, the admin page and action, and the API, each with an outsider."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pypdf import PdfReader

from apps.ledger.render import statement_csv, statement_pdf
from apps.ledger.selectors import owner_statement
from tests.api.conftest import client_for
from tests.ledger.sql import independent_totals

pytestmark = pytest.mark.django_db

D = Decimal


def _rows(statement):
    return {row.reference: row for section in statement.properties for row in section.rows}


def test_statement_totals_equal_an_independent_sql_sum(alice, month_data):
    d = month_data
    statement = owner_statement(owner_id=alice.pk, start=d["start"], end=d["end"])
    rows = _rows(statement)
    assert set(rows) == {d["paid"].reference, d["channel"].reference, d["cancelled"].reference}

    sql = independent_totals(owner_id=alice.pk, start=d["start"], end=d["end"])
    (totals,) = statement.totals.values()
    assert totals["gross"] == sql["charged"] == D("330.00") + D("400.00") + D("115.00")
    assert totals["paid"] == sql["received"] == D("560.00")
    assert -totals["refunded"] == sql["refunded"] == D("115.00")
    assert totals["commission"] == D("-60.00")

    paid = rows[d["paid"].reference]
    assert (paid.rent, paid.fees, paid.gross, paid.management_fee, paid.net) == (
        D("300.00"), D("30.00"), D("330.00"), D("-66.00"), D("264.00")
    )  # fmt: skip
    channel = rows[d["channel"].reference]
    assert (channel.gross, channel.commission, channel.management_fee, channel.net) == (
        D("400.00"), D("-60.00"), D("-80.00"), D("260.00")
    )  # fmt: skip
    assert channel.channel == "Booking.com" and channel.nights == 3 and channel.guest == "Bea Gast"
    # The cancellation with a partial refund: 230 paid, 115 given back, 115 kept (no management fee there).
    cancelled = rows[d["cancelled"].reference]
    assert cancelled.status == "Cancelled"
    assert (cancelled.rent, cancelled.adjustments, cancelled.paid, cancelled.refunded, cancelled.net) == (
        D("0"), D("115.00"), D("230.00"), D("-115.00"), D("115.00")
    )  # fmt: skip
    assert totals["net"] == D("264.00") + D("260.00") + D("115.00")
    assert totals["net"] == sql["charged"] + totals["commission"] + totals["management_fee"]


def test_statement_csv_and_pdf(alice, month_data):
    d = month_data
    statement = owner_statement(owner_id=alice.pk, start=d["start"], end=d["end"])
    table = list(csv.reader(io.StringIO(statement_csv(statement))))
    assert table[0][:3] == ["property", "reference", "guest"] and table[0][-2:] == ["Refunds", "currency"]
    by_ref = {row[1]: row for row in table[1:]}
    header = table[0]
    assert by_ref[d["paid"].reference][header.index("Net to owner")] == "264.00"
    assert by_ref["TOTAL"][header.index("Net to owner")] == "639.00"
    assert d["bobs"].reference not in by_ref and d["later"].reference not in by_ref

    pdf = statement_pdf(statement)
    assert pdf.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for needle in (
        d["paid"].reference, d["channel"].reference, d["cancelled"].reference, "639.00", "264.00", "Alice's Loft",
        d["paid"].check_in.isoformat(), d["start"].isoformat(), "Net to owner",
    ):  # fmt: skip
        assert needle in text, needle
    assert d["bobs"].reference not in text


def test_owner_statement_command(alice, bob, month_data, tmp_path):
    d = month_data
    out = io.StringIO()
    call_command("owner_statement", "--owner", "alice", "--month", d["month"], stdout=out)
    assert d["paid"].reference in out.getvalue() and d["bobs"].reference not in out.getvalue()
    target = tmp_path / "statement.pdf"
    call_command(
        "owner_statement", "--owner", str(alice.pk), "--month", d["month"], "--format", "pdf", "-o", str(target),
        stderr=io.StringIO(),
    )  # fmt: skip
    assert target.read_bytes().startswith(b"%PDF")
    # The outsider: Bob's statement holds only Bob's stay.
    out = io.StringIO()
    call_command("owner_statement", "--owner", "bob", "--month", d["month"], stdout=out)
    assert d["bobs"].reference in out.getvalue() and d["paid"].reference not in out.getvalue()
    # A range instead of a month.
    out = io.StringIO()
    last = d["start"] + timedelta(days=3)
    call_command("owner_statement", "--owner", "alice", "--from", str(d["start"]), "--to", str(last), stdout=out)
    assert d["paid"].reference in out.getvalue() and d["channel"].reference not in out.getvalue()
    for bad in (["--month", "2026-13"], ["--month", "July"], ["--from", "2026-07-01"], ["--format", "pdf"]):
        with pytest.raises(CommandError):
            call_command("owner_statement", "--owner", "alice", *bad, stdout=io.StringIO())
    with pytest.raises(CommandError, match="No user"):
        call_command("owner_statement", "--owner", "nobody", stdout=io.StringIO())


PAGE = "/admin/ledger/ownerstatement/page/"


def test_admin_statement_page_and_action_are_scoped(client, alice, bob, charlie, staff, month_data):
    d = month_data
    client.force_login(alice)
    page = client.get(PAGE, {"owner": alice.pk, "month": d["month"]})
    assert page.status_code == 200
    html = page.content.decode()
    assert d["paid"].reference in html and "639.00" in html and d["bobs"].reference not in html
    pdf = client.get(PAGE, {"owner": alice.pk, "month": d["month"], "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert client.get(PAGE, {"owner": alice.pk, "month": d["month"], "format": "csv"})["Content-Type"].startswith(
        "text/csv"
    )
    # Alice asks for Bob's statement: not one of her choices, nothing of Bob's shown.
    page = client.get(PAGE, {"owner": bob.pk, "month": d["month"]})
    assert page.status_code == 200 and d["bobs"].reference not in page.content.decode()
    assert client.get(PAGE, {"owner": bob.pk, "month": d["month"], "format": "pdf"})["Content-Type"].startswith(
        "text/html"
    )
    # The action on her properties; Bob's property is not in her list.
    changelist = client.get("/admin/ledger/ownerstatement/")
    assert changelist.status_code == 200 and "Bob&#x27;s Cabin" not in changelist.content.decode()
    answer = client.post(
        "/admin/ledger/ownerstatement/",
        {"action": "statement_csv", "_selected_action": [d["loft"].pk, d["cabin"].pk]},
    )
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    # The outsider (staff flag, no group) sees no statements at all.
    client.force_login(charlie)
    assert client.get(PAGE, {"owner": alice.pk, "month": d["month"]}).status_code == 403
    # Staff see anyone's.
    client.force_login(staff)
    page = client.get(PAGE, {"owner": bob.pk, "month": d["month"]})
    assert d["bobs"].reference in page.content.decode()


def test_api_statement_is_scoped(alice, bob, charlie, staff, month_data):
    d = month_data
    api = client_for(alice)
    answer = api.get("/api/v1/statements/", {"month": d["month"]})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["totals"]["EUR"]["net"] == "639.00" and body["totals"]["EUR"]["gross"] == "845.00"
    refs = {s["reference"] for p in body["properties"] for s in p["stays"]}
    assert refs == {d["paid"].reference, d["channel"].reference, d["cancelled"].reference}
    pdf = api.get("/api/v1/statements/", {"month": d["month"], "output": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Bob's statement through Alice's token: the same answer as for no one.
    assert api.get("/api/v1/statements/", {"month": d["month"], "owner": bob.pk}).status_code == 404
    assert api.get("/api/v1/statements/", {"month": d["month"], "owner": 999999}).status_code == 404
    # Bad input: a clear 400.
    for params in ({"month": "2026-13"}, {}, {"from": "2026-01-01"}, {"month": d["month"], "output": "xls"}):
        answer = api.get("/api/v1/statements/", params)
        assert answer.status_code == 400 and "error" in answer.json(), params
    # The outsider's own statement is empty; they cannot name Alice.
    outsider = client_for(charlie)
    assert outsider.get("/api/v1/statements/", {"month": d["month"], "owner": alice.pk}).status_code == 404
    body = outsider.get("/api/v1/statements/", {"month": d["month"]}).json()
    assert body["properties"] == [] and body["totals"] == {}
    assert client_for(staff).get("/api/v1/statements/", {"month": d["month"], "owner": bob.pk}).status_code == 200
