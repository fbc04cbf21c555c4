"""State of the Google Vacation Rentals simulator (Hotel Center + ARI receiver).

An account is a partner key with its source-address allowlist (Google authenticates ARI by the
sending IP) and the URL of its Hotel List Feed, which the simulator fetches. Listings come only from
that feed; ARI for a hotel id not in the account's feed is refused. Each calendar field group
(availability, rates, inventory) remembers the timestamp of the message that set it: Google applies
messages in timestamp order, so an older message never overwrites a newer one.
"""

from __future__ import annotations

from django.db import models


class GoogleAccount(models.Model):
    partner = models.SlugField(max_length=64, unique=True, help_text="Partner key (POS/RequestorID/@ID).")
    allowed_ips = models.CharField(
        max_length=500, default="127.0.0.1,::1", help_text="Comma-separated source addresses allowed to send ARI."
    )
    feed_url = models.URLField(max_length=1000, blank=True, default="", help_text="The partner's Hotel List Feed.")
    landing_url_template = models.CharField(
        max_length=1000, blank=True, default="", help_text="Landing page with (PARTNER-HOTEL-ID), (CHECKINYEAR)..."
    )
    last_feed_fetch_at = models.DateTimeField(null=True, blank=True)
    last_feed_status = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner"]

    def __str__(self) -> str:
        return self.partner

    def ip_allowed(self, address: str) -> bool:
        return address in {a.strip() for a in self.allowed_ips.split(",") if a.strip()}


class GoogleListing(models.Model):
    """A vacation rental as Google knows it: from the feed, plus property data, taxes and promotions."""

    account = models.ForeignKey(GoogleAccount, on_delete=models.CASCADE, related_name="listings")
    hotel_id = models.CharField(max_length=64)
    listed = models.BooleanField(default=True, help_text="In the account's last feed.")
    problems = models.JSONField(default=list, blank=True, help_text="Missing required feed items.")
    name = models.CharField(max_length=300, blank=True, default="")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.JSONField(default=dict, blank=True)
    country = models.CharField(max_length=2, blank=True, default="")
    capacity = models.PositiveSmallIntegerField(null=True, blank=True)
    bedrooms = models.PositiveSmallIntegerField(null=True, blank=True)
    bathrooms = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    amenities = models.JSONField(default=list, blank=True)
    photos = models.JSONField(default=list, blank=True)
    website = models.URLField(max_length=1000, blank=True, default="")
    description = models.TextField(blank=True, default="")
    # Transaction (property data)
    room_name = models.CharField(max_length=300, blank=True, default="")
    room_capacity = models.PositiveSmallIntegerField(null=True, blank=True)
    property_data_ts = models.DateTimeField(null=True, blank=True)
    # TaxFeeInfo and Promotions (overlay: the last message replaces the whole set)
    taxes = models.JSONField(default=list, blank=True)
    fees = models.JSONField(default=list, blank=True)
    taxes_ts = models.DateTimeField(null=True, blank=True)
    promotions = models.JSONField(default=list, blank=True)
    promotions_ts = models.DateTimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, blank=True, default="UTC")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "hotel_id"]
        constraints = [models.UniqueConstraint(fields=["account", "hotel_id"], name="google_listing_unique")]

    def __str__(self) -> str:
        return f"{self.account.partner}/{self.hotel_id} {self.name}"


class GoogleDay(models.Model):
    listing = models.ForeignKey(GoogleListing, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    booking_limit = models.PositiveSmallIntegerField(null=True, blank=True, help_text="OTA_HotelAvailNotif.")
    inventory = models.PositiveSmallIntegerField(null=True, blank=True, help_text="OTA_HotelInvCountNotif.")
    closed = models.BooleanField(default=False, help_text="RestrictionStatus Master Close.")
    closed_to_arrival = models.BooleanField(default=False)
    closed_to_departure = models.BooleanField(default=False)
    min_los = models.PositiveSmallIntegerField(null=True, blank=True)
    max_los = models.PositiveSmallIntegerField(null=True, blank=True)
    min_advance_days = models.PositiveSmallIntegerField(null=True, blank=True)
    max_advance_days = models.PositiveSmallIntegerField(null=True, blank=True)
    rates = models.JSONField(default=dict, blank=True, help_text="guests -> AmountBeforeTax.")
    currency = models.CharField(max_length=3, blank=True, default="")
    avail_ts = models.DateTimeField(null=True, blank=True)
    rate_ts = models.DateTimeField(null=True, blank=True)
    inv_ts = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["listing", "day"]
        constraints = [models.UniqueConstraint(fields=["listing", "day"], name="google_day_unique")]

    @property
    def sellable(self) -> bool:
        limit = self.inventory if self.inventory is not None else self.booking_limit
        return (
            (limit is None or limit > 0) and (self.booking_limit is None or self.booking_limit > 0) and not self.closed
        )


class GoogleMessage(models.Model):
    """Every ARI / Transaction message received (idempotency by id, ordering by timestamp)."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        PARTLY_STALE = "partly_stale", "Applied where newer than what Google held"
        STALE = "stale", "Older than what Google held (ignored)"
        TOO_OLD = "too_old", "Older than 24 h (dropped)"
        REFUSED = "refused", "Refused (errors)"

    account = models.ForeignKey(GoogleAccount, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=40)
    message_id = models.CharField(max_length=128)
    timestamp = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices)
    response = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "message_id"], name="google_message_unique_id")
        ]


class GoogleAccuracyCheck(models.Model):
    """One "traveller search": the stay, the price Google computed from our ARI, the landing page's."""

    listing = models.ForeignKey(GoogleListing, on_delete=models.CASCADE, related_name="accuracy_checks")
    check_in = models.DateField()
    nights = models.PositiveSmallIntegerField()
    guests = models.PositiveSmallIntegerField()
    expected = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    shown = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    match = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True, default="")
    landing_url = models.CharField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
