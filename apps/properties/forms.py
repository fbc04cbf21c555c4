"""The property's admin form: an address a person can fill (street, postcode, city, region, country,
coordinates) instead of JSON, and amenities picked from the catalogue. It only validates; the admin's
``save_model`` hands the values to ``property_create`` / ``property_update``."""

from __future__ import annotations

from typing import Any

from django import forms

from .amenities import AMENITIES, LABELS
from .models import Property

ADDRESS_PARTS = ("street", "postal_code", "region")


class AmenitiesField(forms.MultipleChoiceField):
    """Checkboxes of the catalogue; an empty value posted by a script counts as none."""

    def to_python(self, value: Any) -> list[str]:
        return [v for v in super().to_python(value) if v]


class PropertyAdminForm(forms.ModelForm):
    street = forms.CharField(max_length=200, required=False, label="Street and number")
    postal_code = forms.CharField(max_length=20, required=False, label="Postcode")
    region = forms.CharField(max_length=120, required=False, label="Region / state")
    amenities = AmenitiesField(
        choices=AMENITIES,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "bo-amenities"}),
        help_text="Each amenity has a code, so the channels can be told in their own terms.",
    )

    class Meta:
        model = Property
        fields = (
            "owner",
            "name",
            "slug",
            "status",
            "description",
            "house_rules",
            "city",
            "country",
            "latitude",
            "longitude",
            "timezone",
            "max_guests",
            "bedrooms",
            "bathrooms",
            "amenities",
            "base_price",
            "currency",
            "cleaning_fee",
            "default_min_stay",
            "default_max_stay",
            "min_notice_hours",
            "max_advance_days",
            "check_in_time",
            "check_out_time",
            "cancellation_policy",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        address = self.instance.address if isinstance(self.instance.address, dict) else {}
        for part in ADDRESS_PARTS:
            if part in self.fields:
                self.fields[part].initial = str(address.get(part) or "")
        if "amenities" in self.fields:
            current = list(self.instance.amenities or []) if self.instance.pk else []
            extra = [(code, LABELS.get(code, code)) for code in current if code not in LABELS]
            self.fields["amenities"].choices = AMENITIES + extra
            self.fields["amenities"].initial = current

    def _clean_text(self, name: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip()
        if "\x00" in value:
            self.add_error(name, "Null characters are not allowed.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        address = dict(self.instance.address) if isinstance(self.instance.address, dict) else {}
        for part in ADDRESS_PARTS:
            if part in self.fields:
                value = self._clean_text(part)
                if value:
                    address[part] = value
                else:
                    address.pop(part, None)
        for part in ("city", "country"):
            if data.get(part):
                address[part] = data[part].upper() if part == "country" else data[part]
        data["address"] = address
        return data

    @property
    def changed_data(self) -> list[str]:
        changed = list(super().changed_data)
        if "address" not in changed and any(p in changed for p in (*ADDRESS_PARTS, "city", "country")):
            changed.append("address")
        return changed
