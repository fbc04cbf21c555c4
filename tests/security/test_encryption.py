"""Issue 19, personal data at rest: guests' names, e-mails, phones, notes and Stripe client secrets are
encrypted with the key ring; lookups by e-mail still work; a key rotation re-encrypts everything."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from apps.bookings import services as booking_services
from apps.bookings.errors import GuestEmailTaken
from apps.bookings.models import Booking, Guest
from apps.core import crypto
from apps.payments.models import Payment
from tests.api.conftest import make_payment
from tests.factories import future

NAME, SURNAME, EMAIL, PHONE, NOTE = (
    "Wilhelmina",
    "Oberkirchner",
    "w.oberkirchner@example.org",
    "+43 664 5550123",
    "Allergic to cats",
)


def _raw_guest(pk: int) -> dict:
    with connection.cursor() as cur:
        cur.execute("SELECT first_name, last_name, email, phone, notes FROM bookings_guest WHERE id = %s", [pk])
        return dict(zip(("first_name", "last_name", "email", "phone", "notes"), cur.fetchone(), strict=True))


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def guest(alice):
    g, _ = booking_services.guest_create(
        owner_id=alice.pk,
        data=booking_services.GuestData(first_name=NAME, last_name=SURNAME, email=EMAIL, phone=PHONE, notes=NOTE),
    )
    return g


def test_the_guest_table_holds_no_plaintext(guest):
    raw = _raw_guest(guest.pk)
    for column, plain in zip(raw, (NAME, SURNAME, EMAIL, PHONE, NOTE), strict=True):
        assert plain.lower() not in raw[column].lower(), column
        assert raw[column].startswith(("v1:", "d1:")), column
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM bookings_guest t WHERE t::text ILIKE ANY (%s)",
            [[f"%{NAME}%", f"%{EMAIL}%", f"%{PHONE}%"]],
        )
        assert cur.fetchone()[0] == 0
        # nor the audit log's before/after of the guest rows
        cur.execute(
            "SELECT count(*) FROM core_auditentry t WHERE table_name = 'bookings_guest' AND t::text ILIKE %s",
            [f"%{EMAIL}%"],
        )
        assert cur.fetchone()[0] == 0
    # Python sees the plaintext
    fresh = Guest.objects.get(pk=guest.pk)
    assert (fresh.first_name, fresh.last_name, fresh.email, fresh.phone, fresh.notes) == (
        NAME,
        SURNAME,
        EMAIL,
        PHONE,
        NOTE,
    )


def test_lookups_by_email_still_work(alice, bob, guest):
    assert Guest.objects.get(owner=alice, email=EMAIL) == guest
    assert Guest.objects.get(owner=alice, email__iexact="  W.Oberkirchner@Example.ORG ") == guest
    assert list(Guest.objects.filter(email__in=[EMAIL, "nobody@example.org"])) == [guest]
    assert not Guest.objects.filter(email="nobody@example.org").exists()
    assert Guest.objects.filter(email="").count() == 0
    # the same e-mail in the same guest book is refused (service and database), another owner may have it
    with pytest.raises(GuestEmailTaken):
        booking_services.guest_create(
            owner_id=alice.pk,
            data=booking_services.GuestData(first_name="X", email=EMAIL.upper()),
            update_existing=False,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Guest.objects.create(owner=alice, first_name="Twin", email=EMAIL)
    other, created = booking_services.guest_create(
        owner_id=bob.pk, data=booking_services.GuestData(first_name="Y", email=EMAIL)
    )
    assert created and other.owner == bob
    # a booking by e-mail finds the guest (portal magic link, API filter, booking by contact)
    booking = booking_services.booking_create(
        property_id=_prop(alice).pk,
        check_in=future(10),
        check_out=future(12),
        guests=1,
        status="confirmed",
        guest=guest,
    )
    assert Booking.objects.filter(reference=booking.reference, guest__email__iexact=EMAIL.upper()).exists()


def _prop(owner):
    from tests.factories import PropertyFactory

    return PropertyFactory(owner=owner)


def test_client_secrets_are_encrypted(alice, guest):
    booking = booking_services.booking_create(
        property_id=_prop(alice).pk,
        check_in=future(10),
        check_out=future(12),
        guests=1,
        status="confirmed",
        guest=guest,
    )
    payment = make_payment(booking, secret="pi_123_secret_plaintext_value")  # noqa: S106
    with connection.cursor() as cur:
        cur.execute("SELECT client_secret FROM payments_payment WHERE id = %s", [payment.pk])
        stored = cur.fetchone()[0]
    assert "plaintext_value" not in stored and stored.startswith("v1:")
    assert Payment.objects.get(pk=payment.pk).client_secret == "pi_123_secret_plaintext_value"


def test_a_key_rotation_reencrypts_everything(settings, alice, guest):
    old = settings.CHANNEL_ENCRYPTION_KEYS
    old_id = crypto.keyring().active_id
    booking = booking_services.booking_create(
        property_id=_prop(alice).pk,
        check_in=future(10),
        check_out=future(12),
        guests=1,
        status="confirmed",
        guest=guest,
    )
    make_payment(booking, secret="pi_9_secret_rotate")  # noqa: S106
    new = _key()
    settings.CHANNEL_ENCRYPTION_KEYS = f"{old},k2:{new}"
    settings.CHANNEL_ENCRYPTION_KEY_ID = "k2"
    # during the rotation (new key active, rows still under the old one) lookups still find the guest
    assert Guest.objects.get(owner=alice, email=EMAIL) == guest
    call_command("rotate_encryption_key")
    raw = _raw_guest(guest.pk)
    assert all(value.split(":")[1] == "k2" for value in raw.values() if value), raw
    with connection.cursor() as cur:
        cur.execute("SELECT client_secret FROM payments_payment WHERE booking_id = %s", [booking.pk])
        assert cur.fetchone()[0].split(":")[1] == "k2"
    # the old key retired: everything still reads, lookups still work
    settings.CHANNEL_ENCRYPTION_KEYS = f"k2:{new}"
    fresh = Guest.objects.get(owner=alice, email=EMAIL)
    assert (fresh.first_name, fresh.phone, fresh.notes) == (NAME, PHONE, NOTE)
    assert Payment.objects.get(booking=booking).client_secret == "pi_9_secret_rotate"
    assert old_id != "k2"
