"""The Airbnb simulator in the admin (staff only). Adding an "Airbnb reservation" is the page where a
guest books a listing: the real sequence runs against the PMS (check availability, PUT reservation,
acceptance notification), or a request to book / an inquiry is sent for the owner to answer."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from . import airbnb
from .admin import StaffOnly
from .models.airbnb import AirbnbApp, AirbnbCalendarDay, AirbnbHost, AirbnbListing, AirbnbReservation, AirbnbToken


@admin.register(AirbnbApp)
class AirbnbAppAdmin(StaffOnly):
    list_display = ("client_id", "name", "pms_base_url", "access_token_ttl", "rate_limit_per_minute")


@admin.register(AirbnbHost)
class AirbnbHostAdmin(StaffOnly):
    list_display = ("email", "user_id", "first_name")
    actions = ["revoke"]

    @admin.action(description="Revoke the PMS app's authorization (notifies the PMS)")
    def revoke(self, request, queryset):
        for host in queryset:
            for app in AirbnbApp.objects.all():
                call = airbnb.host_revokes(host=host, app=app)
                self.message_user(request, f"{host.email}: PMS answered HTTP {call.status}.", messages.INFO)


@admin.register(AirbnbListing)
class AirbnbListingAdmin(StaffOnly):
    list_display = (
        "listing_id",
        "name",
        "host",
        "listing_currency",
        "synchronization_category",
        "approval_status",
        "unlinked",
    )
    list_filter = ("unlinked", "synchronization_category", "approval_status")
    actions = ["unlink"]

    @admin.action(description="Unlink from the PMS app (notifies the PMS)")
    def unlink(self, request, queryset):
        call = airbnb.listings_unlink(listings=list(queryset))
        self.message_user(request, f"PMS answered HTTP {call.status}.", messages.INFO)


class GuestBookingForm(forms.ModelForm):
    force = forms.BooleanField(required=False, help_text="Book even if the simulator's calendar is closed (race).")

    class Meta:
        model = AirbnbReservation
        fields = (
            "listing",
            "kind",
            "start_date",
            "nights",
            "number_of_guests",
            "guest_first_name",
            "guest_last_name",
            "message",
        )

    def clean(self):
        data = super().clean()
        if data.get("nights") is not None and not 1 <= data["nights"] <= 365:
            raise forms.ValidationError({"nights": "1 to 365 nights."})
        return data


@admin.register(AirbnbReservation)
class AirbnbReservationAdmin(StaffOnly):
    form = GuestBookingForm
    list_display = (
        "confirmation_code",
        "listing",
        "kind",
        "status",
        "start_date",
        "nights",
        "number_of_guests",
        "alteration",
        "failure",
    )
    list_filter = ("status", "kind")
    search_fields = ("confirmation_code",)
    actions = ["cancel", "book_pre_approved"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in AirbnbReservation._meta.fields] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        d = form.cleaned_data
        try:
            res = airbnb.guest_books(
                listing=d["listing"],
                start_date=d["start_date"],
                nights=d["nights"],
                guests=d["number_of_guests"],
                first_name=d["guest_first_name"],
                last_name=d["guest_last_name"],
                kind=d["kind"],
                message=d.get("message", ""),
                force=d.get("force", False),
            )
        except airbnb.GuestBookingRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        obj.pk = res.pk
        self.message_user(
            request, f"{res.confirmation_code}: {res.get_status_display()} {res.failure}".strip(), messages.INFO
        )

    @admin.action(description="Guest cancels (notifies the PMS)")
    def cancel(self, request, queryset):
        for res in queryset.filter(status=AirbnbReservation.Status.ACCEPTED):
            call = airbnb.guest_cancels(res)
            self.message_user(request, f"{res.confirmation_code}: PMS answered HTTP {call.status}.", messages.INFO)

    @admin.action(description="Guest books the pre-approved inquiry")
    def book_pre_approved(self, request, queryset):
        for res in queryset.filter(status=AirbnbReservation.Status.PRE_APPROVED):
            done = airbnb.run_booking_sequence(res)
            self.message_user(request, f"{done.confirmation_code}: {done.get_status_display()}", messages.INFO)


@admin.register(AirbnbCalendarDay)
class AirbnbCalendarDayAdmin(StaffOnly):
    list_display = (
        "listing",
        "day",
        "availability",
        "available_count",
        "daily_price",
        "min_nights",
        "max_nights",
        "closed_to_arrival",
        "closed_to_departure",
        "booked_by",
    )
    list_filter = ("listing",)


@admin.register(AirbnbToken)
class AirbnbTokenAdmin(StaffOnly):
    list_display = ("kind", "host", "app", "expires_at", "revoked_at", "created_at")
    list_filter = ("kind",)
    exclude = ("token",)
