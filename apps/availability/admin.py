"""Admin for calendar blocks and pricing rules (owner-scoped), with a "test a stay" preview.

Block and rule saves and deletes go through ``apps.availability.services`` (row lock, conflict check,
occupied nights, outbox event: channels re-push the calendar and the prices).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.core.admin_mixins import OwnerScopedAdmin
from apps.core.errors import DomainError
from apps.properties.models import Property

from . import calendar, services
from .admin_forms import PricingRuleForm
from .models import AvailabilityBlock, PricingRule
from .selectors import stay_check

BLOCK_FORM_FIELDS = (
    "property",
    "block_type",
    "start_date",
    "end_date",
    "price_override",
    "min_stay",
    "max_stay",
    "closed_to_arrival",
    "closed_to_departure",
    "note",
)


class AvailabilityBlockForm(forms.ModelForm):
    class Meta:
        model = AvailabilityBlock
        fields = BLOCK_FORM_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        prop, start, end, kind = (data.get(k) for k in ("property", "start_date", "end_date", "block_type"))
        if prop and start and end and end > start and kind in AvailabilityBlock.BLOCKING_TYPES:
            # The service re-checks under the property lock; this only gives the message early.
            conflicts = calendar.find_conflicts(
                property_id=prop.pk, start=start, end=end, exclude_block_id=self.instance.pk
            )
            if conflicts:
                spans = ", ".join(f"{c['kind']} {c['start']} to {c['end']}" for c in conflicts)
                raise ValidationError(f"These dates overlap: {spans}.")
        return data


@admin.register(AvailabilityBlock)
class AvailabilityBlockAdmin(OwnerScopedAdmin):
    form = AvailabilityBlockForm
    list_display = (
        "property",
        "block_type",
        "start_date",
        "end_date",
        "price_override",
        "min_stay",
        "max_stay",
        "closed_to_arrival",
        "closed_to_departure",
        "source",
    )
    list_filter = ("block_type", "source", "closed_to_arrival", "closed_to_departure")
    list_select_related = ("property",)
    search_fields = ("property__name", "note", "external_uid")
    date_hierarchy = "start_date"
    autocomplete_fields = ("property",)
    readonly_fields = ("source", "external_uid", "connection_id", "created_at", "updated_at")
    show_full_result_count = False
    actions = ["delete_blocks"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk deletes must go through the service
        return actions

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data.get(f) for f in BLOCK_FORM_FIELDS if f != "property"}
        values["note"] = values.get("note") or ""
        if change:
            block = services.block_update(block_id=obj.pk, **values)
        else:
            block = services.block_create(property_id=obj.property_id, **values)
        obj.pk = block.pk
        obj.source = block.source

    def delete_model(self, request, obj):
        services.block_delete(block_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            services.block_delete(block_id=pk)

    @admin.action(description=gettext_lazy("Delete selected blocks (frees the dates)"), permissions=["delete"])
    def delete_blocks(self, request, queryset):
        deleted = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                services.block_delete(block_id=pk)
                deleted += 1
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        self.message_user(request, f"Deleted {deleted} block(s).", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "test_stay_url": reverse("admin:availability_test_stay")}
        return super().changelist_view(request, extra_context)


@admin.register(PricingRule)
class PricingRuleAdmin(OwnerScopedAdmin):
    form = PricingRuleForm
    list_display = ("__str__", "property", "rule_type", "adjustment_type", "adjustment_value", "priority", "active")
    list_filter = ("rule_type", "active")
    list_editable = ("active",)
    list_select_related = ("property",)
    search_fields = ("name", "property__name")
    autocomplete_fields = ("property",)
    ordering = ("property", "priority", "id")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "property") if obj is not None else fields

    def save_model(self, request, obj, form, change):
        """The form (and the list_editable rows) only validate; the service writes and tells the channels."""
        values = {f: form.cleaned_data[f] for f in services.RULE_FIELDS if f in form.cleaned_data}
        if change:
            changed = {f: v for f, v in values.items() if f in form.changed_data}
            rule = services.pricing_rule_update(rule_id=obj.pk, **changed)
        else:
            rule = services.pricing_rule_create(property_id=obj.property_id, **values)
        for field in PricingRule._meta.concrete_fields:
            setattr(obj, field.attname, getattr(rule, field.attname))
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.pricing_rule_delete(rule_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            services.pricing_rule_delete(rule_id=pk)

    def get_urls(self):
        return [
            path("test-stay/", self.admin_site.admin_view(self.test_stay_view), name="availability_test_stay"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "test_stay_url": reverse("admin:availability_test_stay")}
        return super().changelist_view(request, extra_context)

    def test_stay_view(self, request):
        """Quote a stay for one of the user's properties, or list why it cannot be booked."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = TestStayForm(request.GET or None, user=request.user)
        check = None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            check = stay_check(
                prop=data["property"],
                check_in=data["check_in"],
                check_out=data["check_out"],
                guests=data["guests"],
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Test a stay",
            "form": form,
            "check": check,
            "quote": check.quote if check else None,
        }
        return TemplateResponse(request, "admin/availability/test_stay.html", context)


class TestStayForm(forms.Form):
    property = forms.ModelChoiceField(queryset=Property.objects.none())
    check_in = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    check_out = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    guests = forms.IntegerField(min_value=1, max_value=100, initial=2)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["property"].queryset = Property.objects.visible_to(user)
        today = timezone.localdate()
        self.fields["check_in"].initial = today + timedelta(days=14)
        self.fields["check_out"].initial = today + timedelta(days=17)

    def clean(self):
        data = super().clean()
        if data.get("check_in") and data.get("check_out"):
            from apps.core.limits import check_span

            try:
                check_span(data["check_in"], data["check_out"])
            except DomainError as exc:
                raise ValidationError(str(exc))
        return data
