"""FeWo-direkt / Vrbo: every read of the feeds we host (the platform crawls them; see ``apps.channels.vrbo``).

One row per authenticated feed request: which connection, which document, when, and whether we
answered 200 (sent) or 304 (unchanged). The owner's "Vrbo last read your availability N minutes ago"
and the staleness alert are read from here."""

from __future__ import annotations

from django.db import models

from apps.core.tenancy import scoped_queryset

from .models import ChannelConnection


class VrboFeedRead(models.Model):
    class Document(models.TextChoices):
        LISTING_INDEX = "listing_index", "Listing index"
        LISTING = "listing", "Listing content"
        LODGING_INDEX = "lodging_index", "Lodging configuration index"
        LODGING = "lodging", "Lodging configuration"
        RATES_INDEX = "rates_index", "Rates index"
        RATES = "rates", "Rates"
        AVAILABILITY_INDEX = "availability_index", "Availability index"
        AVAILABILITY = "availability", "Availability"
        BOOKING_INDEX = "booking_index", "Booking index"
        BOOKING = "booking", "Booking update"

    id = models.BigAutoField(primary_key=True)
    connection = models.ForeignKey("channels.ChannelConnection", on_delete=models.CASCADE, related_name="+")
    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE, related_name="+")
    document = models.CharField(max_length=24, choices=Document.choices)
    item = models.CharField(max_length=128, blank=True, default="", help_text="Listing or booking external id.")
    status_code = models.PositiveSmallIntegerField(help_text="200 sent, 304 not modified.")
    etag = models.CharField(max_length=80, blank=True, default="")
    read_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        verbose_name = "Vrbo feed read"
        ordering = ["-read_at", "-id"]
        indexes = [models.Index(fields=["connection", "document", "-read_at"], name="vrbo_feed_read_latest")]

    def __str__(self) -> str:
        return f"{self.get_document_display()} {self.item} {self.status_code} at {self.read_at:%Y-%m-%d %H:%M:%S}"


class VrboFeedStatus(ChannelConnection):
    """Proxy for the admin: the owner's Vrbo connections with "Vrbo last read your availability N
    minutes ago"."""

    class Meta:
        proxy = True
        verbose_name = "Vrbo feed status"
        verbose_name_plural = "Vrbo feed status"
