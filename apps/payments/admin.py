"""Payments and refunds in the admin: read-only records, owner-scoped, with actions that call services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy

from apps.core.admin_mixins import OwnerScopedAdmin
from apps.core.errors import DomainError
from apps.core.tenancy import is_pms_staff

from . import services
from .models import Payment, Refund, StripeEvent


class ReadOnlyMixin:
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "client_secret"]


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "amount", "currency", "status", "reason", "stripe_refund_id", "error")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyMixin, OwnerScopedAdmin):
    list_display = (
        "intent_id",
        "booking",
        "property_name",
        "amount",
        "currency",
        "status",
        "amount_received",
        "amount_refunded",
        "created_at",
    )
    list_filter = ("status", "currency")
    search_fields = ("intent_id", "booking__reference")
    list_select_related = ("booking", "booking__property")
    show_full_result_count = False
    exclude = ("client_secret",)
    inlines = [RefundInline]
    actions = ["action_sync", "action_refund_rest"]

    @admin.display(description="Property", ordering="booking__property__name")
    def property_name(self, obj: Payment) -> str:
        return obj.booking.property.name

    def has_change_permission(self, request, obj=None):
        # The change page is read-only; "change" is the permission the actions need.
        return super().has_change_permission(request, obj)

    @admin.action(description=gettext_lazy("Re-read selected payments from Stripe"), permissions=["change"])
    def action_sync(self, request, queryset):
        for payment in queryset:
            try:
                services.payment_sync(payment_id=payment.pk)
            except DomainError as exc:
                self.message_user(request, f"{payment.intent_id}: {exc}", messages.ERROR)
        self.message_user(request, "Payments re-read from Stripe.", messages.SUCCESS)

    @admin.action(description=gettext_lazy("Refund the rest of the selected payments"), permissions=["change"])
    def action_refund_rest(self, request, queryset):
        for payment in queryset:
            amount = payment.refundable
            if payment.status != Payment.Status.SUCCEEDED or amount <= 0:
                self.message_user(request, f"{payment.intent_id}: nothing to refund.", messages.WARNING)
                continue
            try:
                refund = services.refund_create(
                    payment_id=payment.pk,
                    amount=amount,
                    kind=Refund.Kind.OWNER,
                    reason=f"Refunded by {request.user.get_username()} in the admin.",
                    # The same state gives the same key: a double click refunds once.
                    idempotency_key=f"admin:{payment.intent_id}:{payment.amount_refunded}",
                    user=request.user,
                )
            except DomainError as exc:
                self.message_user(request, f"{payment.intent_id}: {exc}", messages.ERROR)
                continue
            level = messages.SUCCESS if refund.status == Refund.Status.SUCCEEDED else messages.WARNING
            self.message_user(
                request, f"{payment.intent_id}: refund of {refund.amount} {refund.currency} {refund.status}.", level
            )


@admin.register(Refund)
class RefundAdmin(ReadOnlyMixin, OwnerScopedAdmin):
    list_display = ("created_at", "booking", "kind", "amount", "currency", "status", "policy", "stripe_refund_id")
    list_filter = ("status", "kind", "policy")
    search_fields = ("booking__reference", "stripe_refund_id", "payment__intent_id")
    list_select_related = ("booking", "payment")
    show_full_result_count = False


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Staff only: events are not tied to one owner until applied."""

    list_display = ("received_at", "type", "event_id", "object_id", "processed_at", "attempts", "result", "error")
    list_filter = ("type", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("event_id", "object_id")
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return is_pms_staff(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return is_pms_staff(request.user)
