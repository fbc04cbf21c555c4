"""Owners see only their own data in the admin; co-hosts what they were granted; outsiders nothing."""

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from apps.availability import services as block_services
from apps.bookings import services
from apps.bookings.models import Booking, Guest
from apps.core.models import SyncEvent
from apps.properties.models import Property, PropertyPhoto
from tests.factories import UserFactory, future


@pytest.fixture
def world(alice, bob, prop, bob_prop):
    a = services.booking_create(
        property_id=prop.pk,
        check_in=future(5),
        check_out=future(8),
        guests=2,
        guest=services.GuestData(first_name="Ann", email="ann@example.com"),
    )
    b = services.booking_create(
        property_id=bob_prop.pk,
        check_in=future(5),
        check_out=future(8),
        guests=2,
        guest=services.GuestData(first_name="Bert", email="bert@example.com"),
    )
    photo = PropertyPhoto.objects.create(property=bob_prop, url="https://example.com/x.jpg", caption="Bob pic")
    blk = block_services.block_create(property_id=bob_prop.pk, start_date=future(20), end_date=future(22))
    return {"alice_booking": a, "bob_booking": b, "bob_photo": photo, "bob_block": blk}


def bob_objects(world, bob_prop):
    return {
        "properties/property": bob_prop.pk,
        "properties/propertyphoto": world["bob_photo"].pk,
        "bookings/booking": world["bob_booking"].pk,
        "bookings/guest": world["bob_booking"].guest_id,
        "core/syncevent": SyncEvent.objects.filter(property=bob_prop).first().pk,
    }


@pytest.mark.django_db
def test_owner_cannot_list_open_change_or_delete_other_owners_objects(client, alice, world, bob_prop, prop):
    client.force_login(alice)
    for model_path, pk in bob_objects(world, bob_prop).items():
        app, model = model_path.split("/")
        listing = client.get(reverse(f"admin:{app}_{model}_changelist"))
        assert listing.status_code == 200, model_path
        assert f"/{pk}/change/" not in listing.content.decode(), model_path
        change = client.get(reverse(f"admin:{app}_{model}_change", args=[pk]))
        assert change.status_code == 302 and change.url == reverse("admin:index"), model_path  # "doesn't exist"
        delete = client.post(reverse(f"admin:{app}_{model}_delete", args=[pk]), {"post": "yes"})
        assert delete.status_code in (302, 403), model_path
    assert Property.objects.filter(pk=bob_prop.pk).exists()
    assert Booking.objects.filter(pk=world["bob_booking"].pk).exists()
    assert PropertyPhoto.objects.filter(pk=world["bob_photo"].pk).exists()
    # her own are there
    own = client.get(reverse("admin:bookings_booking_change", args=[world["alice_booking"].pk]))
    assert own.status_code == 200 and world["alice_booking"].reference in own.content.decode()
    own_list = client.get(reverse("admin:properties_property_changelist")).content.decode()
    assert prop.name.replace("'", "&#x27;") in own_list and "Bob&#x27;s Cabin" not in own_list


@pytest.mark.django_db
def test_owner_autocomplete_and_fk_choices_are_scoped(client, alice, world, bob_prop, prop):
    client.force_login(alice)
    r = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "bookings", "model_name": "booking", "field_name": "property", "term": ""},
    )
    assert r.status_code == 200
    ids = {int(x["id"]) for x in r.json()["results"]}
    assert ids == {prop.pk}
    add = client.get(reverse("admin:availability_availabilityblock_add")) if _has_block_admin() else None
    if add is not None:
        assert "Bob&#x27;s Cabin" not in add.content.decode()


def _has_block_admin():
    from django.contrib import admin

    from apps.availability.models import AvailabilityBlock

    return AvailabilityBlock in admin.site._registry


@pytest.mark.django_db
def test_owner_cannot_action_other_owners_booking(client, alice, world):
    client.force_login(alice)
    b = world["bob_booking"]
    client.post(reverse("admin:bookings_booking_changelist"), {"action": "action_cancel", "_selected_action": [b.pk]})
    b.refresh_from_db()
    assert b.status == "reserved"


