from __future__ import annotations

import pytest

from tests.factories import PropertyFactory, UserFactory, make_owner, make_staff

pytest_plugins = ["tests.stripe_fixtures"]


def pytest_sessionstart(session):
    """A stale connection (a killed run's worker, a crashed live server) to the test database would
    make its re-creation fail; this run owns that database, so end such connections first."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    name = (db.get("TEST") or {}).get("NAME") or f"test_{db['NAME']}"
    try:
        with psycopg.connect(
            dbname="postgres",
            user=db.get("USER") or None,
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            password=db.get("PASSWORD") or None,
            autocommit=True,
        ) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
    except psycopg.Error:
        pass  # the database server will say what is wrong when the tests connect


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
