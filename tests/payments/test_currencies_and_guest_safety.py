"""Review findings: other currencies end to end, e-mails of a non-Berlin home, link scoping, double submits."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from apps.bookings import emails, tokens
from apps.bookings import services as booking_services
from apps.bookings.models import BookingStatus
from apps.core.money import to_minor
from apps.payments import gateway, services
from apps.payments.models import Refund
from apps.storefront.money import format_money
from tests.factories import PropertyFactory, future

pytestmark = pytest.mark.django_db


def _pay(prop, *, days_ahead=30, nights=2, email="kim@example.com", language="en"):
    booking = booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(days_ahead),
        check_out=future(days_ahead + nights),
        guests=2,
        guest=booking_services.GuestData(first_name="Kim", email=email, language=language),
    )
    result = services.sandbox_card_pay(
        booking_id=booking.pk, card_number="4242424242424242", exp_month=12, exp_year=timezone.now().year + 2, cvc="123"
    )
    assert result.succeeded, result.message
    booking.refresh_from_db()
    return booking


@pytest.mark.parametrize(
    "currency, base, cleaning, shown",
    [("JPY", Decimal("12000"), Decimal("3000"), "¥27,000"), ("KWD", Decimal("40.5"), Decimal("5"), "KWD\u00a086.000")],
)
def test_zero_and_three_decimal_currencies_pay_and_refund_exactly(
    alice, stripe_sandbox, currency, base, cleaning, shown
):
    prop = PropertyFactory(
        owner=alice, currency=currency, base_price=base, cleaning_fee=cleaning, cancellation_policy="moderate"
    )
    booking = _pay(prop, days_ahead=30)
    payment = booking.payments.get()
    intent = gateway.payment_intent_retrieve(intent_id=payment.intent_id)
    assert intent.amount == to_minor(booking.total_price, currency) == intent.amount_received
    assert payment.amount_received == booking.total_price
    with translation.override("en"):
        assert format_money(booking.total_price, currency) == shown
    # Moderate, 30 days ahead: everything back, exactly what was charged, and only once.
    refund = services.booking_cancel_by_guest(booking_id=booking.pk)
    assert refund.status == Refund.Status.SUCCEEDED
    assert to_minor(refund.amount, currency) == intent.amount_received
    with pytest.raises(services.InvalidTransition):
        services.booking_cancel_by_guest(booking_id=booking.pk)
    assert Refund.objects.filter(booking=booking).count() == 1


def test_emails_use_the_property_time_zone_and_plain_text_subjects(alice, stripe_sandbox):
    prop = PropertyFactory(
        owner=alice,
        name="Tom & Jerry's <Loft>",
        timezone="Asia/Tokyo",
        currency="JPY",
        base_price=Decimal("10000"),
        cleaning_fee=Decimal("0"),
        check_in_time=time(16, 0),
        check_out_time=time(10, 0),
    )
    booking = _pay(prop)
    mail.outbox.clear()
    emails.send_booking_confirmation(booking_id=booking.pk)
    message = mail.outbox[0]
    # A subject is a plain-text header: no HTML entities in it.
    assert message.subject == f"Booking confirmed: Tom & Jerry's <Loft> ({booking.reference})"
    assert "from 16:00 (Asia/Tokyo)" in message.body and "by 10:00 (Asia/Tokyo)" in message.body
    html = message.alternatives[0][0]
    assert "Tom &amp; Jerry&#x27;s &lt;Loft&gt;" in html  # the HTML part stays escaped
    assert "¥20,000" in html and "¥20,000" in message.body


def test_portal_link_of_one_booking_shows_nothing_of_another(client, alice, stripe_sandbox):
    prop = PropertyFactory(owner=alice)
    mine = _pay(prop, days_ahead=30, email="kim@example.com")
    theirs = _pay(prop, days_ahead=40, email="lee@example.com")
    token = tokens.portal_token(booking_id=mine.pk, email="kim@example.com")
    for name in ("storefront:portal", "storefront:portal_cancel"):
        html = client.get(reverse(name, kwargs={"token": token})).content.decode()
        assert mine.reference in html and theirs.reference not in html and "lee@example.com" not in html
    # Another booking's confirmation needs its own signature.
    conf = reverse("storefront:confirmation", kwargs={"reference": theirs.reference})
    mine_t = tokens.confirmation_token(reference=mine.reference)
    assert client.get(conf, {"t": mine_t}).status_code == 404
    assert client.get(conf + "calendar.ics", {"t": mine_t}).status_code == 404
    # Expired magic link.
    from django.test import override_settings

    with override_settings(GUEST_PORTAL_LINK_MAX_AGE=0):
        import time as _time

        _time.sleep(1.1)
        assert client.get(reverse("storefront:portal", kwargs={"token": token})).status_code == 403


def test_double_cancel_over_http_refunds_once(client, alice, stripe_sandbox):
    prop = PropertyFactory(owner=alice, cancellation_policy="flexible")
    booking = _pay(prop, days_ahead=30)
    url = reverse(
        "storefront:portal_cancel",
        kwargs={"token": tokens.portal_token(booking_id=booking.pk, email="kim@example.com")},
    )
    first = client.post(url, {"reason": "x"})
    second = client.post(url, {"reason": "x"})
    assert first.status_code == 302 and second.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    payment = booking.payments.get()
    assert Refund.objects.filter(booking=booking).count() == 1
    assert payment.amount_refunded == payment.amount_received


def test_state_changing_guest_posts_need_the_csrf_token(alice, stripe_sandbox):
    prop = PropertyFactory(owner=alice)
    booking = _pay(prop)
    csrf_client = Client(enforce_csrf_checks=True)
    token = tokens.portal_token(booking_id=booking.pk, email="kim@example.com")
    q = f"?check_in={future(60).isoformat()}&check_out={future(62).isoformat()}&guests=2"
    for url in (
        reverse("storefront:checkout", kwargs={"slug": prop.slug}) + q,
        reverse("storefront:payment"),
        reverse("storefront:portal_request"),
        reverse("storefront:portal_cancel", kwargs={"token": token}),
        reverse("storefront:portal_review", kwargs={"token": token}),
        "/i18n/setlang/",
    ):
        assert csrf_client.post(url, {}).status_code == 403, url
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_language_switch_does_not_redirect_off_site(client):
    response = client.post("/i18n/setlang/", {"language": "de", "next": "https://evil.example/"})
    assert response.status_code == 302 and not response["Location"].startswith("https://evil")
    response = client.post("/i18n/setlang/", {"language": "de", "next": "//evil.example/"})
    assert not response["Location"].startswith("//evil")


def test_confirmation_shows_the_cancellation_day_in_the_property_time_zone(client, alice):
    from datetime import UTC, datetime

    from apps.bookings.models import Booking

    prop = PropertyFactory(owner=alice, timezone="Asia/Tokyo")
    booking = booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(30),
        check_out=future(32),
        guests=2,
        guest=booking_services.GuestData(first_name="Kim", email="kim@example.com"),
    )
    booking_services.booking_cancel(booking_id=booking.pk, reason="test")
    # 16:00 UTC on 1 May is 2 May, 01:00 in Tokyo (and still 1 May in Berlin).
    Booking.objects.filter(pk=booking.pk).update(cancelled_at=datetime(2026, 5, 1, 16, 0, tzinfo=UTC))
    with translation.override("en"):
        html = client.get(tokens.confirmation_path(reference=booking.reference)).content.decode()
    assert "2 May 2026" in html and "1 May 2026" not in html
