"""Sync health: per connection the last push and pull, backlog, failures, dead letters, alerts and the
breaker; retry and sync-now only for who may change the connection; nothing of another owner shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.availability import services as availability_services
from apps.channels import breaker
from apps.channels import redis as chredis
from apps.channels.models import ChannelAlert, ChannelConnection, Delivery, InboundMessage
from apps.core.models import SyncEvent
from tests.factories import PropertyFactory, UserFactory, future

PAGE = "admin:backoffice_sync_health"
ACTION = "admin:backoffice_sync_action"


@pytest.fixture(autouse=True)
def _clean_breakers():
    client = chredis.client()
    for key in client.scan_iter(f"{settings.CHANNEL_REDIS_PREFIX}:*"):
        client.delete(key)
    yield
    for key in client.scan_iter(f"{settings.CHANNEL_REDIS_PREFIX}:*"):
        client.delete(key)


def connect(prop, platform="booking_com", hotel="1000"):
    return ChannelConnection.objects.create(
        property=prop, platform=platform, external_property_id=hotel, base_url="http://127.0.0.1:9/sim"
    )


def deliveries(conn, *, succeeded=0, dead=0, retrying=0, pending=0):
    availability_services.block_create(property_id=conn.property_id, start_date=future(50), end_date=future(51))
    now = timezone.now()
    made = []
    for status, n in (("succeeded", succeeded), ("dead", dead), ("retrying", retrying), ("pending", pending)):
        for _ in range(n):
            event = SyncEvent.objects.create(
                event_type=SyncEvent.Type.AVAILABILITY_UPDATED,
                entity_type="property",
                entity_id=conn.property_id,
                property_id=conn.property_id,
                source="owner",
                payload={},
            )
            made.append(
                Delivery.objects.create(
                    event=event,
                    connection=conn,
                    range_start=future(1),
                    range_end=future(2),
                    status=status,
                    attempts=8 if status == "dead" else 1,
                    delivered_at=now - timedelta(minutes=5) if status == "succeeded" else None,
                    last_error="HTTP 503 from the platform" if status in ("dead", "retrying") else "",
                    last_error_kind="http_5xx" if status in ("dead", "retrying") else "",
                    http_status=503 if status in ("dead", "retrying") else 200,
                )
            )
    return made


@pytest.fixture
def world(alice, bob, prop, bob_prop):
    mine = connect(prop, hotel="1111")
    theirs = connect(bob_prop, hotel="2222")
    deliveries(mine, succeeded=2, dead=2, retrying=1, pending=1)
    deliveries(theirs, dead=3)
    InboundMessage.objects.create(platform="booking_com", via="pull", connection=mine, property=prop, body="x")
    ChannelAlert.objects.create(property=prop, connection=mine, kind="dead_letter", message="alice-gave-up")
    ChannelAlert.objects.create(property=bob_prop, connection=theirs, kind="dead_letter", message="bob-gave-up")
    for _ in range(settings.CHANNEL_BREAKER_THRESHOLD):
        breaker.record_failure("booking_com")
    return {"mine": mine, "theirs": theirs}


def row_of(page: str, conn) -> str:
    start = page.index(f'data-connection="{conn.pk}"')
    return page[start : page.index("</tr>", start)]


@pytest.mark.django_db
def test_owner_sees_the_health_of_their_connections_only(client, alice, world):
    client.force_login(alice)
    page = client.get(reverse(PAGE)).content.decode()
    row = row_of(page, world["mine"])
    assert 'data-figure="backlog">2<' in row and 'data-figure="dead">2<' in row
    assert 'data-figure="failures">3<' in row and 'data-figure="alerts">1<' in row
    assert "minutes ago" in row.split('data-figure="last_push"')[1].split("</td>")[0]
    assert "never" not in row.split('data-figure="last_pull"')[1].split("</td>")[0]
    assert ">open<" in row and "attention" in row and 'value="retry"' in row
    assert f'data-connection="{world["theirs"].pk}"' not in page and "2222" not in page and "bob-gave-up" not in page


@pytest.mark.django_db
def test_retry_puts_the_dead_letters_back_and_sync_now_pushes(client, alice, world, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse(ACTION), {"connection": world["mine"].pk, "action": "retry"})
    assert response.status_code == 302
    assert not Delivery.objects.filter(connection=world["mine"], status="dead").exists()
    assert Delivery.objects.filter(connection=world["theirs"], status="dead").count() == 3
    before = SyncEvent.objects.filter(entity_type="channel_connection").count()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse(ACTION), {"connection": world["mine"].pk, "action": "sync_now"})
    assert SyncEvent.objects.filter(entity_type="channel_connection").count() == before + 1


@pytest.mark.django_db
def test_outsider_and_view_only_cohost_cannot_act(client, bob, prop, world):
    client.force_login(bob)
    assert client.post(reverse(ACTION), {"connection": world["mine"].pk, "action": "retry"}).status_code == 404
    assert client.post(reverse(ACTION), {"connection": "nonsense", "action": "retry"}).status_code == 404
    assert client.get(reverse(ACTION)).status_code == 405
    viewer = UserFactory(username="vic")
    viewer.groups.add(Group.objects.get(name="Co-hosts"))
    assign_perm("properties.view_property", viewer, prop)
    client.force_login(viewer)
    page = client.get(reverse(PAGE)).content.decode()
    assert f'data-connection="{world["mine"].pk}"' in page and 'value="retry"' not in page
    assert client.post(reverse(ACTION), {"connection": world["mine"].pk, "action": "retry"}).status_code == 403
    assert Delivery.objects.filter(connection=world["mine"], status="dead").count() == 2


@pytest.mark.django_db
def test_sync_health_takes_a_fixed_number_of_queries(client, alice, prop):
    deliveries(connect(prop, hotel="1"), succeeded=1, dead=1)
    client.force_login(alice)
    client.get(reverse(PAGE))
    with CaptureQueriesContext(db_connection) as few:
        assert client.get(reverse(PAGE)).status_code == 200
    for i in range(10):
        deliveries(connect(PropertyFactory(owner=alice), hotel=f"h{i}"), succeeded=2, dead=1, retrying=1)
    with CaptureQueriesContext(db_connection) as many:
        assert client.get(reverse(PAGE)).status_code == 200
    print(f"\nsync health 1 connection: {len(few)} queries; 11 connections: {len(many)} queries")
    assert len(many) == len(few) <= 13


@pytest.mark.django_db
def test_how_long_ago_a_platform_read_the_ical_export(client, alice, bob, prop, bob_prop):
    from django.core.cache import cache

    cache.delete(f"ical-export-read:{prop.pk}")  # a key of an earlier run's property with the same id
    client.force_login(alice)
    page = client.get(reverse(PAGE)).content.decode()
    assert f'data-feed-of="{prop.pk}"' in page and "not in the last 30 days" in page
    assert f'data-feed-of="{bob_prop.pk}"' not in page
    assert client.get(f"/ical/{prop.ical_token}.ics", HTTP_USER_AGENT="Airbnb Calendar Sync").status_code == 200
    page = client.get(reverse(PAGE)).content.decode()
    row = page[page.index(f'data-feed-of="{prop.pk}"') :].split("</tr>")[0]
    assert "ago" in row and "Airbnb Calendar Sync" in row


@pytest.mark.django_db
def test_when_vrbo_last_read_the_feeds_we_host(client, alice, prop):
    from apps.channels.models_vrbo import VrboFeedRead

    conn = connect(prop, platform="fewo_direkt", hotel="vrbo-1")
    VrboFeedRead.objects.create(connection=conn, property=prop, document="availability", status_code=200)
    client.force_login(alice)
    row = row_of(client.get(reverse(PAGE)).content.decode(), conn)
    assert "our feeds read" in row and "ago" in row.split('data-figure="platform_read"')[1]
