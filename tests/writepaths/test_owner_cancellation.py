"""Owner / API cancellation of a paid booking refunds by the property's cancellation policy by default;
the owner sees the amounts before confirming and may choose full / policy / none; the guest's e-mail
says what was refunded (finding 5). Real Stripe SDK against the local Stripe sandbox, no mocks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.bookings.models import BookingStatus, PaymentStatus
from apps.payments import services as payment_services
from apps.payments.models import Refund
from tests.api.test_basics import assert_error
from tests.factories import PropertyFactory, future

pytestmark = pytest.mark.django_db

TOTAL = Decimal("330.00")  # 3 nights x 100 + 30 cleaning


def paid(prop, *, days_ahead=30):
    booking = booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(days_ahead),
        check_out=future(days_ahead + 3),
        guests=2,
        guest=booking_services.GuestData(first_name="Gina", email="gina@example.com"),
    )
    result = payment_services.sandbox_card_pay(
        booking_id=booking.pk, card_number="4242424242424242", exp_month=12, exp_year=2040, cvc="123"
    )
    assert result.succeeded, result.message
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.payment_status == PaymentStatus.PAID
    return booking


@pytest.fixture
def moderate(alice):
    return PropertyFactory(owner=alice, cancellation_policy="moderate")


@pytest.mark.parametrize(
    "days_ahead, mode, expected",
    [
        (30, "policy", TOTAL),  # moderate, > 5 days: all
        (3, "policy", Decimal("165.00")),  # moderate, < 5 days: half
        (3, "full", TOTAL),
        (30, "none", None),
    ],
)
def test_service_refunds_by_the_chosen_mode(moderate, stripe_sandbox, alice, days_ahead, mode, expected):
    booking = paid(moderate, days_ahead=days_ahead)
    options = payment_services.cancellation_refund_options(booking=booking)
    assert options["full"] == TOTAL and options["none"] == Decimal("0")
    assert options["policy"] == (TOTAL if days_ahead == 30 else Decimal("165.00"))
    result = payment_services.booking_cancel_with_refund(
        booking_id=booking.pk, refund=mode, reason="Owner cancelled", user=alice
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    refunds = list(Refund.objects.filter(booking=booking))
    if expected is None:
        assert refunds == [] and result.amount == Decimal("0") and booking.payment_status == PaymentStatus.PAID
        return
    [refund] = refunds
    assert refund.status == Refund.Status.SUCCEEDED and refund.amount == expected and result.amount == expected
    assert refund.kind == Refund.Kind.OWNER and refund.created_by == alice
    assert refund.policy == ("moderate" if mode == "policy" else "")
    assert booking.payment_status == (PaymentStatus.REFUNDED if expected == TOTAL else PaymentStatus.PARTIALLY_REFUNDED)


def test_unknown_mode_refused_and_nothing_changes(moderate, stripe_sandbox):
    booking = paid(moderate)
    from apps.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        payment_services.booking_cancel_with_refund(booking_id=booking.pk, refund="double")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and not Refund.objects.exists()


def test_guest_email_says_what_was_refunded(moderate, stripe_sandbox, django_capture_on_commit_callbacks):
    booking = paid(moderate, days_ahead=3)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.booking_cancel_with_refund(booking_id=booking.pk, reason="Owner cancelled")
    [message] = [m for m in mail.outbox if "cancel" in m.subject.lower()]
    assert "165.00" in message.body


def test_guest_email_says_no_refund_when_none_chosen(moderate, stripe_sandbox, django_capture_on_commit_callbacks):
    booking = paid(moderate)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.booking_cancel_with_refund(booking_id=booking.pk, refund="none")
    [message] = [m for m in mail.outbox if "cancel" in m.subject.lower()]
    assert "No refund" in message.body


# --- the admin: a confirmation page with the amounts first ---------------------------------------------


def test_admin_cancel_shows_amounts_then_refunds_by_policy(client, alice, moderate, stripe_sandbox):
    booking = paid(moderate, days_ahead=3)
    client.force_login(alice)
    url = reverse("admin:bookings_booking_changelist")
    page = client.post(url, {"action": "action_cancel", "_selected_action": [booking.pk]})
    assert page.status_code == 200
    html = page.content.decode()
    assert booking.reference in html and "165.00" in html and "330.00" in html
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED  # nothing happens before confirming
    done = client.post(
        url, {"action": "action_cancel", "_selected_action": [booking.pk], "confirm": "yes", "refund": "policy"}
    )
    assert done.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    assert Refund.objects.get(booking=booking).amount == Decimal("165.00")


def test_admin_cancel_with_no_refund_and_garbage_choice(client, alice, moderate, stripe_sandbox):
    booking = paid(moderate)
    client.force_login(alice)
    url = reverse("admin:bookings_booking_changelist")
    bad = client.post(
        url, {"action": "action_cancel", "_selected_action": [booking.pk], "confirm": "yes", "refund": "x\x00"}
    )
    assert bad.status_code == 200  # the confirmation page again, with the error
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    client.post(url, {"action": "action_cancel", "_selected_action": [booking.pk], "confirm": "yes", "refund": "none"})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and not Refund.objects.filter(booking=booking).exists()


def test_admin_view_only_cohost_and_outsider_cannot_cancel(client, viewer, bob, moderate, stripe_sandbox):
    from guardian.shortcuts import assign_perm

    booking = paid(moderate)
    assign_perm("properties.view_property", viewer, moderate)
    for user in (viewer, bob):
        client.force_login(user)
        client.post(
            reverse("admin:bookings_booking_changelist"),
            {"action": "action_cancel", "_selected_action": [booking.pk], "confirm": "yes", "refund": "full"},
        )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and not Refund.objects.exists()


# --- the API: a refund field with the same choices, policy by default ------------------------------------


def test_api_cancel_refunds_by_policy_by_default(alice_api, moderate, stripe_sandbox):
    booking = paid(moderate, days_ahead=3)
    options = alice_api.get(f"/api/v1/bookings/{booking.pk}/refund-options/").json()
    assert options == {"currency": "EUR", "paid": "330.00", "policy": "165.00", "full": "330.00", "none": "0.00",
                       "cancellation_policy": "moderate"}  # fmt: skip
    response = alice_api.post(f"/api/v1/bookings/{booking.pk}/cancel/", {"reason": "Flood"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled" and response.json()["payment_status"] == "partially_refunded"
    assert Refund.objects.get(booking=booking).amount == Decimal("165.00")


def test_api_cancel_full_none_and_garbage(alice_api, bob_api, moderate, stripe_sandbox):
    first, second = paid(moderate, days_ahead=3), paid(moderate, days_ahead=40)
    assert_error(alice_api.post(f"/api/v1/bookings/{first.pk}/cancel/", {"refund": "all"}, format="json"), 400)
    assert_error(alice_api.post(f"/api/v1/bookings/{first.pk}/cancel/", {"refund": ["full"]}, format="json"), 400)
    assert_error(bob_api.post(f"/api/v1/bookings/{first.pk}/cancel/", {"refund": "full"}, format="json"), 404)
    assert_error(bob_api.get(f"/api/v1/bookings/{first.pk}/refund-options/"), 404)
    response = alice_api.post(f"/api/v1/bookings/{first.pk}/cancel/", {"refund": "full"}, format="json")
    assert response.json()["payment_status"] == "refunded"
    response = alice_api.post(f"/api/v1/bookings/{second.pk}/cancel/", {"refund": "none"}, format="json")
    assert response.json()["payment_status"] == "paid" and not Refund.objects.filter(booking=second).exists()


def test_api_schema_documents_the_refund_choices(alice_api):
    schemas = alice_api.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert "refund" in schemas["CancelRequest"]["properties"]
    assert any(set(s.get("enum", [])) == {"full", "policy", "none"} for s in schemas.values())


def test_unpaid_and_channel_bookings_cancel_without_refunds(alice, moderate, stripe_sandbox):
    hold = booking_services.booking_create(property_id=moderate.pk, check_in=future(10), check_out=future(12), guests=1)
    result = payment_services.booking_cancel_with_refund(booking_id=hold.pk)
    assert result.amount == Decimal("0") and result.booking.status == BookingStatus.CANCELLED
    now = timezone.now() + timedelta(seconds=1)
    assert payment_services.cancellation_refund_options(booking=result.booking, now=now)["full"] == Decimal("0")
