"""Guest portal (magic link), cancellation with refund, reviews, tokens and guest e-mails."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.signing import TimestampSigner
from django.urls import reverse
from django.utils import timezone

from apps.bookings import emails, tokens
from apps.bookings import services as booking_services
from apps.bookings.models import Booking, BookingStatus
from apps.core.errors import ValidationFailed
from apps.core.models import SyncEvent
from apps.payments import services as payment_services
from apps.storefront import outbox, services
from apps.storefront.models import Review
from tests.factories import future

pytestmark = pytest.mark.django_db


def paid_booking(home, *, days_ahead=30, nights=3, language="en") -> Booking:
    booking = booking_services.booking_create(
        property_id=home.pk,
        check_in=future(days_ahead),
        check_out=future(days_ahead + nights),
        guests=2,
        guest=booking_services.GuestData(
            first_name="Ana", last_name="Silva", email="ana@example.com", language=language
        ),
    )
    result = payment_services.sandbox_card_pay(
        booking_id=booking.pk, card_number="4242424242424242", exp_month=12, exp_year=2040, cvc="123"
    )
    assert result.succeeded, result.message
    booking.refresh_from_db()
    return booking


# --- tokens ---------------------------------------------------------------------------------------


def test_portal_token_round_trip_expiry_and_email_binding():
    token = tokens.portal_token(booking_id=7, email="Ana@Example.com")
    booking_id, fingerprint = tokens.portal_token_read(token=token)
    assert booking_id == 7
    assert tokens.portal_email_matches(fingerprint=fingerprint, email="ana@example.com")
    assert not tokens.portal_email_matches(fingerprint=fingerprint, email="eve@example.com")
    with pytest.raises(tokens.InvalidToken):
        tokens.portal_token_read(token=token[:-2] + "xx")
    with pytest.raises(tokens.ExpiredToken):
        tokens.portal_token_read(token=token, max_age=-1)
    # A confirmation signature is not a portal token (different salt).
    with pytest.raises(tokens.InvalidToken):
        tokens.portal_token_read(token=TimestampSigner().sign("7"))


def test_confirmation_token_is_bound_to_the_reference():
    token = tokens.confirmation_token(reference="PMS-2026-000001")
    assert tokens.confirmation_token_valid(reference="PMS-2026-000001", token=token)
    assert not tokens.confirmation_token_valid(reference="PMS-2026-000002", token=token)
    assert not tokens.confirmation_token_valid(reference="PMS-2026-000001", token="")


# --- portal ---------------------------------------------------------------------------------------


def test_request_a_magic_link_by_email_and_reference(client, home, stripe_sandbox):
    booking = paid_booking(home)
    mail.outbox.clear()
    url = reverse("storefront:portal_request")
    assert client.get(url).status_code == 200
    response = client.post(url, {"email": "ANA@example.com", "reference": booking.reference.lower()})
    assert response.status_code == 302 and response["Location"].endswith("?sent=1")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.com"] and booking.reference in message.subject
    link = next(line for line in message.body.splitlines() if "/manage/" in line).strip()
    assert link.startswith("http://")
    portal = client.get(link.split("127.0.0.1:8000", 1)[-1] if "127.0.0.1:8000" in link else link)
    assert portal.status_code == 200 and booking.reference in portal.content.decode()
    # The HTML part carries the same link.
    html_body = message.alternatives[0][0]
    assert link in html_body


def test_magic_link_request_does_not_reveal_bookings(client, home, stripe_sandbox):
    booking = paid_booking(home)
    mail.outbox.clear()
    url = reverse("storefront:portal_request")
    wrong = client.post(url, {"email": "eve@example.com", "reference": booking.reference})
    unknown = client.post(url, {"email": "ana@example.com", "reference": "PMS-1999-000000"})
    assert wrong["Location"] == unknown["Location"] == url + "?sent=1"
    assert mail.outbox == []
    assert client.post(url, {"email": "nope", "reference": ""}).status_code == 400


def test_portal_shows_refund_then_cancels(client, home, stripe_sandbox, django_capture_on_commit_callbacks):
    booking = paid_booking(home, days_ahead=30)
    path = tokens.portal_path(booking_id=booking.pk, email="ana@example.com")
    page = client.get(path)
    html = page.content.decode()
    assert page.status_code == 200
    assert "If you cancel now, you get <strong>€400.00</strong> back." in html  # moderate, > 5 days ahead
    cancel_url = reverse("storefront:portal_cancel", kwargs={"token": path.split("/")[-2]})
    confirm_page = client.get(cancel_url)
    assert "Refund: €400.00" in confirm_page.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(cancel_url, {"reason": "Plans changed"})
    assert done.status_code == 302 and done["Location"] == path
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert booking.payments.get().amount_refunded == Decimal("400.00")
    assert any("Booking cancelled" in m.subject for m in mail.outbox)
    after = client.get(path).content.decode()
    assert "Your booking has been cancelled." in after and "Cancel booking…" not in after
    assert client.get(cancel_url).status_code == 302  # nothing left to cancel


def test_portal_rejects_tampered_expired_and_stale_links(client, home, stripe_sandbox, settings):
    booking = paid_booking(home)
    token = tokens.portal_token(booking_id=booking.pk, email="ana@example.com")
    assert client.get(reverse("storefront:portal", kwargs={"token": token + "x"})).status_code == 403
    settings.GUEST_PORTAL_LINK_MAX_AGE = -1
    expired = client.get(reverse("storefront:portal", kwargs={"token": token}))
    assert expired.status_code == 403 and "expired" in expired.content.decode()
    settings.GUEST_PORTAL_LINK_MAX_AGE = 3600
    booking.guest.email = "new@example.com"
    booking.guest.save()
    assert client.get(reverse("storefront:portal", kwargs={"token": token})).status_code == 403
    assert client.post(reverse("storefront:portal_cancel", kwargs={"token": token})).status_code == 403
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


# --- reviews --------------------------------------------------------------------------------------


def test_review_only_after_check_out(client, home, stripe_sandbox):
    booking = paid_booking(home, days_ahead=2, nights=2)
    token = tokens.portal_token(booking_id=booking.pk, email="ana@example.com")
    review_url = reverse("storefront:portal_review", kwargs={"token": token})
    assert (
        "How was your stay?" not in client.get(reverse("storefront:portal", kwargs={"token": token})).content.decode()
    )
    client.post(review_url, {"rating": 5, "text": "Too early"})
    assert not Review.objects.exists()

    arrival = timezone.make_aware(timezone.datetime.combine(booking.check_in, home.check_in_time), home.tz)
    booking_services.booking_check_in(booking_id=booking.pk, now=arrival)
    booking_services.booking_check_out(booking_id=booking.pk, now=arrival + timedelta(days=2))
    page = client.get(reverse("storefront:portal", kwargs={"token": token}))
    assert "How was your stay?" in page.content.decode()
    response = client.post(review_url, {"rating": 4, "text": "Lovely view, comfy beds."})
    assert response.status_code == 302
    review = Review.objects.get(booking=booking)
    assert review.rating == 4
    # Shown on the property page, once.
    prop_page = client.get(reverse("storefront:property", kwargs={"slug": home.slug})).content.decode()
    assert "Lovely view, comfy beds." in prop_page and "★★★★☆" in prop_page
    with pytest.raises(ValidationFailed):
        services.review_create(booking_id=booking.pk, rating=5)
    assert client.post(review_url, {"rating": 9}).status_code == 400


def test_review_allowed_after_the_check_out_day_without_check_out_action(home, stripe_sandbox):
    booking = paid_booking(home, days_ahead=2, nights=2)
    later = timezone.now() + timedelta(days=5)
    review = services.review_create(booking_id=booking.pk, rating=5, text=" Great ", now=later)
    assert review.text == "Great"


# --- e-mails --------------------------------------------------------------------------------------


def test_confirmation_email_in_the_guests_language_with_local_times(home, stripe_sandbox):
    booking = paid_booking(home, language="de")
    mail.outbox.clear()
    assert emails.send_booking_confirmation(booking_id=booking.pk) == 1
    message = mail.outbox[0]
    assert message.subject == f"Buchung bestätigt: Lakeside Loft ({booking.reference})"
    assert "ab 15:00 (Europe/Berlin)" in message.body
    assert "bis 11:00 (Europe/Berlin)" in message.body
    assert "400,00\u00a0€" in message.body
    html = message.alternatives[0][0]
    assert 'lang="de"' in html and tokens.confirmation_token(reference=booking.reference) in html


def test_cancellation_and_magic_link_emails_in_english(home, stripe_sandbox):
    booking = paid_booking(home)
    mail.outbox.clear()
    assert emails.send_magic_link(booking_id=booking.pk) == 1
    assert emails.send_booking_cancellation(booking_id=booking.pk, refund_amount=Decimal("200")) == 1
    magic, cancelled = mail.outbox
    assert magic.subject == f"Your link to booking {booking.reference}"
    assert "It works for 72 hours." in magic.body
    assert cancelled.subject == f"Booking cancelled: Lakeside Loft ({booking.reference})"
    assert "Refund: €200.00" in cancelled.body


def test_no_email_without_an_address(home):
    booking = booking_services.booking_create(
        property_id=home.pk, check_in=future(10), check_out=future(12), guests=1, status=BookingStatus.CONFIRMED
    )
    assert emails.send_booking_confirmation(booking_id=booking.pk) == 0
    assert emails.send_magic_link(booking_id=999999) == 0


def test_outbox_picks_guest_emails_only_for_direct_bookings():
    def event(event_type, **payload):
        return SyncEvent(event_type=event_type, payload={"booking_id": 1, **payload})

    assert (
        outbox.email_kind(event("booking.updated", source="direct", status="confirmed", previous_status="reserved"))
        == "confirmation"
    )
    assert (
        outbox.email_kind(event("booking.updated", source="airbnb", status="confirmed", previous_status="reserved"))
        is None
    )
    assert (
        outbox.email_kind(event("booking.cancelled", source="direct", status="cancelled", previous_status="confirmed"))
        == "cancellation"
    )
    # An expired hold was never a booking for the guest.
    assert (
        outbox.email_kind(event("booking.cancelled", source="direct", status="cancelled", previous_status="reserved"))
        is None
    )
    assert (
        outbox.email_kind(event("booking.updated", source="direct", status="checked_in", previous_status="confirmed"))
        is None
    )
