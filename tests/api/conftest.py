from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.api.services import api_token_create
from apps.availability import services as avail_services
from apps.availability.models import PricingRule
from apps.bookings import services as booking_services
from apps.core.models import SyncEvent
from apps.properties.models import PropertyPhoto
from tests.factories import PropertyFactory, future


def make_payment(booking, *, refunded: Decimal = Decimal("0"), secret: str = "pi_secret_do_not_leak"):
    """A succeeded Stripe payment of ``booking`` (and a refund if ``refunded``), as the webhook leaves it."""
    from apps.payments.models import Payment, Refund

    n = Payment.objects.count() + 1
    payment = Payment.objects.create(
        booking=booking, intent_id=f"pi_test_{booking.pk}_{n}", client_secret=secret,
        idempotency_key=f"test-pay-{booking.pk}-{n}", amount=booking.total_price or Decimal("100"),
        currency=booking.currency, status=Payment.Status.SUCCEEDED,
        amount_received=booking.total_price or Decimal("100"), amount_refunded=refunded,
    )  # fmt: skip
    if refunded:
        Refund.objects.create(
            booking=booking, payment=payment, kind=Refund.Kind.OWNER, amount=refunded, currency=booking.currency,
            status=Refund.Status.SUCCEEDED, reason="Goodwill", idempotency_key=f"test-refund-{payment.pk}",
        )  # fmt: skip
    return payment


def client_for(user, name: str = "test token") -> APIClient:
    token, raw = api_token_create(user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.token = token
    client.raw_token = raw
    return client


@pytest.fixture
def alice_api(alice):
    return client_for(alice)


@pytest.fixture
def bob_api(bob):
    return client_for(bob)


@pytest.fixture
def charlie_api(charlie):
    return client_for(charlie)


@pytest.fixture
def staff_api(staff):
    return client_for(staff)


@pytest.fixture
def world(alice, prop):
    """Alice's objects of every kind (one each), for scoping tests."""
    photo = PropertyPhoto.objects.create(property=prop, url="https://example.com/a.jpg", caption="A")
    block = avail_services.block_create(property_id=prop.pk, start_date=future(40), end_date=future(43))
    rule = PricingRule.objects.create(
        property=prop, name="Weekend", rule_type="weekend", adjustment_type="percentage",
        adjustment_value=Decimal("10"), conditions={"days": [4, 5]}, active=False,
    )  # fmt: skip
    booking = booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(10),
        check_out=future(13),
        guests=2,
        source="direct",
        guest=booking_services.GuestData(first_name="Erika", last_name="Muster", email="erika@example.com"),
    )
    event = SyncEvent.objects.filter(property=prop).first()
    objects = {
        "property": prop,
        "photo": photo,
        "block": block,
        "pricing-rule": rule,
        "booking": booking,
        "guest": booking.guest,
        "sync-event": event,
        "payment": make_payment(booking, refunded=Decimal("10.00")),
    }
    try:
        from apps.channels.models import ChannelConnection

        objects["channel-connection"] = ChannelConnection.objects.create(property=prop, platform="airbnb")
    except Exception:  # noqa: S110 - channels model not available
        pass
    return objects


@pytest.fixture
def bob_world(bob, bob_prop):
    booking = booking_services.booking_create(
        property_id=bob_prop.pk, check_in=future(10), check_out=future(12), guests=1, source="direct"
    )
    return {"property": bob_prop, "booking": booking}


def other_property(owner, **kwargs):
    return PropertyFactory(owner=owner, **kwargs)


__all__ = ["client_for", "make_payment", "other_property", "timedelta"]
