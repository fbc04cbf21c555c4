"""State of the Booking.com simulator: listings (hotels), tokens, calendar days, reservations."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q


def new_res_id() -> str:
    return str(4_000_000_000 + secrets.randbelow(999_999_999))


class SimListing(models.Model):
    """A hotel (property) on the Booking.com simulator, with its machine-account credentials."""

    simulator = models.CharField(max_length=20, default="booking_com")
    hotel_code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    room_code = models.CharField(max_length=32, default="101")
    rate_plan_code = models.CharField(max_length=32, default="1")
    username = models.CharField(max_length=100)
    password = models.CharField(max_length=200, help_text="Simulator credential (Basic auth / client secret).")
    currency = models.CharField(max_length=3, default="EUR")
    webhook_url = models.URLField(max_length=500, blank=True, default="", help_text="Push mode (simulator only).")
    webhook_secret = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["hotel_code"]

    def __str__(self) -> str:
        return f"{self.hotel_code} {self.name}"


class SimToken(models.Model):
    """A bearer token issued by the simulator's token exchange (valid one hour, like the real one)."""

    listing_username = models.CharField(max_length=100)
    token = models.CharField(max_length=100, unique=True)
    expires_at = models.DateTimeField()


class SimCalendarDay(models.Model):
    """What the platform believes about one night of one listing (last push wins, per field)."""

    listing = models.ForeignKey(SimListing, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    rooms_to_sell = models.PositiveSmallIntegerField(default=1)
    stop_sell = models.BooleanField(default=False)
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    min_stay = models.PositiveSmallIntegerField(null=True, blank=True)
    max_stay = models.PositiveSmallIntegerField(null=True, blank=True)
    closed_to_arrival = models.BooleanField(default=False)
    closed_to_departure = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["listing", "day"]
        constraints = [models.UniqueConstraint(fields=["listing", "day"], name="sim_day_unique")]

    @property
    def open(self) -> bool:
        return self.rooms_to_sell > 0 and not self.stop_sell


class SimReservation(models.Model):
    """A reservation made on the simulator; queued until the partner acknowledges it."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        MODIFIED = "modified", "Modified"
        CANCELLED = "cancelled", "Cancelled"
        REFUSED = "refused", "Refused by the partner"

    listing = models.ForeignKey(SimListing, on_delete=models.CASCADE, related_name="reservations")
    res_id = models.CharField(max_length=32, unique=True, default=new_res_id)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    check_in = models.DateField()
    check_out = models.DateField()
    guests = models.PositiveSmallIntegerField(default=2)
    first_name = models.CharField(max_length=100, default="Test")
    last_name = models.CharField(max_length=100, default="Guest")
    email = models.EmailField(blank=True, default="")
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    version = models.PositiveIntegerField(default=1, help_text="Bumped by every modification/cancellation.")
    new_acked_at = models.DateTimeField(null=True, blank=True, help_text="When the new reservation was acked.")
    acked_version = models.PositiveIntegerField(default=0, help_text="Last version the partner acknowledged.")
    refusal = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["listing"], name="sim_res_unacked", condition=Q(new_acked_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.res_id} {self.check_in}–{self.check_out} ({self.status})"

    @property
    def blocking(self) -> bool:
        return self.status in (self.Status.BOOKED, self.Status.MODIFIED)
