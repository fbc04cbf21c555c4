"""Forms of the back office: they validate only; the views hand the values to the domain services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.core.limits import check_date
from apps.properties.models import Property

ACTIONS = [
    ("block", _("Block these nights (owner use)")),
    ("maintenance", _("Block for maintenance")),
    ("rates", _("Change price and stay rules")),
    ("booking", _("Create a booking")),
]
TRISTATE = [("", _("Leave as it is")), ("yes", _("Yes")), ("no", _("No"))]


class CalendarRangeForm(forms.Form):
    """A range of nights on one property and what to do with it (selected on the calendar)."""

    property = forms.ModelChoiceField(queryset=Property.objects.none(), label=_("Property"))
    first_night = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=_("First night"))
    last_night = forms.DateField(
        label=_("Last night"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last night included (check-out is the day after)."),
    )
    action = forms.ChoiceField(choices=ACTIONS, initial="block", widget=forms.RadioSelect, label=_("What to do"))
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label=_("Note (blocks)")
    )
    price = forms.DecimalField(
        label=_("Price"),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text=_("Nightly price; empty leaves it."),
    )
    price_reset = forms.BooleanField(required=False, label=_("Back to the base price"))
    min_stay = forms.IntegerField(
        label=_("Minimum stay"), required=False, min_value=1, max_value=365, help_text=_("Empty leaves it.")
    )
    max_stay = forms.IntegerField(
        label=_("Maximum stay"), required=False, min_value=1, max_value=365, help_text=_("Empty leaves it.")
    )
    closed_to_arrival = forms.ChoiceField(choices=TRISTATE, required=False, label=_("Closed to arrival"))
    closed_to_departure = forms.ChoiceField(choices=TRISTATE, required=False, label=_("Closed to departure"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["property"].queryset = Property.objects.managed_by(user).order_by("name", "id")

    def clean_note(self) -> str:
        value = (self.cleaned_data.get("note") or "").strip()
        if "\x00" in value:
            raise forms.ValidationError("Null characters are not allowed.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, last = data.get("first_night"), data.get("last_night")
        if first and last:
            if last < first:
                self.add_error("last_night", _("The last night cannot be before the first night."))
            else:
                try:  # both nights inside the sane date window (9999-12-31 has no next day to end on)
                    check_date(first, field="first_night")
                    check_date(last, field="last_night")
                except DomainError as exc:
                    self.add_error(exc.details.get("field", "last_night"), str(exc))
                else:
                    data["end"] = last + timedelta(days=1)
        if data.get("action") == "rates" and not self.rate_changes():
            raise forms.ValidationError(_("Give a price, a stay limit or an arrival/departure rule to change."))
        if data.get("price") is not None and data.get("price_reset"):
            self.add_error("price", _("Give a price or go back to the base price, not both."))
        return data

    def rate_changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        if data.get("price_reset"):
            changes["price_override"] = None
        elif data.get("price") is not None:
            changes["price_override"] = data["price"]
        for name in ("min_stay", "max_stay"):
            if data.get(name) is not None:
                changes[name] = data[name]
        for name in ("closed_to_arrival", "closed_to_departure"):
            if data.get(name) in ("yes", "no"):
                changes[name] = data[name] == "yes"
        return changes


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        from .models import NotificationPreference

        model = NotificationPreference
        fields = ("language", "email_bookings", "email_channel_problems", "email_daily_digest")
        labels = {
            "language": _("Language of your e-mails"),
            "email_bookings": _("E-mail me new, changed and cancelled bookings"),
            "email_channel_problems": _("E-mail me channel problems"),
            "email_daily_digest": _("E-mail me a daily digest of tomorrow's arrivals and departures"),
        }
