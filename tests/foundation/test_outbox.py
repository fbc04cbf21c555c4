import time

import pytest
from django.db import transaction

from apps.bookings import services
from apps.bookings.models import Booking
from apps.core import outbox
from apps.core.models import SyncEvent
from apps.core.tasks import sweep_outbox
from tests.celery_worker import celery_worker_process  # noqa: F401
from tests.factories import future

from . import outbox_handlers


@pytest.fixture
def recording_handler(settings):
    settings.OUTBOX_HANDLERS = ["tests.foundation.outbox_handlers.record"]
    outbox_handlers.CALLS.clear()
    outbox_handlers.FAIL["on"] = False
    yield outbox_handlers
    outbox_handlers.FAIL["on"] = False


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_leaves_no_event(prop):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.booking_create(property_id=prop.pk, check_in=future(5), check_out=future(7), guests=1)
        assert SyncEvent.objects.count() == 2  # visible inside the transaction
        raise RuntimeError("boom")
    assert Booking.objects.count() == 0
    assert SyncEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_committed_change_always_has_its_event_and_is_dispatched(prop, recording_handler):
    b = services.booking_create(property_id=prop.pk, check_in=future(5), check_out=future(7), guests=1)
    events = SyncEvent.objects.filter(property=prop).order_by("created_at")
    assert [e.event_type for e in events] == ["booking.created", "availability.updated"]
    assert events[0].entity_id == str(b.pk) and events[0].payload["check_in"] == future(5).isoformat()
    assert all(e.processed_at for e in events)  # eager relay ran after commit
    assert recording_handler.CALLS == ["booking.created", "availability.updated"]
    outbox.event_dispatch(event_id=str(events[0].pk))  # idempotent: processed once only
    assert recording_handler.CALLS == ["booking.created", "availability.updated"]


@pytest.mark.django_db(transaction=True)
def test_failed_handler_keeps_event_for_the_sweeper(prop, recording_handler):
    recording_handler.FAIL["on"] = True
    services.booking_create(property_id=prop.pk, check_in=future(5), check_out=future(7), guests=1)
    pending = SyncEvent.objects.filter(processed_at__isnull=True)
    assert pending.count() == 2 and all(e.retry_count == 1 and "channel down" in e.error for e in pending)
    recording_handler.FAIL["on"] = False
    assert sweep_outbox(older_than_seconds=0) == 2
    assert not SyncEvent.objects.filter(processed_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_real_worker_dispatches_after_commit(prop, celery_worker_process):  # noqa: F811
    b = services.booking_create(property_id=prop.pk, check_in=future(5), check_out=future(7), guests=1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not SyncEvent.objects.filter(processed_at__isnull=True).exists():
            break
        time.sleep(0.1)
    assert SyncEvent.objects.filter(entity_id=str(b.pk), processed_at__isnull=False).exists()
    assert not SyncEvent.objects.filter(processed_at__isnull=True).exists()
