"""Integrator API: a booking's payments and their refunds (read-only; never the client secret)."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from apps.api.base import ApiViewSet, CurrencyAmountsMixin, q_choice, q_int
from apps.api.schema import error_example

from .models import Payment, Refund

REFUND_EXAMPLE = {
    "id": 5,
    "kind": "guest_cancellation",
    "amount": "200.00",
    "currency": "EUR",
    "status": "succeeded",
    "reason": "Cancelled 20 days before arrival (moderate policy: 50%).",
    "created_at": "2026-07-14T09:30:00Z",
}
PAYMENT_EXAMPLE = {
    "id": 31,
    "booking": 77,
    "booking_reference": "PMS-2026-000077",
    "amount": "400.00",
    "currency": "EUR",
    "status": "succeeded",
    "amount_received": "400.00",
    "amount_refunded": "200.00",
    "created_at": "2026-01-05T10:01:00Z",
    "refunds": [REFUND_EXAMPLE],
}


class RefundSerializer(CurrencyAmountsMixin, serializers.ModelSerializer):
    money_fields = ("amount",)

    class Meta:
        model = Refund
        fields = ["id", "kind", "amount", "currency", "status", "reason", "created_at"]
        read_only_fields = fields


class PaymentSerializer(CurrencyAmountsMixin, serializers.ModelSerializer):
    money_fields = ("amount", "amount_received", "amount_refunded")
    booking_reference = serializers.CharField(source="booking.reference", read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        # never ``client_secret``, ``intent_id`` or the idempotency key: they let a holder act on the intent
        fields = [
            "id", "booking", "booking_reference", "amount", "currency", "status", "amount_received",
            "amount_refunded", "created_at", "refunds",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List payments",
        description="Stripe payments of the bookings the token's user may see, newest first, each with its refunds. "
        "Filter with `?booking=<id>` for one booking's payments.",
        parameters=[
            OpenApiParameter("booking", int, description="Filter by booking id."),
            OpenApiParameter("status", str, enum=[s.value for s in Payment.Status], description="Filter by status."),
        ],
        examples=[OpenApiExample("A page", value=PAYMENT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get a payment",
        examples=[
            OpenApiExample("Payment", value=PAYMENT_EXAMPLE, response_only=True),
            error_example("Not yours", "not_found", "Not found.", status=404),
        ],
    ),
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = PaymentSerializer
    ordering_fields = ["created_at", "amount", "id"]
    ordering = ["-created_at"]

    def scoped_queryset(self):
        qs = (
            Payment.objects.visible_to(self.request.user)
            .select_related("booking")
            .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "pk")))
        )
        if self.action == "list":
            if (value := q_int(self.request, "booking")) is not None:
                qs = qs.filter(booking_id=value)
            if (value := q_choice(self.request, "status", Payment.Status.values)) is not None:
                qs = qs.filter(status=value)
        return qs
