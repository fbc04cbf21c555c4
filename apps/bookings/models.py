from __future__ import annotations

import builtins
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import Q

from apps.availability.models import DateRange
from apps.core.encrypted_fields import EncryptedLookupField, EncryptedTextField
from apps.core.money import validate_currency
from apps.core.tenancy import scoped_queryset


class BookingSource(models.TextChoices):
    DIRECT = "direct", "Direct"
    API = "api", "API"
    AIRBNB = "airbnb", "Airbnb"
    BOOKING_COM = "booking_com", "Booking.com"
    EXPEDIA = "expedia", "Expedia"
    FEWO_DIREKT = "fewo_direkt", "FeWo-direkt (Vrbo)"
    GOOGLE_VR = "google_vr", "Google Vacation Rentals"
    ICAL = "ical", "iCal import"


CHANNEL_SOURCES = frozenset(
    {
        BookingSource.AIRBNB,
        BookingSource.BOOKING_COM,
        BookingSource.EXPEDIA,
        BookingSource.FEWO_DIREKT,
        BookingSource.GOOGLE_VR,
        BookingSource.ICAL,
    }
)


class BookingStatus(models.TextChoices):
    INQUIRY = "inquiry", "Inquiry"
    RESERVED = "reserved", "Reserved (hold)"
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    CHECKED_OUT = "checked_out", "Checked out"
    CANCELLED = "cancelled", "Cancelled"


#: Statuses whose dates are taken on the calendar.
BLOCKING_STATUSES = (
    BookingStatus.RESERVED,
    BookingStatus.CONFIRMED,
    BookingStatus.CHECKED_IN,
    BookingStatus.CHECKED_OUT,
)


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    FAILED = "failed", "Failed"
    NOT_REQUIRED = "not_required", "Not required (paid on the channel)"
    VOID = "void", "Void (cancelled before payment, nothing charged)"


class GuestQuerySet(models.QuerySet):
    def visible_to(self, user) -> GuestQuerySet:
        """An owner's own guest book plus guests who booked a property the user may see."""
        from apps.core.tenancy import visible_property_ids

        ids = visible_property_ids(user)
        if ids is None:
            return self.all()
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        booked = Booking.objects.filter(guest=models.OuterRef("pk"), property__in=ids)
        return self.filter(Q(owner=user) | Q(models.Exists(booked)))

    def managed_by(self, user) -> GuestQuerySet:
        """Guests ``user`` may change: their own guest book, or guests who booked a property they
        may change (staff: all). A co-host granted only ``view_property`` may look, not touch."""
        from apps.core.tenancy import managed_property_ids

        ids = managed_property_ids(user)
        if ids is None:
            return self.all()
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        booked = Booking.objects.filter(guest=models.OuterRef("pk"), property__in=ids)
        return self.filter(Q(owner=user) | Q(models.Exists(booked)))


class Guest(models.Model):
    """A guest in one owner's guest book (the same person booking two owners is two rows)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="guests")
    # Personal data, encrypted at rest (apps.core.encrypted_fields): the e-mail deterministically, so
    # lookups by e-mail and the unique constraint per owner keep working; the rest with a random nonce.
    first_name = EncryptedTextField(plain_max_length=100)
    last_name = EncryptedTextField(plain_max_length=100, blank=True, default="")
    email = EncryptedLookupField(plain_max_length=254, normalise=True, email=True, blank=True, default="")
    phone = EncryptedTextField(plain_max_length=40, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="")
    language = models.CharField(max_length=8, default="en", choices=settings.LANGUAGES)
    notes = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = GuestQuerySet.as_manager()

    class Meta:
        ordering = ["id"]  # names are encrypted at rest: they cannot sort in the database
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "email"], condition=~Q(email=""), name="guest_unique_email_per_owner"
            ),
            # E-mails are normalised (trimmed, lower case) before they are encrypted, so the unique
            # constraint above also catches "Ana@Example.com" vs "ana@example.com".
        ]

    def __str__(self) -> str:
        return self.full_name

    @builtins.property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class BookingQuerySet(scoped_queryset("property")):
    def blocking(self) -> BookingQuerySet:
        return self.filter(status__in=BLOCKING_STATUSES)

    def overlapping(self, check_in, check_out) -> BookingQuerySet:
        return self.filter(check_in__lt=check_out, check_out__gt=check_in)


class Booking(models.Model):
    reference = models.CharField(max_length=32, unique=True, editable=False)
    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="bookings")
    guest = models.ForeignKey(Guest, on_delete=models.PROTECT, related_name="bookings", null=True, blank=True)
    source = models.CharField(max_length=20, choices=BookingSource.choices, default=BookingSource.DIRECT)
    external_id = models.CharField(max_length=128, null=True, blank=True, help_text="The platform's booking id.")
    check_in = models.DateField()
    check_out = models.DateField()
    guests = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=16, choices=BookingStatus.choices, default=BookingStatus.RESERVED)
    # 3 decimals: KWD, BHD, OMR, JOD, TND need them (the quote's total is stored as quoted)
    total_price = models.DecimalField(max_digits=13, decimal_places=3, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="EUR", validators=[validate_currency])
    payment_status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    price_snapshot = models.JSONField(default=dict, blank=True)
    special_requests = models.TextField(blank=True, default="")
    guest_contact = models.JSONField(
        default=dict,
        blank=True,
        help_text="The contact details given with this booking (name, e-mail, phone, country, language). "
        "A booking never changes an existing guest record; merging guests is the owner's decision.",
    )
    client_reference = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="An API client's own id for this booking (unique per property), to find what it created.",
    )
    attribution = models.CharField(
        max_length=20,
        blank=True,
        default="",
        help_text="Which referrer sent the guest of a direct booking (e.g. google_vr: Google Vacation Rentals).",
    )
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["-check_in", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(check_out__gt=models.F("check_in")), name="booking_check_out_after_in"),
            models.CheckConstraint(condition=Q(guests__gte=1), name="booking_guests_gte_1"),
            models.CheckConstraint(condition=Q(total_price__gte=0), name="booking_total_price_gte_0"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in BookingStatus]), name="booking_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=[s.value for s in BookingSource]), name="booking_source_valid"
            ),
            # A platform's reservation id is unique within the property it arrived for: lookups of
            # channel messages are scoped to their connection's property, so one owner's connection
            # can neither reach nor pre-claim another property's reservation id.
            models.UniqueConstraint(
                fields=["property", "client_reference"],
                condition=~Q(client_reference=""),
                name="booking_unique_client_reference",
            ),
            models.UniqueConstraint(
                fields=["property", "source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="booking_unique_property_source_external_id",
            ),
            ExclusionConstraint(
                name="booking_no_overlap",
                expressions=[
                    ("property", RangeOperators.EQUAL),
                    (DateRange("check_in", "check_out"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=[s.value for s in BLOCKING_STATUSES]),
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "hold_expires_at"], name="booking_hold_expiry", condition=Q(status="reserved")
            ),
            models.Index(fields=["property", "check_in"], name="booking_property_check_in"),
        ]

    def __str__(self) -> str:
        return self.reference or f"Booking {self.pk}"

    @builtins.property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days

    @builtins.property
    def is_blocking(self) -> bool:
        return self.status in BLOCKING_STATUSES
