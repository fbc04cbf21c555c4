from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy

from apps.availability import calendar
from apps.core.admin_mixins import OwnerScopedAdmin
from apps.core.errors import DomainError
from apps.core.tenancy import is_pms_staff
from apps.privacy import admin_actions as privacy_actions

from . import admin_display, services
from .models import BLOCKING_STATUSES, Booking, BookingSource, BookingStatus, Guest


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
        guest = data.get("guest")
        if prop and guest and guest.owner_id != prop.owner_id:
            raise forms.ValidationError({"guest": "Choose a guest from the property owner's guest book."})
        if prop and data.get("guests") and data["guests"] > prop.max_guests:
            raise forms.ValidationError({"guests": f"This property sleeps at most {prop.max_guests} guests."})
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
        "attribution",
        "total_price",
        "payment_status",
    )
    # RelatedOnly: the plain filter lists every property in the database (other owners' names too)
    list_filter = ("status", "source", "attribution", "payment_status", ("property", admin.RelatedOnlyFieldListFilter))
    # guests' names are encrypted at rest: bookings are found by reference, platform id or the guest's e-mail
    search_fields = ("reference", "external_id", "=guest__email")
    list_select_related = ("property", "guest")
    date_hierarchy = "check_in"
    autocomplete_fields = ("property", "guest")
    show_full_result_count = False
    actions = ["action_confirm", "action_check_in", "action_check_out", "action_cancel"]
    readonly_fields = (
        "reference",
        "property",
        "source",
        "attribution",
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
        "price_breakdown",
        "contact",
        "channel_messages",
        "payments",
        "created_at",
        "updated_at",
    )

    @admin.display(description=gettext_lazy("Price breakdown"))
    def price_breakdown(self, obj):
        return admin_display.price_breakdown(obj)

    @admin.display(description=gettext_lazy("Contact given with the booking"))
    def contact(self, obj):
        return admin_display.contact(obj)

    @admin.display(description=gettext_lazy("Channel messages"))
    def channel_messages(self, obj):
        return admin_display.channel_messages(obj)

    @admin.display(description=gettext_lazy("Payments and refunds"))
    def payments(self, obj):
        return admin_display.payments(obj)

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
        """The forms only validate: ``booking_create`` / ``booking_update`` write, all or nothing.
        Bookings made here are direct bookings; channel sources and platform ids are the channel code's."""
        data = form.cleaned_data
        if not change:
            booking = services.booking_create(
                property_id=data["property"].pk,
                check_in=data["check_in"],
                check_out=data["check_out"],
                guests=data["guests"],
                source=BookingSource.DIRECT,
                guest=data.get("guest"),
                status=data["status"],
                total_price=data.get("total_price"),
                special_requests=data.get("special_requests") or "",
                enforce_rules=False,
                actor=request.user,
            )
        else:
            changes = {f: data[f] for f in services.BOOKING_EDIT_FIELDS if f in form.changed_data}
            if "special_requests" in changes:
                changes["special_requests"] = changes["special_requests"] or ""
            booking = services.booking_update(booking_id=obj.pk, source="admin", **changes)
        for field in Booking._meta.concrete_fields:
            setattr(obj, field.attname, getattr(booking, field.attname))
        obj._state.adding = False

    # Bookings are never deleted: cancel them (the dates are freed, the channels and the guest told,
    # the paid amount refunded as chosen) and they stay on record.
    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

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

    @admin.action(description=gettext_lazy("Confirm selected bookings"), permissions=["change"])
    def action_confirm(self, request, queryset):
        self._run(request, queryset, services.booking_confirm, "confirmed", source="admin")

    @admin.action(description=gettext_lazy("Check in selected bookings"), permissions=["change"])
    def action_check_in(self, request, queryset):
        self._run(request, queryset, services.booking_check_in, "checked in", source="admin")

    @admin.action(description=gettext_lazy("Check out selected bookings"), permissions=["change"])
    def action_check_out(self, request, queryset):
        self._run(request, queryset, services.booking_check_out, "checked out", source="admin")

    @admin.action(description=gettext_lazy("Cancel selected bookings (and refund)…"), permissions=["change"])
    def action_cancel(self, request, queryset):
        """First a page with what each refund choice gives back per booking; then cancel and refund."""
        from apps.payments import services as payment_services

        bookings = list(queryset.select_related("property", "guest"))
        if not bookings:
            self.message_user(request, "None of the selected bookings can be changed by you.", messages.WARNING)
            return None
        form = CancelRefundForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_bound and form.is_valid():
            mode, reason = form.cleaned_data["refund"], form.cleaned_data["reason"]
            done, refunded, failed = 0, [], []
            for booking in bookings:
                try:
                    result = payment_services.booking_cancel_with_refund(
                        booking_id=booking.pk,
                        refund=mode,
                        reason=reason or "Cancelled by the owner.",
                        source="admin",
                        user=request.user,
                    )
                except DomainError as exc:
                    failed.append(f"{booking.reference}: {exc}")
                    continue
                done += 1
                if result.amount:
                    state = ", ".join(sorted({r.get_status_display().lower() for r in result.refunds}))
                    refunded.append(f"{booking.reference}: {result.amount} {booking.currency} ({state})")
            if done:
                self.message_user(request, f"{done} booking(s) cancelled.", messages.SUCCESS)
            if refunded:
                self.message_user(request, "Refunded " + "; ".join(refunded) + ".", messages.SUCCESS)
            for text in failed:
                self.message_user(request, text, messages.ERROR)
            return None
        rows = []
        for booking in bookings:
            options = payment_services.cancellation_refund_options(booking=booking)
            rows.append({"booking": booking, **options})
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel bookings",
            "opts": self.model._meta,
            "rows": rows,
            "form": form if form.is_bound else CancelRefundForm(),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "action_cancel",
        }
        return TemplateResponse(request, "admin/bookings/booking/cancel_confirmation.html", context)


