"""The pricing rule's admin form: the conditions of each rule type as form fields (season dates, weekend
nights, minimum nights, days before arrival, guests included) instead of JSON. It composes the
``conditions`` that ``rules.validate_rule`` checks; ``PricingRuleAdmin.save_model`` hands them to the
pricing-rule services."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import PricingRule

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]
CONDITION_FIELDS = (
    "season_start",
    "season_end",
    "recurring_yearly",
    "weekend_days",
    "min_nights",
    "max_days_before",
    "above_guests",
)

TYPE_FIELDS = {
    "seasonal": ("season_start", "season_end", "recurring_yearly"),
    "weekend": ("weekend_days",),
    "length_of_stay": ("min_nights",),
    "last_minute": ("max_days_before",),
    "extra_guest_fee": ("above_guests",),
}


class PricingRuleForm(forms.ModelForm):
    season_start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Seasonal: the first night."
    )
    season_end = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Seasonal: the first night no longer in the season.",
    )
    recurring_yearly = forms.BooleanField(required=False, help_text="Seasonal: the same dates every year.")
    weekend_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        initial=[4, 5],
        widget=forms.CheckboxSelectMultiple,
        label="Weekend nights",
        help_text="Weekend: the nights the rule applies to (Friday and Saturday nights by default).",
    )
    min_nights = forms.IntegerField(
        required=False, min_value=1, max_value=365, help_text="Length of stay: stays of at least this many nights."
    )
    max_days_before = forms.IntegerField(
        required=False, min_value=0, max_value=365, help_text="Last minute: booked at most this many days ahead."
    )
    above_guests = forms.IntegerField(
        required=False, min_value=1, max_value=100, help_text="Extra-guest fee: per guest above this number."
    )

    class Meta:
        model = PricingRule
        fields = (
            "property",
            "name",
            "rule_type",
            "adjustment_type",
            "adjustment_value",
            "season_start",
            "season_end",
            "recurring_yearly",
            "weekend_days",
            "min_nights",
            "max_days_before",
            "above_guests",
            "conditions",
            "priority",
            "active",
        )
        widgets = {"conditions": forms.HiddenInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "conditions" in self.fields:
            self.fields["conditions"].required = False
        c = self.instance.conditions if isinstance(self.instance.conditions, dict) else {}
        self._initial_conditions = dict(c) if self.instance.pk else None
        initial = {
            "season_start": c.get("start_date"),
            "season_end": c.get("end_date"),
            "recurring_yearly": bool(c.get("recurring_yearly", False)),
            "weekend_days": c.get("days", [4, 5]),
            "min_nights": c.get("min_nights"),
            "max_days_before": c.get("max_days_before"),
            "above_guests": c.get("above_guests"),
        }
        for name, value in initial.items():
            if name in self.fields and value is not None:
                self.fields[name].initial = value

    def _structured_given(self, kind: str) -> bool:
        names = TYPE_FIELDS.get(kind, ())
        return any(any(v not in ("", None) for v in self.data.getlist(self.add_prefix(n))) for n in names)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("rule_type") or self.instance.rule_type
        conditions: dict[str, Any] = {}
        posted = data.get("conditions")
        if kind in TYPE_FIELDS and not self._structured_given(kind) and isinstance(posted, dict) and posted:
            # No condition fields but the JSON (a script, or a browser without the fields): validated as
            # it is by ``rules.validate_rule`` (its errors show on the form).
            self.instance.conditions = posted
            return data
        if kind == "seasonal":
            start, end = data.get("season_start"), data.get("season_end")
            if not start:
                self.add_error("season_start", "A season needs its first night.")
            if not end:
                self.add_error("season_end", "A season needs its end.")
            if start and end:
                if end <= start:
                    self.add_error("season_end", "The season must end after it starts.")
                conditions = {
                    "start_date": start.isoformat(),
                    "end_date": end.isoformat(),
                    "recurring_yearly": bool(data.get("recurring_yearly")),
                }
        elif kind == "weekend":
            days = sorted(set(data.get("weekend_days") or []))
            if not days:
                self.add_error("weekend_days", "Pick at least one night of the week.")
            conditions = {"days": days}
        elif kind in ("length_of_stay", "last_minute", "extra_guest_fee"):
            name, key = {
                "length_of_stay": ("min_nights", "min_nights"),
                "last_minute": ("max_days_before", "max_days_before"),
                "extra_guest_fee": ("above_guests", "above_guests"),
            }[kind]
            if data.get(name) is None:
                self.add_error(name, "This rule type needs this number.")
            else:
                conditions = {key: data[name]}
        data["conditions"] = conditions
        self.instance.conditions = conditions
        return data

    @property
    def changed_data(self) -> list[str]:
        changed = [name for name in super().changed_data if name != "conditions"]
        current = self.cleaned_data.get("conditions") if self.is_bound and hasattr(self, "cleaned_data") else None
        if current is not None and current != self._initial_conditions:
            changed.append("conditions")
        return changed
