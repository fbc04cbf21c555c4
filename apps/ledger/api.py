"""Integrator API: owner statements (JSON, CSV or PDF). An owner gets their own; staff any owner's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from apps.api.base import ApiView, q_choice, q_date, q_int, q_str
from apps.api.schema import error_example

from .render import report_csv, statement_csv, statement_pdf
from .selectors import (
    STATEMENT_COLUMNS,
    Statement,
    month_range,
    months_range,
    owner_statement,
    report_channels,
    report_distributions,
    report_pace,
    report_properties,
)

STATEMENT_EXAMPLE = {
    "owner": 3,
    "owner_name": "Olivia Owner",
    "start": "2026-07-01",
    "end": "2026-07-31",
    "properties": [
        {
            "property": 12,
            "name": "Lakeside Loft",
            "currency": "EUR",
            "management_fee_percent": "20.00",
            "stays": [
                {
                    "booking": 77,
                    "reference": "PMS-2026-000077",
                    "guest": "Ana Silva",
                    "channel": "Direct",
                    "status": "Checked out",
                    "arrival": "2026-07-03",
                    "departure": "2026-07-06",
                    "nights": 3,
                    "rent": "300.00",
                    "fees": "30.00",
                    "taxes": "21.00",
                    "adjustments": "0.00",
                    "gross": "351.00",
                    "commission": "0.00",
                    "management_fee": "-66.00",
                    "net": "285.00",
                    "paid": "351.00",
                    "refunded": "0.00",
                }
            ],
            "totals": {"rent": "300.00", "net": "285.00"},
        }
    ],
    "totals": {"EUR": {"rent": "300.00", "net": "285.00"}},
}


REPORT_EXAMPLE = {
    "first_month": "2026-01",
    "months": 12,
    "properties": [
        {"property": 12, "name": "Lakeside Loft", "month": "2026-07", "currency": "EUR", "nights_sold": 24,
         "nights_available": 31, "occupancy": "77.4", "rent": "2880.00", "adr": "120.00", "revpar": "92.90"}
    ],
    "channels": [
        {"channel": "booking_com", "channel_name": "Booking.com", "month": "2026-07", "currency": "EUR",
         "bookings": 3, "nights": 11, "revenue": "1320.00", "commission": "-198.00", "cancellations": 1,
         "cancellation_kept": "0.00"}
    ],
    "pace": [
        {"month": "2026-12", "nights_on_books": 18, "rent_on_books": "2160.00", "nights_last_year": 12,
         "rent_last_year": "1380.00", "as_of": "2026-12-01T20:00:00+00:00"}
    ],
    "lead_time": [{"bucket": "0-7 days", "bookings": 2}, {"bucket": "8-30 days", "bookings": 5}],
    "length_of_stay": [{"bucket": "2 nights", "bookings": 4}, {"bucket": "7-13 nights", "bookings": 1}],
}  # fmt: skip


def _money(values: dict) -> dict:
    return {name: str(values[name]) for name, _ in STATEMENT_COLUMNS}


def statement_json(statement: Statement) -> dict:
    return {
        "owner": statement.owner_id,
        "owner_name": statement.owner_name,
        "start": statement.start.isoformat(),
        "end": (statement.end - timedelta(days=1)).isoformat(),
        "properties": [
            {
                "property": section.property_id,
                "name": section.name,
                "currency": section.currency,
                "management_fee_percent": str(section.management_fee_percent),
                "stays": [
                    {
                        "booking": row.booking_id,
                        "reference": row.reference,
                        "guest": row.guest,
                        "channel": row.channel,
                        "status": row.status,
                        "arrival": row.arrival.isoformat(),
                        "departure": row.departure.isoformat(),
                        "nights": row.nights,
                        **_money(row.__dict__),
                    }
                    for row in section.rows
                ],
                "totals": _money(section.totals),
            }
            for section in statement.properties
        ],
        "totals": {currency: _money(values) for currency, values in statement.totals.items()},
    }


class StatementView(ApiView):
    @extend_schema(
        summary="Owner statement",
        description="Per property, each stay arriving in the period with its money from the ledger (rent, fees, "
        "taxes, what a cancellation kept, commission, management fee, net to owner, payments, refunds) and "
        "the totals. `month=YYYY-MM`, or `from` and `to` (inclusive). An owner gets their own statement; "
        "staff may name any `owner`. `output=csv` or `output=pdf` answers with the file.",
        parameters=[
            OpenApiParameter("month", str, description="YYYY-MM"),
            OpenApiParameter("from", str, description="First day, YYYY-MM-DD (with `to`)"),
            OpenApiParameter("to", str, description="Last day, YYYY-MM-DD (inclusive)"),
            OpenApiParameter("owner", int, description="Owner's user id (staff only; default: you)"),
            OpenApiParameter("output", str, enum=["json", "csv", "pdf"], description="Default json"),
        ],
        responses={
            (200, "application/json"): dict,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
        examples=[
            OpenApiExample("Statement", value=STATEMENT_EXAMPLE, response_only=True),
            error_example("Another owner's", "not_found", "Not found.", status=404),
        ],
    )
    def get(self, request):
        owner_id = q_int(request, "owner", minimum=1)
        if owner_id is None:
            owner_id = request.user.pk
        month, start, end = q_str(request, "month"), q_date(request, "from"), q_date(request, "to")
        output = q_choice(request, "output", ["json", "csv", "pdf"]) or "json"
        try:
            if start or end:
                if not (start and end) or month:
                    raise ValueError("Give either month, or both from and to.")
                if end < start:
                    raise ValueError("`to` must not be before `from`.")
                if (end - start).days > 366 * 5:
                    raise ValueError("A statement covers at most five years.")
                period = (start, end + timedelta(days=1))
            elif month:
                period = month_range(month)
            else:
                raise ValueError("Give month=YYYY-MM, or from and to.")
        except ValueError as exc:
            raise exceptions.ValidationError({"month": [str(exc)]})
        try:
            statement = owner_statement(owner_id=owner_id, start=period[0], end=period[1], user=request.user)
        except (PermissionDenied, LookupError):
            # another owner's statement, or an id that is no one: the same answer
            raise exceptions.NotFound("Not found.")
        if output == "json":
            return Response(statement_json(statement))
        name = f"statement-{owner_id}-{period[0]:%Y%m%d}"
        if output == "pdf":
            response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
        else:
            response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.{output}"'
        return response


def _strings(rows: list[dict]) -> list[dict]:
    return [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()} for row in rows]


class ReportView(ApiView):
    @extend_schema(
        summary="Reports: occupancy, ADR, RevPAR by property; revenue and bookings by channel; pace; distributions",
        description="By month, from the ledger, for the properties the token's user may see: `properties`, "
        "`channels`, `pace` (this month and the next five on the books now vs a year earlier), `lead_time` and "
        "`length_of_stay` (stays arriving in the period, by bucket). `first_month=YYYY-MM` "
        "(default: 11 months ago) and `months` (1-36, default 12). `output=csv` answers with a CSV file.",
        parameters=[
            OpenApiParameter("first_month", str, description="YYYY-MM"),
            OpenApiParameter("months", int, description="1-36, default 12"),
            OpenApiParameter("output", str, enum=["json", "csv"], description="Default json"),
        ],
        responses={(200, "application/json"): dict, (200, "text/csv"): OpenApiTypes.STR},
        examples=[
            OpenApiExample("Reports", value=REPORT_EXAMPLE, response_only=True),
            error_example("Bad month", "validation_error", "Invalid input.", status=400),
        ],
    )
    def get(self, request):
        from django.utils import timezone

        months = q_int(request, "months", minimum=1, maximum=36) or 12
        first = q_str(request, "first_month")
        if first is None:
            today = timezone.localdate()
            index = today.year * 12 + today.month - 1 - 11
            first = f"{index // 12}-{index % 12 + 1:02d}"
        try:
            start, end = months_range(first, months)
        except ValueError as exc:
            raise exceptions.ValidationError({"first_month": [str(exc)]})
        output = q_choice(request, "output", ["json", "csv"]) or "json"
        properties = report_properties(user=request.user, start=start, end=end)
        channels = report_channels(user=request.user, start=start, end=end)
        pace = report_pace(user=request.user, start=timezone.localdate().replace(day=1), months=6)
        distributions = report_distributions(user=request.user, start=start, end=end)
        if output == "csv":
            response = HttpResponse(
                report_csv(properties=properties, channels=channels, pace=pace, distributions=distributions),
                content_type="text/csv; charset=utf-8",
            )
            response["Content-Disposition"] = f'attachment; filename="report-{start:%Y-%m}.csv"'
            return response
        return Response(
            {
                "first_month": f"{start:%Y-%m}",
                "months": months,
                "properties": _strings(properties),
                "channels": _strings(channels),
                "pace": _strings(pace),
                **distributions,
            }
        )
