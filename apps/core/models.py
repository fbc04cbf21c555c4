"""Shared models: the transactional outbox (``sync_events``)."""

from __future__ import annotations

import uuid

from django.db import models

from .tenancy import is_pms_staff, scoped_queryset, visible_property_ids


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


class AuditEntryQuerySet(models.QuerySet):
    def visible_to(self, user) -> AuditEntryQuerySet:
        """Staff: everything; others: entries of their own data and of the properties they may see."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if is_pms_staff(user):
            return self.all()
        ids = visible_property_ids(user)
        condition = models.Q(owner_id=user.pk)
        if ids is not None:
            condition |= models.Q(property_id__in=ids)
        return self.filter(condition)

    def for_object(self, obj: models.Model) -> AuditEntryQuerySet:
        return self.filter(table_name=obj._meta.db_table, object_id=str(obj.pk))


class AuditEntry(models.Model):
    """One changed row: who, what (before/after of the changed columns), when, under which request.

    Written only by the database triggers of ``apps.core.audit`` (in the transaction of the change);
    immutable (a trigger refuses UPDATE/DELETE, except a GDPR erase's redaction). Plain ids, no foreign
    keys: history outlives what it describes.
    """

    created_at = models.DateTimeField(db_index=True)
    table_name = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    operation = models.CharField(max_length=10)  # insert | update | delete
    action = models.CharField(max_length=100, blank=True, default="")  # business action, when named
    actor_kind = models.CharField(max_length=20)  # user | api_token | guest_link | guest | channel | system | database
    actor_label = models.CharField(max_length=200, blank=True, default="")
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    actor_connection_id = models.BigIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    owner_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    property_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["table_name", "object_id"], name="audit_object_idx")]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.operation} {self.table_name} #{self.object_id} by {self.actor_label or self.actor_kind}"

    @property
    def changed_fields(self) -> list[str]:
        return sorted(set(self.before) | set(self.after))
