"""Fixtures of the one-write-path tests: API clients, co-hosts, a paid booking, admin form data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from apps.bookings import services as booking_services
from apps.core.tenancy import COHOSTS_GROUP
from tests.api.conftest import client_for, make_payment
from tests.celery_worker import celery_worker_process  # noqa: F401 - a fixture
from tests.channels.conftest import _clean_channel_redis, bcom, listing  # noqa: F401 - fixtures
from tests.factories import UserFactory, future

__all__ = ["client_for", "make_payment", "property_form_data", "rule_form_data"]


@pytest.fixture
def alice_api(alice):
    return client_for(alice)


@pytest.fixture
def bob_api(bob):
    return client_for(bob)


@pytest.fixture
def charlie_api(charlie):
    return client_for(charlie)


def make_cohost(username: str, prop, *, change: bool):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=COHOSTS_GROUP))
    assign_perm("properties.view_property", user, prop)
    if change:
        assign_perm("properties.change_property", user, prop)
    return user


@pytest.fixture
def viewer(prop):
    """A co-host granted only view_property on Alice's loft."""
    return make_cohost("vera", prop, change=False)


@pytest.fixture
def cohost(prop):
    """A co-host granted view_property and change_property on Alice's loft."""
    return make_cohost("carla", prop, change=True)


@pytest.fixture
def booking(prop):
    return booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(30),
        check_out=future(33),
        guests=2,
        status="confirmed",
        guest=booking_services.GuestData(first_name="Erika", last_name="Muster", email="erika@example.com"),
    )


def property_form_data(prop, **overrides) -> dict:
    """What the admin's property change form posts (no photo rows)."""
    data = {
        "owner": prop.owner_id,
        "name": prop.name,
        "slug": prop.slug,
        "status": prop.status,
        "description": prop.description,
        "house_rules": prop.house_rules,
        "street": (prop.address or {}).get("street", "Hauptstr. 1"),
        "postal_code": (prop.address or {}).get("postal_code", ""),
        "region": (prop.address or {}).get("region", ""),
        "city": prop.city,
        "country": prop.country,
        "latitude": "",
        "longitude": "",
        "timezone": prop.timezone,
        "max_guests": prop.max_guests,
        "bedrooms": prop.bedrooms,
        "bathrooms": str(prop.bathrooms),
        "amenities": list(prop.amenities),
        "base_price": str(prop.base_price),
        "currency": prop.currency,
        "cleaning_fee": str(prop.cleaning_fee),
        "default_min_stay": prop.default_min_stay,
        "default_max_stay": prop.default_max_stay,
        "min_notice_hours": prop.min_notice_hours,
        "max_advance_days": prop.max_advance_days,
        "check_in_time": prop.check_in_time.strftime("%H:%M:%S"),
        "check_out_time": prop.check_out_time.strftime("%H:%M:%S"),
        "cancellation_policy": prop.cancellation_policy,
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
        "photos-MIN_NUM_FORMS": "0",
        "photos-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def rule_form_data(prop, **overrides) -> dict:
    data = {
        "property": prop.pk,
        "name": "Weekend",
        "rule_type": "weekend",
        "adjustment_type": "percentage",
        "adjustment_value": "10",
        "conditions": '{"days": [4, 5]}',
        "priority": "0",
        "active": "on",
    }
    data.update(overrides)
    return data


PAID = Decimal("330.00")
