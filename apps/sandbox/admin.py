"""Simulator state in the admin (staff only: sandbox rows are not owner data).

Adding a ``SimReservation`` here is the staff page that books on the Booking.com simulator, as a
guest would; the PMS picks it up at the next pull.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models

from apps.core import limits
from apps.core.tenancy import is_pms_staff

from . import booking_com
from .models import SimCalendarDay, SimFault, SimListing, SimRequest, SimReservation


class StaffOnly(admin.ModelAdmin):
    #: JSON fields parsed and bounded by the limits (a 10,000-digit number was a 500)
    formfield_overrides = {models.JSONField: {"form_class": limits.LimitedJSONField}}

    def has_module_permission(self, request):
        return is_pms_staff(request.user)

    def has_view_permission(self, request, obj=None):
        return is_pms_staff(request.user)

    def has_add_permission(self, request):
        return is_pms_staff(request.user)

    def has_change_permission(self, request, obj=None):
        return is_pms_staff(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_pms_staff(request.user)


@admin.register(SimListing)
class SimListingAdmin(StaffOnly):
    list_display = ("hotel_code", "name", "username", "room_code", "rate_plan_code", "webhook_url")


class SimReservationForm(forms.ModelForm):
    force = forms.BooleanField(required=False, help_text="Book even if the simulator's calendar is closed (race).")

    class Meta:
        model = SimReservation
        fields = ("listing", "check_in", "check_out", "guests", "first_name", "last_name", "email")

    def clean(self):
        data = super().clean()
        if data.get("check_in") and data.get("check_out") and data["check_out"] <= data["check_in"]:
            raise forms.ValidationError({"check_out": "Check-out must be after check-in."})
        if (
            data.get("listing")
            and data.get("check_in")
            and data.get("check_out")
            and not data.get("force")
            and booking_com.nights_closed(data["listing"], data["check_in"], data["check_out"])
        ):
            raise forms.ValidationError("The simulator's calendar is closed for some of these nights (tick force).")
        return data


@admin.register(SimReservation)
class SimReservationAdmin(StaffOnly):
    form = SimReservationForm
    list_display = ("res_id", "listing", "status", "check_in", "check_out", "version", "acked_version", "new_acked_at")
    list_filter = ("status",)
    actions = ["cancel"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in SimReservation._meta.fields] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        d = form.cleaned_data
        try:
            created = booking_com.create_reservation(
                listing=d["listing"],
                check_in=d["check_in"],
                check_out=d["check_out"],
                guests=d["guests"],
                first_name=d["first_name"],
                last_name=d["last_name"],
                email=d.get("email", ""),
                force=d.get("force", False),
            )
        except ValueError:  # closed meanwhile: the form checked a moment ago
            return
        obj.pk = created.pk

    @admin.action(description="Cancel on the simulator")
    def cancel(self, request, queryset):
        for res in queryset:
            booking_com.modify_reservation(res=res, cancel=True)


@admin.register(SimFault)
class SimFaultAdmin(StaffOnly):
    list_display = (
        "simulator",
        "kind",
        "path_contains",
        "remaining",
        "latency_ms",
        "status_code",
        "retry_after",
        "active",
        "hits",
    )
    list_editable = ("active",)


@admin.register(SimCalendarDay)
class SimCalendarDayAdmin(StaffOnly):
    list_display = (
        "listing",
        "day",
        "rooms_to_sell",
        "stop_sell",
        "price",
        "min_stay",
        "max_stay",
        "closed_to_arrival",
        "closed_to_departure",
    )
    list_filter = ("listing",)


@admin.register(SimRequest)
class SimRequestAdmin(StaffOnly):
    list_display = ("created_at", "method", "path", "status_code", "fault")
    list_filter = ("status_code", "fault")


from . import (  # noqa: E402
    admin_expedia,  # noqa: F401  (the Expedia EQC simulator)
    admin_google_vr,  # noqa: F401  (the Google Vacation Rentals simulator)
    admin_vrbo,  # noqa: F401  (the Vrbo simulator's admin)
)
from .admin_airbnb import AirbnbReservationAdmin  # noqa: E402,F401  (the Airbnb simulator)
