"""Reconciliation with Expedia over real HTTP: bookings read with BR NbDaysInPast (nothing retrieved),
the calendar with PARR, differences resolved by the shared rules."""

from __future__ import annotations

import pytest

from apps.bookings.models import Booking
from apps.channels.inbound import reservations_pull
from apps.channels.reconciliation import reconcile
from apps.sandbox import expedia as sim
from apps.sandbox.models import SimRequest
from apps.sandbox.models.expedia import ExpDay, ExpTransaction
from tests.factories import future

pytestmark = pytest.mark.django_db(transaction=True)


def test_differences_are_found_and_resolved_by_the_rules(prop, hotel, expedia):
    # a booking Expedia has and we never pulled, a cancellation we missed, a night closed on Expedia only
    unknown = sim.create_booking(hotel=hotel, check_in=future(10), check_out=future(12), given_name="Ida")
    known = sim.create_booking(hotel=hotel, check_in=future(20), check_out=future(22))
    ExpTransaction.objects.filter(pk=unknown.pk).update(status="confirmed")  # as if lost on our side
    reservations_pull(connection_id=expedia.pk)
    assert not Booking.objects.filter(external_id=unknown.booking.booking_id).exists()
    ours = Booking.objects.get(external_id=known.booking.booking_id)
    sim.cancel_booking(booking=known.booking)  # its Cancel is not pulled before the reconciliation
    ExpDay.objects.update_or_create(hotel=hotel, day=future(30), defaults={"inventory": 0})

    run = reconcile(connection_id=expedia.pk, days=60)
    items = {(i.kind, i.external_id or str(i.day)): i for i in run.items.all()}
    imported = items[("missing_in_core", unknown.booking.booking_id)]
    assert imported.action == "imported" and Booking.objects.get(pk=imported.booking_id).guest.first_name == "Ida"
    assert items[("status_mismatch", known.booking.booking_id)].action.startswith("cancelled in the PMS")
    ours.refresh_from_db()
    assert ours.status == "cancelled"
    assert items[("availability_mismatch", str(future(30)))].action.startswith("blocked in the PMS")
    assert run.status == "fixed", run.error
    # reading for reconciliation retrieves nothing: the Cancel is still released to the next pull
    cancel = ExpTransaction.objects.get(booking=known.booking, type="Cancel")
    assert cancel.status == "pending"
    br = SimRequest.objects.filter(path__endswith="/eqc/br", body__contains="NbDaysInPast").first()
    assert br is not None and "<NbDaysInPast>365</NbDaysInPast>" in br.body
    assert SimRequest.objects.filter(path__endswith="/eqc/parr", status_code=200).exists()
    assert reconcile(connection_id=expedia.pk, days=60).status == "ok"
