"""The Booking.com simulator answers bad ARI pushes the OTA way (4xx + Errors), never a 500."""

import base64

import pytest
from django.urls import reverse

from apps.sandbox.models import SimCalendarDay
from tests.factories import future

from .conftest import SIM_PASSWORD, SIM_USER

pytestmark = pytest.mark.django_db

AUTH = "Basic " + base64.b64encode(f"{SIM_USER}:{SIM_PASSWORD}".encode()).decode()


def avail(limit: str = "0", min_los: str = "2") -> bytes:
    return f"""<OTA_HotelAvailNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" Version="1.0">
  <AvailStatusMessages HotelCode="1234567">
    <AvailStatusMessage BookingLimit="{limit}">
      <StatusApplicationControl Start="{future(5)}" End="{future(6)}" InvTypeCode="101" RatePlanCode="987654"/>
      <LengthsOfStay><LengthOfStay MinMaxMessageType="SetMinLOS" Time="{min_los}"/></LengthsOfStay>
    </AvailStatusMessage>
  </AvailStatusMessages>
</OTA_HotelAvailNotifRQ>""".encode()


def post(client, body: bytes, auth: str = AUTH):
    return client.post(
        reverse("sandbox:sandbox_booking_com:avail_notif"),
        data=body,
        content_type="application/xml",
        HTTP_AUTHORIZATION=auth,
    )


def test_valid_push_is_stored(client, listing):
    r = post(client, avail())
    assert r.status_code == 200 and b"<Success" in r.content
    assert SimCalendarDay.objects.get(listing=listing, day=future(5)).min_stay == 2


@pytest.mark.parametrize("limit, min_los", [("many", "2"), ("1", "two"), ("-1", "2"), ("1", "-3")])
def test_bad_numbers_are_an_ota_error_not_a_500(client, listing, limit, min_los):
    r = post(client, avail(limit, min_los))
    assert r.status_code == 400 and b'Code="320"' in r.content
    assert not SimCalendarDay.objects.filter(listing=listing).exists()


def test_wrong_root_and_bad_auth(client, listing):
    assert post(client, b"<nope/>").status_code == 400
    assert post(client, avail(), auth="Basic " + base64.b64encode(b"x:y").decode()).status_code == 401