class CancelRefundForm(forms.Form):
    refund = forms.ChoiceField(
        choices=[
            ("policy", "By the cancellation policy"),
            ("full", "In full"),
            ("none", "Nothing"),
        ],
        initial="policy",
        widget=forms.RadioSelect,
        help_text="What to give back of what the guest paid.",
    )
    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), help_text="Shown on the booking."
    )

    def clean_reason(self):
        value = self.cleaned_data.get("reason") or ""
        if "\x00" in value:
            raise forms.ValidationError("Null characters are not allowed.")
        return value.strip()


class GuestAdminForm(forms.ModelForm):
    """E-mails are normalised (trimmed, lower case) and unique per guest book, as in the services."""

    class Meta:
        model = Guest
        fields = ("owner", "first_name", "last_name", "email", "phone", "country", "language", "notes")

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean_country(self):
        return (self.cleaned_data.get("country") or "").strip().upper()

    def clean(self):
        data = super().clean()
        email = data.get("email")
        if email:
            owner_id = (
                self.instance.owner_id
                if self.instance.pk
                else (data["owner"].pk if data.get("owner") else getattr(self.request.user, "pk", None))
            )
            twin = Guest.objects.filter(owner_id=owner_id, email=email).exclude(pk=self.instance.pk).first()
            if twin is not None:
                self.add_error("email", "Another guest in this guest book already has this e-mail address.")
        return data


@admin.register(Guest)
class GuestAdmin(OwnerScopedAdmin):
    form = GuestAdminForm
    actions = [privacy_actions.gdpr_export, privacy_actions.gdpr_erase]  # issue 19
    list_display = ("full_name", "email", "phone", "country", "language", "owner")
    # names and phones are encrypted at rest: the search finds a guest by the full e-mail address
    search_fields = ("=email",)
    list_filter = ("country", "language")
    list_select_related = ("owner",)

    def get_queryset(self, request):
        return Guest.objects.visible_to(request.user).select_related("owner")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class RequestForm(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, request=request, **kw)

        return RequestForm

    def save_model(self, request, obj, form, change):
        """Through ``guest_create`` / ``guest_update`` (normalised e-mail, one guest per address)."""
        data = form.cleaned_data
        values = {f: data[f] for f in services.GUEST_FIELDS if f in data}
        if change:
            guest = services.guest_update(
                guest_id=obj.pk, **{f: v for f, v in values.items() if f in form.changed_data}
            )
        else:
            owner = data.get("owner") if is_pms_staff(request.user) else None
            guest, _ = services.guest_create(
                owner_id=(owner or request.user).pk, data=services.GuestData(**values), update_existing=False
            )
        for field in Guest._meta.concrete_fields:
            setattr(obj, field.attname, getattr(guest, field.attname))
        obj._state.adding = False

    def get_readonly_fields(self, request, obj=None):
        return () if is_pms_staff(request.user) else ("owner",)
