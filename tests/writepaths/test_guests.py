"""Guests: e-mails normalised on every write path (the same guest is never stored twice); a booking never
changes an existing guest's identity (the contact given is kept on the booking); a lookup by e-mail
only finds what the caller may see (finding 3, finding 7)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from apps.bookings import services
from apps.bookings.models import Booking, Guest
from tests.factories import PropertyFactory, future
from tests.storefront.helpers import GUEST, checkout_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def regular(alice, prop):
    """Alice's long-standing guest with her private notes, who booked Alice's loft."""
    guest = Guest.objects.create(
        owner=alice, first_name="Renate", last_name="Regular", email="renate@example.com", phone="+49 1",
        country="DE", notes="VIP, allergic to cats",
    )  # fmt: skip
    services.booking_create(
        property_id=prop.pk, check_in=future(60), check_out=future(62), guests=1, guest=guest, status="confirmed"
    )
    return guest


def unchanged(guest) -> bool:
    fresh = Guest.objects.get(pk=guest.pk)
    return (fresh.first_name, fresh.last_name, fresh.phone, fresh.country, fresh.notes) == (
        guest.first_name, guest.last_name, guest.phone, guest.country, guest.notes,
    )  # fmt: skip


# --- normalisation ---------------------------------------------------------------------------------------


def test_admin_guest_add_normalises_the_email_and_refuses_a_twin(client, alice, regular):
    client.force_login(alice)
    url = reverse("admin:bookings_guest_add")
    data = {"first_name": "Renate", "last_name": "", "email": "  RENATE@Example.COM ", "phone": "", "country": "",
            "language": "en", "notes": ""}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 200 and "already" in response.content.decode()
    assert Guest.objects.filter(owner=alice).count() == 1
    response = client.post(url, {**data, "email": " New.Guest@Example.COM", "country": "de"})
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Guest.objects.get(owner=alice, email="new.guest@example.com")  # names are encrypted: found by e-mail
    assert made.first_name == "Renate"
    assert (made.email, made.country) == ("new.guest@example.com", "DE")


def test_admin_guest_change_normalises_and_refuses_a_twin(client, alice, regular):
    other = services.guest_create(owner_id=alice.pk, data=services.GuestData(first_name="Otto", email="otto@x.de"))[0]
    client.force_login(alice)
    url = reverse("admin:bookings_guest_change", args=[other.pk])
    data = {"first_name": "Otto", "last_name": "", "email": "Renate@EXAMPLE.com", "phone": "", "country": "",
            "language": "en", "notes": ""}  # fmt: skip
    assert client.post(url, data).status_code == 200
    assert Guest.objects.get(pk=other.pk).email == "otto@x.de"
    assert client.post(url, {**data, "email": "OTTO.NEW@x.de"}).status_code == 302
    assert Guest.objects.get(pk=other.pk).email == "otto.new@x.de"


def test_the_database_refuses_a_mixed_case_twin(alice):
    """E-mails are normalised before they are encrypted (issue 19): whatever the path, "Mixed@Example.com"
    is stored as "mixed@example.com", and its twin in other case is refused by the unique constraint."""
    first = Guest.objects.create(owner=alice, first_name="X", email=" Mixed@Example.com")
    assert Guest.objects.get(pk=first.pk).email == "mixed@example.com"
    with pytest.raises(IntegrityError), transaction.atomic():
        Guest.objects.create(owner=alice, first_name="Y", email="MIXED@example.COM")


# --- anonymous checkout ----------------------------------------------------------------------------------


def test_anonymous_checkout_never_changes_an_existing_guest(client, prop, regular, stripe_sandbox):
    response = client.post(
        checkout_url(prop.slug, future(40), future(43)),
        {**GUEST, "first_name": "Mallory", "last_name": "Evil", "email": "RENATE@example.com",
         "phone": "+43 666 1234", "country": "AT"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert unchanged(regular)
    booking = Booking.objects.get(property=prop, check_in=future(40))
    assert booking.guest_id == regular.pk  # the same address: the same guest, untouched
    assert booking.guest_contact["first_name"] == "Mallory" and booking.guest_contact["phone"] == "+43 666 1234"
    # what the anonymous caller sees afterwards shows only what they typed
    from apps.bookings import tokens

    page = client.get(tokens.confirmation_path(reference=booking.reference)).content.decode()
    assert "Regular" not in page and "Renate" not in page


def test_failed_checkout_leaves_the_guest_untouched(client, prop, regular, settings):
    """The payment cannot start (no Stripe configured): the hold is released, the guest untouched."""
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = ""
    response = client.post(
        checkout_url(prop.slug, future(40), future(43)),
        {**GUEST, "first_name": "Mallory", "email": "renate@example.com"},
    )
    assert response.status_code == 503
    assert unchanged(regular)
    services.booking_create(property_id=prop.pk, check_in=future(40), check_out=future(43), guests=1)  # taken
    response = client.post(
        checkout_url(prop.slug, future(40), future(43)),
        {**GUEST, "first_name": "Mallory", "email": "renate@example.com"},
    )
    assert response.status_code == 409
    assert unchanged(regular)


def test_new_guest_from_checkout_gets_a_record(client, prop, stripe_sandbox):
    client.post(checkout_url(prop.slug, future(40), future(43)), {**GUEST, "email": "Fresh@Example.com"})
    guest = Guest.objects.get(email="fresh@example.com")
    assert guest.owner_id == prop.owner_id and guest.first_name == GUEST["first_name"]


# --- co-hosts and outsiders through the API ----------------------------------------------------------------


@pytest.fixture
def other_loft(alice):
    return PropertyFactory(owner=alice, name="Alice's second flat")


@pytest.fixture
def shared_cohost(other_loft):
    """Co-host of Alice's second flat only (view + change)."""
    from .conftest import make_cohost

    return make_cohost("colin", other_loft, change=True)


