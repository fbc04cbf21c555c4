"""Payments of direct bookings (Stripe PaymentIntents), their refunds, and processed Stripe events."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.encrypted_fields import EncryptedTextField
from apps.core.tenancy import scoped_queryset


class Payment(models.Model):
    """One Stripe PaymentIntent for a booking. ``status`` mirrors the PaymentIntent's status."""

    class Status(models.TextChoices):
        REQUIRES_PAYMENT_METHOD = "requires_payment_method", "Awaiting payment"
        REQUIRES_CONFIRMATION = "requires_confirmation", "Awaiting confirmation"
        REQUIRES_ACTION = "requires_action", "Awaiting authentication"
        PROCESSING = "processing", "Processing"
        REQUIRES_CAPTURE = "requires_capture", "Authorised"
        SUCCEEDED = "succeeded", "Succeeded"
        CANCELED = "canceled", "Cancelled"

    FINAL_STATUSES = (Status.SUCCEEDED, Status.CANCELED)

    booking = models.ForeignKey("bookings.Booking", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=16, default="stripe")
    intent_id = models.CharField(max_length=255, unique=True, help_text="Stripe PaymentIntent id (pi_...).")
    # encrypted at rest (apps.core.encrypted_fields): whoever holds it can confirm the payment
    client_secret = EncryptedTextField(plain_max_length=255, blank=True, default="", editable=False)
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(max_digits=13, decimal_places=3)  # 3 decimals: KWD, BHD, OMR, JOD, TND
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.REQUIRES_PAYMENT_METHOD)
    amount_received = models.DecimalField(max_digits=13, decimal_places=3, default=Decimal("0"))
    amount_refunded = models.DecimalField(max_digits=13, decimal_places=3, default=Decimal("0"))
    last_error_code = models.CharField(max_length=64, blank=True, default="")
    last_error = models.TextField(blank=True, default="", help_text="Stripe's message for the last failed attempt.")
    succeeded_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(
        null=True, blank=True, help_text="When a success was applied to the booking (confirmed, or refunded if late)."
    )
    canceled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("booking__property").as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=models.F("amount_received")),
                name="payment_refunded_within_received",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "requires_payment_method",
                        "requires_confirmation",
                        "requires_action",
                        "processing",
                        "requires_capture",
                        "succeeded",
                        "canceled",
                    ]
                ),
                name="payment_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.intent_id} ({self.amount} {self.currency})"

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.SUCCEEDED

    @property
    def refundable(self) -> Decimal:
        return max(Decimal("0"), self.amount_received - self.amount_refunded)


class Refund(models.Model):
    """Money given back on a payment. Created ``pending`` before Stripe is called, with a unique
    idempotency key, so a retry never refunds twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        GUEST_CANCELLATION = "guest_cancellation", "Guest cancellation (per policy)"
        LATE_PAYMENT = "late_payment", "Payment after the hold expired"
        OWNER = "owner", "Owner / staff refund"

    booking = models.ForeignKey("bookings.Booking", on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    amount = models.DecimalField(max_digits=13, decimal_places=3)  # 3 decimals: KWD, BHD, OMR, JOD, TND
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(help_text="Why the money was given back (shown to staff and owners).")
    policy = models.CharField(max_length=16, blank=True, default="", help_text="Cancellation policy applied.")
    idempotency_key = models.CharField(max_length=255, unique=True)
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("booking__property").as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "failed"]), name="refund_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} {self.currency} of {self.payment.intent_id}"


class StripeEvent(models.Model):
    """A verified Stripe webhook event, stored before processing. The unique id makes replays no-ops."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    result = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
