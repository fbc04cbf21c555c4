from __future__ import annotations

import builtins
from decimal import Decimal

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Func, Q

from apps.core import limits
from apps.core.tenancy import scoped_queryset


class DateRange(Func):
    """``daterange(start, end)``: half-open [start, end) — the end day is free."""

    function = "daterange"
    output_field = models.Field()  # only used inside constraints and raw filters

    def __init__(self, start: str, end: str) -> None:
        from django.contrib.postgres.fields import DateRangeField

        super().__init__(models.F(start), models.F(end), output_field=DateRangeField())


class BlockSource(models.TextChoices):
    OWNER = "owner", "Owner"
    AIRBNB = "airbnb", "Airbnb"
    BOOKING_COM = "booking_com", "Booking.com"
    EXPEDIA = "expedia", "Expedia"
    FEWO_DIREKT = "fewo_direkt", "FeWo-direkt (Vrbo)"
    GOOGLE_VR = "google_vr", "Google Vacation Rentals"
    ICAL = "ical", "iCal import"
    RECONCILIATION = "reconciliation", "Reconciliation"


class AvailabilityBlock(models.Model):
    """A date range [start_date, end_date) with a calendar state.

    ``blocked`` and ``maintenance`` close the dates (and must not overlap each other or a
    booking); ``available`` keeps them open and may carry a price override, a min/max stay and
    closed-to-arrival/departure flags for those nights.
    """

    class Type(models.TextChoices):
        AVAILABLE = "available", "Available (price / restrictions)"
        BLOCKED = "blocked", "Blocked"
        MAINTENANCE = "maintenance", "Maintenance"

    BLOCKING_TYPES = (Type.BLOCKED, Type.MAINTENANCE)

    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE, related_name="blocks")
    start_date = models.DateField()
    end_date = models.DateField(help_text="Exclusive: the first day no longer covered.")
    block_type = models.CharField(max_length=16, choices=Type.choices, default=Type.BLOCKED)
    price_override = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )
    min_stay = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    max_stay = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    closed_to_arrival = models.BooleanField(default=False)
    closed_to_departure = models.BooleanField(default=False)
    note = models.TextField(blank=True, default="")
    source = models.CharField(max_length=20, choices=BlockSource.choices, default=BlockSource.OWNER)
    external_uid = models.CharField(max_length=255, blank=True, default="", help_text="UID of a channel-made block.")
    connection_id = models.BigIntegerField(null=True, blank=True, help_text="Channel connection that made it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        ordering = ["property", "start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=models.F("start_date")), name="block_end_after_start"),
            models.CheckConstraint(
                condition=Q(price_override__isnull=True) | Q(price_override__gte=0), name="block_price_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(min_stay__isnull=True) | Q(max_stay__isnull=True) | Q(max_stay__gte=models.F("min_stay")),
                name="block_max_stay_gte_min_stay",
            ),
            ExclusionConstraint(
                name="block_no_overlap",
                expressions=[
                    ("property", RangeOperators.EQUAL),
                    (DateRange("start_date", "end_date"), RangeOperators.OVERLAPS),
                ],
                condition=Q(block_type__in=["blocked", "maintenance"]),
            ),
            ExclusionConstraint(
                name="block_available_no_overlap",
                expressions=[
                    ("property", RangeOperators.EQUAL),
                    (DateRange("start_date", "end_date"), RangeOperators.OVERLAPS),
                ],
                condition=Q(block_type="available"),
            ),
            models.UniqueConstraint(
                fields=["property", "source", "connection_id", "external_uid"],
                condition=~Q(external_uid=""),
                name="block_unique_external_uid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_block_type_display()} {self.start_date}–{self.end_date}"

    @builtins.property
    def is_blocking(self) -> bool:
        return self.block_type in self.BLOCKING_TYPES

    @builtins.property
    def nights(self) -> int:
        return (self.end_date - self.start_date).days

    def validate_constraints(self, exclude=None) -> None:
        """Django checks the exclusion constraints in Python too, but fails (FieldError, a 500) when
        a field their condition names is excluded because it already has an error (a "blocked" block
        with a price). Then the error stands alone; the calendar guard and PostgreSQL check overlaps."""
        if exclude and {"block_type", "start_date", "end_date", "property"} & set(exclude):
            exclude = set(exclude) | {f.name for f in self._meta.concrete_fields}
        super().validate_constraints(exclude=exclude)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            errors["end_date"] = "The end date must be after the start date."
        elif self.start_date and self.end_date:
            try:  # the same limits as stays: at most MAX_STAY_NIGHTS long, inside the sane date window
                limits.check_span(self.start_date, self.end_date, what="block", fields=("start_date", "end_date"))
            except limits.ValidationFailed as exc:
                errors[exc.details.get("field") or "end_date"] = exc.message
        if self.min_stay and self.max_stay and self.max_stay < self.min_stay:
            errors["max_stay"] = "The maximum stay must not be shorter than the minimum stay."
        if self.is_blocking and (self.price_override is not None or self.closed_to_arrival or self.closed_to_departure):
            errors["block_type"] = "Prices and arrival/departure rules only apply to 'available' ranges."
        if errors:
            raise ValidationError(errors)


class OccupiedNight(models.Model):
    """One row per night that a blocking booking or block takes, kept in the same transaction as
    every calendar write. Search answers "which properties are free for these nights" from the
    ``(night, property)`` index; the unique constraint is a second guard against double booking.
    """

    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE, related_name="+")
    night = models.DateField()
    booking = models.ForeignKey("bookings.Booking", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    block = models.ForeignKey(AvailabilityBlock, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["night", "property"], name="occupied_night_unique"),
            models.CheckConstraint(
                condition=(Q(booking__isnull=False) & Q(block__isnull=True))
                | (Q(booking__isnull=True) & Q(block__isnull=False)),
                name="occupied_night_one_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["booking"], name="occupied_night_booking"),
            models.Index(fields=["block"], name="occupied_night_block"),
            models.Index(fields=["property", "night"], name="occupied_night_property_night"),
        ]


class PricingRule(models.Model):
    """A price adjustment; see ``apps.availability.pricing`` for how rules are applied."""

    class RuleType(models.TextChoices):
        SEASONAL = "seasonal", "Seasonal (date range, per night)"
        WEEKEND = "weekend", "Weekend (per night)"
        LENGTH_OF_STAY = "length_of_stay", "Length of stay (on rent subtotal)"
        LAST_MINUTE = "last_minute", "Last minute (on rent subtotal)"
        EXTRA_GUEST_FEE = "extra_guest_fee", "Extra-guest fee (per night above N guests)"
        TAX_PERCENTAGE = "tax_percentage", "Tax (percentage of rent)"
        TAX_PER_PERSON_NIGHT = "tax_per_person_night", "Tax (per person per night)"

    class AdjustmentType(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage"
        FIXED = "fixed", "Fixed amount"

    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE, related_name="pricing_rules")
    name = models.CharField(max_length=120, blank=True, default="")
    rule_type = models.CharField(max_length=32, choices=RuleType.choices)
    adjustment_type = models.CharField(max_length=16, choices=AdjustmentType.choices)
    adjustment_value = models.DecimalField(max_digits=10, decimal_places=2)
    conditions = models.JSONField(default=dict, blank=True)
    priority = models.IntegerField(default=0, help_text="Lower numbers apply first.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        ordering = ["property", "priority", "id"]

    def __str__(self) -> str:
        return self.name or f"{self.get_rule_type_display()} {self.adjustment_value}"

    def clean(self) -> None:
        from .rules import validate_rule

        try:  # bounded depth and size, finite numbers, no NUL (apps.core.limits)
            limits.check_json(self.conditions, field="conditions")
        except limits.ValidationFailed as exc:
            raise limits.validation_error(exc) from None
        validate_rule(
            rule_type=self.rule_type,
            adjustment_type=self.adjustment_type,
            adjustment_value=self.adjustment_value,
            conditions=self.conditions,
        )
