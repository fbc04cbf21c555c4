"""State of the Airbnb simulator: the PMS's app registration, hosts and their listings, OAuth2
codes and tokens, the calendar Airbnb holds per listing, reservations, requests and inquiries."""

from __future__ import annotations

import secrets
import string
from datetime import timedelta

from django.db import models


def new_confirmation_code(prefix: str = "HM") -> str:
    """Airbnb confirmation codes look like ``HMABCD1234`` (10 upper-case letters and digits)."""
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(10 - len(prefix)))


def new_numeric_id() -> str:
    return str(10_000_000 + secrets.randbelow(89_999_999))


class AirbnbApp(models.Model):
    """The PMS's partner app as Airbnb knows it: OAuth client, where Airbnb calls the PMS
    (``{pms_base_url}/reservations``, ``{pms_base_url}/notifications``) and the HMAC key those
    calls are signed with (the simulator's scheme, PLATFORMS.md section 7)."""

    client_id = models.CharField(max_length=100, unique=True, help_text="X-Airbnb-API-Key.")
    client_secret = models.CharField(max_length=200)
    name = models.CharField(max_length=120, default="PMS-Webapp")
    redirect_uris = models.TextField(blank=True, default="", help_text="Allowed OAuth redirect URIs, one a line.")
    pms_base_url = models.URLField(
        max_length=500, blank=True, default="", help_text="Where Airbnb calls the PMS (reservations, notifications)."
    )
    notification_secret = models.CharField(max_length=200, blank=True, default="", help_text="HMAC-SHA256 key.")
    access_token_ttl = models.PositiveIntegerField(default=3600, help_text="Seconds an access token lives.")
    rate_limit_per_minute = models.PositiveIntegerField(default=600, help_text="API calls per minute; 0 = no limit.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Airbnb app"
        ordering = ["client_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    def redirect_allowed(self, uri: str) -> bool:
        return uri in [line.strip() for line in self.redirect_uris.splitlines() if line.strip()]


class AirbnbHost(models.Model):
    """A host account on the simulator (it logs in on the consent page)."""

    user_id = models.CharField(max_length=20, unique=True, default=new_numeric_id)
    email = models.EmailField(unique=True)
    password = models.CharField(max_length=200, help_text="Simulator credential for the consent page.")
    first_name = models.CharField(max_length=100, default="Host")

    class Meta:
        verbose_name = "Airbnb host"
        ordering = ["email"]

    def __str__(self) -> str:
        return f"{self.email} ({self.user_id})"


class AirbnbListing(models.Model):
    class SyncCategory(models.TextChoices):
        SYNC_ALL = "sync_all", "sync_all"
        SYNC_RATES_AND_AVAILABILITY = "sync_rates_and_availability", "sync_rates_and_availability"
        SYNC_UNDECIDED = "sync_undecided", "sync_undecided"

    class Approval(models.TextChoices):
        NEW = "new", "new"
        READY = "ready_for_review", "ready_for_review"
        APPROVED = "approved", "approved"
        REJECTED = "rejected", "rejected"

    listing_id = models.CharField(max_length=20, unique=True, default=new_numeric_id)
    host = models.ForeignKey(AirbnbHost, on_delete=models.CASCADE, related_name="listings")
    name = models.CharField(max_length=200)
    listing_currency = models.CharField(max_length=3, default="EUR")
    person_capacity = models.PositiveSmallIntegerField(default=4)
    instant_book = models.BooleanField(default=True, help_text="Off: guests send requests to book.")
    synchronization_category = models.CharField(
        max_length=32, choices=SyncCategory.choices, default=SyncCategory.SYNC_ALL
    )
    approval_status = models.CharField(max_length=20, choices=Approval.choices, default=Approval.APPROVED)
    unlinked = models.BooleanField(default=False, help_text="Unlinked from the PMS app (no API access).")
    default_daily_price = models.DecimalField(max_digits=10, decimal_places=2, default=100)
    pricing_settings = models.JSONField(default=dict, blank=True, help_text="Last PUT /v2/pricing_settings.")
    availability_rules = models.JSONField(default=dict, blank=True, help_text="Last PUT /v2/availability_rules.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Airbnb listing"
        ordering = ["listing_id"]

    def __str__(self) -> str:
        return f"{self.listing_id} {self.name}"


class AirbnbAuthCode(models.Model):
    """An authorization code from the consent page: one use, ten minutes."""

    code = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(AirbnbApp, on_delete=models.CASCADE, related_name="+")
    host = models.ForeignKey(AirbnbHost, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=500)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class AirbnbToken(models.Model):
    """Access and refresh tokens of one host's grant to one app. Revoking the grant revokes all."""

    class Kind(models.TextChoices):
        ACCESS = "access", "access"
        REFRESH = "refresh", "refresh"

    token = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    app = models.ForeignKey(AirbnbApp, on_delete=models.CASCADE, related_name="+")
    host = models.ForeignKey(AirbnbHost, on_delete=models.CASCADE, related_name="tokens")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Airbnb token"
        ordering = ["-created_at"]


class AirbnbCalendarDay(models.Model):
    """What Airbnb shows for one night of one listing (last calendar operation wins, per field)."""

    listing = models.ForeignKey(AirbnbListing, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    availability = models.CharField(max_length=16, default="available")  # available | unavailable | default
    available_count = models.PositiveSmallIntegerField(default=1)
    daily_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    min_nights = models.PositiveSmallIntegerField(null=True, blank=True)
    max_nights = models.PositiveSmallIntegerField(null=True, blank=True)
    closed_to_arrival = models.BooleanField(default=False)
    closed_to_departure = models.BooleanField(default=False)
    booked_by = models.CharField(max_length=20, blank=True, default="", help_text="Confirmation code holding it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Airbnb calendar day"
        ordering = ["listing", "day"]
        constraints = [models.UniqueConstraint(fields=["listing", "day"], name="airbnb_sim_day_unique")]

    @property
    def open(self) -> bool:
        return self.availability != "unavailable" and self.available_count > 0 and not self.booked_by


class AirbnbReservation(models.Model):
    """A stay on the simulator: an instant booking, a request to book or an inquiry."""

    class Kind(models.TextChoices):
        INSTANT = "instant", "Instant booking"
        REQUEST = "request", "Request to book"
        INQUIRY = "inquiry", "Inquiry"

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        PENDING = "pending", "Waiting for the host"
        PRE_APPROVED = "pre_approved", "Pre-approved (inquiry)"
        DENIED = "denied", "Declined by the host"
        EXPIRED = "expired", "Expired"
        REFUSED = "refused", "Refused by the PMS"
        NOT_AVAILABLE = "not_available", "PMS said not available"
        CANCELLED = "cancelled", "Cancelled"

    confirmation_code = models.CharField(max_length=20, unique=True, default=new_confirmation_code)
    listing = models.ForeignKey(AirbnbListing, on_delete=models.CASCADE, related_name="reservations")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.INSTANT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    start_date = models.DateField()
    nights = models.PositiveSmallIntegerField()
    number_of_guests = models.PositiveSmallIntegerField(default=2)
    guest_id = models.CharField(max_length=20, default=new_numeric_id)
    guest_first_name = models.CharField(max_length=100, default="Ana")
    guest_last_name = models.CharField(max_length=100, default="Ruiz")
    guest_email = models.CharField(max_length=254, blank=True, default="")
    guest_phone = models.CharField(max_length=40, blank=True, default="")
    guest_locale = models.CharField(max_length=10, default="en")
    message = models.TextField(blank=True, default="", help_text="The guest's message (inquiries, requests).")
    listing_base_price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    cleaning_fee = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    host_fee = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Host's window to answer.")
    alteration = models.PositiveIntegerField(default=0, help_text="Bumped by every alteration.")
    failure = models.TextField(blank=True, default="", help_text="What the PMS answered when it said no.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Airbnb reservation"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.confirmation_code} {self.start_date}+{self.nights} ({self.status})"

    @property
    def end_date(self):
        return self.start_date + timedelta(days=self.nights)

    @property
    def blocking(self) -> bool:
        return self.status == self.Status.ACCEPTED

    @property
    def payout(self):
        return self.listing_base_price + self.cleaning_fee - self.host_fee


class AirbnbRateWindow(models.Model):
    """Calls per app per minute (the simulator's rate limiter; 429 + Retry-After when exceeded)."""

    app = models.ForeignKey(AirbnbApp, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "minute"], name="airbnb_sim_rate_unique")]
