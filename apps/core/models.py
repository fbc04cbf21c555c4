"""Shared models: the transactional outbox (``sync_events``)."""

from __future__ import annotations

import uuid

from django.db import models

from .tenancy import scoped_queryset


class SyncEvent(models.Model):
    """A domain event written in the same transaction as the change it describes.

    A relay dispatches it after commit; a beat sweeper re-dispatches whatever stays unprocessed.
    Consumers (the channel manager, notifications) are registered in ``settings.OUTBOX_HANDLERS``.
    """

    class Type(models.TextChoices):
        BOOKING_CREATED = "booking.created"
        BOOKING_UPDATED = "booking.updated"
        BOOKING_CANCELLED = "booking.cancelled"
        AVAILABILITY_UPDATED = "availability.updated"
        PRICING_UPDATED = "pricing.updated"
        CHANNEL_BOOKING_RECEIVED = "channel.booking_received"
        SYNC_COMPLETED = "sync.completed"
        SYNC_FAILED = "sync.failed"
        ALERT_RAISED = "alert.raised"
        PAYMENT_SUCCEEDED = "payment.succeeded"
        PAYMENT_REFUNDED = "payment.refunded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=64, choices=Type.choices)
    entity_type = models.CharField(max_length=64)
    entity_id = models.CharField(max_length=64)
    property = models.ForeignKey(
        "properties.Property", on_delete=models.CASCADE, related_name="sync_events", null=True, blank=True
    )
    payload = models.JSONField(default=dict)
    source = models.CharField(max_length=32, help_text="Where the change came from (direct, api, airbnb, ...).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    retry_count = models.PositiveIntegerField(default=0)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        db_table = "sync_events"
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"], name="sync_events_unprocessed", condition=models.Q(processed_at__isnull=True)
            ),
            models.Index(fields=["property", "-created_at"], name="sync_events_property"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.entity_type}:{self.entity_id}"
