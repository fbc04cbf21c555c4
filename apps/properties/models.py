from __future__ import annotations

import builtins
import secrets
import zoneinfo
from datetime import time
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from apps.core import limits
from apps.core.money import validate_currency
from apps.core.tenancy import scoped_queryset


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. Europe/Berlin).", code="timezone")


class PropertyQuerySet(scoped_queryset("")):
    def bookable(self) -> PropertyQuerySet:
        """Properties guests may see and book (public listing)."""
        return self.filter(status=Property.Status.ACTIVE)


class Property(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    class CancellationPolicy(models.TextChoices):
        FLEXIBLE = "flexible", "Flexible"
        MODERATE = "moderate", "Moderate"
        STRICT = "strict", "Strict"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="properties")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True, default="")
    house_rules = models.TextField(blank=True, default="")
    address = models.JSONField(default=dict, blank=True, help_text="street, postal_code, city, region, country")
    city = models.CharField(max_length=120, db_index=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 country code, e.g. DE")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    amenities = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    max_guests = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    bedrooms = models.PositiveSmallIntegerField(default=1)
    bathrooms = models.DecimalField(max_digits=3, decimal_places=1, default=Decimal("1.0"))
    base_price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal(0))])
    currency = models.CharField(max_length=3, default="EUR", validators=[validate_currency])
    timezone = models.CharField(max_length=64, default="Europe/Berlin", validators=[validate_timezone])
    check_in_time = models.TimeField(default=time(15, 0))
    check_out_time = models.TimeField(default=time(11, 0))
    cleaning_fee = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal(0))]
    )
    default_min_stay = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    default_max_stay = models.PositiveSmallIntegerField(default=28, validators=[MinValueValidator(1)])
    min_notice_hours = models.PositiveSmallIntegerField(
        default=0, help_text="How many hours before check-in a stay must be booked."
    )
    max_advance_days = models.PositiveSmallIntegerField(default=365, help_text="How many days ahead a stay may start.")
    cancellation_policy = models.CharField(
        max_length=16, choices=CancellationPolicy.choices, default=CancellationPolicy.MODERATE
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    ical_token = models.CharField(
        max_length=64,
        unique=True,
        default=new_feed_token,
        editable=False,
        help_text="Secret part of the iCal export URL; regenerate it to revoke the old URL.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PropertyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "properties"
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(base_price__gte=0), name="property_base_price_gte_0"),
            models.CheckConstraint(condition=models.Q(cleaning_fee__gte=0), name="property_cleaning_fee_gte_0"),
            models.CheckConstraint(condition=models.Q(max_guests__gte=1), name="property_max_guests_gte_1"),
            models.CheckConstraint(
                condition=models.Q(default_max_stay__gte=models.F("default_min_stay")),
                name="property_max_stay_gte_min_stay",
            ),
        ]
        permissions = [("manage_calendar", "Can manage the calendar of a property")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.default_min_stay and self.default_max_stay and self.default_max_stay < self.default_min_stay:
            raise ValidationError({"default_max_stay": "The maximum stay must not be shorter than the minimum stay."})
        if self.country:
            self.country = self.country.upper()
        try:  # the limits every entry shares (admin, API, services): apps.core.limits
            # the name goes into e-mail subjects: a line break there broke every confirmation e-mail
            limits.check_single_line(self.name, max_length=200, field="name")
            limits.check_single_line(self.city, max_length=120, field="city")
            limits.check_json(self.address, field="address")
            if not isinstance(self.address, dict):
                raise limits.ValidationFailed("address must be a JSON object.", details={"field": "address"})
            if len(self.amenities or ()) > limits.MAX_AMENITIES:
                raise limits.ValidationFailed(
                    f"At most {limits.MAX_AMENITIES} amenities.", details={"field": "amenities"}
                )
        except limits.ValidationFailed as exc:
            raise limits.validation_error(exc) from None

    @builtins.property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class PropertyPhoto(models.Model):
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="properties/%Y/%m/", blank=True)
    url = models.URLField(blank=True, default="", help_text="External image URL, used when no file is uploaded.")
    caption = models.CharField(max_length=200, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        ordering = ["property", "position", "id"]

    def __str__(self) -> str:
        return self.caption or f"Photo {self.pk}"

    @builtins.property
    def src(self) -> str:
        return self.image.url if self.image else self.url