@pytest.mark.django_db
def test_cohost_sees_only_granted_property(client, world, prop, bob_prop):
    from django.contrib.auth.models import Group

    cohost = UserFactory(username="carla")
    cohost.groups.add(Group.objects.get(name="Co-hosts"))
    client.force_login(cohost)
    assert client.get(reverse("admin:properties_property_change", args=[prop.pk])).status_code == 302
    assign_perm("properties.view_property", cohost, prop)
    assign_perm("properties.change_property", cohost, prop)
    assert client.get(reverse("admin:properties_property_change", args=[prop.pk])).status_code == 200
    assert client.get(reverse("admin:properties_property_change", args=[bob_prop.pk])).status_code == 302
    listing = client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    assert world["alice_booking"].reference in listing and world["bob_booking"].reference not in listing
    assert set(Guest.objects.visible_to(cohost).values_list("first_name", flat=True)) == {"Ann"}


@pytest.mark.django_db
def test_outsider_sees_nothing(client, charlie, world):
    client.force_login(charlie)
    for name in ("properties_property", "bookings_booking", "bookings_guest", "core_syncevent"):
        r = client.get(reverse(f"admin:{name}_changelist"))
        assert r.status_code == 403, name  # no model permission at all
    assert Property.objects.visible_to(charlie).count() == 0
    assert Booking.objects.visible_to(charlie).count() == 0
    assert Guest.objects.visible_to(charlie).count() == 0
    assert SyncEvent.objects.visible_to(charlie).count() == 0


@pytest.mark.django_db
def test_anonymous_and_none_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    for user in (None, AnonymousUser()):
        assert Property.objects.visible_to(user).count() == 0
        assert Booking.objects.visible_to(user).count() == 0
        assert Guest.objects.visible_to(user).count() == 0


@pytest.mark.django_db
def test_staff_sees_all(client, staff, world):
    client.force_login(staff)
    listing = client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    assert world["alice_booking"].reference in listing and world["bob_booking"].reference in listing
    assert Property.objects.visible_to(staff).count() == 2


@pytest.mark.django_db
def test_owner_creates_booking_in_admin_and_conflict_is_a_form_error(client, alice, prop, world):
    client.force_login(alice)
    url = reverse("admin:bookings_booking_add")
    data = {
        "property": prop.pk,
        "source": "direct",
        "check_in": future(6).isoformat(),
        "check_out": future(9).isoformat(),
        "guests": 2,
        "status": "confirmed",
        "special_requests": "",
    }
    r = client.post(url, data)
    assert r.status_code == 200 and "not available" in r.content.decode()
    data.update(check_in=future(8).isoformat(), check_out=future(10).isoformat())
    r = client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:3000]
    new = Booking.objects.get(property=prop, check_in=future(8))
    assert new.status == "confirmed" and new.reference.startswith("PMS-")


@pytest.mark.django_db
def test_owner_admin_action_confirms_and_reports_invalid_moves(client, alice, world):
    client.force_login(alice)
    b = world["alice_booking"]
    url = reverse("admin:bookings_booking_changelist")
    client.post(url, {"action": "action_confirm", "_selected_action": [b.pk]})
    b.refresh_from_db()
    assert b.status == "confirmed"
    r = client.post(url, {"action": "action_check_out", "_selected_action": [b.pk]}, follow=True)
    assert "cannot go from" in r.content.decode()
    b.refresh_from_db()
    assert b.status == "confirmed"


@pytest.mark.django_db
def test_view_only_cohost_can_look_but_not_touch(client, world, prop):
    from django.contrib.auth.models import Group

    viewer = UserFactory(username="vera")
    viewer.groups.add(Group.objects.get(name="Co-hosts"))
    assign_perm("properties.view_property", viewer, prop)
    client.force_login(viewer)
    booking = world["alice_booking"]
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    page = client.get(url)
    assert page.status_code == 200 and booking.reference in page.content.decode()
    assert (
        client.post(
            url,
            {
                "check_in": future(30).isoformat(),
                "check_out": future(32).isoformat(),
                "guests": 1,
                "special_requests": "",
            },
        ).status_code
        == 403
    )
    client.post(
        reverse("admin:bookings_booking_changelist"), {"action": "action_cancel", "_selected_action": [booking.pk]}
    )
    booking.refresh_from_db()
    assert booking.status == "reserved" and booking.check_in == future(5)
    # and no new rows under a property they may only view
    add = client.get(reverse("admin:bookings_booking_add")).content.decode()
    assert f'value="{prop.pk}"' not in add
    assert Property.objects.managed_by(viewer).count() == 0 and Property.objects.visible_to(viewer).count() == 1
