"""Forms of the guest pages. They validate input only; the rules live in the services."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: A short list of countries for the checkout (ISO 3166-1 alpha-2); the label is translated.
COUNTRIES = [
    ("", _("Select your country")),
    ("AT", _("Austria")),
    ("BE", _("Belgium")),
    ("CH", _("Switzerland")),
    ("CZ", _("Czechia")),
    ("DE", _("Germany")),
    ("DK", _("Denmark")),
    ("ES", _("Spain")),
    ("FR", _("France")),
    ("GB", _("United Kingdom")),
    ("IE", _("Ireland")),
    ("IT", _("Italy")),
    ("LU", _("Luxembourg")),
    ("NL", _("Netherlands")),
    ("NO", _("Norway")),
    ("PL", _("Poland")),
    ("PT", _("Portugal")),
    ("SE", _("Sweden")),
    ("US", _("United States")),
    ("CA", _("Canada")),
    ("AU", _("Australia")),
    ("OTHER", _("Other")),
]

ORDER_CHOICES = [
    ("price", _("Lowest price")),
    ("-price", _("Highest price")),
    ("name", _("Name")),
]


#: No stay can end further ahead than this (each property's own ``max_advance_days`` is stricter).
MAX_DAYS_AHEAD = 5 * 366


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class StayMixin:
    """Check-in before check-out, and not in the past."""

    def clean(self):
        data = super().clean()
        check_in, check_out = data.get("check_in"), data.get("check_out")
        if bool(check_in) != bool(check_out):
            raise forms.ValidationError(_("Please choose both a check-in and a check-out date."), code="dates")
        if check_in and check_out:
            if check_out <= check_in:
                self.add_error("check_out", _("Check-out must be after check-in."))
            elif check_in < timezone.localdate() - timezone.timedelta(days=1):
                self.add_error("check_in", _("Check-in cannot be in the past."))
            elif (check_out - check_in).days > 365:
                self.add_error("check_out", _("A stay cannot be longer than 365 nights."))
            elif check_out > timezone.localdate() + timezone.timedelta(days=MAX_DAYS_AHEAD):
                # Far-future dates (year 9999) overflowed the date arithmetic of the stay check.
                self.add_error("check_in", _("Please choose dates within the next five years."))
        return data


class SearchForm(StayMixin, forms.Form):
    location = forms.CharField(
        label=_("Where"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("City or region"), "autocomplete": "off"}),
    )
    check_in = forms.DateField(label=_("Check-in"), required=False, widget=DateInput())
    check_out = forms.DateField(label=_("Check-out"), required=False, widget=DateInput())
    guests = forms.IntegerField(label=_("Guests"), min_value=1, max_value=50, required=False, initial=2)
    amenities = forms.MultipleChoiceField(
        label=_("Amenities"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    min_bedrooms = forms.IntegerField(label=_("Bedrooms (at least)"), min_value=0, max_value=50, required=False)
    max_price = forms.DecimalField(
        label=_("Max. total price"), min_value=0, max_digits=10, decimal_places=2, required=False
    )
    order = forms.ChoiceField(label=_("Sort by"), choices=ORDER_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, max_value=10_000, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, amenity_choices: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors import amenity_label

        self.fields["amenities"].choices = [(a, amenity_label(a)) for a in amenity_choices]


class StayForm(StayMixin, forms.Form):
    """The dates and guests on the property page and the checkout."""

    check_in = forms.DateField(label=_("Check-in"), widget=DateInput())
    check_out = forms.DateField(label=_("Check-out"), widget=DateInput())
    guests = forms.IntegerField(label=_("Guests"), min_value=1, max_value=50, initial=2)


class GuestDetailsForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    # 254 as on ``Guest.email`` (the form field alone would allow 320 and the insert would fail).
    email = forms.EmailField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    country = forms.ChoiceField(
        label=_("Country"), choices=COUNTRIES, widget=forms.Select(attrs={"autocomplete": "country"})
    )
    special_requests = forms.CharField(
        label=_("Special requests (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Early check-in, late check-out, a cot, …")}),
    )

    def clean_phone(self):
        phone = self.cleaned_data.get("phone", "").strip()
        allowed = set("+0123456789 ()-/.")
        if phone and (not set(phone) <= allowed or sum(c.isdigit() for c in phone) < 5):
            raise forms.ValidationError(_("Please enter a valid phone number."))
        return phone


class CardForm(forms.Form):
    """The sandbox card form (demo and tests only; production uses Stripe's Payment Element)."""

    card_number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "placeholder": "4242 4242 4242 4242"}
        ),
    )
    exp_month = forms.IntegerField(
        label=_("Month"), min_value=1, max_value=12, widget=forms.NumberInput(attrs={"placeholder": "MM"})
    )
    exp_year = forms.IntegerField(
        label=_("Year"), min_value=2000, max_value=2100, widget=forms.NumberInput(attrs={"placeholder": "YYYY"})
    )
    cvc = forms.CharField(
        label=_("CVC"),
        min_length=3,
        max_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric", "placeholder": "123"}),
    )

    def clean_card_number(self):
        number = "".join(self.cleaned_data["card_number"].split()).replace("-", "")
        if not number.isdigit() or not 12 <= len(number) <= 19:
            raise forms.ValidationError(_("Please enter a valid card number."))
        return number

    def clean_cvc(self):
        cvc = self.cleaned_data["cvc"].strip()
        if not cvc.isdigit():
            raise forms.ValidationError(_("Please enter the 3 or 4 digits on the back of the card."))
        return cvc

    def clean(self):
        data = super().clean()
        month, year = data.get("exp_month"), data.get("exp_year")
        if month and year:
            today = date.today()  # noqa: DTZ011 - card expiry is a calendar month
            if (year, month) < (today.year, today.month):
                raise forms.ValidationError(_("This card has expired."), code="expired")
        return data


class PortalRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail used for the booking"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    reference = forms.CharField(
        label=_("Booking reference"), max_length=32, widget=forms.TextInput(attrs={"placeholder": "PMS-2026-000123"})
    )

    def clean_reference(self):
        return self.cleaned_data["reference"].strip().upper()


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        choices=[(5, "★★★★★"), (4, "★★★★☆"), (3, "★★★☆☆"), (2, "★★☆☆☆"), (1, "★☆☆☆☆")],
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Tell future guests about your stay"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
