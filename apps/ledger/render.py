"""Statements as files: CSV (one row per stay, a subtotal per property, totals per currency) and PDF
(ReportLab, with the Bitstream Vera fonts that ship inside ReportLab: nothing is fetched)."""

from __future__ import annotations

import csv
import io
import os
from decimal import Decimal

from .selectors import STATEMENT_COLUMNS, Statement

CSV_HEADER = [
    "property",
    "reference",
    "guest",
    "channel",
    "status",
    "arrival",
    "departure",
    "nights",
    *[label for _, label in STATEMENT_COLUMNS],
    "currency",
]


def _csv_safe(value: str) -> str:
    """Text cells never start a spreadsheet formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def statement_csv(statement: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for section in statement.properties:
        for row in section.rows:
            writer.writerow(
                [
                    _csv_safe(section.name),
                    row.reference,
                    _csv_safe(row.guest),
                    row.channel,
                    row.status,
                    row.arrival.isoformat(),
                    row.departure.isoformat(),
                    row.nights,
                    *[getattr(row, name) for name, _ in STATEMENT_COLUMNS],
                    row.currency,
                ]
            )
        if section.rows:
            writer.writerow(
                [
                    _csv_safe(section.name),
                    "SUBTOTAL",
                    f"management fee {section.management_fee_percent} %",
                    "",
                    "",
                    "",
                    "",
                    sum(r.nights for r in section.rows),
                    *[section.total(name) for name, _ in STATEMENT_COLUMNS],
                    section.currency,
                ]
            )
    for currency, totals in statement.totals.items():
        writer.writerow(["", "TOTAL", "", "", "", "", "", "", *totals.values(), currency])
    return out.getvalue()


_FONTS_READY = False


def _fonts() -> tuple[str, str]:
    global _FONTS_READY
    if not _FONTS_READY:
        import reportlab
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
        pdfmetrics.registerFont(TTFont("PMSVera", os.path.join(folder, "Vera.ttf")))
        pdfmetrics.registerFont(TTFont("PMSVeraBold", os.path.join(folder, "VeraBd.ttf")))
        _FONTS_READY = True
    return "PMSVera", "PMSVeraBold"


def _places(value: Decimal) -> int:
    return 2 if value == value.quantize(Decimal("0.01")) else 3


def _amount(value: Decimal) -> str:
    return f"{value:,.{_places(value)}f}".replace("-", "−") if value else "–"


def statement_pdf(statement: Statement) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _fonts()
    title = ParagraphStyle("title", fontName=bold, fontSize=15, leading=19, spaceAfter=4)
    heading = ParagraphStyle("heading", fontName=bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Owner statement {statement.owner_name} {statement.period_label}",
        author="PMS-Webapp",
    )
    story = [
        Paragraph(f"Owner statement: {_escape(statement.owner_name)}", title),
        Paragraph(f"Stays arriving {statement.period_label}", body),
        Spacer(1, 4 * mm),
    ]
    short = {
        "adjustments": "Cancel. / credits",
        "gross": "Charged",
        "management_fee": "Mgmt fee",
        "net": "Net to owner",
    }
    money_cols = [short.get(name, label) for name, label in STATEMENT_COLUMNS if name not in ("paid", "refunded")]
    header = ["Reference", "Guest", "Channel", "Arrival", "Departure", "Nights", *money_cols]
    money_names = [name for name, _ in STATEMENT_COLUMNS if name not in ("paid", "refunded")]
    for section in statement.properties:
        if not section.rows:
            continue
        fee = f" · management fee {section.management_fee_percent} %" if section.management_fee_percent else ""
        story.append(Paragraph(f"{_escape(section.name)} ({section.currency}){fee}", heading))
        data = [[Paragraph(f"<b>{_escape(h)}</b>", body) for h in header]]
        for row in section.rows:
            status = "" if row.status in ("Confirmed", "Checked in", "Checked out") else f" ({row.status.lower()})"
            data.append(
                [
                    row.reference,
                    Paragraph(_escape(row.guest + status), body),
                    row.channel,
                    row.arrival.isoformat(),
                    row.departure.isoformat(),
                    str(row.nights),
                    *[_amount(getattr(row, name)) for name in money_names],
                ]
            )
        data.append(
            [
                "Total",
                "",
                "",
                "",
                "",
                str(sum(r.nights for r in section.rows)),
                *[_amount(section.total(name)) for name in money_names],
            ]
        )
        widths = [29 * mm, 34 * mm, 23 * mm, 18 * mm, 18 * mm, 10 * mm] + [17.6 * mm] * len(money_names)
        table = Table(data, repeatRows=1, colWidths=widths)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), regular, 7.5),
                    ("FONT", (0, -1), (-1, -1), bold, 7.5),
                    ("ALIGN", (5, 0), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                    ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black),
                    ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, colors.HexColor("#f3f4f6")]),
                ]
            )
        )
        story.append(table)
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph("Totals", heading))
    totals = [["Currency", *[label for _, label in STATEMENT_COLUMNS]]]
    for currency, values in statement.totals.items():
        totals.append([currency, *[_amount(v) for v in values.values()]])
    if len(totals) == 1:
        totals.append(["–", *["–" for _ in STATEMENT_COLUMNS]])
    table = Table(totals)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), regular, 8),
                ("FONT", (0, 0), (-1, 0), bold, 8),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
            ]
        )
    )
    story.append(table)
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            "Net to owner = charged to the guest (rent, fees, taxes, what a cancellation kept, credits) "
            "+ channel commission − management fee (of rent, fees and cancellation/credits). Payments and "
            "refunds are the money that moved for these stays. Figures from the ledger.",
            body,
        )
    )
    doc.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- guest invoices ---------------------------------------------------------------------------------

INVOICE_WORDS = {
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "number": "Number",
        "date": "Date",
        "booking": "Booking",
        "stay": "Stay",
        "corrects": "Corrects invoice",
        "to": "Billed to",
        "vat_id": "VAT id",
        "tax_number": "Tax number",
        "item": "Item",
        "net": "Net",
        "rate": "VAT %",
        "tax": "VAT",
        "total": "Total",
        "vat_breakdown": "VAT breakdown",
        "payments": "Payments and refunds",
        "payment": "Payment received",
        "refund": "Refund",
        "balance": "Balance due",
        "reason": "Reason",
    },
    "de": {
        "invoice": "Rechnung",
        "credit_note": "Gutschrift",
        "number": "Nummer",
        "date": "Datum",
        "booking": "Buchung",
        "stay": "Aufenthalt",
        "corrects": "Korrektur zu Rechnung",
        "to": "Rechnungsempfänger",
        "vat_id": "USt-IdNr.",
        "tax_number": "Steuernummer",
        "item": "Position",
        "net": "Netto",
        "rate": "USt %",
        "tax": "USt",
        "total": "Gesamt",
        "vat_breakdown": "Umsatzsteuer",
        "payments": "Zahlungen und Erstattungen",
        "payment": "Zahlung erhalten",
        "refund": "Erstattung",
        "balance": "Offener Betrag",
        "reason": "Grund",
    },
}
LINE_WORDS_DE = {
    "Accommodation": "Unterkunft",
    "night": "Nacht",
    "nights": "Nächte",
    "Cleaning fee": "Endreinigung",
    "Cancellation fee (kept)": "Stornogebühr (einbehalten)",
    "Credit": "Gutschrift",
    "Cancellation": "Stornierung",
    "Cancellation fee": "Stornogebühr",
    "Refund": "Erstattung",
    "Change of booking": "Buchungsänderung",
}


def _de(text: str) -> str:
    for en, de in sorted(LINE_WORDS_DE.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(en, de)
    return text


def invoice_pdf(invoice, *, cash: list[tuple[str, Decimal]] | None = None) -> bytes:
    """The invoice or credit note in the guest's language (en/de), with the VAT breakdown and, on
    an invoice, the payments and refunds of the booking so far and the balance."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    lang = "de" if (invoice.language or "").startswith("de") else "en"
    w = INVOICE_WORDS[lang]
    tr = _de if lang == "de" else (lambda t: t)
    regular, bold = _fonts()
    title = ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=6)
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)
    small = ParagraphStyle("small", fontName=regular, fontSize=8, leading=10)
    money = _amount_plain
    seller, buyer = invoice.seller or {}, invoice.buyer or {}
    booking = invoice.booking

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
        title=f"{w[invoice.kind]} {invoice.display_number}", author=seller.get("name", ""),
    )  # fmt: skip
    seller_lines = [seller.get("name", ""), *str(seller.get("address", "")).splitlines()]
    if seller.get("vat_id"):
        seller_lines.append(f"{w['vat_id']}: {seller['vat_id']}")
    if seller.get("tax_number"):
        seller_lines.append(f"{w['tax_number']}: {seller['tax_number']}")
    if seller.get("email"):
        seller_lines.append(seller["email"])
    story = [
        Paragraph("<br/>".join(_escape(x) for x in seller_lines if x), small),
        Spacer(1, 6 * mm),
        Paragraph(f"{w[invoice.kind]} {invoice.display_number}", title),
    ]
    facts = [
        (w["number"], invoice.display_number),
        (w["date"], invoice.issued_at.date().isoformat()),
        (w["booking"], booking.reference),
        (w["stay"], f"{booking.check_in.isoformat()} – {booking.check_out.isoformat()}"),
    ]
    if invoice.corrects_id:
        facts.append((w["corrects"], invoice.corrects.display_number))
    if invoice.reason:
        facts.append((w["reason"], tr(invoice.reason)))
    buyer_text = "<br/>".join(_escape(x) for x in (buyer.get("name"), buyer.get("email"), buyer.get("country")) if x)
    head = Table(
        [[Paragraph(f"<b>{w['to']}</b><br/>{buyer_text}", body),
          Table([[k, v] for k, v in facts], style=[("FONT", (0, 0), (-1, -1), regular, 9)])]],
        colWidths=[85 * mm, 89 * mm],
    )  # fmt: skip
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [head, Spacer(1, 6 * mm)]

    rows = [[w["item"], w["net"], w["rate"], w["tax"], w["total"]]]
    for line in invoice.lines:
        rows.append(
            [
                Paragraph(_escape(tr(line["label"])), body),
                money(Decimal(line["net"])),
                line["rate"] or "",
                money(Decimal(line["tax"])),
                money(Decimal(line["total"])),
            ]
        )
    rows.append(
        [f"{w['total']} ({invoice.currency})", money(invoice.net), "", money(invoice.tax), money(invoice.total)]
    )
    table = Table(rows, colWidths=[86 * mm, 24 * mm, 16 * mm, 22 * mm, 26 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), regular, 9),
                ("FONT", (0, 0), (-1, 0), bold, 9),
                ("FONT", (0, -1), (-1, -1), bold, 9),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black),
            ]
        )
    )
    story.append(table)

    breakdown: dict[str, list[Decimal]] = {}
    for line in invoice.lines:
        if line["rate"]:
            bucket = breakdown.setdefault(line["rate"], [Decimal("0"), Decimal("0")])
            bucket[0] += Decimal(line["net"])
            bucket[1] += Decimal(line["tax"])
    if breakdown:
        story += [Spacer(1, 5 * mm), Paragraph(f"<b>{w['vat_breakdown']}</b>", body)]
        vat_rows = [[w["rate"], w["net"], w["tax"]]] + [
            [f"{rate} %", money(net), money(tax)] for rate, (net, tax) in breakdown.items()
        ]
        vat = Table(vat_rows, colWidths=[30 * mm, 30 * mm, 30 * mm])
        vat.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), regular, 9), ("ALIGN", (0, 0), (-1, -1), "RIGHT")]))
        story.append(vat)
    if cash:
        story += [Spacer(1, 5 * mm), Paragraph(f"<b>{w['payments']}</b>", body)]
        cash_rows = [[w[kind], money(amount)] for kind, amount in cash]
        documents = sum((d.total for d in booking.invoices.all()), Decimal("0"))
        cash_rows.append([w["balance"], money(documents - sum((a for _, a in cash), Decimal("0")))])
        paid = Table(cash_rows, colWidths=[60 * mm, 30 * mm])
        paid.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), regular, 9), ("ALIGN", (1, 0), (-1, -1), "RIGHT")]))
        story.append(paid)
    doc.build(story)
    return buffer.getvalue()


