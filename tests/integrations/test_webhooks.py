"""Outbound webhooks for integrators: signed, retried, deduplicable, scoped to what the subscriber sees."""

from __future__ import annotations

import time

import pytest
from django.core import mail

from apps.core.models import SyncEvent
from apps.integrations import services
from apps.integrations.delivery import deliveries_run_due, verify
from apps.integrations.models import WebhookDelivery, WebhookSubscription
from tests.factories import PropertyFactory, future

from .conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def _subscribe(api, url, **extra):
    response = api.post("/api/v1/webhook-subscriptions/", {"url": url, **extra}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    return body


def _book(api, prop, start=10, nights=3):
    response = api.post(
        "/api/v1/bookings/",
        {"property": prop.pk, "check_in": str(future(start)), "check_out": str(future(start + nights)), "guests": 2},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.slow
def test_booking_created_reaches_the_subscriber_signed_and_a_failing_endpoint_gets_it_exactly_once_more(
    alice, prop, receiver, celery_worker_process
):
    """Acceptance: real worker, local receiver; valid signature; 3 failures then success = one more
    request after the third failure, all with the same id (a replay is recognisable)."""
    api = client_for(alice)
    sub = _subscribe(api, receiver.url, event_types=["booking.created"])
    receiver.fail_first = 3
    booking = _book(api, prop)

    got = receiver.wait_for(lambda r: r.json.get("type") == "booking.created" and r.answered == 204)
    attempts = receiver.of_type("booking.created")
    assert [r.answered for r in attempts] == [500, 500, 500, 204]
    ids = {r.headers["webhook-id"] for r in attempts}
    assert len(ids) == 1, "every retry carries the same webhook-id"
    final = got[0]
    assert verify(secret=sub["secret"], headers=final.headers, body=final.body)
    assert not verify(secret=services.secret_generate(), headers=final.headers, body=final.body)
    payload = final.json
    assert payload["id"] == final.headers["webhook-id"]
    assert payload["data"]["booking_id"] == booking["id"] and payload["data"]["reference"] == booking["reference"]
    assert payload["version"] and payload["property_id"] == prop.pk
    assert "email" not in final.body.decode() and "first_name" not in final.body.decode()

    time.sleep(2)  # nothing more comes: delivered exactly once
    assert len(receiver.of_type("booking.created")) == 4
    delivery = WebhookDelivery.objects.get(subscription_id=sub["id"], event_type="booking.created")
    assert delivery.status == "succeeded" and delivery.attempts == 4 and delivery.http_status == 204
    assert delivery.latency_ms is not None
    # only the subscribed type was sent (availability.updated was not)
    assert {r.json["type"] for r in receiver.requests} == {"booking.created"}


def test_dead_letter_retry_resends_with_the_same_id(alice, prop, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    api = client_for(alice)
    sub = _subscribe(api, receiver.url, event_types=["booking.created"])
    receiver.always_fail = True
    _book(api, prop)  # eager: the first attempt runs at once
    delivery = WebhookDelivery.objects.get(subscription_id=sub["id"])
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
    deliveries_run_due()
    delivery.refresh_from_db()
    assert delivery.status == "dead" and delivery.attempts == 2
    # the API shows the log; retrying a dead letter sends it again, same id
    log = api.get(f"/api/v1/webhook-deliveries/?subscription={sub['id']}").json()
    assert log["results"][0]["status"] == "dead"
    receiver.always_fail = False
    assert api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/retry/").status_code == 202
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert [r.answered for r in receiver.requests] == [500, 500, 204]
    # a delivered one is not a dead letter: 409 with a reason
    again = api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/retry/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_test_event_and_secret_rotation(alice, receiver):
    api = client_for(alice)
    sub = _subscribe(api, receiver.url)
    assert api.post(f"/api/v1/webhook-subscriptions/{sub['id']}/test/").status_code == 202
    first = receiver.wait_for(lambda r: r.json.get("type") == "webhook.test")[0]
    assert verify(secret=sub["secret"], headers=first.headers, body=first.body)
    new = api.post(f"/api/v1/webhook-subscriptions/{sub['id']}/rotate-secret/").json()["secret"]
    assert new != sub["secret"]
    api.post(f"/api/v1/webhook-subscriptions/{sub['id']}/test/")
    second = receiver.requests[-1]
    assert verify(secret=new, headers=second.headers, body=second.body)
    assert not verify(secret=sub["secret"], headers=second.headers, body=second.body)
    assert first.headers["webhook-id"] != second.headers["webhook-id"]


def test_an_outsider_never_hears_of_or_reaches_another_owners_webhooks(alice, bob, prop, receiver):
    alice_api, bob_api = client_for(alice), client_for(bob)
    alice_sub = _subscribe(alice_api, receiver.url + "?alice")
    bob_sub = _subscribe(bob_api, receiver.url + "?bob")
    bob_home = PropertyFactory(owner=bob, name="Bob's Barn", slug="bobs-barn")
    _book(alice_api, prop)
    _book(bob_api, bob_home)
    by_path = {}
    for r in receiver.requests:
        by_path.setdefault(r.json["property_id"], set()).add(
            WebhookDelivery.objects.get(message_id=r.headers["webhook-id"]).subscription_id
        )
    assert by_path[prop.pk] == {alice_sub["id"]}
    assert by_path[bob_home.pk] == {bob_sub["id"]}
    # nor through the API: not listed, not found, not changeable, not retryable
    assert [s["id"] for s in bob_api.get("/api/v1/webhook-subscriptions/").json()["results"]] == [bob_sub["id"]]
    assert bob_api.get(f"/api/v1/webhook-subscriptions/{alice_sub['id']}/").status_code == 404
    assert (
        bob_api.patch(
            f"/api/v1/webhook-subscriptions/{alice_sub['id']}/", {"url": receiver.url + "?stolen"}, format="json"
        ).status_code
        == 404
    )
    assert bob_api.post(f"/api/v1/webhook-subscriptions/{alice_sub['id']}/rotate-secret/").status_code == 404
    assert bob_api.delete(f"/api/v1/webhook-subscriptions/{alice_sub['id']}/").status_code == 404
    alice_delivery = WebhookDelivery.objects.filter(subscription_id=alice_sub["id"]).first()
    assert bob_api.get(f"/api/v1/webhook-deliveries/{alice_delivery.pk}/").status_code == 404
    assert bob_api.post(f"/api/v1/webhook-deliveries/{alice_delivery.pk}/retry/").status_code == 404
    assert alice_delivery.pk not in [d["id"] for d in bob_api.get("/api/v1/webhook-deliveries/").json()["results"]]
    assert WebhookSubscription.objects.get(pk=alice_sub["id"]).url == receiver.url + "?alice"


def test_staff_only_alerts_reach_staff_subscriptions_only(alice, staff, receiver):
    from apps.channels.services import alert_create

    alice_sub = _subscribe(client_for(alice), receiver.url + "?alice", event_types=["alert.raised"])
    staff_sub = _subscribe(client_for(staff), receiver.url + "?staff", event_types=["alert.raised"])
    alert_create(connection=None, property_id=None, kind="id_collision", message="an id held elsewhere")
    subs = {d.subscription_id for d in WebhookDelivery.objects.all()}
    assert subs == {staff_sub["id"]} and alice_sub["id"] not in subs


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://example.com/" + "a" * 600}, "url"),
        ({"url": "https://example.com/x", "event_types": ["booking.exploded"]}, "event_types"),
        ({"url": "https://example.com/x", "event_types": "booking.created"}, "event_types"),
        ({"url": "https://example.com/x", "event_types": [{"deep": [[[[1]]]]}]}, "event_types"),
        ({"url": "https://example.com/x\u0000y"}, "url"),
        ({}, "url"),
    ],
)
def test_garbage_is_a_400_with_a_reason_and_nothing_stored(alice, body, field):
    response = client_for(alice).post("/api/v1/webhook-subscriptions/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert WebhookSubscription.objects.count() == 0


def test_private_addresses_are_refused_outside_the_sandbox(alice, settings):
    settings.ALLOW_PRIVATE_HOSTS = False
    settings.SSRF_ALLOWED_HOSTS = []
    api = client_for(alice)
    for url in ["http://127.0.0.1:9/x", "http://10.0.0.5/x", "http://[::1]/x", "http://169.254.169.254/latest"]:
        response = api.post("/api/v1/webhook-subscriptions/", {"url": url}, format="json")
        assert response.status_code == 400, (url, response.content)
        assert "cannot receive webhooks" in response.json()["error"]["message"]
    settings.WEBHOOK_ALLOW_HTTP = False
    response = api.post("/api/v1/webhook-subscriptions/", {"url": "http://example.com/x"}, format="json")
    assert response.status_code == 400 and "https" in response.json()["error"]["message"]


def test_a_long_failure_streak_disables_the_subscription_and_tells_the_owner(alice, prop, receiver, settings):
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 0
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_MAX_ATTEMPTS = 50
    settings.CHANNEL_BREAKER_THRESHOLD = 1000
    api = client_for(alice)
    sub = _subscribe(api, receiver.url, event_types=["booking.created"])
    receiver.always_fail = True
    _book(api, prop)
    for _ in range(5):
        WebhookDelivery.objects.filter(status="retrying").update(next_attempt_at=None)
        deliveries_run_due()
    row = WebhookSubscription.objects.get(pk=sub["id"])
    assert not row.is_active and "Disabled" in row.disabled_reason and row.failure_streak == 3
    assert WebhookDelivery.objects.get(subscription=row).status == "dead"
    assert len(mail.outbox) == 1 and alice.email in mail.outbox[0].to and receiver.url in mail.outbox[0].body
    sent = len(receiver.requests)
    _book(api, prop, start=30)  # a disabled subscription gets nothing new
    assert len(receiver.requests) == sent
    # re-activating starts afresh
    receiver.always_fail = False
    assert (
        api.patch(f"/api/v1/webhook-subscriptions/{sub['id']}/", {"is_active": True}, format="json").status_code == 200
    )
    row.refresh_from_db()
    assert row.is_active and row.failure_streak == 0 and row.disabled_reason == ""


def test_events_outside_the_catalogue_or_unsubscribed_create_nothing(alice, prop, receiver):
    _subscribe(client_for(alice), receiver.url, event_types=["payment.refunded"])
    _book(client_for(alice), prop)
    assert SyncEvent.objects.filter(event_type="booking.created").exists()
    assert WebhookDelivery.objects.count() == 0


def test_fan_out_filters_by_type_in_sql_and_decides_visibility_once_per_owner(alice, prop, receiver):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from apps.core.outbox import event_emit
    from apps.integrations.outbox import handle_event

    api = client_for(alice)
    for n in range(5):
        _subscribe(api, f"{receiver.url}?other{n}", event_types=["payment.refunded"])
    for n in range(3):
        _subscribe(api, f"{receiver.url}?mine{n}", event_types=["pricing.updated"])
    with transaction.atomic():
        event = event_emit(
            event_type="pricing.updated", entity_type="property", entity_id=prop.pk, property_id=prop.pk,
            source="test", payload={"property_id": prop.pk},
        )  # fmt: skip
    WebhookDelivery.objects.all().delete()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        created = handle_event(event)
    assert len(created) == 3
    visibility = [q for q in queries.captured_queries if "sync_events" in q["sql"]]
    assert len(visibility) == 1, [q["sql"] for q in queries.captured_queries]
