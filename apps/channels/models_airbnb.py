"""Airbnb requests to book and inquiries: shown to the owner, who pre-approves, accepts or declines
them from the admin within the platform's window. No dates are held until the owner accepts."""

from __future__ import annotations

import builtins

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.tenancy import scoped_queryset


class AirbnbRequest(models.Model):
    class Kind(models.TextChoices):
        REQUEST = "request", "Request to book"
        INQUIRY = "inquiry", "Inquiry"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for your answer"
        PRE_APPROVED = "pre_approved", "Pre-approved (the guest may book)"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn or booked by the guest"

    connection = models.ForeignKey("channels.ChannelConnection", on_delete=models.CASCADE, related_name="+")
    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    code = models.CharField(max_length=64, help_text="Airbnb's confirmation code (requests) or inquiry id.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    check_in = models.DateField()
    check_out = models.DateField()
    guests = models.PositiveSmallIntegerField(default=1)
    guest_name = models.CharField(max_length=200, blank=True, default="")
    message = models.TextField(blank=True, default="")
    total = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Answer before this, or Airbnb expires it.")
    booking = models.ForeignKey("bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_error = models.CharField(max_length=500, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        verbose_name = "Airbnb request or inquiry"
        verbose_name_plural = "Airbnb requests and inquiries"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["connection", "code"], name="airbnb_request_unique_code")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} {self.check_in}–{self.check_out} ({self.status})"

    @builtins.property
    def open(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.PRE_APPROVED) and not self.lapsed

    @builtins.property
    def lapsed(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()
