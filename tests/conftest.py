from __future__ import annotations

import pytest

from tests.factories import PropertyFactory, UserFactory, make_owner, make_staff

pytest_plugins = ["tests.stripe_fixtures"]


@pytest.fixture
def alice(db):
    return make_owner("alice")


@pytest.fixture
def bob(db):
    return make_owner("bob")


@pytest.fixture
def charlie(db):
    """An outsider: staff flag (admin login) but no group and no property."""
    return UserFactory(username="charlie")


@pytest.fixture
def staff(db):
    return make_staff("staffer")


@pytest.fixture
def prop(alice):
    return PropertyFactory(owner=alice, name="Alice's Loft", slug="alices-loft")


@pytest.fixture
def bob_prop(bob):
    return PropertyFactory(owner=bob, name="Bob's Cabin", slug="bobs-cabin", city="Munich")
