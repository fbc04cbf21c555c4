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

from apps.core.db import EXCLUSION_VIOLATION, UNIQUE_VIOLATION, sqlstate
from apps.core.models import SyncEvent
from apps.core.outbox import event_emit

from .errors import BookingConflict
from .models import OccupiedNight

CONFLICT_CONSTRAINTS = {"booking_no_overlap", "block_no_overlap", "occupied_night_unique"}


def find_conflicts(
    *,
    property_id: int,
    start: date,
    end: date,
    exclude_booking_id: int | None = None,
    exclude_block_id: int | None = None,
) -> list[dict[str, Any]]:
    """Blocking bookings and blocks of the property that overlap [start, end).

    Read from the night ledger (``OccupiedNight``), which every blocking booking and block writes in
    its own transaction: the calendar guard needs no knowledge of the booking model beyond the
    ledger's relation to it (bookings build on availability, never the other way round)."""
    nights_taken = OccupiedNight.objects.filter(property_id=property_id, night__gte=start, night__lt=end)
    if exclude_booking_id:
        nights_taken = nights_taken.exclude(booking_id=exclude_booking_id)
    if exclude_block_id:
        nights_taken = nights_taken.exclude(block_id=exclude_block_id)
    found = [
        {
            "kind": "booking",
            "id": row["booking_id"],
            "reference": row["booking__reference"],
            "start": row["booking__check_in"].isoformat(),
            "end": row["booking__check_out"].isoformat(),
        }
        for row in nights_taken.filter(booking__isnull=False)
        .values("booking_id", "booking__reference", "booking__check_in", "booking__check_out")
        .distinct()
    ]
    found += [
        {
            "kind": row["block__block_type"],
            "id": row["block_id"],
            "start": row["block__start_date"].isoformat(),
            "end": row["block__end_date"].isoformat(),
        }
        for row in nights_taken.filter(block__isnull=False)
        .values("block_id", "block__block_type", "block__start_date", "block__end_date")
        .distinct()
    ]
    return sorted(found, key=lambda c: (c["start"], c["kind"], c["id"]))


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
