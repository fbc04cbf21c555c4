"""Hotel List Feed per owner account, fetched by the simulator over real HTTP; outsiders stay out."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree as ET  # noqa: S405 (our own test data)

import pytest
import requests
from django.db import IntegrityError, transaction

from apps.channels import google_vr
from apps.sandbox import google_vr as sim
from apps.sandbox.models.google_vr import GoogleAccount, GoogleListing
from tests.factories import PropertyFactory

from .conftest import PARTNER, google_connection, sim_account

pytestmark = pytest.mark.django_db(transaction=True)


def _feed(live_server, owner, partner=PARTNER) -> requests.Response:
    return requests.get(live_server.url + google_vr.feed_path(owner_id=owner.pk, partner=partner), timeout=10)


def test_feed_lists_the_owner_accounts_homes_with_vr_attributes(live_server, alice, gprop):
    google_connection(gprop, hotel_id="alice-1")
    response = _feed(live_server, alice)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314
    [listing] = root.findall("listing")
    assert listing.findtext("id") == "alice-1"
    assert listing.findtext("name") == "Seaside Cottage"
    assert listing.findtext("latitude") == "54.321000"
    assert listing.findtext("longitude") == "10.123000"
    assert listing.find("address/component[@name='city']").text == "Berlin"
    attrs = {a.get("name"): a.text for a in listing.iter("client_attr")}
    assert attrs["capacity"] == "5"
    assert attrs["number_of_bedrooms"] == "2"
    assert attrs["number_of_bathrooms"] == "1.5"
    assert attrs["website"].endswith("/properties/seaside-cottage/")
    assert attrs["wifi"] == attrs["kitchen"] == attrs["pool"] == "Yes"
    assert [i.get("url") for i in listing.iter("image")] == ["https://img.example/cottage.jpg"]


def test_outsider_never_enters_another_owners_feed(live_server, alice, bob, gprop):
    google_connection(gprop, hotel_id="alice-1")
    bob_home = PropertyFactory(owner=bob, name="Bob's Cabin", slug="bobs-cabin")
    # Bob's connection names Alice's partner key: it still is not Alice's account.
    google_connection(bob_home, hotel_id="bob-1", partner=PARTNER)
    ids = [el.text for el in ET.fromstring(_feed(live_server, alice).content).iter("id")]  # noqa: S314
    assert ids == ["alice-1"]
    # Bob's own feed under that key has only his home, and Alice's token never opens it.
    ids = [el.text for el in ET.fromstring(_feed(live_server, bob).content).iter("id")]  # noqa: S314
    assert ids == ["bob-1"]
    alice_token = google_vr.feed_token(owner_id=alice.pk, partner=PARTNER)
    for path in (
        f"/webhooks/google_vr/feed/{PARTNER}/{bob.pk}/{alice_token}/hotel_list.xml",
        f"/webhooks/google_vr/feed/other-vr/{alice.pk}/{alice_token}/hotel_list.xml",
        f"/webhooks/google_vr/feed/{PARTNER}/{alice.pk}/{'0' * 40}/hotel_list.xml",
        f"/webhooks/google_vr/feed/{PARTNER}/999999/{alice_token}/hotel_list.xml",
    ):
        assert requests.get(live_server.url + path, timeout=10).status_code == 404


def test_simulator_fetches_the_feed_and_keeps_listings_per_account(live_server, alice, bob, gprop):
    google_connection(gprop, hotel_id="alice-1")
    unlocated = PropertyFactory(owner=alice, name="Somewhere", slug="somewhere")  # no coordinates
    google_connection(unlocated, hotel_id="alice-2")
    account = sim_account(live_server, owner=alice)
    summary = sim.fetch_feed(account)
    assert summary["listed"] == ["alice-1", "alice-2"]
    assert summary["disabled"] == ["alice-2"]
    listing = GoogleListing.objects.get(account=account, hotel_id="alice-1")
    assert (listing.name, listing.capacity, listing.bedrooms, listing.bathrooms) == (
        "Seaside Cottage",
        5,
        2,
        Decimal("1.5"),
    )
    assert listing.amenities == ["kitchen", "pool", "wifi"]
    assert listing.problems == []
    assert set(GoogleListing.objects.get(hotel_id="alice-2").problems) == {"latitude", "longitude"}

    # An outsider cannot take Alice's listing id for his own home (one connection per platform id) ...
    bob_home = PropertyFactory(owner=bob, name="Bob's Cabin", slug="bobs-cabin", latitude=1, longitude=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        google_connection(bob_home, hotel_id="alice-1", partner="bob-vr")
    # ... and a listing another partner account holds is refused to any other account's feed.
    google_connection(bob_home, hotel_id="bob-1", partner="bob-vr")
    bob_account = sim_account(live_server, owner=bob, partner="bob-vr")
    GoogleListing.objects.create(account=account, hotel_id="bob-1", name="claimed first", listed=True)
    summary = sim.fetch_feed(bob_account)
    assert (summary["listed"], summary["refused"]) == ([], ["bob-1"])
    GoogleListing.objects.filter(account=account, hotel_id="bob-1").delete()
    assert sim.fetch_feed(bob_account)["listed"] == ["bob-1"]

    # A home that leaves the account (sync off) is delisted at the next fetch.
    gprop.channel_connections.update(sync_enabled=False)
    sim.fetch_feed(account)
    assert not GoogleListing.objects.get(account=account, hotel_id="alice-1").listed


def test_unreadable_feed_changes_nothing(live_server, alice, gprop):
    google_connection(gprop, hotel_id="alice-1")
    account = sim_account(live_server, owner=alice)
    sim.fetch_feed(account)
    GoogleAccount.objects.filter(pk=account.pk).update(feed_url=live_server.url + "/sandbox/nowhere.xml")
    account.refresh_from_db()
    assert sim.fetch_feed(account)["status"].startswith("fetch failed")
    assert GoogleListing.objects.get(hotel_id="alice-1").listed


def test_owner_sees_the_feed_url_and_landing_template_in_the_admin(client, alice, gprop, live_server):
    conn = google_connection(gprop, hotel_id="alice-1")
    client.force_login(alice)
    page = client.get(f"/admin/channels/channelconnection/{conn.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert google_vr.feed_path(owner_id=alice.pk, partner=PARTNER) in html
    assert "/go/google/(PARTNER-HOTEL-ID)/" in html and "not checked yet" in html
