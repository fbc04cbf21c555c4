"""Acceptance: a base-price change made in the admin and one made through the API reach the Booking.com
simulator (real HTTP) through a real Celery worker within seconds."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.sandbox.models import SimCalendarDay
from tests.factories import future

from .conftest import client_for, property_form_data

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def wait_for_price(sim_listing, day, price: Decimal, seconds: float = 20) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        row = SimCalendarDay.objects.filter(listing=sim_listing, day=day).first()
        if row is not None and row.price == price:
            return time.monotonic() - started
        time.sleep(0.1)
    row = SimCalendarDay.objects.filter(listing=sim_listing, day=day).first()
    raise AssertionError(f"the simulator still shows {row.price if row else None} for {day}, not {price}")


def test_admin_and_api_base_price_changes_reach_booking_com(
    client, alice, bob, prop, listing, bcom, celery_worker_process
):
    day = future(20)  # a Wednesday or not: no rules, so the night's price is the base price
    client.force_login(alice)
    response = client.post(
        reverse("admin:properties_property_change", args=[prop.pk]), property_form_data(prop, base_price="155.00")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    took = wait_for_price(listing, day, Decimal("155.00"))
    print(f"admin base-price change -> simulator: {took:.2f} s")
    assert took < 20

    prop.refresh_from_db()
    api = client_for(alice)
    assert api.patch(f"/api/v1/properties/{prop.pk}/", {"base_price": "166.00"}, format="json").status_code == 200
    took = wait_for_price(listing, day, Decimal("166.00"))
    print(f"API base-price change -> simulator: {took:.2f} s")
    assert took < 20

    # an outsider's attempt changes nothing, there or here
    outsider = client_for(bob)
    assert outsider.patch(f"/api/v1/properties/{prop.pk}/", {"base_price": "1.00"}, format="json").status_code == 404
    time.sleep(1)
    assert SimCalendarDay.objects.get(listing=listing, day=day).price == Decimal("166.00")
