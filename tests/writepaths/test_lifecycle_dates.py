"""Check-in not before the arrival day, check-out not before check-in, judged in the property's time zone,
in the booking transitions (so the admin and the API both refuse it clearly) (finding 6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from apps.bookings import services
from apps.bookings.models import BookingStatus
from apps.core.errors import DomainError
from tests.api.test_basics import assert_error
from tests.factories import PropertyFactory, future

pytestmark = pytest.mark.django_db


def too_early():
    """The refusal of a lifecycle move before its day (``apps.bookings.errors.TooEarly``)."""
    return pytest.raises(DomainError, match="(?i)too early")


def confirmed(prop, check_in, nights=3):
    return services.booking_create(
        property_id=prop.pk, check_in=check_in, check_out=check_in + timedelta(days=nights), guests=1,
        status="confirmed", enforce_rules=False,
    )  # fmt: skip


def test_check_in_before_the_arrival_day_is_refused(prop):
    booking = confirmed(prop, future(30))
    with too_early() as exc:
        services.booking_check_in(booking_id=booking.pk)
    assert exc.value.http_status == 409 and exc.value.code == "too_early" and str(future(30)) in str(exc.value)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_arrival_day_is_judged_in_the_property_time_zone(alice):
    """23:30 UTC on 1 March is already 2 March in Tokyo but still 1 March in Honolulu."""
    tokyo = PropertyFactory(owner=alice, timezone="Asia/Tokyo")
    honolulu = PropertyFactory(owner=alice, timezone="Pacific/Honolulu")
    now = datetime(2027, 3, 1, 23, 30, tzinfo=ZoneInfo("UTC"))
    arrival = now.date() + timedelta(days=1)  # 2 March
    b_tokyo = confirmed(tokyo, arrival)
    b_honolulu = confirmed(honolulu, arrival)
    assert services.booking_check_in(booking_id=b_tokyo.pk, now=now).status == BookingStatus.CHECKED_IN
    with too_early():
        services.booking_check_in(booking_id=b_honolulu.pk, now=now)
    # check-out never before the check-in
    with too_early():
        services.booking_check_out(booking_id=b_tokyo.pk, now=now - timedelta(hours=1))
    assert services.booking_check_out(booking_id=b_tokyo.pk, now=now).status == BookingStatus.CHECKED_OUT


def test_guest_may_leave_early(prop):
    booking = confirmed(prop, future(0), nights=5)
    services.booking_check_in(booking_id=booking.pk)
    assert services.booking_check_out(booking_id=booking.pk).status == BookingStatus.CHECKED_OUT


def test_admin_action_shows_a_clear_message(client, alice, prop):
    booking = confirmed(prop, future(30))
    client.force_login(alice)
    response = client.post(
        reverse("admin:bookings_booking_changelist"),
        {"action": "action_check_in", "_selected_action": [booking.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "not before" in response.content.decode() and str(future(30)) in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_api_answers_409_too_early(alice_api, bob_api, prop):
    booking = confirmed(prop, future(30))
    err = assert_error(alice_api.post(f"/api/v1/bookings/{booking.pk}/check-in/"), 409, "too_early")
    assert err["details"]["earliest"] == str(future(30))
    assert_error(bob_api.post(f"/api/v1/bookings/{booking.pk}/check-in/"), 404)
    today = confirmed(prop, future(0))
    assert alice_api.post(f"/api/v1/bookings/{today.pk}/check-in/").json()["status"] == "checked_in"
    assert alice_api.post(f"/api/v1/bookings/{today.pk}/check-out/").json()["status"] == "checked_out"


def test_no_review_request_before_the_stay(client, prop):
    """The guest was asked for a review after an early check-out; now the check-out cannot happen early."""
    booking = confirmed(prop, future(30))
    with too_early():
        services.booking_check_in(booking_id=booking.pk)
    from apps.storefront.selectors import review_allowed

    booking.refresh_from_db()
    assert not review_allowed(booking=booking)
