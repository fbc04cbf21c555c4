"""The admin side: an owner subscribes, sees the secret once, sends a test event; another owner sees
and reaches none of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.integrations.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db(transaction=True)


def test_owner_subscribes_in_the_admin_and_an_outsider_cannot_reach_it(client, alice, bob, receiver):
    client.force_login(alice)
    add = reverse("admin:integrations_webhooksubscription_add")
    assert client.get(add).status_code == 200
    response = client.post(
        add,
        {"url": receiver.url, "description": "CRM", "event_types": ["booking.created"], "is_active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    sub = WebhookSubscription.objects.get()
    assert sub.owner == alice and sub.event_types == ["booking.created"]
    assert "whsec_" in response.content.decode()  # the secret, shown this once

    # a refused URL is a form error, nothing stored
    bad = client.post(add, {"url": "ftp://example.com/x", "event_types": []})
    assert bad.status_code == 200 and "errornote" in bad.content.decode()
    assert WebhookSubscription.objects.count() == 1

    changelist = reverse("admin:integrations_webhooksubscription_changelist")
    client.post(changelist, {"action": "send_test_event", "_selected_action": [sub.pk]})
    assert receiver.wait_for(lambda r: r.json.get("type") == "webhook.test")

    secret_before = WebhookSubscription.objects.get().secret_encrypted
    client.force_login(bob)
    assert sub.url not in client.get(changelist).content.decode()
    change = reverse("admin:integrations_webhooksubscription_change", args=[sub.pk])
    assert client.get(change).status_code in (302, 404)
    client.post(changelist, {"action": "rotate_secret", "_selected_action": [sub.pk]})
    client.post(change, {"url": "https://evil.example.com/x", "event_types": []})
    sub.refresh_from_db()
    assert sub.url == receiver.url and sub.owner == alice and sub.secret_encrypted == secret_before
    deliveries = reverse("admin:integrations_webhookdelivery_changelist")
    assert WebhookDelivery.objects.filter(subscription=sub).exists()
    assert "webhook.test" not in client.get(deliveries).content.decode()
