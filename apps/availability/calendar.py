"""The calendar guard: every write that takes or frees nights goes through here.

Callers hold the property's row lock (``apps.core.db.lock_properties``) before calling
``assert_free`` and ``occupy``; PostgreSQL's exclusion constraints and the unique
``(night, property)`` index refuse whatever slips past (translated into ``BookingConflict``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from apps.bookings.errors import BookingConflict
from apps.core.db import EXCLUSION_VIOLATION, UNIQUE_VIOLATION, sqlstate
from apps.core.models import SyncEvent
from apps.core.outbox import event_emit

from .models import AvailabilityBlock, OccupiedNight

CONFLICT_CONSTRAINTS = {"booking_no_overlap", "block_no_overlap", "occupied_night_unique"}


def find_conflicts(
    *,
    property_id: int,
    start: date,
    end: date,
    exclude_booking_id: int | None = None,
    exclude_block_id: int | None = None,
) -> list[dict[str, Any]]:
    """Blocking bookings and blocks of the property that overlap [start, end)."""
    from apps.bookings.models import Booking

    bookings = Booking.objects.blocking().filter(property_id=property_id).overlapping(start, end)
    if exclude_booking_id:
        bookings = bookings.exclude(pk=exclude_booking_id)
    blocks = AvailabilityBlock.objects.filter(
        property_id=property_id, block_type__in=AvailabilityBlock.BLOCKING_TYPES, start_date__lt=end, end_date__gt=start
    )
    if exclude_block_id:
        blocks = blocks.exclude(pk=exclude_block_id)
    found = [
        {
            "kind": "booking",
            "id": b.pk,
            "reference": b.reference,
            "start": b.check_in.isoformat(),
            "end": b.check_out.isoformat(),
        }
        for b in bookings.only("pk", "reference", "check_in", "check_out")
    ]
    found += [
        {"kind": blk.block_type, "id": blk.pk, "start": blk.start_date.isoformat(), "end": blk.end_date.isoformat()}
        for blk in blocks.only("pk", "block_type", "start_date", "end_date")
    ]
    return sorted(found, key=lambda c: c["start"])


#: Test hook: called between the availability check and the write (deterministic race injection).
after_check_hook: Callable[[], None] | None = None


def assert_free(
    *,
    property_id: int,
    start: date,
    end: date,
    exclude_booking_id: int | None = None,
    exclude_block_id: int | None = None,
) -> None:
    conflicts = find_conflicts(
        property_id=property_id,
        start=start,
        end=end,
        exclude_booking_id=exclude_booking_id,
        exclude_block_id=exclude_block_id,
    )
    if conflicts:
        raise BookingConflict(property_id=property_id, check_in=start, check_out=end, conflicts=conflicts)
    if after_check_hook is not None:
        after_check_hook()


def nights(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def occupy(
    *, property_id: int, start: date, end: date, booking_id: int | None = None, block_id: int | None = None
) -> None:
    OccupiedNight.objects.bulk_create(
        OccupiedNight(property_id=property_id, night=n, booking_id=booking_id, block_id=block_id)
        for n in nights(start, end)
    )


def release(*, booking_id: int | None = None, block_id: int | None = None) -> None:
    if booking_id is not None:
        OccupiedNight.objects.filter(booking_id=booking_id).delete()
    if block_id is not None:
        OccupiedNight.objects.filter(block_id=block_id).delete()


@contextmanager
def translate_refusal(*, property_id: int, start: date, end: date):
    """Run a calendar write in a savepoint; turn PostgreSQL's refusal into ``BookingConflict``."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        state = sqlstate(exc)
        text = str(exc)
        if state == EXCLUSION_VIOLATION or (state == UNIQUE_VIOLATION and "occupied_night_unique" in text):
            raise BookingConflict(
                property_id=property_id,
                check_in=start,
                check_out=end,
                conflicts=find_conflicts(property_id=property_id, start=start, end=end),
            ) from exc
        raise


def emit_availability_changed(*, property_id: int, start: date, end: date, source: str, reason: str) -> None:
    """The outbox event every calendar write emits in its transaction (channels re-push the range)."""
    event_emit(
        event_type=SyncEvent.Type.AVAILABILITY_UPDATED,
        entity_type="property",
        entity_id=property_id,
        property_id=property_id,
        source=source,
        payload={"property_id": property_id, "start": start, "end": end, "reason": reason},
    )