def test_cohost_inquiry_with_a_foreign_guests_email_gets_nothing_of_that_guest(shared_cohost, other_loft, regular):
    from .conftest import client_for

    api = client_for(shared_cohost)
    response = api.post(
        "/api/v1/bookings/",
        {"property": other_loft.pk, "check_in": str(future(20)), "check_out": str(future(22)), "guests": 1,
         "status": "inquiry", "guest": {"first_name": "Mallory", "email": "renate@example.com"}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    text = response.content.decode()
    assert "VIP" not in text and "Regular" not in text and "+49 1" not in text
    assert body["guest"] is None or body["guest"]["id"] != regular.pk
    assert body["guest_contact"]["first_name"] == "Mallory"
    assert unchanged(regular)
    # and the guest stays out of the co-host's sight afterwards
    assert api.get(f"/api/v1/guests/{regular.pk}/").status_code == 404
    assert api.get("/api/v1/guests/?email=renate@example.com").json()["count"] == 0
    assert api.patch(f"/api/v1/guests/{regular.pk}/", {"first_name": "X"}, format="json").status_code == 404


def test_cohost_guest_create_never_reaches_the_owners_guest(shared_cohost, regular):
    from .conftest import client_for

    api = client_for(shared_cohost)
    response = api.post("/api/v1/guests/", {"first_name": "Mallory", "email": "renate@example.com"}, format="json")
    assert response.status_code in (200, 201)
    assert response.json()["id"] != regular.pk and "VIP" not in response.content.decode()
    assert unchanged(regular)


def test_owner_api_booking_attaches_her_own_guest_without_changing_it(alice_api, prop, regular):
    response = alice_api.post(
        "/api/v1/bookings/",
        {"property": prop.pk, "check_in": str(future(20)), "check_out": str(future(22)), "guests": 1,
         "guest": {"first_name": "Renata", "email": "Renate@Example.com"}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json()["guest"]["id"] == regular.pk and unchanged(regular)
    assert response.json()["guest_contact"]["first_name"] == "Renata"


def test_outsider_gets_nothing(bob_api, charlie_api, prop, regular):
    for api in (bob_api, charlie_api):
        assert api.get(f"/api/v1/guests/{regular.pk}/").status_code == 404
        assert api.get("/api/v1/guests/?email=renate@example.com").json()["count"] == 0
        response = api.post(
            "/api/v1/bookings/",
            {"property": prop.pk, "check_in": str(future(20)), "check_out": str(future(22)), "guests": 1,
             "guest": {"first_name": "M", "email": "renate@example.com"}},
            format="json",
        )  # fmt: skip
        assert response.status_code in (400, 403, 404)
    assert unchanged(regular)


def test_admin_booking_guest_must_belong_to_the_property_owner(client, cohost, prop, regular):
    """A co-host's own guest book is not the owner's: picking one of its guests is a form error."""
    own = Guest.objects.create(owner=cohost, first_name="Private", email="private@example.com", notes="secret")
    client.force_login(cohost)
    response = client.post(
        reverse("admin:bookings_booking_add"),
        {"property": prop.pk, "guest": own.pk, "check_in": str(future(20)), "check_out": str(future(22)),
         "guests": 1, "status": "confirmed", "special_requests": ""},
    )  # fmt: skip
    assert response.status_code == 200
    assert not Booking.objects.filter(guest=own).exists()


def test_garbage_guest_input_is_a_clear_4xx(alice_api, prop):
    for guest in ({"first_name": "A" * 10_000}, {"first_name": "x\x00"}, {"first_name": "A", "email": "a@" + "b" * 300},
                  {"first_name": ["A"]}, {"first_name": {"deep": {"deeper": 1}}}):  # fmt: skip
        response = alice_api.post(
            "/api/v1/bookings/",
            {"property": prop.pk, "check_in": str(future(20)), "check_out": str(future(22)), "guests": 1,
             "guest": guest},
            format="json",
        )  # fmt: skip
        assert response.status_code == 400, (guest, response.content)
