from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from apps.availability import calendar
from apps.core.admin_mixins import OwnerScopedAdmin
from apps.core.errors import DomainError

from . import services
from .models import BLOCKING_STATUSES, Booking, BookingStatus, Guest


class BookingAdminForm(forms.ModelForm):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in (BookingStatus.CONFIRMED, BookingStatus.RESERVED, BookingStatus.INQUIRY)],
        initial=BookingStatus.CONFIRMED,
        help_text="Initial state. Later moves use the actions on the booking list.",
    )
    total_price = forms.DecimalField(
        required=False, min_value=0, help_text="Leave empty to price the stay with the property's rules."
    )

    class Meta:
        model = Booking
        fields = (
            "property",
            "guest",
            "source",
            "external_id",
            "check_in",
            "check_out",
            "guests",
            "status",
            "total_price",
            "special_requests",
        )

    def clean(self):
        data = super().clean()
        prop, check_in, check_out = data.get("property"), data.get("check_in"), data.get("check_out")
        if prop and check_in and check_out:
            if check_out <= check_in:
                raise forms.ValidationError({"check_out": "Check-out must be after check-in."})
            status = data.get("status") or (self.instance.status if self.instance.pk else None)
            if status in BLOCKING_STATUSES:
                conflicts = calendar.find_conflicts(
                    property_id=prop.pk, start=check_in, end=check_out, exclude_booking_id=self.instance.pk
                )
                if conflicts:
                    spans = ", ".join(f"{c['start']} to {c['end']} ({c['kind']})" for c in conflicts)
                    raise forms.ValidationError(f"These dates are not available: taken {spans}.")
        return data


class BookingChangeForm(BookingAdminForm):
    class Meta(BookingAdminForm.Meta):
        fields = ("check_in", "check_out", "guests", "special_requests")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("status")
        self.fields.pop("total_price")

    def clean(self):
        self.cleaned_data.setdefault("property", self.instance.property)
        return super().clean()


@admin.register(Booking)
class BookingAdmin(OwnerScopedAdmin):
    list_display = (
        "reference",
        "property",
        "guest",
        "check_in",
        "check_out",
        "guests",
        "status",
        "source",
        "total_price",
        "payment_status",
    )
    # RelatedOnly: the plain filter lists every property in the database (other owners' names too)
    list_filter = ("status", "source", "payment_status", ("property", admin.RelatedOnlyFieldListFilter))
    search_fields = ("reference", "external_id", "guest__last_name", "guest__email")
    list_select_related = ("property", "guest")
    date_hierarchy = "check_in"
    autocomplete_fields = ("property", "guest")
    show_full_result_count = False
    actions = ["action_confirm", "action_check_in", "action_check_out", "action_cancel"]
    readonly_fields = (
        "reference",
        "property",
        "source",
        "external_id",
        "status",
        "payment_status",
        "total_price",
        "currency",
        "hold_expires_at",
        "confirmed_at",
        "checked_in_at",
        "checked_out_at",
        "cancelled_at",
        "cancellation_reason",
        "price_snapshot",
        "created_at",
        "updated_at",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = BookingChangeForm if obj is not None else BookingAdminForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("reference",)
        return self.readonly_fields + ("guest",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(BookingAdminForm.Meta.fields)
        return [
            "reference",
            "property",
            "guest",
            "check_in",
            "check_out",
            "guests",
            "special_requests",
            *[f for f in self.readonly_fields if f not in ("reference", "property")],
        ]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            booking = services.booking_create(
                property_id=data["property"].pk,
                check_in=data["check_in"],
                check_out=data["check_out"],
                guests=data["guests"],
                source=data.get("source") or "direct",
                guest=data.get("guest"),
                status=data["status"],
                external_id=data.get("external_id") or None,
                total_price=data.get("total_price"),
                special_requests=data.get("special_requests") or "",
                enforce_rules=False,
            )
        else:
            booking = Booking.objects.get(pk=obj.pk)
            if (booking.check_in, booking.check_out, booking.guests) != (obj.check_in, obj.check_out, obj.guests):
                booking = services.booking_change_stay(
                    booking_id=obj.pk, check_in=obj.check_in, check_out=obj.check_out, guests=obj.guests
                )
            if booking.special_requests != obj.special_requests:
                services.booking_special_requests_set(booking_id=obj.pk, special_requests=obj.special_requests)
                booking.refresh_from_db()
        for field in Booking._meta.concrete_fields:
            setattr(obj, field.attname, getattr(booking, field.attname))

    def _run(self, request, queryset, service, verb: str, **kwargs):
        done, failed = 0, []
        for booking in queryset:
            try:
                service(booking_id=booking.pk, **kwargs)
                done += 1
            except DomainError as exc:
                failed.append(f"{booking.reference}: {exc}")
        if done:
            self.message_user(request, f"{done} booking(s) {verb}.", messages.SUCCESS)
        for text in failed:
            self.message_user(request, text, messages.ERROR)

    @admin.action(description="Confirm selected bookings", permissions=["change"])
    def action_confirm(self, request, queryset):
        self._run(request, queryset, services.booking_confirm, "confirmed")

    @admin.action(description="Check in selected bookings", permissions=["change"])
    def action_check_in(self, request, queryset):
        self._run(request, queryset, services.booking_check_in, "checked in")

    @admin.action(description="Check out selected bookings", permissions=["change"])
    def action_check_out(self, request, queryset):
        self._run(request, queryset, services.booking_check_out, "checked out")

    @admin.action(description="Cancel selected bookings", permissions=["change"])
    def action_cancel(self, request, queryset):
        self._run(request, queryset, services.booking_cancel, "cancelled", reason="Cancelled by the owner.")


@admin.register(Guest)
class GuestAdmin(OwnerScopedAdmin):
    list_display = ("full_name", "email", "phone", "country", "language", "owner")
    search_fields = ("first_name", "last_name", "email", "phone")
    list_filter = ("country", "language")
    list_select_related = ("owner",)

    def get_queryset(self, request):
        return Guest.objects.visible_to(request.user).select_related("owner")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        from apps.core.tenancy import is_pms_staff

        if not change and (not is_pms_staff(request.user) or not obj.owner_id):
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request, obj=None):
        from apps.core.tenancy import is_pms_staff

        return () if is_pms_staff(request.user) else ("owner",)
