"""A refused channel reservation closes the platform again at once (issue 12, finding 2).

R1 books days 40-44 on Booking.com; a racing R2 for 42-46 is refused; the simulator (like the
platform) frees R2's nights when it is refused. The PMS must push the current calendar right after the
refusal, to the platform that sold R2 too, so a third guest cannot buy 42-44 there.
"""

from __future__ import annotations

import pytest
import requests

from apps.bookings.models import Booking
from apps.channels.inbound import reservations_pull
from apps.channels.models import Delivery
from apps.core.models import SyncEvent
from apps.sandbox import booking_com as sim
from apps.sandbox.models import SimCalendarDay
from tests.factories import future

pytestmark = pytest.mark.django_db(transaction=True)


def _open_days(listing, start: int, end: int) -> dict[int, bool]:
    days = {d.day: d.open for d in SimCalendarDay.objects.filter(listing=listing)}
    return {i: days.get(future(i), True) for i in range(start, end)}


def _assert_r1_closed_rest_open(listing):
    state = _open_days(listing, 40, 46)
    assert state == {40: False, 41: False, 42: False, 43: False, 44: True, 45: True}, state
    with pytest.raises(ValueError, match="closed"):
        sim.create_reservation(listing=listing, check_in=future(42), check_out=future(44))


def test_pulled_refusal_recloses_the_refused_nights_on_the_selling_platform(prop, listing, bcom):
    r1 = sim.create_reservation(listing=listing, check_in=future(40), check_out=future(44))
    assert reservations_pull(connection_id=bcom.pk).created == 1
    r2 = sim.create_reservation(listing=listing, check_in=future(42), check_out=future(46), force=True)
    out = reservations_pull(connection_id=bcom.pk)
    assert out.refused == 1 and not out.error, out
    r2.refresh_from_db()
    assert r2.status == "refused"
    assert Booking.objects.get(external_id=r1.res_id).status == "confirmed"
    assert not Booking.objects.filter(external_id=r2.res_id).exists()
    event = SyncEvent.objects.get(payload__reason="channel.refused")
    assert (event.payload["start"], event.payload["end"]) == (str(future(42)), str(future(46)))
    assert event.source == "booking_com"
    delivery = Delivery.objects.get(event=event, connection=bcom)
    assert delivery.status == Delivery.Status.SUCCEEDED
    _assert_r1_closed_rest_open(listing)


def test_webhook_refusal_recloses_too(prop, listing, bcom, live_server):
    sim.create_reservation(listing=listing, check_in=future(40), check_out=future(44))
    assert reservations_pull(connection_id=bcom.pk).created == 1
    r2 = sim.create_reservation(listing=listing, check_in=future(42), check_out=future(46), force=True)
    body = b'<?xml version="1.0"?>' + sim.tostring(sim.reservation_document([r2], modify=False), encoding="utf-8")
    headers = sim.signed_headers(secret="whsec-test", body=body, event_id=r2.res_id)
    response = requests.post(live_server.url + "/webhooks/booking_com/", data=body, headers=headers, timeout=20)
    assert response.status_code == 200 and response.json()["status"] == "refused", response.text
    r2.refresh_from_db()
    assert r2.status == "refused"
    _assert_r1_closed_rest_open(listing)
