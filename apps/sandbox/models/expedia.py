"""State of the Expedia (EQC) simulator: test hotels with their EQC credentials, the calendar Expedia
holds per hotel (room type inventory, rate plan rate and restrictions), bookings and their
transactions (Book -> Modify -> Cancel), each retrieved (BR) and confirmed (BC) or pushed as a
Booking Notification (BN)."""

from __future__ import annotations

import secrets
import uuid

from django.db import models


def new_booking_id() -> str:
    """Expedia booking ids are long numbers."""
    return str(100_000_000 + secrets.randbelow(899_999_999))


class ExpHotel(models.Model):
    """A hotel on the EQC simulator (the real simulator's test hotels are 111, 211, ..., 611)."""

    class Model(models.TextChoices):
        PULL = "pull", "Booking retrieval + confirmation (BR/BC)"
        PUSH = "push", "Booking Notification (BN push)"

    hotel_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    room_type_id = models.CharField(max_length=32, default="201")
    rate_plan_id = models.CharField(max_length=32, default="2001")
    username = models.CharField(max_length=100, help_text="EQC user, sent in the XML Authentication element.")
    password = models.CharField(max_length=200, help_text="EQC password (ECL.DELAY / ECL.TIMEOUT: provoke delays).")
    currency = models.CharField(max_length=3, default="EUR")
    reservation_model = models.CharField(max_length=4, choices=Model.choices, default=Model.PULL)
    bn_url = models.URLField(max_length=500, blank=True, default="", help_text="Where BN messages are POSTed.")
    bn_username = models.CharField(max_length=100, blank=True, default="")
    bn_password = models.CharField(max_length=200, blank=True, default="")
    processing_ms = models.PositiveIntegerField(
        default=0, help_text="Every request for this hotel takes this long (provokes 3210 with concurrent calls)."
    )
    next_error_code = models.CharField(
        max_length=8, blank=True, default="", help_text="Answer the next requests with this EQC error code."
    )
    next_error_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["hotel_id"]
        verbose_name = "Expedia hotel"

    def __str__(self) -> str:
        return f"{self.hotel_id} {self.name}"


class ExpDay(models.Model):
    """What Expedia holds for one night of a hotel's room type and rate plan (last push wins, per field)."""

    hotel = models.ForeignKey(ExpHotel, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    inventory = models.PositiveSmallIntegerField(default=1, help_text="totalInventoryAvailable")
    room_closed = models.BooleanField(default=False)
    rate_closed = models.BooleanField(default=False)
    rate = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    min_los = models.PositiveSmallIntegerField(null=True, blank=True)
    max_los = models.PositiveSmallIntegerField(null=True, blank=True)
    closed_to_arrival = models.BooleanField(default=False)
    closed_to_departure = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hotel", "day"]
        verbose_name = "Expedia calendar day"
        constraints = [models.UniqueConstraint(fields=["hotel", "day"], name="exp_day_unique")]

    @property
    def open(self) -> bool:
        return self.inventory > 0 and not self.room_closed and not self.rate_closed


class ExpBooking(models.Model):
    """A booking a guest made on the simulated Expedia; its current state (transactions hold its history)."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        MODIFIED = "modified", "Modified"
        CANCELLED = "cancelled", "Cancelled"
        REFUSED = "refused", "Refused by the partner"

    hotel = models.ForeignKey(ExpHotel, on_delete=models.CASCADE, related_name="bookings")
    booking_id = models.CharField(max_length=32, unique=True, default=new_booking_id)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    check_in = models.DateField()
    check_out = models.DateField()
    adults = models.PositiveSmallIntegerField(default=2)
    children = models.PositiveSmallIntegerField(default=0)
    given_name = models.CharField(max_length=100, default="Test")
    surname = models.CharField(max_length=100, default="Guest")
    email = models.EmailField(blank=True, default="")
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    confirm_number = models.CharField(max_length=64, blank=True, default="", help_text="The partner's number.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "Expedia booking"

    def __str__(self) -> str:
        return f"{self.booking_id} {self.check_in}–{self.check_out} ({self.status})"

    @property
    def blocking(self) -> bool:
        return self.status in (self.Status.BOOKED, self.Status.MODIFIED)


class ExpTransaction(models.Model):
    """One transaction of a booking (Book, Modify, Cancel), with the stay as it was then. Released to
    BR one at a time per booking, in sequence; or pushed as one BN message (``request_id``)."""

    class Type(models.TextChoices):
        BOOK = "Book", "Book"
        MODIFY = "Modify", "Modify"
        CANCEL = "Cancel", "Cancel"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRIEVED = "retrieved", "Retrieved"
        CONFIRMED = "confirmed", "Confirmed"
        REFUSED = "refused", "Refused by the partner (BN)"
        FAILED = "failed", "Not accepted yet (BN retries)"

    booking = models.ForeignKey(ExpBooking, on_delete=models.CASCADE, related_name="transactions")
    seq = models.PositiveSmallIntegerField()
    type = models.CharField(max_length=8, choices=Type.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    check_in = models.DateField()
    check_out = models.DateField()
    adults = models.PositiveSmallIntegerField(default=2)
    children = models.PositiveSmallIntegerField(default=0)
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    request_id = models.UUIDField(default=uuid.uuid4, help_text="BN RequestId (the same on every retry).")
    retrieved_count = models.PositiveIntegerField(default=0)
    confirm_count = models.PositiveIntegerField(default=0)
    confirm_number = models.CharField(max_length=64, blank=True, default="")
    bn_attempts = models.PositiveIntegerField(default=0)
    bn_last_answer = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["booking", "seq"]
        verbose_name = "Expedia booking transaction"
        constraints = [models.UniqueConstraint(fields=["booking", "seq"], name="exp_txn_unique_seq")]

    def __str__(self) -> str:
        return f"{self.booking.booking_id} #{self.seq} {self.type} ({self.status})"
