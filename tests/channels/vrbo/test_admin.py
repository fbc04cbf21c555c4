"""The owner sees "Vrbo last read your availability N minutes ago" for their own connections only."""

from __future__ import annotations

import pytest

from apps.channels.models import VrboFeedRead

pytestmark = pytest.mark.django_db(transaction=True)


def test_owner_sees_the_staleness_of_their_own_vrbo_connection_only(client, alice, bob, alice_feeds, bob_vrbo):
    alice_feeds.get("availability/L-ALICE.xml")
    assert VrboFeedRead.objects.count() == 1
    client.force_login(alice)
    page = client.get("/admin/channels/vrbofeedstatus/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Vrbo last read your availability less than a minute ago" in text and "L-ALICE" in text
    assert "L-BOB" not in text
    assert "L-ALICE" in client.get("/admin/channels/vrbofeedread/").content.decode()
    client.force_login(bob)
    text = client.get("/admin/channels/vrbofeedstatus/").content.decode()
    assert "L-ALICE" not in text and "Vrbo has not read your availability yet" in text
    assert "L-ALICE" not in client.get("/admin/channels/vrbofeedread/").content.decode()
