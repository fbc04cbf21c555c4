"""Expedia connections in the admin, and the trust boundary with a second owner: what arrives through
one connection touches that connection's property only, and answers reveal nothing about others."""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse

from apps.bookings.models import Booking
from apps.channels.adapters.expedia import BR_NS
from apps.channels.inbound import reservations_pull
from apps.channels.models import ChannelAlert, ChannelConnection
from apps.sandbox import expedia as sim
from apps.sandbox.models.expedia import ExpHotel
from tests.factories import future

from .conftest import BN_PASSWORD, BN_USER, EQC_PASSWORD, EQC_USER, make_expedia_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _form(prop, **extra):
    return {
        "property": prop.pk,
        "platform": "expedia",
        "label": "",
        "external_property_id": "111",
        "external_room_id": "201",
        "external_rate_plan_id": "2001",
        "base_url": "",
        "auth_scheme": "basic",
        "username": EQC_USER,
        "ical_import_url": "",
        "ical_source": "",
        "sync_enabled": "on",
        "access_token": EQC_PASSWORD,
        "webhook_secret": BN_PASSWORD,
        "reservation_model": "push",
        "bn_username": BN_USER,
        **extra,
    }


def test_owner_connects_a_property_in_the_admin_and_tests_the_connection(client, alice, prop, hotel, live_server):
    client.force_login(alice)
    data = _form(prop, base_url=live_server.url + "/sandbox/expedia")
    response = client.post(reverse("admin:channels_channelconnection_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    conn = ChannelConnection.objects.get(property=prop, platform="expedia")
    assert conn.settings == {"reservation_model": "push", "bn_username": BN_USER}
    assert conn.get_secret("access_token") == EQC_PASSWORD and conn.get_secret("webhook_secret") == BN_PASSWORD
    assert EQC_PASSWORD not in conn.access_token_encrypted
    page = client.get(reverse("admin:channels_channelconnection_change", args=[conn.pk])).content.decode()
    assert EQC_PASSWORD not in page and BN_PASSWORD not in page and 'value="push" selected' in page
    response = client.post(
        reverse("admin:channels_channelconnection_changelist"),
        {"action": "test_connection", "_selected_action": [conn.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert "Connected: Expedia accepted the EQC credentials for hotel 111" in text
    conn.set_secret("access_token", "wrong")
    conn.save()
    response = client.post(
        reverse("admin:channels_channelconnection_changelist"),
        {"action": "test_connection", "_selected_action": [conn.pk]},
        follow=True,
    )
    assert "1001" in response.content.decode()


@pytest.fixture
def two_owners(prop, bob_prop, hotel, live_server):
    """Alice (hotel 111) and Bob (hotel 211), both on Booking Notification with their own credentials."""
    bob_hotel = ExpHotel.objects.create(hotel_id="211", username="bob-eqc", password="bob-pass")
    base = live_server.url + "/sandbox/expedia"
    bn_url = live_server.url + "/webhooks/expedia/bn/"
    ExpHotel.objects.filter(pk=hotel.pk).update(
        reservation_model="push", bn_url=bn_url, bn_username=BN_USER, bn_password=BN_PASSWORD
    )
    ExpHotel.objects.filter(pk=bob_hotel.pk).update(
        reservation_model="push", bn_url=bn_url, bn_username="bob-bn", bn_password="bob-bn-pass"
    )
    alice_conn = make_expedia_connection(prop, base_url=base, model="push")
    bob_conn = ChannelConnection(
        property=bob_prop,
        platform="expedia",
        external_property_id="211",
        external_room_id="201",
        external_rate_plan_id="2001",
        base_url=base,
        username="bob-eqc",
        settings={"reservation_model": "push", "bn_username": "bob-bn"},
    )
    bob_conn.set_secret("access_token", "bob-pass")
    bob_conn.set_secret("webhook_secret", "bob-bn-pass")
    bob_conn.save()
    hotel.refresh_from_db()
    bob_hotel.refresh_from_db()
    return alice_conn, bob_conn, hotel, bob_hotel


def test_a_second_owner_cannot_cancel_or_move_anothers_expedia_booking(prop, bob_prop, two_owners):
    alice_conn, bob_conn, hotel, bob_hotel = two_owners
    txn = sim.guest_books(hotel=hotel, check_in=future(10), check_out=future(13))
    alice_booking = Booking.objects.get(external_id=txn.booking.booking_id)
    # Bob's hotel sends, with Bob's valid credentials, a modification naming Alice's Expedia id:
    # it can only ever land on Bob's own property
    moved = sim.modify_booking(booking=txn.booking, check_in=future(30), check_out=future(32))
    moved.booking.hotel = bob_hotel
    requests.post(bob_hotel.bn_url, data=sim.bn_message(moved, retry=False), timeout=30)
    alice_booking.refresh_from_db()
    assert (alice_booking.check_in, alice_booking.status) == (future(10), "confirmed")
    assert not Booking.objects.filter(property=prop).exclude(pk=alice_booking.pk).exists()
    # ...or a cancellation: unknown to Bob's connection, Alice's booking untouched
    forged = sim.cancel_booking(booking=txn.booking)
    forged.booking.hotel = bob_hotel
    answer = requests.post(bob_hotel.bn_url, data=sim.bn_message(forged, retry=False), timeout=30)
    assert answer.status_code == 200 and alice_booking.reference not in answer.text
    alice_booking.refresh_from_db()
    assert alice_booking.status == "confirmed"
    collision = ChannelAlert.objects.filter(kind="id_collision")
    assert collision.exists() and all(a.property_id is None for a in collision)  # staff only
    # Bob's BN credentials on Alice's hotel id: the same fault as an unknown hotel
    stolen = sim.bn_message(sim.create_booking(hotel=hotel, check_in=future(40), check_out=future(41)), retry=False)
    stolen = stolen.replace(
        f'Username="{BN_USER}" Password="{BN_PASSWORD}"'.encode(), b'Username="bob-bn" Password="bob-bn-pass"'
    )
    answer = requests.post(hotel.bn_url, data=stolen, timeout=30)
    assert answer.status_code == 403 and "Authentication failed." in answer.text


def test_bookings_are_pulled_only_for_the_connections_own_hotel(prop, bob_prop, two_owners):
    alice_conn, bob_conn, hotel, bob_hotel = two_owners
    for conn in (alice_conn, bob_conn):
        conn.settings = {**conn.settings, "reservation_model": "pull"}
        conn.save()
    sim.create_booking(hotel=hotel, check_in=future(10), check_out=future(12))
    bob_txn = sim.create_booking(hotel=bob_hotel, check_in=future(10), check_out=future(12))
    assert reservations_pull(connection_id=bob_conn.pk).created == 1
    assert list(Booking.objects.filter(source="expedia").values_list("property_id", "external_id")) == [
        (bob_prop.pk, bob_txn.booking.booking_id)
    ]
    # EQC itself refuses Bob's user on Alice's hotel (1000), the same as a wrong hotel id
    body = (
        f'<BookingRetrievalRQ xmlns="{BR_NS}"><Authentication username="bob-eqc" password="bob-pass"/>'
        '<Hotel id="111"/></BookingRetrievalRQ>'
    )
    answer = requests.post(alice_conn.base_url + "/eqc/br", data=body, timeout=30).text
    assert 'code="1000"' in answer and "<Booking " not in answer
