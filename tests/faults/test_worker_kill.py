"""kill -9 of a real Celery worker in the middle of a delivery (issue 12, finding 5).

The worker pushes to the Booking.com simulator over HTTP (slowed down, so the kill lands mid-push);
it is killed with SIGKILL; bookings go on being made meanwhile; a new worker starts. Within 30 s of
the restart (counted from the new worker being up: its boot time is the machine's, printed apart)
every outbox event is dispatched, every delivery has succeeded (the dead worker's claim taken over,
not left for 5 minutes) and the simulator's calendar equals the core's.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from apps.bookings import services as booking_services
from apps.channels.models import Delivery
from apps.channels.selectors import calendar_states
from apps.core.models import SyncEvent
from apps.sandbox.models import SimCalendarDay, SimFault
from tests.celery_worker import own_queue, start_worker, stop_worker, wait_until_ready
from tests.factories import future

from .conftest import assert_no_overlap, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RECOVERY_LIMIT_SECONDS = 30


def _book(prop, start: int, nights: int = 3):
    return booking_services.booking_create(
        property_id=prop.pk, check_in=future(start), check_out=future(start + nights), guests=2, status="confirmed"
    )


def channel_differences(prop, listing, start: int, end: int) -> list[str]:
    """Days on which the simulator's availability differs from the core's."""
    sim = {d.day: d.open for d in SimCalendarDay.objects.filter(listing=listing)}
    return [
        f"{d.day}: core {'open' if d.available else 'closed'}, channel {'open' if sim.get(d.day, True) else 'closed'}"
        for d in calendar_states(prop=prop, start=future(start), end=future(end))
        if sim.get(d.day, True) != d.available
    ]


def test_kill_9_of_a_worker_mid_delivery_channel_up_to_date_within_30_s_of_the_restart(prop, listing, bcom, report):
    slow = SimFault.objects.create(kind=SimFault.Kind.LATENCY, latency_ms=2500, path_contains="OTA_HotelAvailNotif")
    with own_queue() as queue:
        worker = start_worker(queue)
        try:
            wait_until_ready(worker)
            first = [_book(prop, 10 + 4 * i) for i in range(3)]
            wait_for(
                lambda: Delivery.objects.filter(status=Delivery.Status.IN_PROGRESS).exists(),
                timeout=90,
                what="a delivery in progress",
            )
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
            killed_at = time.monotonic()
            stranded = list(Delivery.objects.filter(status=Delivery.Status.IN_PROGRESS).values_list("pk", flat=True))
            assert stranded, "the kill should have left a claimed delivery behind"

            # the world goes on while no worker runs
            later = [_book(prop, 30 + 4 * i) for i in range(2)]
            booking_services.booking_cancel(booking_id=first[0].pk, reason="guest cancelled")
            slow.active = False
            slow.save(update_fields=["active"])

            launched = time.monotonic()
            worker = start_worker(queue)
            wait_until_ready(worker)
            restarted = time.monotonic()  # the worker is back (its boot time depends on the machine's load)

            def up_to_date() -> bool:
                return (
                    not SyncEvent.objects.filter(processed_at__isnull=True).exists()
                    and not Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED).exists()
                    and not channel_differences(prop, listing, 5, 50)
                )

            wait_for(up_to_date, timeout=120, interval=0.25, what="the channel up to date after the restart")
            recovery = time.monotonic() - restarted
        finally:
            stop_worker(worker)

    report(
        f"worker kill -9 mid-delivery: {len(stranded)} claim(s) stranded; the new worker booted in "
        f"{restarted - launched:.1f} s; channel up to date {recovery:.1f} s after it was up "
        f"({recovery + restarted - launched:.1f} s after its launch, "
        f"{time.monotonic() - killed_at:.1f} s after the kill)"
    )
    assert recovery <= RECOVERY_LIMIT_SECONDS, f"channel up to date only {recovery:.1f} s after the restart"
    assert set(Delivery.objects.filter(pk__in=stranded).values_list("status", flat=True)) == {"succeeded"}
    for booking in [first[1], first[2], *later]:
        assert not channel_differences(prop, listing, 5, 50)
        assert not SimCalendarDay.objects.get(listing=listing, day=booking.check_in).open
    assert SimCalendarDay.objects.get(listing=listing, day=first[0].check_in).open  # cancelled: open again
    assert_no_overlap()
