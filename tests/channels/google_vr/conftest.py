from __future__ import annotations

from decimal import Decimal

import pytest

from apps.channels import google_vr
from apps.channels.models import ChannelConnection
from apps.properties.models import PropertyPhoto
from apps.sandbox.models.google_vr import GoogleAccount
from tests.factories import PropertyFactory
from tests.stripe_fixtures import stripe_sandbox, stripe_sandbox_server  # noqa: F401

PARTNER = "alice-vr"


@pytest.fixture(autouse=True)
def _short_horizon(settings):
    """Full-calendar pushes (a pricing rule changed) reach 60 days ahead here, not a year: fewer messages."""
    settings.CHANNEL_PUSH_HORIZON_DAYS = 60
    settings.CHANNEL_HTTP_TIMEOUT = 15  # a push is several requests: a loaded test machine is not a fault


def google_connection(prop, *, hotel_id: str, partner: str = PARTNER, base_url: str = "") -> ChannelConnection:
    conn = ChannelConnection(
        property=prop,
        platform="google_vr",
        external_property_id=hotel_id,
        external_room_id=hotel_id,
        external_rate_plan_id="direct",
        base_url=base_url,
        auth_scheme="none",
        username=partner,
    )
    conn.save()
    return conn


def sim_account(live_server, *, owner, partner: str = PARTNER) -> GoogleAccount:
    return GoogleAccount.objects.create(
        partner=partner,
        feed_url=live_server.url + google_vr.feed_path(owner_id=owner.pk, partner=partner),
        landing_url_template=live_server.url
        + "/go/google/(PARTNER-HOTEL-ID)/?checkin=(CHECKINYEAR)-(CHECKINMONTH)-(CHECKINDAY)"
        "&nights=(LENGTH)&guests=(NUM-GUESTS)&currency=(USER-CURRENCY)",
    )


@pytest.fixture
def gprop(alice):
    prop = PropertyFactory(
        owner=alice,
        name="Seaside Cottage",
        slug="seaside-cottage",
        latitude=Decimal("54.321000"),
        longitude=Decimal("10.123000"),
        amenities=["wifi", "kitchen", "pool"],
        max_guests=5,
        bedrooms=2,
        bathrooms=Decimal("1.5"),
        description="A cottage by the sea.",
    )
    PropertyPhoto.objects.create(property=prop, url="https://img.example/cottage.jpg", caption="Front", position=0)
    return prop


@pytest.fixture
def google(live_server, alice, gprop):
    """Alice's home listed on the simulator (feed fetched) and connected for ARI pushes."""
    from apps.sandbox import google_vr as sim

    conn = google_connection(gprop, hotel_id="alice-1", base_url=live_server.url + "/sandbox/google")
    account = sim_account(live_server, owner=alice)
    assert sim.fetch_feed(account)["listed"] == ["alice-1"]
    return conn


def forget_sent() -> None:
    """Forget which property-level messages Google acknowledged (the next push sends them all)."""
    from django.conf import settings

    from apps.channels import redis as chredis

    client = chredis.client()
    for key in client.scan_iter(f"{settings.CHANNEL_REDIS_PREFIX}:google_vr:sent:*"):
        client.delete(key)
