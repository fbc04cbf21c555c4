"""Channel manager models: connections, outbound deliveries, inbound messages, alerts, reconciliation."""

from __future__ import annotations

import builtins
import uuid

from django.db import models
from django.db.models import Q

from apps.core.tenancy import scoped_queryset

from . import crypto


class Platform(models.TextChoices):
    BOOKING_COM = "booking_com", "Booking.com"
    AIRBNB = "airbnb", "Airbnb"
    EXPEDIA = "expedia", "Expedia"
    FEWO_DIREKT = "fewo_direkt", "FeWo-direkt (Vrbo)"
    GOOGLE_VR = "google_vr", "Google Vacation Rentals"
    ICAL = "ical", "iCal feed import"


class ChannelConnection(models.Model):
    """One property's link to one platform (or to one iCal feed).

    Secrets (``access_token``, ``refresh_token``, ``webhook_secret``) are stored AES-256-GCM
    encrypted with the key id (see ``crypto``); read them with ``get_secret`` and write them with
    ``set_secret``. They are never rendered in the admin, the API, logs or error messages.
    """

    class AuthScheme(models.TextChoices):
        BASIC = "basic", "Basic (username + password)"
        TOKEN = "token", "Token (client id + secret -> bearer token)"
        NONE = "none", "None"

    class SyncStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        OK = "ok", "OK"
        ERROR = "error", "Error"
        DISABLED = "disabled", "Disabled"

    SECRET_FIELDS = ("access_token", "refresh_token", "webhook_secret")

    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE, related_name="channel_connections")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    label = models.CharField(max_length=120, blank=True, default="", help_text="e.g. 'Airbnb iCal feed'.")
    external_property_id = models.CharField(
        max_length=64, blank=True, default="", help_text="The platform's id of this property (Booking.com hotel id)."
    )
    external_room_id = models.CharField(max_length=64, blank=True, default="", help_text="Room type code.")
    external_rate_plan_id = models.CharField(max_length=64, blank=True, default="", help_text="Rate plan code.")
    base_url = models.URLField(
        max_length=500, blank=True, default="", help_text="The platform's API root (the simulator's in the demo)."
    )
    auth_scheme = models.CharField(max_length=8, choices=AuthScheme.choices, default=AuthScheme.BASIC)
    username = models.CharField(max_length=200, blank=True, default="", help_text="Machine account / client id.")
    access_token_encrypted = models.TextField(blank=True, default="", editable=False)
    refresh_token_encrypted = models.TextField(blank=True, default="", editable=False)
    webhook_secret_encrypted = models.TextField(blank=True, default="", editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    ical_import_url = models.URLField(
        max_length=1000, blank=True, default="", help_text="For platform 'ical': the feed to import."
    )
    ical_source = models.CharField(
        max_length=20,
        blank=True,
        default="",
        help_text="For platform 'ical': which platform publishes the feed (airbnb, booking_com, fewo_direkt).",
    )
    sync_enabled = models.BooleanField(default=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    sync_status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    last_error = models.TextField(blank=True, default="")
    last_import_at = models.DateTimeField(null=True, blank=True)
    last_import_status = models.CharField(max_length=32, blank=True, default="")
    settings = models.JSONField(default=dict, blank=True, help_text="Platform-specific options.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        ordering = ["property", "platform", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["property", "platform"], condition=~Q(platform="ical"), name="channel_connection_unique"
            ),
            models.UniqueConstraint(
                fields=["property", "ical_import_url"],
                condition=Q(platform="ical"),
                name="channel_connection_ical_unique",
            ),
            # Inbound messages are routed by (platform, hotel id): one connection per platform
            # property, so no owner can claim another's hotel id and receive its reservations.
            models.UniqueConstraint(
                fields=["platform", "external_property_id"],
                condition=~Q(platform="ical") & ~Q(external_property_id=""),
                name="channel_connection_external_unique",
                violation_error_message="Another connection already uses this platform property id.",
            ),
            models.CheckConstraint(
                condition=Q(platform__in=[p.value for p in Platform]), name="channel_connection_platform_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} – {self.property}" + (f" ({self.label})" if self.label else "")

    # --- secrets -----------------------------------------------------------------------------
    def _aad(self, name: str) -> str:
        return f"channels.ChannelConnection.{name}"

    def set_secret(self, name: str, value: str | None) -> None:
        if name not in self.SECRET_FIELDS:
            raise ValueError(f"unknown secret field {name}")
        setattr(self, f"{name}_encrypted", crypto.encrypt(value, aad=self._aad(name)) if value else "")

    def get_secret(self, name: str) -> str:
        if name not in self.SECRET_FIELDS:
            raise ValueError(f"unknown secret field {name}")
        token = getattr(self, f"{name}_encrypted")
        return crypto.decrypt(token, aad=self._aad(name)) if token else ""

    def has_secret(self, name: str) -> bool:
        return bool(getattr(self, f"{name}_encrypted"))

    def reencrypt(self, ring: crypto.KeyRing) -> list[str]:
        """Re-encrypt every secret with the ring's active key. Returns the fields changed."""
        changed = []
        for name in self.SECRET_FIELDS:
            token = getattr(self, f"{name}_encrypted")
            if token and crypto.key_id_of(token) != ring.active_id:
                plain = crypto.decrypt(token, aad=self._aad(name), ring=ring)
                setattr(self, f"{name}_encrypted", crypto.encrypt(plain, aad=self._aad(name), ring=ring))
                changed.append(f"{name}_encrypted")
        return changed

    @builtins.property
    def pushes(self) -> bool:
        """Whether outbound calendar pushes go to this connection (iCal feeds and Vrbo's are read by the
        platform: their adapters say ``supports_push = False``)."""
        from .adapters import adapter_class

        if self.platform == Platform.ICAL:
            return False
        cls = adapter_class(self.platform)
        return cls is None or cls.supports_push


class Delivery(models.Model):
    """One outbound push of one event to one connection. Retried until delivered or dead."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In progress"
        RETRYING = "retrying", "Waiting to retry"
        SUCCEEDED = "succeeded", "Delivered"
        DEAD = "dead", "Dead letter"

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey("core.SyncEvent", on_delete=models.CASCADE, related_name="deliveries")
    connection = models.ForeignKey(ChannelConnection, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=32, default="calendar", help_text="What is pushed (calendar = ARI).")
    range_start = models.DateField()
    range_end = models.DateField(help_text="Exclusive.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_kind = models.CharField(max_length=16, blank=True, default="")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    requests_sent = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("connection__property").as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "connection"], name="delivery_unique_event_connection"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=Q(status__in=["pending", "retrying"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk} {self.kind} {self.range_start}–{self.range_end} ({self.status})"


class DeadLetter(Delivery):
    """Proxy for the admin: deliveries that gave up."""

    class Meta:
        proxy = True
        verbose_name = "dead letter"


class InboundMessage(models.Model):
    """Every message a platform sends us (webhook) or we pull from it, stored raw before processing."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Duplicate (already processed)"
        REFUSED = "refused", "Refused (conflict)"
        REJECTED = "rejected", "Rejected (signature)"
        INVALID = "invalid", "Invalid (parse error)"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored"

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        PULL = "pull", "Pull"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform = models.CharField(max_length=20, choices=Platform.choices)
    via = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEBHOOK)
    connection = models.ForeignKey(
        ChannelConnection, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages"
    )
    property = models.ForeignKey(
        "properties.Property", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    signature_valid = models.BooleanField(null=True, blank=True)
    verification_error = models.CharField(max_length=500, blank=True, default="")
    natural_key = models.CharField(max_length=200, blank=True, default="", db_index=True)
    parse_error = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    result = models.JSONField(default=dict, blank=True)
    booking = models.ForeignKey("bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.platform} {self.via} {self.natural_key or self.pk} ({self.status})"


class InboundKey(models.Model):
    """The dedupe table: a platform's natural key, claimed by the first message that carried it
    through one connection. Keys are per connection: what one connection (one owner's account)
    sends can never pre-claim, or answer for, a reservation that arrives through another."""

    connection = models.ForeignKey(ChannelConnection, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    natural_key = models.CharField(max_length=200)
    message = models.ForeignKey(InboundMessage, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "natural_key"], name="inbound_key_unique_per_connection"),
        ]


class ChannelAlert(models.Model):
    class Kind(models.TextChoices):
        CONFLICT = "conflict", "Conflicting reservation refused"
        DEAD_LETTER = "dead_letter", "Delivery gave up"
        AUTH = "auth", "Authentication failed"
        RECONCILIATION = "reconciliation", "Reconciliation found differences"
        INBOUND_FAILED = "inbound_failed", "Inbound message failed"
        ID_COLLISION = "id_collision", "Reservation id also held by another property"
        FEED_EMPTY = "feed_empty", "iCal feed suddenly empty (nothing released)"
        FEED_STALE = "feed_stale", "A platform has not read a changed feed"

    property = models.ForeignKey(
        "properties.Property", on_delete=models.CASCADE, null=True, blank=True, related_name="channel_alerts"
    )
    connection = models.ForeignKey(
        ChannelConnection, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:80]}"


class ReconciliationRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "No differences"
        FIXED = "fixed", "Differences found and fixed"
        ATTENTION = "attention", "Differences need attention"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(ChannelConnection, on_delete=models.CASCADE, related_name="reconciliation_runs")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    range_start = models.DateField()
    range_end = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    triggered_by = models.CharField(max_length=32, default="beat")

    objects = scoped_queryset("connection__property").as_manager()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Reconciliation {self.pk} {self.connection} ({self.status})"


class ReconciliationItem(models.Model):
    class Kind(models.TextChoices):
        MISSING_IN_CORE = "missing_in_core", "Missing in the PMS"
        MISSING_IN_CHANNEL = "missing_in_channel", "Missing on the platform"
        STATUS_MISMATCH = "status_mismatch", "Status differs"
        DATES_MISMATCH = "dates_mismatch", "Dates differ"
        AVAILABILITY_MISMATCH = "availability_mismatch", "Availability differs"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    external_id = models.CharField(max_length=128, blank=True, default="")
    booking = models.ForeignKey("bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    day = models.DateField(null=True, blank=True)
    core_value = models.CharField(max_length=200, blank=True, default="")
    channel_value = models.CharField(max_length=200, blank=True, default="")
    action = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")

    objects = scoped_queryset("run__connection__property").as_manager()

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id or self.day}"


from .models_airbnb import AirbnbRequest  # noqa: E402,F401  (Airbnb requests to book and inquiries)
from .models_ical import IcalFeedState  # noqa: E402,F401  (iCal import: empty-feed runs)
from .models_vrbo import VrboFeedRead  # noqa: E402,F401  (Vrbo: every crawl of the feeds we host)
