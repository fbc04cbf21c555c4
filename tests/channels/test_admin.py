from __future__ import annotations

import pytest
from django.urls import reverse

from apps.channels.models import ChannelAlert, ChannelConnection, Delivery, InboundMessage
from apps.core.models import SyncEvent
from tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conns(prop, bob_prop):
    a = ChannelConnection(property=prop, platform="booking_com", external_property_id="A-1", username="machine")
    a.set_secret("access_token", "alice-very-secret")
    a.set_secret("webhook_secret", "alice-webhook-secret")
    a.save()
    b = ChannelConnection.objects.create(property=bob_prop, platform="booking_com", external_property_id="B-1")
    return a, b


def test_owner_sees_only_own_connections_and_never_secrets(client, alice, conns):
    a, b = conns
    client.force_login(alice)
    html = client.get(reverse("admin:channels_channelconnection_changelist")).content.decode()
    assert "A-1" in html and "B-1" not in html
    change = client.get(reverse("admin:channels_channelconnection_change", args=[a.pk]))
    assert change.status_code == 200
    body = change.content.decode()
    assert "alice-very-secret" not in body and "alice-webhook-secret" not in body
    assert a.access_token_encrypted not in body
    # someone else's connection is simply not found
    other = client.get(reverse("admin:channels_channelconnection_change", args=[b.pk]))
    assert other.status_code in (302, 404)


def test_blank_secret_keeps_value_and_new_one_is_encrypted(client, alice, conns, prop):
    a, _ = conns
    client.force_login(alice)
    url = reverse("admin:channels_channelconnection_change", args=[a.pk])
    data = {
        "property": prop.pk,
        "platform": "booking_com",
        "label": "x",
        "external_property_id": "A-1",
        "external_room_id": "",
        "external_rate_plan_id": "",
        "base_url": "",
        "auth_scheme": "basic",
        "username": "machine",
        "ical_import_url": "",
        "ical_source": "",
        "sync_enabled": "on",
        "access_token": "",
        "webhook_secret": "new-webhook-secret",
    }
    r = client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    a.refresh_from_db()
    assert a.get_secret("access_token") == "alice-very-secret"
    assert a.get_secret("webhook_secret") == "new-webhook-secret"
    assert "new-webhook-secret" not in a.webhook_secret_encrypted


def test_delivery_and_inbound_logs_are_scoped(client, alice, conns, prop, bob_prop):
    a, b = conns
    ev = SyncEvent.objects.create(
        event_type="availability.updated", entity_type="property", entity_id="1", property=prop, source="direct"
    )
    Delivery.objects.create(event=ev, connection=a, range_start="2030-01-01", range_end="2030-01-05", status="dead")
    Delivery.objects.create(event=ev, connection=b, range_start="2031-01-01", range_end="2031-01-05", status="dead")
    InboundMessage.objects.create(platform="booking_com", property=prop, body="<alice-raw/>")
    InboundMessage.objects.create(platform="booking_com", property=bob_prop, body="<bob-raw/>")
    ChannelAlert.objects.create(property=bob_prop, kind="conflict", message="bob alert")
    client.force_login(alice)
    dead = client.get(reverse("admin:channels_deadletter_changelist")).content.decode()
    assert "2030" in dead and "2031" not in dead
    inbound = client.get(reverse("admin:channels_inboundmessage_changelist")).content.decode()
    assert inbound.count("booking_com") >= 1
    msg = InboundMessage.objects.get(body="<alice-raw/>")
    page = client.get(reverse("admin:channels_inboundmessage_change", args=[msg.pk])).content.decode()
    assert "&lt;alice-raw/&gt;" in page
    alerts = client.get(reverse("admin:channels_channelalert_changelist")).content.decode()
    assert "bob alert" not in alerts
    for name in ("delivery", "reconciliationrun"):
        assert client.get(reverse(f"admin:channels_{name}_changelist")).status_code == 200


def test_sandbox_admin_is_staff_only(client, alice, staff):
    client.force_login(alice)
    assert client.get("/admin/sandbox/simreservation/").status_code == 403
    client.force_login(staff)
    assert client.get("/admin/sandbox/simreservation/add/").status_code == 200


def test_connection_changelist_shows_breaker(client, staff, conns):
    client.force_login(staff)
    html = client.get(reverse("admin:channels_channelconnection_changelist")).content.decode()
    assert "closed" in html
    assert PropertyFactory  # noqa: B018
