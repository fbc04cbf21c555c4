"""Validation of pricing rules per type: table-driven, with the messages owners see."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.availability.rules import validate_rule

VALID = [
    ("seasonal", "percentage", "20", {"start_date": "2025-06-01", "end_date": "2025-09-01"}),
    ("seasonal", "fixed", "-10", {"start_date": "2025-12-20", "end_date": "2026-01-06", "recurring_yearly": True}),
    ("weekend", "percentage", "15", {}),
    ("weekend", "fixed", "10", {"days": [4, 5, 6]}),
    ("length_of_stay", "percentage", "-10", {"min_nights": 7}),
    ("last_minute", "fixed", "-25", {"max_days_before": 0}),
    ("extra_guest_fee", "fixed", "15", {"above_guests": 2}),
    ("tax_percentage", "percentage", "7", {}),
    ("tax_per_person_night", "fixed", "2.50", {}),
]


@pytest.mark.parametrize(("rule_type", "adj", "value", "conditions"), VALID)
def test_valid_rules(rule_type, adj, value, conditions):
    validate_rule(rule_type=rule_type, adjustment_type=adj, adjustment_value=value, conditions=conditions)


INVALID = [
    ("unknown type", "discount", "percentage", "1", {}, "rule_type", "Unknown rule type"),
    ("seasonal without dates", "seasonal", "percentage", "1", {}, "conditions", "start_date must be a date"),
    (
        "seasonal bad date",
        "seasonal",
        "percentage",
        "1",
        {"start_date": "2025-02-30", "end_date": "2025-03-01"},
        "conditions",
        "start_date must be a date",
    ),
    (
        "seasonal end before start",
        "seasonal",
        "percentage",
        "1",
        {"start_date": "2025-03-01", "end_date": "2025-03-01"},
        "conditions",
        "end_date must be after",
    ),
    (
        "seasonal recurring too long",
        "seasonal",
        "fixed",
        "1",
        {"start_date": "2025-01-01", "end_date": "2026-06-01", "recurring_yearly": True},
        "conditions",
        "longer than a",
    ),
    (
        "seasonal recurring not bool",
        "seasonal",
        "fixed",
        "1",
        {"start_date": "2025-01-01", "end_date": "2025-02-01", "recurring_yearly": "yes"},
        "conditions",
        "true or false",
    ),
    ("weekend bad day", "weekend", "fixed", "1", {"days": [7]}, "conditions", "weekdays 0-6"),
    ("weekend empty", "weekend", "fixed", "1", {"days": []}, "conditions", "weekdays 0-6"),
    ("unknown condition key", "weekend", "fixed", "1", {"nights": [1]}, "conditions", "Unknown keys"),
    ("los missing", "length_of_stay", "percentage", "-5", {}, "conditions", "min_nights must be a whole number"),
    ("los zero", "length_of_stay", "percentage", "-5", {"min_nights": 0}, "conditions", "min_nights"),
    (
        "last minute negative",
        "last_minute",
        "percentage",
        "-5",
        {"max_days_before": -1},
        "conditions",
        "max_days_before",
    ),
    (
        "extra guest percentage",
        "extra_guest_fee",
        "percentage",
        "5",
        {"above_guests": 2},
        "adjustment_type",
        "fixed amount",
    ),
    ("negative tax", "tax_percentage", "percentage", "-5", {}, "adjustment_value", "cannot be negative"),
    ("tax as fixed", "tax_percentage", "fixed", "5", {}, "adjustment_type", "percentage"),
    ("discount of 100%", "weekend", "percentage", "-100", {}, "adjustment_value", "above -100%"),
    ("not a number", "weekend", "percentage", "abc", {}, "adjustment_value", "Must be a number"),
    ("conditions not an object", "weekend", "percentage", "5", [4, 5], "conditions", "JSON object"),
    ("bool as int", "length_of_stay", "percentage", "-5", {"min_nights": True}, "conditions", "min_nights"),
]


@pytest.mark.parametrize(
    ("name", "rule_type", "adj", "value", "conditions", "field", "message"), INVALID, ids=[c[0] for c in INVALID]
)
def test_invalid_rules(name, rule_type, adj, value, conditions, field, message):
    with pytest.raises(ValidationError) as exc:
        validate_rule(rule_type=rule_type, adjustment_type=adj, adjustment_value=value, conditions=conditions)
    assert field in exc.value.message_dict
    assert any(message in m for m in exc.value.message_dict[field]), exc.value.message_dict