def _amount_plain(value: Decimal) -> str:
    return f"{value:,.{_places(value)}f}".replace("-", "−")


# --- reports ----------------------------------------------------------------------------------------

PROPERTY_REPORT_COLUMNS = [
    "property", "name", "month", "currency", "nights_sold", "nights_available", "occupancy", "rent", "adr", "revpar",
]  # fmt: skip
CHANNEL_REPORT_COLUMNS = [
    "channel", "channel_name", "month", "currency", "bookings", "nights", "revenue", "commission", "cancellations",
    "cancellation_kept",
]  # fmt: skip


def report_csv(
    *, properties: list[dict], channels: list[dict], pace: list[dict] | None = None, distributions=None
) -> str:
    """The reports in one CSV: a block per report, each with its header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["report: occupancy, ADR and RevPAR by property and month"])
    writer.writerow(PROPERTY_REPORT_COLUMNS)
    for row in properties:
        writer.writerow([_csv_safe(str(row[c])) for c in PROPERTY_REPORT_COLUMNS])
    writer.writerow([])
    writer.writerow(["report: revenue and bookings by channel and month of arrival"])
    writer.writerow(CHANNEL_REPORT_COLUMNS)
    for row in channels:
        writer.writerow([_csv_safe(str(row[c])) for c in CHANNEL_REPORT_COLUMNS])
    if pace:
        columns = ["month", "nights_on_books", "rent_on_books", "nights_last_year", "rent_last_year", "as_of"]
        writer.writerow([])
        writer.writerow(["report: booking pace (on the books now vs the same time last year)"])
        writer.writerow(columns)
        for row in pace:
            writer.writerow([str(row[c]) for c in columns])
    for name, rows in (distributions or {}).items():
        writer.writerow([])
        writer.writerow([f"report: {name.replace('_', ' ')} distribution"])
        writer.writerow(["bucket", "bookings"])
        for row in rows:
            writer.writerow([row["bucket"], row["bookings"]])
    return out.getvalue()
