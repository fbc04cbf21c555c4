"""Landing pages: Google's link opens our property page with the stay and its quote, the checkout is
prefilled, and the booking is attributed to Google. Price shown == price pushed == price charged."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from apps.availability import services as availability_services
from apps.backoffice.selectors import dashboard
from apps.bookings import services as booking_services
from apps.bookings.models import Booking
from apps.sandbox import google_vr as sim
from apps.sandbox.models.google_vr import GoogleListing
from tests.factories import future
from tests.storefront.helpers import GUEST, checkout_url

pytestmark = pytest.mark.django_db(transaction=True)

PRICE = re.compile(r'<data class="stay-price" value="([0-9.]+)" data-currency="([A-Z]{3})"')


def _rules(prop):
    for name, rule_type, kind, value, conditions in (
        ("Weekend", "weekend", "percentage", "20", {"days": [4, 5]}),
        ("Week", "length_of_stay", "percentage", "-10", {"min_nights": 3}),
        ("City tax", "tax_per_person_night", "fixed", "2.50", {}),
    ):
        availability_services.pricing_rule_create(
            property_id=prop.pk,
            name=name,
            rule_type=rule_type,
            adjustment_type=kind,
            adjustment_value=Decimal(value),
            conditions=conditions,
        )


def _landing(hotel_id: str, check_in, nights: int, guests: int) -> str:
    query = urlencode({"checkin": check_in.isoformat(), "nights": nights, "guests": guests, "currency": "EUR"})
    return f"/go/google/{hotel_id}/?{query}"


def test_landing_page_prefills_the_stay_and_the_booking_is_attributed_to_google(client, google, gprop, stripe_sandbox):
    _rules(gprop)
    listing = GoogleListing.objects.get(hotel_id="alice-1")
    check_in, nights, guests = future(12), 4, 3
    pushed = sim.stay_price(listing, check_in=check_in, nights=nights, guests=guests)
    assert pushed.total is not None and pushed.currency == "EUR"

    response = client.get(_landing("alice-1", check_in, nights, guests))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200 and page.context["stay"] == (check_in, future(16), 3)
    shown = PRICE.search(page.content.decode())
    assert Decimal(shown.group(1)) == pushed.total and shown.group(2) == "EUR"  # shown == pushed

    book = page.context["book_url"]
    assert book == checkout_url("seaside-cottage", check_in, future(16), 3)
    details = client.get(book)
    assert details.status_code == 200 and details.context["stay"] == (check_in, future(16), 3)
    assert client.post(book, GUEST).status_code == 302
    booking = Booking.objects.get(property=gprop)
    assert booking.source == "direct" and booking.attribution == "google_vr"
    assert booking.total_price == pushed.total  # charged == pushed

    # Reported: the API shows the attribution, the dashboard counts the stay under Google.
    from apps.bookings.api import BookingSerializer

    assert BookingSerializer(booking).data["attribution"] == "google_vr"
    booking_services.booking_confirm(booking_id=booking.pk)
    board = dashboard(user=gprop.owner, today=future(13))
    figures = board.periods[0].by_channel["EUR"]
    assert figures["google_vr"].bookings == 1 and figures["google_vr"].revenue > 0 and "direct" not in figures

    # A guest who did not come from Google books without the attribution.
    other = client.__class__()
    url = checkout_url("seaside-cottage", future(30), future(32), 2)
    assert other.post(url, {**GUEST, "email": "bo@example.com"}).status_code == 302
    assert Booking.objects.get(property=gprop, check_in=future(30)).attribution == ""


def test_landing_page_refuses_unknown_homes_and_survives_bad_parameters(client, google, gprop, bob):
    assert client.get(_landing("nope", future(5), 2, 2)).status_code == 404
    # A listing whose sync is off is not sent guests any more.
    google.sync_enabled = False
    google.save()
    assert client.get(_landing("alice-1", future(5), 2, 2)).status_code == 404
    google.sync_enabled = True
    google.save()
    for query in ("checkin=2026-13-40&nights=2", "checkin=2027-01-01&nights=-1", "nights=x&guests=y", "guests=999999"):
        response = client.get(f"/go/google/alice-1/?{query}")
        assert response.status_code == 302 and response["Location"] == "/properties/seaside-cottage/"
        assert client.get(response["Location"]).status_code == 200
