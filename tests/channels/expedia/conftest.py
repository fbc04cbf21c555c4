from __future__ import annotations

import pytest

from apps.channels.models import ChannelConnection
from apps.sandbox.models.expedia import ExpHotel

EQC_USER = "pms-eqc"
EQC_PASSWORD = "ECLPASS-test"  # noqa: S105
BN_USER = "expedia-bn"
BN_PASSWORD = "bn-s3cret"  # noqa: S105


@pytest.fixture
def hotel(db):
    return ExpHotel.objects.create(
        hotel_id="111",
        name="Alice's Loft",
        username=EQC_USER,
        password=EQC_PASSWORD,
        room_type_id="201",
        rate_plan_id="2001",
    )


def make_expedia_connection(
    prop,
    *,
    base_url: str,
    hotel_id: str = "111",
    password: str = EQC_PASSWORD,
    username: str = EQC_USER,
    model: str = "pull",
    room_type: str = "201",
    rate_plan: str = "2001",
) -> ChannelConnection:
    conn = ChannelConnection(
        property=prop,
        platform="expedia",
        external_property_id=hotel_id,
        external_room_id=room_type,
        external_rate_plan_id=rate_plan,
        base_url=base_url,
        username=username,
        settings={"reservation_model": model, "bn_username": BN_USER},
    )
    conn.set_secret("access_token", password)
    conn.set_secret("webhook_secret", BN_PASSWORD)
    conn.save()
    return conn


@pytest.fixture
def expedia(prop, hotel, live_server):
    return make_expedia_connection(prop, base_url=live_server.url + "/sandbox/expedia")


from tests.celery_worker import celery_worker_process  # noqa: E402,F401
