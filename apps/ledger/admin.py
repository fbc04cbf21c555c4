"""Money in the admin: the ledger (read-only, owner-scoped) and each property's management fee."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from apps.core.admin_mixins import OwnerScopedAdmin
from apps.core.errors import DomainError
from apps.core.tenancy import is_pms_staff

from . import services
from .exchange import EXPORTS, IMPORT_COLUMNS, MAX_IMPORT_BYTES, bookings_import
from .models import Invoice, LedgerLine, OwnerLegal, OwnerStatement, PropertyFinance
from .render import report_csv, statement_csv, statement_pdf
from .selectors import (
    STATEMENT_COLUMNS,
    month_range,
    months_range,
    owner_statement,
    report_channels,
    report_distributions,
    report_pace,
    report_properties,
)


@admin.register(LedgerLine)
class LedgerLineAdmin(OwnerScopedAdmin):
    list_display = ("posted_at", "booking", "property", "kind", "label", "night", "amount", "currency", "entry")
    list_filter = ("kind", "entry", "currency")
    search_fields = ("booking__reference", "label")
    list_select_related = ("booking", "property")
    show_full_result_count = False
    date_hierarchy = "posted_at"
    ordering = ("-posted_at", "-id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PropertyFinance)
class PropertyFinanceAdmin(OwnerScopedAdmin):
    list_display = ("property", "management_fee_percent", "updated_at")
    list_select_related = ("property",)
    fields = ("property", "management_fee_percent")

    def get_readonly_fields(self, request, obj=None):
        return ("property",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = services.property_finance_set(
            property_id=obj.property_id, management_fee_percent=obj.management_fee_percent
        )
        obj.pk = saved.pk


class StatementForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=None, required=True)
    month = forms.CharField(required=False, help_text="YYYY-MM (or give a range below).", max_length=7)
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        User = get_user_model()
        if is_pms_staff(user):
            owners = User.objects.filter(properties__isnull=False).distinct().order_by("username")
        else:
            owners = User.objects.filter(pk=user.pk)
        self.fields["owner"].queryset = owners
        self.fields["owner"].initial = user.pk
        self.fields["month"].initial = last_month()

    def clean(self):
        data = super().clean()
        start, end, month = data.get("start"), data.get("end"), (data.get("month") or "").strip()
        try:
            if start or end:
                if not (start and end):
                    raise ValueError("Give both From and To, or a month.")
                if end < start:
                    raise ValueError("To must not be before From.")
                if (end - start).days > 366 * 5:
                    raise ValueError("A statement covers at most five years.")
                if end == date.max:
                    raise ValueError("To must be a day before 9999-12-31.")
                data["period"] = (start, end + timedelta(days=1))
            else:
                data["period"] = month_range(month or last_month())
        except ValueError as exc:
            raise forms.ValidationError(str(exc))
        return data


def last_month() -> str:
    today = timezone.localdate()
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first:%Y-%m}"


def statement_response(statement, fmt: str) -> HttpResponse:
    name = f"statement-{statement.owner_name}-{statement.start:%Y-%m-%d}-{statement.end - timedelta(days=1):%Y-%m-%d}"
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    if fmt == "pdf":
        response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    else:
        response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@admin.register(OwnerStatement)
class OwnerStatementAdmin(OwnerScopedAdmin):
    """Owner statements: the properties one may see, with actions that draw last month's statement,
    and a statements page (any owner one may see, any month or range; on screen, CSV or PDF)."""

    list_display = ("name", "owner", "currency", "management_fee")
    list_select_related = ("owner", "finance")
    search_fields = ("name",)
    actions = ["statement_pdf", "statement_csv"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if is_pms_staff(request.user) else qs.filter(owner=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Management fee %")
    def management_fee(self, obj) -> str:
        finance = getattr(obj, "finance", None)
        return f"{finance.management_fee_percent}" if finance else "0"

    def get_urls(self):
        return [
            path("page/", self.admin_site.admin_view(self.statements_view), name="ledger_statements"),
            path("reports/", self.admin_site.admin_view(self.reports_view), name="ledger_reports"),
            path("exchange/", self.admin_site.admin_view(self.exchange_view), name="ledger_exchange"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "statements_url": reverse("admin:ledger_statements"),
            "reports_url": reverse("admin:ledger_reports"),
            "exchange_url": reverse("admin:ledger_exchange"),
        }
        return super().changelist_view(request, extra_context)

    def _action(self, request, queryset, fmt: str):
        owners = set(queryset.values_list("owner_id", flat=True))
        if len(owners) != 1:
            self.message_user(request, "Select the properties of one owner.", messages.ERROR)
            return None
        start, end = month_range(last_month())
        statement = owner_statement(owner_id=owners.pop(), start=start, end=end, user=request.user)
        return statement_response(statement, fmt)

    @admin.action(description="Owner statement of last month (PDF)", permissions=["view"])
    def statement_pdf(self, request, queryset):
        return self._action(request, queryset, "pdf")

    @admin.action(description="Owner statement of last month (CSV)", permissions=["view"])
    def statement_csv(self, request, queryset):
        return self._action(request, queryset, "csv")

    def statements_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = StatementForm(request.GET or None, user=request.user)
        statement = None
        if form.is_bound and form.is_valid():
            start, end = form.cleaned_data["period"]
            statement = owner_statement(owner_id=form.cleaned_data["owner"].pk, start=start, end=end, user=request.user)
            fmt = request.GET.get("format", "")
            if fmt in ("csv", "pdf"):
                return statement_response(statement, fmt)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Owner statement",
            "form": form,
            "statement": statement,
            "columns": STATEMENT_COLUMNS,
            "query": request.GET.urlencode(),
        }
        return TemplateResponse(request, "admin/ledger/statement.html", context)

    def reports_view(self, request):
        """Occupancy, ADR, RevPAR by property and month; revenue and bookings by channel (with a chart);
        CSV export. Figures from the ledger, only the properties the user may see."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ReportForm(request.GET or None)
        properties, channels, chart, pace, distributions = [], [], [], [], {}
        if not form.is_bound or form.is_valid():
            data = form.cleaned_data if form.is_bound else {}
            start, end = months_range(data.get("first_month") or default_first_month(), data.get("months") or 12)
            properties = report_properties(user=request.user, start=start, end=end)
            channels = report_channels(user=request.user, start=start, end=end)
            pace = report_pace(user=request.user, start=pace_start(), months=6)
            distributions = report_distributions(user=request.user, start=start, end=end)
            if request.GET.get("format") == "csv":
                response = HttpResponse(
                    report_csv(properties=properties, channels=channels, pace=pace, distributions=distributions),
                    content_type="text/csv; charset=utf-8",
                )
                response["Content-Disposition"] = f'attachment; filename="report-{start:%Y-%m}.csv"'
                return response
            chart = channel_chart(channels)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Reports",
            "form": form,
            "properties": properties,
            "channels": channels,
            "chart": chart,
            "pace": pace,
            "distributions": distributions,
            "query": request.GET.urlencode(),
        }
        return TemplateResponse(request, "admin/ledger/reports.html", context)

    def exchange_view(self, request):
        """Exports (bookings, guests, payments: CSV of what the user may see) and the CSV import of
        bookings and blocked dates (into the properties the user may change)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        kind = request.GET.get("export", "")
        if kind in EXPORTS:
            response = HttpResponse(EXPORTS[kind](user=request.user), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{kind}-{timezone.localdate():%Y-%m-%d}.csv"'
            return response
        result, error = None, ""
        if request.method == "POST":
            upload = request.FILES.get("file")
            if upload is None:
                error = "Choose a CSV file."
            elif upload.size > MAX_IMPORT_BYTES:
                error = "The file is too large."
            else:
                try:
                    result = bookings_import(user=request.user, data=upload.read())
                except DomainError as exc:
                    error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Exports and imports",
            "exports": list(EXPORTS),
            "columns": IMPORT_COLUMNS,
            "result": result,
            "error": error,
        }
        return TemplateResponse(request, "admin/ledger/exchange.html", context)


@admin.register(OwnerLegal)
class OwnerLegalAdmin(admin.ModelAdmin):
    """Each owner keeps their own legal details (staff: everyone's)."""

    list_display = ("owner", "legal_name", "vat_id", "invoice_prefix")
    fields = ("owner", "legal_name", "address", "vat_id", "tax_number", "email", "invoice_prefix")

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("owner")
        return qs if is_pms_staff(request.user) else qs.filter(owner=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner" and not is_pms_staff(request.user):
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("owner",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not is_pms_staff(request.user) and obj.owner_id != request.user.pk:
            raise PermissionDenied
        saved = services.owner_legal_set(
            owner_id=obj.owner_id, **{name: getattr(obj, name) for name in services.LEGAL_FIELDS}
        )
        obj.pk = saved.pk


@admin.register(Invoice)
class InvoiceAdmin(OwnerScopedAdmin):
    """Issued invoices and credit notes (read-only: a correction is a new document)."""

    list_display = ("display_number", "kind", "booking", "issued_at", "net", "tax", "total", "currency", "pdf")
    list_filter = ("kind", "currency")
    search_fields = ("display_number", "booking__reference")
    list_select_related = ("booking",)
    show_full_result_count = False
    ordering = ("-issued_at", "-id")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if is_pms_staff(request.user) else qs.filter(owner=request.user)

    @admin.display(description="PDF")
    def pdf(self, obj) -> str:
        from django.utils.html import format_html

        return format_html('<a href="{}" target="_blank" rel="noopener">PDF</a>', obj.guest_path)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReportForm(forms.Form):
    first_month = forms.CharField(required=False, max_length=7, help_text="YYYY-MM (default: 11 months ago)")
    months = forms.IntegerField(required=False, min_value=1, max_value=36, initial=12)

    def clean_first_month(self):
        value = (self.cleaned_data.get("first_month") or "").strip()
        if value:
            try:
                month_range(value)
            except ValueError as exc:
                raise forms.ValidationError(str(exc))
        return value

    def clean(self):
        data = super().clean()
        if data.get("first_month") and not self.errors:
            try:
                months_range(data["first_month"], data.get("months") or 12)
            except ValueError as exc:
                raise forms.ValidationError(str(exc))
        return data


def default_first_month() -> str:
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - 11
    return f"{index // 12}-{index % 12 + 1:02d}"


def channel_chart(channels: list[dict]) -> list[dict]:
    """Bars: revenue per channel over the period (in the most used currency), widths in %."""
    if not channels:
        return []
    currencies: dict[str, int] = {}
    for row in channels:
        currencies[row["currency"]] = currencies.get(row["currency"], 0) + 1
    currency = max(currencies, key=currencies.get)
    totals: dict[str, Any] = {}
    for row in channels:
        if row["currency"] == currency:
            totals[row["channel_name"]] = totals.get(row["channel_name"], 0) + row["revenue"]
    top = max((abs(v) for v in totals.values()), default=0) or 1
    return [
        {"label": name, "value": value, "currency": currency, "width": max(1, int(abs(value) * 100 / top))}
        for name, value in sorted(totals.items(), key=lambda kv: -kv[1])
    ]


def pace_start() -> date:
    """Pace looks at this month and the five after it."""
    return timezone.localdate().replace(day=1)
