"""Real parallel database connections racing for the same nights.

(a) 20 simultaneous attempts on overlapping dates -> exactly 1 booking, 19 BookingConflict;
(b) a storm of workers creating/cancelling bookings and blocks on 10 properties -> no overlap;
(c) the control: the same race with the protection switched off DOES double-book, so (a) and (b)
    would fail if the protection broke.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from apps.availability import calendar
from apps.availability import services as block_services
from apps.availability.models import AvailabilityBlock, OccupiedNight
from apps.bookings import services
from apps.bookings.errors import BookingConflict
from apps.bookings.models import BLOCKING_STATUSES, Booking
from apps.bookings.selectors import calendar_overlaps
from apps.core.errors import DomainError
from tests.factories import PropertyFactory, future, make_owner

pytestmark = pytest.mark.django_db(transaction=True)


def run_parallel(n: int, fn) -> list:
    """Run fn(i) in n threads released together; each thread uses its own DB connection."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def race_for_same_dates(prop, n: int = 20) -> list:
    def attempt(i: int):
        offset = i % 3  # overlapping but not identical stays
        return services.booking_create(
            property_id=prop.pk,
            check_in=future(30 + offset),
            check_out=future(34 + offset),
            guests=2,
            guest=services.GuestData(first_name=f"Guest{i}", email=f"g{i}@example.com"),
        )

    return run_parallel(n, attempt)


def test_twenty_simultaneous_attempts_one_wins():
    prop = PropertyFactory(owner=make_owner("racer"))
    results = race_for_same_dates(prop)
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"Booking": 1, "BookingConflict": 19}, kinds
    winner = next(r for r in results if isinstance(r, Booking))
    for r in results:
        if isinstance(r, BookingConflict):
            assert r.details["conflicts"][0]["reference"] == winner.reference
            assert r.details["conflicts"][0]["start"] == winner.check_in.isoformat()
    assert Booking.objects.count() == 1
    assert calendar_overlaps() == []


def test_storm_of_bookings_and_blocks_leaves_no_overlap():
    owner = make_owner("stormy")
    props = [PropertyFactory(owner=owner) for _ in range(10)]
    ids = [p.pk for p in props]

    def worker(i: int) -> Counter:
        rng = random.Random(i)
        tally: Counter = Counter()
        for _ in range(40):
            pid = rng.choice(ids)
            start = future(rng.randint(1, 40))
            end = start + timedelta(days=rng.randint(1, 6))
            op = rng.random()
            try:
                if op < 0.6:
                    services.booking_create(
                        property_id=pid,
                        check_in=start,
                        check_out=end,
                        guests=1,
                        status=rng.choice(["reserved", "confirmed"]),
                        enforce_rules=False,
                    )
                    tally["booked"] += 1
                elif op < 0.8:
                    block_services.block_create(property_id=pid, start_date=start, end_date=end)
                    tally["blocked"] += 1
                elif op < 0.9:
                    victim = Booking.objects.filter(property_id=pid, status__in=["reserved", "confirmed"]).first()
                    if victim:
                        services.booking_cancel(booking_id=victim.pk)
                        tally["cancelled"] += 1
                else:
                    victim = AvailabilityBlock.objects.filter(property_id=pid).first()
                    if victim:
                        block_services.block_delete(block_id=victim.pk)
                        tally["unblocked"] += 1
            except BookingConflict:
                tally["conflict"] += 1
            except DomainError:  # e.g. a victim cancelled by another worker meanwhile
                tally["other"] += 1
        return tally

    results = run_parallel(6, worker)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    total = sum(results, Counter())
    assert total["booked"] > 20 and total["conflict"] > 20, total
    assert calendar_overlaps() == []
    call_command("audit_calendar")  # exits 0
    # the night table mirrors exactly the blocking stays
    expected = sum(b.nights for b in Booking.objects.filter(status__in=BLOCKING_STATUSES))
    expected += sum(b.nights for b in AvailabilityBlock.objects.filter(block_type__in=["blocked", "maintenance"]))
    assert OccupiedNight.objects.count() == expected


@pytest.fixture
def protection_off(monkeypatch):
    """Switch the protection off: no property lock, no exclusion/unique constraints, and a small
    pause between the availability check and the insert (deterministic race injection)."""
    names = {"bookings_booking": "booking_no_overlap", "availability_occupiednight": "occupied_night_unique"}
    with connection.cursor() as cur:
        definitions = {}
        for table, name in names.items():
            cur.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", [name])
            definitions[name] = (table, cur.fetchone()[0])
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    monkeypatch.setattr(services, "lock_properties", lambda ids: None)
    monkeypatch.setattr(calendar, "after_check_hook", lambda: time.sleep(0.2))
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM availability_occupiednight")
            cur.execute("TRUNCATE ledger_ledgerline")  # append-only (no DELETE); they refer to the bookings
            cur.execute("DELETE FROM bookings_booking")
            for name, (table, definition) in definitions.items():
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def test_control_without_protection_double_books(protection_off):
    prop = PropertyFactory(owner=make_owner("control"))
    results = race_for_same_dates(prop)
    created = [r for r in results if isinstance(r, Booking)]
    assert len(created) > 1, "the control run should double-book; if not, the race tests prove nothing"
    assert calendar_overlaps()
    with pytest.raises(CommandError, match="overlap"):
        call_command("audit_calendar")
