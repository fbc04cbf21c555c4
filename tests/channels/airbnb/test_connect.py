"""Connecting Airbnb: OAuth2 consent on the simulator, tokens stored encrypted, listing mapping,
refresh before expiry and on 401, revocation and unlinking switch the connection off with an alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.channels.adapters import get_adapter
from apps.channels.models import ChannelAlert, ChannelConnection, Delivery
from apps.core.models import SyncEvent
from apps.sandbox import airbnb as sim
from apps.sandbox.models import SimRequest
from apps.sandbox.models.airbnb import AirbnbCalendarDay, AirbnbListing, AirbnbToken
from tests.factories import future

from .conftest import connect

pytestmark = pytest.mark.django_db(transaction=True)


def test_connect_flow_stores_tokens_encrypted_maps_listing_and_pushes_everything(abnb, ab_listing, prop):
    conn = abnb
    assert conn.sync_enabled and conn.external_property_id == ab_listing.listing_id
    assert conn.username == ab_listing.host.user_id
    refresh = AirbnbToken.objects.get(kind="refresh", host=ab_listing.host)
    assert conn.get_secret("refresh_token") == refresh.token
    assert refresh.token not in conn.refresh_token_encrypted  # encrypted at rest
    assert conn.token_expires_at > timezone.now()
    # mapping pushed the whole calendar and the listing's settings
    assert AirbnbCalendarDay.objects.filter(listing=ab_listing).count() >= 300
    ab_listing.refresh_from_db()
    assert ab_listing.pricing_settings["listing_currency"] == prop.currency
    assert ab_listing.pricing_settings["cleaning_fee"] == float(prop.cleaning_fee)
    assert ab_listing.availability_rules["max_days_notice"] == {"days": prop.max_advance_days}
    calls = SimRequest.objects.filter(simulator="airbnb", path__contains="calendar_operations")
    assert calls.exists() and all(c.status_code == 200 for c in calls)
    assert get_adapter(conn).test_connection().startswith("Connected")


def test_connect_airbnb_is_offered_on_the_connections_page(client, alice, prop, bob_prop, airbnb_app):
    client.force_login(alice)
    page = client.get(reverse("admin:channels_channelconnection_changelist")).content.decode()
    assert "Connect Airbnb" in page
    picker = client.get(reverse("admin:channels_channelconnection_airbnb_connect")).content.decode()
    assert f"?property={prop.pk}" in picker and f"?property={bob_prop.pk}" not in picker  # links, not a form


def test_denied_consent_and_forged_state_connect_nothing(client, alice, prop, airbnb_app, ab_listing):
    client.force_login(alice)
    start = client.get(reverse("admin:channels_channelconnection_airbnb_connect"), {"property": prop.pk})
    from urllib.parse import parse_qs, urlsplit

    consent = urlsplit(start["Location"])
    params = {k: v[0] for k, v in parse_qs(consent.query).items()}
    denied = client.post(consent.path, {**params, "decision": "deny"})
    back = urlsplit(denied["Location"])
    assert "error=access_denied" in back.query
    client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})
    assert not ChannelConnection.objects.filter(platform="airbnb").exists()
    # wrong password on the consent page
    wrong = client.post(consent.path, {**params, "email": "alice@host.example", "password": "nope"})
    assert wrong.status_code == 401
    # a forged state is refused
    page = client.get(reverse("admin:channels_channelconnection_airbnb_callback"), {"code": "x", "state": "forged"})
    assert page.status_code == 302
    assert not ChannelConnection.objects.filter(platform="airbnb").exists()


def test_outsider_cannot_connect_or_map_anothers_property(
    client, alice, bob, prop, bob_prop, airbnb_app, ab_listing, bob_listing
):
    client.force_login(bob)
    start = client.get(reverse("admin:channels_channelconnection_airbnb_connect"), {"property": prop.pk})
    assert start.status_code == 302 and "/sandbox/" not in start["Location"]  # refused, back to the picker
    # Bob connects his own property; he can only choose listings of his own Airbnb account
    conn = connect(client, user=bob, prop=bob_prop, host_email="bob@host.example", listing_id=bob_listing.listing_id)
    mapping = reverse("admin:channels_channelconnection_airbnb_listing", args=[conn.pk])
    page = client.post(mapping, {"listing": ab_listing.listing_id})
    assert page.status_code == 200 and b"not one of the connected Airbnb account" in page.content
    conn.refresh_from_db()
    assert conn.external_property_id == bob_listing.listing_id
    # Alice's connection page is not Bob's
    client.force_login(alice)
    alice_conn = connect(
        client, user=alice, prop=prop, host_email="alice@host.example", listing_id=ab_listing.listing_id
    )
    client.force_login(bob)
    other = client.get(reverse("admin:channels_channelconnection_airbnb_listing", args=[alice_conn.pk]))
    assert other.status_code == 302


def test_access_token_refreshed_before_expiry_and_on_401_mid_push(abnb, ab_listing, prop):
    conn = ChannelConnection.objects.get(pk=abnb.pk)
    # the token Airbnb holds expires early (the simulator's clock): the next push gets 401, refreshes, retries
    AirbnbToken.objects.filter(kind="access").update(expires_at=timezone.now() - timedelta(seconds=1))
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(20), check_out=future(23), guests=2, status="confirmed"
    )
    delivery = Delivery.objects.filter(connection=conn).order_by("-pk").first()
    assert delivery.status == Delivery.Status.SUCCEEDED and delivery.attempts == 1
    assert sim.nights_closed(ab_listing, [future(20), future(21), future(22)])
    assert SimRequest.objects.filter(simulator="airbnb", path__contains="oauth2/token", status_code=200).count() >= 2
    conn.refresh_from_db()
    assert conn.get_secret("access_token") == AirbnbToken.objects.filter(kind="access").order_by("-pk").first().token
    # before expiry: a token about to lapse is renewed without a 401
    ChannelConnection.objects.filter(pk=conn.pk).update(token_expires_at=timezone.now() + timedelta(seconds=10))
    from apps.channels.adapters import airbnb as adapter_module

    adapter_module._tokens.clear()
    before_401 = SimRequest.objects.filter(simulator="airbnb", status_code=401).count()
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(30), check_out=future(32), guests=2, status="confirmed"
    )
    assert sim.nights_closed(ab_listing, [future(30), future(31)])
    assert SimRequest.objects.filter(simulator="airbnb", status_code=401).count() == before_401


def test_revoked_authorization_disables_connection_alerts_and_drops_nothing_silently(
    abnb, ab_listing, airbnb_app, prop
):
    conn = abnb
    # a push waiting for its retry when the host revokes
    event = SyncEvent.objects.create(
        event_type="availability.updated",
        entity_type="property",
        entity_id=str(prop.pk),
        property=prop,
        source="test",
        payload={},
    )
    waiting = Delivery.objects.create(
        event=event,
        connection=conn,
        range_start=future(1),
        range_end=future(5),
        status=Delivery.Status.RETRYING,
        next_attempt_at=timezone.now(),
    )
    answer = sim.host_revokes(host=ab_listing.host, app=airbnb_app)
    assert answer.status == 200 and answer.data["succeed"] is True
    conn.refresh_from_db()
    assert not conn.sync_enabled and conn.sync_status == "disabled"
    assert not conn.has_secret("refresh_token")
    waiting.refresh_from_db()
    assert waiting.status == Delivery.Status.DEAD and "revoked" in waiting.last_error
    alert = ChannelAlert.objects.get(connection=conn, kind=ChannelAlert.Kind.AUTH)
    assert "revoked" in alert.message and "1 pending calendar push" in alert.message
    # nothing is pushed to a switched-off connection (no new deliveries)
    before = Delivery.objects.filter(connection=conn).count()
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(40), check_out=future(42), guests=2, status="confirmed"
    )
    assert Delivery.objects.filter(connection=conn).count() == before


def test_refresh_refused_after_revocation_is_an_auth_dead_letter_with_alert(abnb, ab_listing, prop):
    conn = abnb
    AirbnbToken.objects.filter(host=ab_listing.host).update(revoked_at=timezone.now())  # notification lost
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(20), check_out=future(22), guests=2, status="confirmed"
    )
    delivery = Delivery.objects.filter(connection=conn).order_by("-pk").first()
    assert delivery.status == Delivery.Status.DEAD and delivery.last_error_kind == "auth"
    assert ChannelAlert.objects.filter(connection=conn, kind=ChannelAlert.Kind.AUTH).exists()


def test_reconnect_after_revocation_switches_on_and_pushes_again(client, alice, abnb, ab_listing, airbnb_app, prop):
    sim.host_revokes(host=ab_listing.host, app=airbnb_app)
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(50), check_out=future(52), guests=2, status="confirmed"
    )
    assert not sim.nights_closed(ab_listing, [future(50), future(51)])
    conn = connect(client, user=alice, prop=prop, host_email="alice@host.example", listing_id=ab_listing.listing_id)
    assert conn.sync_enabled and conn.external_property_id == ab_listing.listing_id
    assert sim.nights_closed(ab_listing, [future(50), future(51)])


def test_unlinked_listing_disables_its_connection_only(abnb, ab_listing, ab_listing2, prop):
    answer = sim.listings_unlink(listings=[ab_listing])
    assert answer.status == 200
    abnb.refresh_from_db()
    assert not abnb.sync_enabled
    assert ChannelAlert.objects.filter(connection=abnb, kind="auth", message__contains="unlinked").exists()
    assert AirbnbListing.objects.get(pk=ab_listing.pk).unlinked
