"""The Expedia simulator in the admin (staff only).

"Add Expedia booking" is the page where a guest books on Expedia: the booking is queued for the
partner's next BookingRetrievalRQ (pull model) or pushed at once as a Booking Notification (the
hotel's model ``push``). Actions on bookings modify (move by a day, one more night) or cancel them,
which is a new transaction released the same way; "Send again" retries Booking Notifications that
were not accepted (``RetryIndicator="true"``).
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages

from . import expedia
from .admin import StaffOnly
from .expedia import describe
from .models.expedia import ExpBooking, ExpDay, ExpHotel, ExpTransaction


@admin.register(ExpHotel)
class ExpHotelAdmin(StaffOnly):
    list_display = ("hotel_id", "name", "username", "room_type_id", "rate_plan_id", "reservation_model", "bn_url")
    list_editable = ("reservation_model",)


class ExpBookingForm(forms.ModelForm):
    force = forms.BooleanField(required=False, help_text="Book even if Expedia's calendar is closed (stage a race).")

    class Meta:
        model = ExpBooking
        fields = ("hotel", "check_in", "check_out", "adults", "children", "given_name", "surname", "email")

    def clean(self):
        data = super().clean()
        check_in, check_out = data.get("check_in"), data.get("check_out")
        if check_in and check_out and check_out <= check_in:
            raise forms.ValidationError({"check_out": "Check-out must be after check-in."})
        if data.get("hotel") and check_in and check_out and check_out - check_in > timedelta(days=28):
            raise forms.ValidationError({"check_out": "Expedia sells at most 28 nights."})
        if (
            data.get("hotel")
            and check_in
            and check_out
            and not data.get("force")
            and expedia.nights_closed(data["hotel"], check_in, check_out)
        ):
            raise forms.ValidationError("Expedia's calendar is closed for some of these nights (tick force).")
        return data


class ExpTransactionInline(admin.TabularInline):
    model = ExpTransaction
    extra = 0
    can_delete = False
    fields = ("seq", "type", "status", "check_in", "check_out", "retrieved_count", "confirm_count", "confirm_number")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ExpBooking)
class ExpBookingAdmin(StaffOnly):
    form = ExpBookingForm
    list_display = ("booking_id", "hotel", "status", "check_in", "check_out", "given_name", "surname", "confirm_number")
    list_filter = ("status", "hotel")
    inlines = [ExpTransactionInline]
    actions = ["move_by_a_day", "add_a_night", "cancel", "send_again"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ExpBooking._meta.fields] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        d = form.cleaned_data
        try:
            txn = expedia.guest_books(
                hotel=d["hotel"],
                check_in=d["check_in"],
                check_out=d["check_out"],
                adults=d["adults"],
                children=d["children"],
                given_name=d["given_name"],
                surname=d["surname"],
                email=d.get("email", ""),
                force=d.get("force", False),
            )
        except ValueError as exc:  # closed meanwhile: the form checked a moment ago
            self.message_user(request, str(exc), messages.ERROR)
            return
        obj.pk = txn.booking_id
        self.message_user(request, describe(txn), messages.SUCCESS)

    def _each(self, request, queryset, change) -> None:
        for b in queryset:
            try:
                txn = expedia.deliver(change(b))
            except ValueError as exc:
                self.message_user(request, f"{b.booking_id}: {exc}", messages.ERROR)
                continue
            self.message_user(request, describe(txn), messages.SUCCESS)

    @admin.action(description="Modify: move the stay one day later")
    def move_by_a_day(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda b: expedia.modify_booking(
                booking=b, check_in=b.check_in + timedelta(days=1), check_out=b.check_out + timedelta(days=1)
            ),
        )

    @admin.action(description="Modify: one more night")
    def add_a_night(self, request, queryset):
        self._each(
            request, queryset, lambda b: expedia.modify_booking(booking=b, check_out=b.check_out + timedelta(days=1))
        )

    @admin.action(description="Cancel on Expedia")
    def cancel(self, request, queryset):
        self._each(request, queryset, lambda b: expedia.cancel_booking(booking=b))

    @admin.action(description="Send Booking Notifications not accepted yet again")
    def send_again(self, request, queryset):
        retried = expedia.push_due()
        self.message_user(request, f"{len(retried)} Booking Notification(s) sent again.", messages.INFO)


@admin.register(ExpDay)
class ExpDayAdmin(StaffOnly):
    list_display = (
        "hotel",
        "day",
        "inventory",
        "room_closed",
        "rate_closed",
        "rate",
        "min_los",
        "max_los",
        "closed_to_arrival",
        "closed_to_departure",
    )
    list_filter = ("hotel",)
