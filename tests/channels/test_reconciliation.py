from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.availability.models import AvailabilityBlock
from apps.bookings import services as booking_services
from apps.bookings.models import Booking
from apps.channels.inbound import reservations_pull
from apps.channels.models import ReconciliationRun
from apps.channels.reconciliation import reconcile
from apps.sandbox import booking_com as sim
from apps.sandbox.models import SimCalendarDay, SimReservation
from tests.factories import future

pytestmark = pytest.mark.django_db(transaction=True)


def test_reconcile_finds_and_fixes_drift(prop, listing, bcom):
    # 1. a reservation the platform has but we never pulled (acked elsewhere) -> imported
    missing = sim.create_reservation(listing=listing, check_in=future(10), check_out=future(12))
    SimReservation.objects.filter(pk=missing.pk).update(new_acked_at=missing.created_at, acked_version=1)
    # 2. one we have, cancelled on the platform -> cancelled here (platform wins)
    cancelled = sim.create_reservation(listing=listing, check_in=future(20), check_out=future(22))
    reservations_pull(connection_id=bcom.pk)
    SimReservation.objects.filter(pk=cancelled.pk).update(status="cancelled", acked_version=5, version=5)
    # 3. the owner closed dates on the platform's extranet -> blocked wins, closed here too
    run0 = reconcile(connection_id=bcom.pk, days=60)  # first run: pushes our calendar to the platform
    assert run0.status in ("fixed", "attention")
    SimCalendarDay.objects.filter(listing=listing, day=future(40)).update(rooms_to_sell=0)
    # 4. a direct booking whose closure never reached the platform -> pushed closed
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(50), check_out=future(51), guests=1, status="confirmed"
    )
    SimCalendarDay.objects.filter(listing=listing, day=future(50)).update(rooms_to_sell=1, stop_sell=False)

    run = reconcile(connection_id=bcom.pk, days=60)
    kinds = {(i.kind, i.external_id or str(i.day)): i for i in run.items.all()}
    assert run0.items.filter(kind="missing_in_core", external_id=missing.res_id, action="imported").exists()
    assert Booking.objects.get(external_id=missing.res_id).status == "confirmed"
    assert run0.items.filter(kind="status_mismatch", external_id=cancelled.res_id).exists()
    assert Booking.objects.get(external_id=cancelled.res_id).status == "cancelled"
    blocked = kinds[("availability_mismatch", str(future(40)))]
    assert blocked.action.startswith("blocked in the PMS")
    assert AvailabilityBlock.objects.filter(property=prop, source="reconciliation", start_date=future(40)).exists()
    pushed = kinds[("availability_mismatch", str(future(50)))]
    assert pushed.action.startswith("closed on the platform")
    assert not SimCalendarDay.objects.get(listing=listing, day=future(50)).open
    assert run.status == "fixed" and run.summary["total"] == len(kinds)
    # nothing left to fix
    assert reconcile(connection_id=bcom.pk, days=60).status == "ok"


def test_reconcile_command(prop, listing, bcom):
    call_command("reconcile", "--property", str(prop.pk), "--platform", "booking_com", "--days", "20")
    assert ReconciliationRun.objects.filter(triggered_by="command").count() == 1
    with pytest.raises(CommandError):
        call_command("reconcile", "--property", "999999")


def test_reconcile_failure_recorded(prop, listing, bcom):
    from apps.sandbox.models import SimFault

    SimFault.objects.create(kind="5xx", status_code=502)
    run = reconcile(connection_id=bcom.pk, days=10)
    assert run.status == "failed" and "temporary" in run.error
