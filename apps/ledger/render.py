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


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}".replace("-", "−") if value else "–"


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
    money_cols = [label for name, label in STATEMENT_COLUMNS if name not in ("paid", "refunded")]
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
        table = Table(data, repeatRows=1, colWidths=[30 * mm, 38 * mm, 24 * mm, 19 * mm, 19 * mm, 11 * mm])
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
