"""A booking request from Vrbo closes the dates on Booking.com and on Airbnb (both connected through
their real flows, their simulators over real HTTP; the outbox runs eagerly here)."""

from __future__ import annotations

import pytest
from django.db.models import Q

from apps.bookings.models import Booking
from apps.sandbox import vrbo as sim
from apps.sandbox.models import SimCalendarDay
from apps.sandbox.models.airbnb import AirbnbCalendarDay, AirbnbListing
from apps.sandbox.models.vrbo import VrboSimListing
from tests.channels.airbnb.conftest import (  # noqa: F401  (fixtures of the Airbnb tests)
    _fresh_adapter_caches,
    ab_listing,
    abnb,
    airbnb_app,
    host,
)

from ..conftest import make_connection
from .conftest import ALICE_PASSWORD, ALICE_USER

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("abnb")
def test_vrbo_booking_closes_booking_com_and_airbnb(live_server, prop, alice_vrbo, listing):
    ab = AirbnbListing.objects.get(listing_id="41000001")
    make_connection(prop, base_url=live_server.url + "/sandbox/booking_com")
    vrbo_listing = VrboSimListing.objects.create(
        listing_external_id="L-ALICE", feed_base=f"{live_server.url}/vrbo", username=ALICE_USER, password=ALICE_PASSWORD
    )
    assert sim.crawl(vrbo_listing).error == ""
    vrbo_listing.refresh_from_db()
    stay = sim.first_open_stay(vrbo_listing, nights=3, after=15)
    record = sim.book(vrbo_listing, check_in=stay[0], check_out=stay[1])
    assert record.status == "booked", record.response_body
    assert Booking.objects.get(external_id=record.tracking_uuid).status == "confirmed"
    nights = [stay[0].fromordinal(stay[0].toordinal() + i) for i in range(3)]
    assert SimCalendarDay.objects.filter(listing=listing, day__in=nights, rooms_to_sell=0).count() == 3
    closed = AirbnbCalendarDay.objects.filter(listing=ab, day__in=nights).filter(
        Q(availability="unavailable") | Q(available_count=0)
    )
    assert closed.count() == 3, list(AirbnbCalendarDay.objects.filter(listing=ab, day__in=nights).values())
