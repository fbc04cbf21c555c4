"""State of the Vrbo / FeWo-direkt simulator: the listings it crawls on our side (feed URL, the
credentials we gave it), what it read (documents with their ETag / Last-Modified, its parsed calendar
and prices), every crawl, and the booking requests its "guests" sent."""

from __future__ import annotations

from django.db import models


class VrboSimListing(models.Model):
    """A listing as Vrbo holds it: crawled from ``feed_base`` (our ``/vrbo`` root) with Basic auth."""

    listing_external_id = models.CharField(max_length=128)
    feed_base = models.URLField(max_length=300, help_text="The PMS's Vrbo root, e.g. http://127.0.0.1:8000/vrbo")
    username = models.CharField(max_length=200)
    password = models.CharField(max_length=200)
    name = models.CharField(max_length=200, blank=True, default="")
    crawl_interval_seconds = models.PositiveIntegerField(default=60)
    paused = models.BooleanField(default=False, help_text="Fault: the crawler skips this listing's scheduled crawls.")
    slow_read_ms = models.PositiveIntegerField(default=0, help_text="Fault: wait this long before every read.")
    # what the crawler holds
    documents = models.JSONField(default=dict, blank=True, help_text="url -> {etag, last_modified, status, read_at}")
    index_dates = models.JSONField(default=dict, blank=True, help_text="kind -> lastUpdatedDate from the index")
    content = models.JSONField(default=dict, blank=True, help_text="Parsed listing and lodging configuration.")
    rates = models.JSONField(default=dict, blank=True, help_text="Parsed lodgingRateContent.")
    availability = models.JSONField(default=dict, blank=True, help_text="Parsed unitAvailabilityContent.")
    bookings = models.JSONField(default=dict, blank=True, help_text="trackingUuid -> status from our booking feed.")
    last_crawl_at = models.DateTimeField(null=True, blank=True)
    last_crawl_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Vrbo listing"
        constraints = [
            models.UniqueConstraint(fields=["feed_base", "listing_external_id"], name="vrbo_sim_listing_unique")
        ]

    def __str__(self) -> str:
        return f"Vrbo listing {self.listing_external_id} ({self.name or self.feed_base})"


class VrboSimCrawl(models.Model):
    """One crawl of one listing: what it fetched (200) and what was unchanged (304)."""

    listing = models.ForeignKey(VrboSimListing, on_delete=models.CASCADE, related_name="crawls")
    trigger = models.CharField(max_length=16, default="schedule")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    not_modified = models.PositiveIntegerField(default=0)
    reads = models.JSONField(default=list, blank=True, help_text="[{url, status, ms}]")
    error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = "Vrbo crawl"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Crawl {self.pk} of {self.listing.listing_external_id}: {self.fetched} fetched, {self.not_modified} 304"


class VrboSimBooking(models.Model):
    """A booking request a guest made on the simulator, and what the PMS answered."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked (bookingResponse)"
        REFUSED = "refused", "Refused (errorList)"
        ERROR = "error", "Error (no usable answer)"
        CANCELLED = "cancelled", "Cancelled"

    listing = models.ForeignKey(VrboSimListing, on_delete=models.CASCADE, related_name="booking_requests")
    tracking_uuid = models.CharField(max_length=64, unique=True)
    check_in = models.DateField()
    check_out = models.DateField()
    adults = models.PositiveSmallIntegerField(default=2)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ERROR)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    pms_external_id = models.CharField(max_length=64, blank=True, default="", help_text="Our booking reference.")
    error_code = models.CharField(max_length=64, blank=True, default="")
    request_body = models.TextField(blank=True, default="")
    response_body = models.TextField(blank=True, default="")
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Vrbo booking request"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.tracking_uuid} {self.check_in}–{self.check_out} ({self.status})"
