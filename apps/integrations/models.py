"""Outbound webhooks for integrators: an owner's subscriptions and their deliveries.

A subscription belongs to one user (an owner, a co-host or staff) and receives the events of the
properties that user may see, decided when the event is fanned out (``apps.core.tenancy``). Each
(subscription, event) pair is one ``WebhookDelivery`` with a stable message id, so a retried or
replayed delivery is recognisable by its ``webhook-id`` header.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class SubscriptionQuerySet(models.QuerySet):
    def visible_to(self, user) -> SubscriptionQuerySet:
        """A user's own subscriptions; staff see every one. Fails closed."""
        from apps.core.tenancy import is_pms_staff

        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if is_pms_staff(user):
            return self.all()
        return self.filter(owner=user)

    managed_by = visible_to  # whoever sees a subscription is its owner (or staff)


class WebhookSubscription(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    url = models.URLField(max_length=500, help_text="HTTPS endpoint that receives the events (POST, JSON).")
    description = models.CharField(max_length=200, blank=True, default="")
    event_types = ArrayField(
        models.CharField(max_length=40), default=list, blank=True, help_text="Empty: every event type."
    )
    secret_encrypted = models.TextField(editable=False)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    failure_streak = models.PositiveIntegerField(default=0, help_text="Failed attempts in a row.")
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["owner_id", "id"]
        indexes = [models.Index(fields=["is_active"], name="webhook_sub_active")]

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class DeliveryQuerySet(models.QuerySet):
    def visible_to(self, user) -> DeliveryQuerySet:
        return self.filter(subscription__in=WebhookSubscription.objects.visible_to(user))

    managed_by = visible_to


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        IN_PROGRESS = "in_progress"
        RETRYING = "retrying"
        SUCCEEDED = "succeeded"
        DEAD = "dead", "Dead letter"

    id = models.BigAutoField(primary_key=True)
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("core.SyncEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    event_type = models.CharField(max_length=40)
    message_id = models.CharField(max_length=64, help_text="The webhook-id header: the same on every attempt.")
    payload = models.JSONField(help_text="The body sent, frozen when the event was fanned out.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], condition=models.Q(event__isnull=False), name="webhook_once_per_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=models.Q(status__in=["pending", "retrying", "in_progress"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.subscription_id} ({self.status})"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"
