"""List endpoints run a fixed number of queries, however many rows they show (no N+1)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.properties.models import PropertyPhoto
from tests.api.conftest import client_for, make_payment
from tests.factories import PropertyFactory, future

pytestmark = pytest.mark.django_db

# Per request: token lookup (with its user), the staff-group check, COUNT(*) and the page (the
# visible-property subquery, guardian's grants included, is part of their SQL); + photo prefetch,
# + refund prefetch.
PINNED = {
    "/api/v1/properties/": 5,
    "/api/v1/photos/": 4,
    "/api/v1/blocks/": 4,
    "/api/v1/pricing-rules/": 4,
    "/api/v1/bookings/": 4,
    "/api/v1/guests/": 4,
    "/api/v1/sync-events/": 4,
    "/api/v1/channel-connections/": 4,
    "/api/v1/payments/": 5,
}


def add_rows(owner, n: int, offset: int) -> None:
    for i in range(n):
        prop = PropertyFactory(owner=owner)
        PropertyPhoto.objects.create(property=prop, url="https://example.com/x.jpg")
        PropertyPhoto.objects.create(property=prop, url="https://example.com/y.jpg")
        booking = booking_services.booking_create(
            property_id=prop.pk,
            check_in=future(10 + offset + i),
            check_out=future(12 + offset + i),
            guests=1,
            guest=booking_services.GuestData(first_name=f"G{offset}{i}", email=f"g{offset}{i}@example.com"),
        )
        make_payment(booking, refunded=Decimal("5"))
        make_payment(booking)
        from apps.availability import services as avail

        avail.block_create(property_id=prop.pk, start_date=future(50), end_date=future(52))
        from apps.availability.models import PricingRule

        PricingRule.objects.create(property=prop, rule_type="tax_percentage", adjustment_type="percentage",
                                   adjustment_value=7)  # fmt: skip
        try:
            from apps.channels.models import ChannelConnection

            ChannelConnection.objects.create(property=prop, platform="airbnb")
        except ImportError:
            pass


@pytest.mark.parametrize("url", list(PINNED))
def test_list_query_count_is_pinned(alice, url, django_assert_num_queries):
    api = client_for(alice)
    api.token.__class__.objects.filter(pk=api.token.pk).update(last_used_at=timezone.now() + timedelta(hours=1))
    add_rows(alice, 2, 0)
    api.get(url)  # warm the process-wide ContentType cache (guardian looks content types up once)
    with django_assert_num_queries(PINNED[url]):
        first = api.get(url)
    assert first.status_code == 200, first.content
    small = first.json()["count"]
    add_rows(alice, 3, 10)
    with django_assert_num_queries(PINNED[url]):
        second = api.get(url)
    assert second.json()["count"] > small
