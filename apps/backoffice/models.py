"""Owner notifications (the in-admin list and the e-mails) and each owner's preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NotificationPreference(models.Model):
    """What an owner wants by e-mail, and in which language. No row = every e-mail, in English."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    email_bookings = models.BooleanField(default=True, help_text="New, changed and cancelled bookings.")
    email_channel_problems = models.BooleanField(
        default=True, help_text="Refused channel reservations, updates a channel never got, other channel alerts."
    )
    email_daily_digest = models.BooleanField(default=True, help_text="Tomorrow's arrivals and departures.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"


class OwnerNotification(models.Model):
    """One message to one owner. Created once per cause (``dedupe_key``: the outbox event, the alert,
    the digest's day), so a replayed event or a second sweep never notifies twice; e-mailed by the
    ``backoffice.send_notifications`` beat task, which claims each row before sending."""

    class Kind(models.TextChoices):
        BOOKING_NEW = "booking_new", "New booking"
        BOOKING_CHANGED = "booking_changed", "Booking changed"
        BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled"
        CHANNEL_REFUSED = "channel_refused", "Channel reservation refused"
        DEAD_LETTER = "dead_letter", "A channel did not get an update"
        CHANNEL_ALERT = "channel_alert", "Channel alert"
        BREAKER_OPEN = "breaker_open", "A channel keeps failing (circuit breaker open)"
        PAYMENT_FAILED = "payment_failed", "A payment failed"
        DIGEST = "digest", "Daily digest"

    class EmailStatus(models.TextChoices):
        PENDING = "pending", "To send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not wanted (preferences) or no address"
        FAILED = "failed", "Failed"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    property = models.ForeignKey(
        "properties.Property", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    booking = models.ForeignKey("bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    dedupe_key = models.CharField(max_length=120)
    language = models.CharField(max_length=8, default="en")
    subject = models.CharField(max_length=250)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="owner_notification_once"),
        ]
        indexes = [
            models.Index(
                fields=["email_status", "created_at"],
                name="owner_notification_to_send",
                condition=models.Q(email_status__in=["pending", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return self.subject
