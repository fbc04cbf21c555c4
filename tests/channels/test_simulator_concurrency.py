"""The Booking.com simulator under concurrent refusals and availability pushes (issue 12, finding 6):
it deadlocked between a refusal (frees the refused nights) and an availability update of the same
nights and answered 500. Every write to a listing's calendar now takes the listing's row lock first."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from apps.channels.adapters.base import DayState
from apps.channels.adapters.booking_com import build_ack, build_avail_notif
from apps.sandbox import booking_com as sim
from apps.sandbox.models import SimCalendarDay, SimReservation
from tests.factories import future

from .conftest import SIM_PASSWORD, SIM_USER

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BASE = "/sandbox/booking_com/hotels/ota/"


def _auth() -> dict[str, str]:
    import base64

    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{SIM_USER}:{SIM_PASSWORD}".encode()).decode()}


def test_refusals_and_pushes_of_the_same_nights_never_deadlock(listing):
    rounds, statuses, errors = 10, [], []
    first = future(10)
    # a calendar whose rows are not stored in day order, as a long-lived listing's are
    sim._upsert_days(listing, [first + timedelta(days=i) for i in range(0, 60, 2)], {"rooms_to_sell": 1})
    sim._upsert_days(listing, [first + timedelta(days=i) for i in range(1, 60, 2)], {"rooms_to_sell": 1})
    start = threading.Barrier(2)

    def pusher():
        client = Client()
        try:
            start.wait(timeout=30)
            for n in range(rounds):
                days = [
                    DayState(day=first + timedelta(days=i), available=(i + n) % 3 != 0, price=None) for i in range(60)
                ]
                body = build_avail_notif(hotel_code=listing.hotel_code, room="101", rate_plan="987654", days=days)
                response = client.post(BASE + "OTA_HotelAvailNotif", body, content_type="application/xml", **_auth())
                statuses.append(response.status_code)
        except Exception as exc:  # a 500 raised through the test client
            errors.append(repr(exc))
        finally:
            connection.close()

    def refuser():
        client = Client()
        rnd = random.Random(12)
        try:
            start.wait(timeout=30)
            for _ in range(rounds):
                offset = rnd.randrange(0, 50)
                res = sim.create_reservation(
                    listing=listing,
                    check_in=first + timedelta(days=offset),
                    check_out=first + timedelta(days=offset + rnd.randrange(2, 10)),
                    force=True,
                )
                body = build_ack(root_tag="OTA_HotelResNotifRS", res_ids=[res.res_id], refuse_reason="taken")
                response = client.post(BASE + "OTA_HotelResNotif", body, content_type="application/xml", **_auth())
                statuses.append(response.status_code)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=pusher), threading.Thread(target=refuser)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors
    assert statuses and set(statuses) == {200}, statuses
    assert SimReservation.objects.filter(status="refused").count() == rounds
    assert SimCalendarDay.objects.filter(listing=listing).count() == 60
