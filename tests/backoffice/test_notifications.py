"""Owner notifications: one per cause (a replayed outbox event notifies nobody twice), e-mailed once in
the owner's language, per-owner preferences, channel alerts and the daily digest; an owner sees only
their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.backoffice import notifications
from apps.backoffice.models import NotificationPreference, OwnerNotification
from apps.bookings import services as booking_services
from apps.bookings.models import BookingStatus
from apps.channels.models import ChannelAlert
from apps.core.models import SyncEvent
from apps.core.outbox import event_dispatch
from tests.factories import future


@pytest.fixture(autouse=True)
def only_notifications(settings):
    settings.OUTBOX_HANDLERS = ["apps.backoffice.notifications.handle_event"]


def book(prop, start, nights=3, **kwargs):
    values = {
        "property_id": prop.pk,
        "check_in": start,
        "check_out": start + timedelta(days=nights),
        "guests": 2,
        "status": BookingStatus.CONFIRMED,
        "guest": booking_services.GuestData(first_name="Greta", last_name="Gast", email="greta@example.com"),
        "enforce_rules": False,
        **kwargs,
    }
    return booking_services.booking_create(**values)


def dispatch_all(prop):
    for event in SyncEvent.objects.filter(property=prop, processed_at__isnull=True).order_by("created_at"):
        event_dispatch(event_id=str(event.pk))


@pytest.mark.django_db
def test_a_new_channel_booking_sends_one_email_in_the_owners_language_and_a_replay_none(alice, prop):
    NotificationPreference.objects.create(user=alice, language="de")
    booking = book(prop, future(10), source="booking_com", external_id="BDC-1")
    dispatch_all(prop)
    mail.outbox.clear()
    assert notifications.notifications_send() == 1
    [message] = mail.outbox
    assert message.to == [alice.email]
    assert (
        message.subject == f"Neue Buchung {booking.reference}: {prop.name}, {booking.check_in} bis {booking.check_out}"
    )
    assert "Über: Booking.com" in message.body and "Greta Gast" in message.body
    # the event replayed (a sweeper after a crash, a second worker): no second notification, no e-mail
    event = SyncEvent.objects.get(event_type="booking.created", entity_id=str(booking.pk))
    SyncEvent.objects.filter(pk=event.pk).update(processed_at=None)
    assert event_dispatch(event_id=str(event.pk)) is True
    notifications.handle_event(event)
    assert notifications.notifications_send() == 0
    assert len(mail.outbox) == 1
    assert OwnerNotification.objects.filter(recipient=alice).count() == 1


@pytest.mark.django_db
def test_changed_and_cancelled_bookings_notify_a_hold_does_not(alice, bob, prop, bob_prop):
    hold = book(prop, future(30), status=BookingStatus.RESERVED)
    dispatch_all(prop)
    assert not OwnerNotification.objects.exists()  # a checkout's hold is not a booking yet
    booking_services.booking_confirm(booking_id=hold.pk)
    booking = book(prop, future(10))
    booking_services.booking_update(booking_id=booking.pk, check_out=future(14))
    booking_services.booking_cancel(booking_id=booking.pk, reason="test")
    book(bob_prop, future(10))
    dispatch_all(prop)
    dispatch_all(bob_prop)
    kinds = list(OwnerNotification.objects.filter(recipient=alice).order_by("id").values_list("kind", flat=True))
    assert kinds == ["booking_new", "booking_new", "booking_changed", "booking_cancelled"]
    assert list(OwnerNotification.objects.filter(recipient=bob).values_list("kind", flat=True)) == ["booking_new"]
    mail.outbox.clear()
    assert notifications.notifications_send() == 5
    assert sorted(m.to[0] for m in mail.outbox) == [alice.email] * 4 + [bob.email]
    assert all(m.subject.startswith(("New booking", "Booking")) for m in mail.outbox)  # English by default


@pytest.mark.django_db
def test_preferences_decide_what_is_emailed(client, alice, prop):
    client.force_login(alice)
    response = client.post(
        reverse("admin:backoffice_notifications"),
        {"language": "en", "email_bookings": "", "email_channel_problems": "on", "email_daily_digest": "on"},
    )
    assert response.status_code == 302
    book(prop, future(10))
    dispatch_all(prop)
    ChannelAlert.objects.create(property=prop, kind="conflict", message="Refused BDC-9: dates taken")
    assert notifications.alerts_collect() == 1 and notifications.alerts_collect() == 0
    mail.outbox.clear()
    assert notifications.notifications_send() == 1
    [message] = mail.outbox
    assert "refused" in message.subject and "Refused BDC-9" in message.body
    assert OwnerNotification.objects.get(kind="booking_new").email_status == "skipped"


@pytest.mark.django_db
def test_daily_digest_once_per_owner_and_day(alice, bob, prop, bob_prop):
    tomorrow = timezone.localdate() + timedelta(days=1)
    book(prop, tomorrow, 2)
    book(bob_prop, tomorrow - timedelta(days=3), 3)
    assert notifications.digest_create() == 2 and notifications.digest_create() == 0
    alice_digest = OwnerNotification.objects.get(recipient=alice, kind="digest")
    assert "1 arrival(s), 0 departure(s)" in alice_digest.subject and "Greta Gast" in alice_digest.body
    bob_digest = OwnerNotification.objects.get(recipient=bob, kind="digest")
    assert "0 arrival(s), 1 departure(s)" in bob_digest.subject and prop.name not in bob_digest.body


@pytest.mark.django_db
def test_an_owner_sees_only_their_own_notifications(client, alice, bob, prop, bob_prop):
    book(prop, future(10))
    bob_booking = book(bob_prop, future(10))
    dispatch_all(prop)
    dispatch_all(bob_prop)
    client.force_login(alice)
    page = client.get(reverse("admin:backoffice_notifications")).content.decode()
    assert "New booking" in page and bob_booking.reference not in page and "Bob" not in page
    assert 'id="fig-unread">1<' in client.get(reverse("admin:index")).content.decode()
    client.post(reverse("admin:backoffice_notifications"), {"action": "read"})
    assert not OwnerNotification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    assert OwnerNotification.objects.filter(recipient=bob, read_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_open_breaker_and_failed_payment_notify_the_owner_once(alice, bob, prop, bob_prop, settings):
    from apps.bookings.models import Booking
    from apps.channels import breaker
    from apps.channels import redis as chredis
    from apps.channels.models import ChannelConnection

    for key in chredis.client().scan_iter(f"{settings.CHANNEL_REDIS_PREFIX}:*"):
        chredis.client().delete(key)
    ChannelConnection.objects.create(property=prop, platform="booking_com", external_property_id="55")
    try:
        assert notifications.breakers_collect() == 0  # closed: nothing to tell
        for _ in range(settings.CHANNEL_BREAKER_THRESHOLD):
            breaker.record_failure("booking_com")
        assert notifications.breakers_collect() == 1 and notifications.breakers_collect() == 0
        note = OwnerNotification.objects.get(kind="breaker_open")
        assert note.recipient == alice and "Booking.com keeps failing" in note.subject
    finally:
        breaker.reset("booking_com")
    booking = book(bob_prop, future(12))
    Booking.objects.filter(pk=booking.pk).update(payment_status="failed")
    assert notifications.payments_collect() == 1 and notifications.payments_collect() == 0
    assert OwnerNotification.objects.get(kind="payment_failed").recipient == bob


@pytest.mark.django_db
def test_a_failing_notification_never_holds_the_event_back(alice, prop, settings, monkeypatch):
    settings.OUTBOX_HANDLERS = [
        "apps.backoffice.notifications.handle_event",
        "tests.foundation.outbox_handlers.record",
    ]
    from tests.foundation import outbox_handlers

    outbox_handlers.CALLS.clear()

    def boom(*args, **kwargs):
        raise RuntimeError("template broken")

    monkeypatch.setattr(notifications, "_booking_text", boom)
    booking = book(prop, future(10))
    event = SyncEvent.objects.get(event_type="booking.created", entity_id=str(booking.pk))
    assert event_dispatch(event_id=str(event.pk)) is True  # processed: the channels got it
    assert outbox_handlers.CALLS == ["booking.created"]  # the next handler (the channels') still ran
    assert not OwnerNotification.objects.exists()


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_is_taken_over_later(alice, prop):
    book(prop, future(10))
    dispatch_all(prop)
    note = OwnerNotification.objects.get()
    now = timezone.now()
    OwnerNotification.objects.filter(pk=note.pk).update(email_status="sending", emailed_at=now - timedelta(minutes=1))
    mail.outbox.clear()
    assert notifications.notifications_send(now=now) == 0  # another worker may be sending it right now
    assert notifications.notifications_send(now=now + timedelta(minutes=15)) == 1
    assert len(mail.outbox) == 1 and OwnerNotification.objects.get().email_status == "sent"
