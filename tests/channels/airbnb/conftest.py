"""Airbnb: the simulator served by live_server, our partner app registered on it, hosts and listings,
and a helper that connects a property through the real OAuth2 flow (admin -> consent page -> back)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from apps.channels import airbnb as channel_airbnb
from apps.channels.adapters import airbnb as adapter_module
from apps.channels.models import ChannelConnection
from apps.sandbox import airbnb as sim
from apps.sandbox.models.airbnb import AirbnbHost, AirbnbListing

CALLBACK = "http://testserver/admin/channels/channelconnection/airbnb/callback/"
HOST_PASSWORD = "host-pass-1"  # noqa: S105


@pytest.fixture(autouse=True)
def _fresh_adapter_caches():
    adapter_module._tokens.clear()
    adapter_module._settings_sent.clear()
    yield
    adapter_module._tokens.clear()
    adapter_module._settings_sent.clear()


@pytest.fixture
def airbnb_app(live_server, settings):
    settings.AIRBNB_API_URL = live_server.url + "/sandbox/airbnb"
    settings.AIRBNB_OAUTH_URL = live_server.url + "/sandbox/airbnb/oauth2/auth"
    config = channel_airbnb.app_config()
    return sim.app_register(
        client_id=config.client_id,
        client_secret=config.client_secret,
        redirect_uris=[CALLBACK],
        pms_base_url=live_server.url + "/webhooks/airbnb",
        notification_secret=config.notification_secret,
    )


@pytest.fixture
def host(db):
    return AirbnbHost.objects.create(email="alice@host.example", password=HOST_PASSWORD, first_name="Alice")


@pytest.fixture
def bob_host(db):
    return AirbnbHost.objects.create(email="bob@host.example", password=HOST_PASSWORD, first_name="Bob")


@pytest.fixture
def ab_listing(host):
    return AirbnbListing.objects.create(host=host, name="Alice's Loft on Airbnb", listing_id="41000001")


@pytest.fixture
def ab_listing2(host):
    return AirbnbListing.objects.create(host=host, name="Alice's second home", listing_id="41000002")


@pytest.fixture
def bob_listing(bob_host):
    return AirbnbListing.objects.create(host=bob_host, name="Bob's Cabin on Airbnb", listing_id="42000001")


def connect(client, *, user, prop, host_email: str, listing_id: str, password: str = HOST_PASSWORD):
    """The owner's clicks: Connect Airbnb -> consent page (sign in, approve) -> back -> choose the listing."""
    client.force_login(user)
    start = client.get(reverse("admin:channels_channelconnection_airbnb_connect"), {"property": prop.pk})
    assert start.status_code == 302, start
    consent = urlsplit(start["Location"])
    params = {k: v[0] for k, v in parse_qs(consent.query).items()}
    page = client.get(consent.path, params)
    assert page.status_code == 200 and b"Approve" in page.content
    approved = client.post(consent.path, {**params, "email": host_email, "password": password, "decision": "approve"})
    assert approved.status_code == 302, approved.content
    back = urlsplit(approved["Location"])
    assert back.path == urlsplit(CALLBACK).path
    done = client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})
    assert done.status_code == 302, done
    conn = ChannelConnection.objects.get(property=prop, platform="airbnb")
    mapping = reverse("admin:channels_channelconnection_airbnb_listing", args=[conn.pk])
    if conn.external_property_id:
        return conn
    assert done["Location"] == mapping
    page = client.get(mapping)
    assert page.status_code == 200 and listing_id.encode() in page.content
    chosen = client.post(mapping, {"listing": listing_id})
    assert chosen.status_code == 302, chosen.content.decode()[:2000]
    conn.refresh_from_db()
    return conn


@pytest.fixture
def abnb(client, alice, prop, airbnb_app, ab_listing):
    """Alice's property connected to her Airbnb listing through the real flow."""
    conn = connect(client, user=alice, prop=prop, host_email="alice@host.example", listing_id=ab_listing.listing_id)
    client.logout()
    return conn
