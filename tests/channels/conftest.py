from __future__ import annotations

import pytest
from django.conf import settings

from apps.channels import redis as chredis
from apps.channels.models import ChannelConnection
from apps.sandbox.models import SimListing
from tests.celery_worker import celery_worker_process  # noqa: F401

SIM_USER = "pms-machine"
SIM_PASSWORD = "s3cret-sim-password"  # noqa: S105


@pytest.fixture(autouse=True)
def _clean_channel_redis():
    """Breakers and buckets live in Redis: start every test from a clean slate."""
    client = chredis.client()
    for key in client.scan_iter(f"{settings.CHANNEL_REDIS_PREFIX}:*"):
        client.delete(key)
    yield


@pytest.fixture
def listing(db):
    return SimListing.objects.create(
        hotel_code="1234567",
        name="Alice's Loft",
        username=SIM_USER,
        password=SIM_PASSWORD,
        room_code="101",
        rate_plan_code="987654",
    )


def make_connection(
    prop,
    *,
    base_url: str,
    hotel_code: str = "1234567",
    password: str = SIM_PASSWORD,
    auth_scheme: str = "basic",
    webhook_secret: str = "",
) -> ChannelConnection:
    conn = ChannelConnection(
        property=prop,
        platform="booking_com",
        external_property_id=hotel_code,
        external_room_id="101",
        external_rate_plan_id="987654",
        base_url=base_url,
        auth_scheme=auth_scheme,
        username=SIM_USER,
    )
    conn.set_secret("access_token", password)
    if webhook_secret:
        conn.set_secret("webhook_secret", webhook_secret)
    conn.save()
    return conn


@pytest.fixture
def bcom(prop, listing, live_server):
    return make_connection(prop, base_url=live_server.url + "/sandbox/booking_com", webhook_secret="whsec-test")
