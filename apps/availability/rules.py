"""Validation of pricing rules: what ``conditions`` each rule type takes.

| rule_type             | conditions                                                        | adjustment       |
|-----------------------|-------------------------------------------------------------------|------------------|
| seasonal              | {"start_date": "YYYY-MM-DD", "end_date": "YYYY-MM-DD" (exclusive), | % or fixed/night |
|                       |  "recurring_yearly": bool (optional, default false)}              |                  |
| weekend               | {"days": [4, 5]} (nights by weekday, Monday=0; default Fri+Sat)    | % or fixed/night |
| length_of_stay        | {"min_nights": N}                                                 | % or fixed/stay  |
| last_minute           | {"max_days_before": N}                                            | % or fixed/stay  |
| extra_guest_fee       | {"above_guests": N}                                               | fixed/guest/night|
| tax_percentage        | {} (percentage of rent)                                           | %                |
| tax_per_person_night  | {} (e.g. a tourist tax)                                           | fixed            |
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

PER_NIGHT_TYPES = ("seasonal", "weekend")
STAY_TYPES = ("length_of_stay", "last_minute")
FEE_TYPES = ("extra_guest_fee",)
TAX_TYPES = ("tax_percentage", "tax_per_person_night")

_ALLOWED_KEYS = {
    "seasonal": {"start_date", "end_date", "recurring_yearly"},
    "weekend": {"days"},
    "length_of_stay": {"min_nights"},
    "last_minute": {"max_days_before"},
    "extra_guest_fee": {"above_guests"},
    "tax_percentage": set(),
    "tax_per_person_night": set(),
}


def _positive_int(conditions: dict[str, Any], key: str, errors: list[str], *, minimum: int = 1) -> None:
    value = conditions.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        errors.append(f"conditions.{key} must be a whole number ≥ {minimum}.")


def _iso_date(conditions: dict[str, Any], key: str, errors: list[str]) -> date | None:
    value = conditions.get(key)
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.append(f"conditions.{key} must be a date in the form YYYY-MM-DD.")
    return None


def validate_rule(*, rule_type: str, adjustment_type: str, adjustment_value: Any, conditions: Any) -> None:
    """Raise ``ValidationError`` (field -> messages) if the rule is not well-formed."""
    errors: dict[str, list[str]] = {}
    if rule_type not in _ALLOWED_KEYS:
        raise ValidationError({"rule_type": [f"Unknown rule type “{rule_type}”."]})
    if adjustment_type not in ("percentage", "fixed"):
        errors.setdefault("adjustment_type", []).append("Must be “percentage” or “fixed”.")
    try:
        value = Decimal(str(adjustment_value))
    except (InvalidOperation, TypeError):
        errors.setdefault("adjustment_value", []).append("Must be a number.")
        value = None

    if value is not None:
        if rule_type in FEE_TYPES + TAX_TYPES and value < 0:
            errors.setdefault("adjustment_value", []).append("Fees and taxes cannot be negative.")
        if adjustment_type == "percentage" and value <= Decimal(-100):
            errors.setdefault("adjustment_value", []).append("A percentage discount must be above -100%.")
    if rule_type == "tax_percentage" and adjustment_type != "percentage":
        errors.setdefault("adjustment_type", []).append("A percentage tax must use the “percentage” adjustment.")
    if rule_type in ("tax_per_person_night", "extra_guest_fee") and adjustment_type != "fixed":
        errors.setdefault("adjustment_type", []).append("This rule type takes a fixed amount.")

    cond_errors: list[str] = []
    if conditions is None:
        conditions = {}
    if not isinstance(conditions, dict):
        raise ValidationError({"conditions": ["Must be a JSON object."], **errors})
    unknown = set(conditions) - _ALLOWED_KEYS[rule_type]
    if unknown:
        cond_errors.append(f"Unknown keys for {rule_type}: {', '.join(sorted(unknown))}.")

    if rule_type == "seasonal":
        start = _iso_date(conditions, "start_date", cond_errors)
        end = _iso_date(conditions, "end_date", cond_errors)
        if start and end and end <= start:
            cond_errors.append("conditions.end_date must be after conditions.start_date.")
        recurring = conditions.get("recurring_yearly", False)
        if not isinstance(recurring, bool):
            cond_errors.append("conditions.recurring_yearly must be true or false.")
        elif recurring and start and end and (end - start).days > 366:
            cond_errors.append("A yearly recurring season cannot be longer than a year.")
    elif rule_type == "weekend":
        days = conditions.get("days", [4, 5])
        if (
            not isinstance(days, list)
            or not days
            or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days)
        ):
            cond_errors.append("conditions.days must be a non-empty list of weekdays 0-6 (Monday=0).")
    elif rule_type == "length_of_stay":
        _positive_int(conditions, "min_nights", cond_errors)
    elif rule_type == "last_minute":
        _positive_int(conditions, "max_days_before", cond_errors, minimum=0)
    elif rule_type == "extra_guest_fee":
        _positive_int(conditions, "above_guests", cond_errors)

    if cond_errors:
        errors["conditions"] = cond_errors
    if errors:
        raise ValidationError(errors)
