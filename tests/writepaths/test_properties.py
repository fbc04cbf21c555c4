"""Properties are written through apps.properties.services only, from the admin and the API alike;
every change channels must show writes its outbox event in the same transaction (finding 3).
Deleting a property is its owner's (or staff's) alone (finding 8)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from apps.bookings import services as booking_services
from apps.core.models import SyncEvent
from apps.properties.models import Property
from tests.api.test_basics import assert_error
from tests.factories import PropertyFactory, future

from .conftest import property_form_data

pytestmark = pytest.mark.django_db

CHANNEL_EVENTS = (SyncEvent.Type.PRICING_UPDATED, SyncEvent.Type.AVAILABILITY_UPDATED)


def services():
    from apps.properties import services as property_services

    return property_services


def channel_events(prop):
    return list(SyncEvent.objects.filter(property=prop, event_type__in=CHANNEL_EVENTS).order_by("created_at"))


# --- the service ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, event_type",
    [
        ("base_price", Decimal("150.00"), SyncEvent.Type.PRICING_UPDATED),
        ("cleaning_fee", Decimal("45.00"), SyncEvent.Type.PRICING_UPDATED),
        ("default_min_stay", 3, SyncEvent.Type.AVAILABILITY_UPDATED),
        ("default_max_stay", 14, SyncEvent.Type.AVAILABILITY_UPDATED),
        ("max_guests", 6, SyncEvent.Type.AVAILABILITY_UPDATED),
        ("status", "inactive", SyncEvent.Type.AVAILABILITY_UPDATED),
    ],
)
def test_every_change_channels_must_show_emits_its_event(prop, field, value, event_type):
    services().property_update(property_id=prop.pk, **{field: value})
    prop.refresh_from_db()
    assert getattr(prop, field) == value
    events = channel_events(prop)
    assert [e.event_type for e in events] == [event_type]
    assert events[0].payload["fields"] == [field] and events[0].entity_type == "property"


def test_a_change_channels_do_not_show_emits_nothing(prop):
    services().property_update(property_id=prop.pk, description="Now with a balcony.")
    services().property_update(property_id=prop.pk, base_price=prop.base_price)  # unchanged value
    assert channel_events(prop) == []


def test_invalid_changes_are_refused_whole_and_emit_nothing(prop):
    from apps.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        services().property_update(
            property_id=prop.pk, base_price=Decimal("120"), default_min_stay=9, default_max_stay=3
        )
    assert "default_max_stay" in exc.value.details
    with pytest.raises(ValidationFailed):
        services().property_update(property_id=prop.pk, ical_token="guessable")  # not a writable field
    prop.refresh_from_db()
    assert prop.base_price == Decimal("100.00") and channel_events(prop) == []


def test_archive_closes_the_property_for_channels(prop):
    services().property_archive(property_id=prop.pk)
    prop.refresh_from_db()
    assert prop.status == Property.Status.INACTIVE
    assert [e.payload["fields"] for e in channel_events(prop)] == [["status"]]
    from apps.channels.selectors import calendar_states

    assert not any(d.available for d in calendar_states(prop=prop, start=future(1), end=future(5)))


# --- admin and API call it ----------------------------------------------------------------------------


def test_admin_price_change_writes_the_pricing_event(client, alice, prop):
    client.force_login(alice)
    url = reverse("admin:properties_property_change", args=[prop.pk])
    response = client.post(url, property_form_data(prop, base_price="135.00"))
    assert response.status_code == 302, response.content.decode()[:3000]
    prop.refresh_from_db()
    assert prop.base_price == Decimal("135.00")
    assert [(e.event_type, e.payload["fields"]) for e in channel_events(prop)] == [
        (SyncEvent.Type.PRICING_UPDATED, ["base_price"])
    ]


def test_admin_capacity_and_stay_changes_write_the_availability_event(client, alice, prop):
    client.force_login(alice)
    url = reverse("admin:properties_property_change", args=[prop.pk])
    response = client.post(url, property_form_data(prop, max_guests=6, default_min_stay=2))
    assert response.status_code == 302
    [event] = channel_events(prop)
    assert event.event_type == SyncEvent.Type.AVAILABILITY_UPDATED
    assert sorted(event.payload["fields"]) == ["default_min_stay", "max_guests"]


def test_admin_add_goes_through_the_service_and_owner_is_the_user(client, alice, bob):
    client.force_login(alice)
    stub = PropertyFactory.build(owner=alice, name="New Flat", slug="new-flat")
    url = reverse("admin:properties_property_add")
    assert client.post(url, property_form_data(stub, owner=bob.pk)).status_code == 200  # not a valid choice
    assert not Property.objects.filter(slug="new-flat").exists()
    response = client.post(url, property_form_data(stub))
    assert response.status_code == 302, response.content.decode()[:3000]
    made = Property.objects.get(slug="new-flat")
    assert made.owner == alice and channel_events(made) == []


def test_api_price_change_writes_the_pricing_event(alice_api, prop):
    response = alice_api.patch(f"/api/v1/properties/{prop.pk}/", {"base_price": "140.00"}, format="json")
    assert response.status_code == 200, response.content
    [event] = channel_events(prop)
    assert event.event_type == SyncEvent.Type.PRICING_UPDATED and event.source == "api"
    response = alice_api.patch(f"/api/v1/properties/{prop.pk}/", {"status": "inactive"}, format="json")
    assert response.status_code == 200
    assert channel_events(prop)[-1].event_type == SyncEvent.Type.AVAILABILITY_UPDATED


def test_api_outsider_cannot_change_or_delete(bob_api, charlie_api, prop):
    for api in (bob_api, charlie_api):
        assert_error(api.patch(f"/api/v1/properties/{prop.pk}/", {"base_price": "1.00"}, format="json"), 404)
        assert_error(api.delete(f"/api/v1/properties/{prop.pk}/"), 404)
    prop.refresh_from_db()
    assert prop.base_price == Decimal("100.00") and channel_events(prop) == []


def test_api_garbage_is_a_clear_4xx(alice_api, prop):
    url = f"/api/v1/properties/{prop.pk}/"
    for body in (
        {"base_price": "1e40"},
        {"base_price": "-1"},
        {"max_guests": 10**12},
        {"name": "x\x00y"},
        {"default_min_stay": 5, "default_max_stay": 2},
        {"status": "gone"},
    ):
        response = alice_api.patch(url, body, format="json")
        assert 400 <= response.status_code < 500, (body, response.content)
    assert channel_events(prop) == []


# --- deleting ---------------------------------------------------------------------------------------


def test_delete_is_refused_while_bookings_or_channels_reference_it(alice_api, prop):
    booking_services.booking_create(property_id=prop.pk, check_in=future(5), check_out=future(7), guests=1)
    assert_error(alice_api.delete(f"/api/v1/properties/{prop.pk}/"), 409, "protected")
    other = PropertyFactory(owner=prop.owner)
    from apps.channels.models import ChannelConnection

    ChannelConnection.objects.create(property=other, platform="airbnb")
    err = assert_error(alice_api.delete(f"/api/v1/properties/{other.pk}/"), 409, "protected")
    assert "channel" in err["message"].lower()
    assert Property.objects.filter(pk__in=[prop.pk, other.pk]).count() == 2


def test_cohost_who_is_also_an_owner_cannot_delete_a_shared_property_in_the_admin(client, prop, bob):
    """Bob owns his own cabin (so he holds the Owners group's delete permission) and co-hosts Alice's loft."""
    assign_perm("properties.view_property", bob, prop)
    assign_perm("properties.change_property", bob, prop)
    client.force_login(bob)
    delete_url = reverse("admin:properties_property_delete", args=[prop.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:properties_property_changelist")
    response = client.post(changelist, {"action": "delete_selected", "_selected_action": [prop.pk], "post": "yes"})
    assert response.status_code in (302, 403)
    assert Property.objects.filter(pk=prop.pk).exists()
    # he may still change it (co-host with change access)
    page = client.get(reverse("admin:properties_property_change", args=[prop.pk]))
    assert page.status_code == 200 and 'name="base_price"' in page.content.decode()


def test_owner_deletes_own_empty_property_in_the_admin(client, alice):
    empty = PropertyFactory(owner=alice)
    client.force_login(alice)
    response = client.post(reverse("admin:properties_property_delete", args=[empty.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Property.objects.filter(pk=empty.pk).exists()
