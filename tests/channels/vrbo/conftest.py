"""Vrbo / FeWo-direkt tests: the feeds we host are read over real HTTP (live_server) with the
credentials of one connection; Bob's connection is the outsider."""

from __future__ import annotations

import pytest
import requests

from apps.channels.models import ChannelConnection

ALICE_USER, ALICE_PASSWORD = "vrbo-alice", "alice-feed-password"
BOB_USER, BOB_PASSWORD = "vrbo-bob", "bob-feed-password"


def vrbo_connection(prop, *, username: str, password: str, listing: str) -> ChannelConnection:
    conn = ChannelConnection(
        property=prop, platform="fewo_direkt", external_property_id=listing, username=username, auth_scheme="basic"
    )
    conn.set_secret("access_token", password)
    conn.save()
    return conn


@pytest.fixture
def alice_vrbo(prop):
    return vrbo_connection(prop, username=ALICE_USER, password=ALICE_PASSWORD, listing="L-ALICE")


@pytest.fixture
def bob_vrbo(bob_prop):
    return vrbo_connection(bob_prop, username=BOB_USER, password=BOB_PASSWORD, listing="L-BOB")


class Feeds:
    """A small HTTP client of our feeds, as the platform reads them."""

    def __init__(self, base: str, user: str, password: str) -> None:
        self.base = base.rstrip("/") + "/vrbo/feeds"
        self.auth = (user, password)

    def get(self, path: str, **headers: str) -> requests.Response:
        return requests.get(f"{self.base}/{path}", auth=self.auth, headers=headers, timeout=30)


@pytest.fixture
def alice_feeds(live_server, alice_vrbo):
    return Feeds(live_server.url, ALICE_USER, ALICE_PASSWORD)


@pytest.fixture
def bob_feeds(live_server, bob_vrbo):
    return Feeds(live_server.url, BOB_USER, BOB_PASSWORD)
