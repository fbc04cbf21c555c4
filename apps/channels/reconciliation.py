"""Reconciliation: diff the core with a platform (bookings and calendar), apply the spec's rules
(5.3 and 6.3) and record every difference and action in a ReconciliationRun.

Rules:
- a platform booking missing in the core is imported (a conflict is refused on the platform + alert);
- status and dates of a platform's own booking: the platform wins (``conflicts.resolve_status``);
- a core booking of that platform that the platform does not know: recorded for attention;
- availability: the most restrictive wins. Core closed / platform open -> push the core state;
  platform closed / core open -> the core is closed with a reconciliation block (and the other
  channels hear of it through the outbox). Price/restriction drift -> push the core state.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from apps.availability import services as availability_services
from apps.availability.models import BlockSource
from apps.bookings.models import Booking, BookingStatus
from apps.core.errors import DomainError

from .adapters import get_adapter
from .adapters.base import AdapterError, ChannelReservation, DayState
from .conflicts import resolve_availability, resolve_status
from .inbound import _refuse_on_platform
from .models import ChannelAlert, ChannelConnection, ReconciliationItem, ReconciliationRun
from .selectors import calendar_states
from .services import alert_create, channel_booking_find, reservation_apply

logger = logging.getLogger(__name__)

Kind = ReconciliationItem.Kind


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as half-open ranges."""
    out: list[tuple[date, date]] = []
    for d in sorted(days):
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + timedelta(days=1))
        else:
            out.append((d, d + timedelta(days=1)))
    return out


def reconcile(*, connection_id: int, days: int | None = None, triggered_by: str = "manual") -> ReconciliationRun:
    conn = ChannelConnection.objects.select_related("property").get(pk=connection_id)
    start = timezone.localdate()
    end = start + timedelta(days=days or settings.CHANNEL_RECONCILE_DAYS)
    run = ReconciliationRun.objects.create(connection=conn, range_start=start, range_end=end, triggered_by=triggered_by)
    items: list[ReconciliationItem] = []
    try:
        adapter = get_adapter(conn)
        if adapter.holds_reservations:
            channel_bookings = adapter.fetch_bookings(start=start, end=end)
            items += _reconcile_bookings(conn, run, channel_bookings, start=start)
        channel_calendar = adapter.fetch_calendar(start=start, end=end)
        core = calendar_states(prop=conn.property, start=start, end=end)
        items += _reconcile_calendar(conn, run, adapter, core, channel_calendar)
    except Exception as exc:  # any failure ends the run as failed: never left "running"
        if not isinstance(exc, AdapterError | NotImplementedError):
            logger.exception("reconciliation run %s of connection %s crashed", run.pk, conn.pk)
        ReconciliationItem.objects.bulk_create(items)
        run.status = ReconciliationRun.Status.FAILED
        run.error = (str(exc) if isinstance(exc, AdapterError) else f"{type(exc).__name__}: {exc}")[:2000]
        run.finished_at = timezone.now()
        run.summary = _summary(items)
        run.save()
        alert_create(
            connection=conn,
            property_id=conn.property_id,
            kind=ChannelAlert.Kind.RECONCILIATION,
            message=f"Reconciliation with {conn.get_platform_display()} failed: {run.error}",
        )
        return run
    ReconciliationItem.objects.bulk_create(items)
    attention = [i for i in items if not i.action or i.error]
    run.status = (
        ReconciliationRun.Status.OK
        if not items
        else ReconciliationRun.Status.ATTENTION
        if attention
        else ReconciliationRun.Status.FIXED
    )
    run.summary = _summary(items)
    run.finished_at = timezone.now()
    run.save()
    if attention:
        alert_create(
            connection=conn,
            property_id=conn.property_id,
            kind=ChannelAlert.Kind.RECONCILIATION,
            message=f"Reconciliation with {conn.get_platform_display()}: {len(attention)} difference(s) need "
            f"attention.",
            details={"run_id": run.pk},
        )
    return run


def _summary(items: list[ReconciliationItem]) -> dict:
    summary: dict[str, int] = {}
    for i in items:
        summary[str(i.kind)] = summary.get(str(i.kind), 0) + 1
    summary["total"] = len(items)
    summary["fixed"] = sum(1 for i in items if i.action and not i.error)
    return summary


def describe_run(run: ReconciliationRun) -> str:
    """One line a person reads: "No differences", or "3 differences (2 missing on the platform, ...),
    2 fixed", and the error of a failed run."""
    summary = run.summary or {}
    total = int(summary.get("total") or 0)
    if run.status == ReconciliationRun.Status.FAILED:
        text = f"failed: {run.error or 'unknown error'}"
        return text + (f" (after {total} difference(s))" if total else "")
    if run.status == ReconciliationRun.Status.RUNNING:
        return "still running"
    if not total:
        return "no differences"
    labels = dict(ReconciliationItem.Kind.choices)
    kinds = ", ".join(f"{count} {labels[kind].lower()}" for kind, count in summary.items() if kind in labels and count)
    fixed = int(summary.get("fixed") or 0)
    attention = total - fixed
    text = f"{total} difference(s) ({kinds}): {fixed} fixed"
    return text + (f", {attention} need attention (see the run in the admin)" if attention else "")


def _reconcile_bookings(conn, run, channel_bookings: list[ChannelReservation], *, start: date):
    platform = conn.platform
    items = []
    ours = {
        b.external_id: b
        for b in Booking.objects.filter(property_id=conn.property_id, source=platform, check_out__gt=start)
    }
    seen = set()
    for res in channel_bookings:
        if res.hotel_code and res.hotel_code != conn.external_property_id:
            continue
        seen.add(res.external_id)
        booking = ours.get(res.external_id) or channel_booking_find(connection=conn, external_id=res.external_id)
        channel_status = "cancelled" if res.status == "cancelled" else "confirmed"
        if booking is None:
            if channel_status == "cancelled" or res.check_out <= start:
                continue
            item = ReconciliationItem(
                run=run,
                kind=Kind.MISSING_IN_CORE,
                external_id=res.external_id,
                channel_value=f"{res.check_in}..{res.check_out} {channel_status}",
            )
            result = reservation_apply(
                connection=conn, reservation=ChannelReservation(**{**res.__dict__, "status": "new"})
            )
            if result.outcome == "created":
                item.action, item.booking_id = "imported", result.booking_id
            elif result.refused:
                errors = _refuse_on_platform(conn, [(res, result.message)])
                item.action = "refused on the platform (conflict)"
                item.error = "; ".join(errors)
                alert_create(
                    connection=conn,
                    property_id=conn.property_id,
                    kind=ChannelAlert.Kind.CONFLICT,
                    message=f"Reconciliation: {res.external_id} conflicts and was refused: {result.message}",
                )
            else:
                item.error = result.message
            items.append(item)
            continue
        # status: the platform wins for its own bookings (spec 6.2)
        winner = resolve_status(
            booking_source=booking.source,
            core_status=booking.status,
            channel_status=channel_status,
            update_source=platform,
        )
        core_active = booking.status != BookingStatus.CANCELLED
        if (channel_status == "cancelled") == core_active:
            item = ReconciliationItem(
                run=run,
                kind=Kind.STATUS_MISMATCH,
                external_id=res.external_id,
                booking=booking,
                core_value=booking.status,
                channel_value=channel_status,
            )
            if winner == "cancelled" and core_active:
                try:
                    from apps.bookings import services as booking_services

                    booking_services.booking_cancel(
                        booking_id=booking.pk, source=platform, reason="Cancelled on the platform (reconciliation)."
                    )
                    item.action = "cancelled in the PMS (platform wins)"
                except DomainError as exc:
                    item.error = str(exc)
            else:
                item.error = "The platform shows it active but it is cancelled here; re-activate by hand."
            items.append(item)
            continue
        if core_active and (booking.check_in, booking.check_out) != (res.check_in, res.check_out):
            item = ReconciliationItem(
                run=run,
                kind=Kind.DATES_MISMATCH,
                external_id=res.external_id,
                booking=booking,
                core_value=f"{booking.check_in}..{booking.check_out}",
                channel_value=f"{res.check_in}..{res.check_out}",
            )
            result = reservation_apply(
                connection=conn, reservation=ChannelReservation(**{**res.__dict__, "status": "modified"})
            )
            if result.outcome == "changed":
                item.action = "dates changed in the PMS (platform wins)"
            else:
                item.error = result.message or result.outcome
            items.append(item)
    for external_id, booking in ours.items():
        if external_id not in seen and booking.status != BookingStatus.CANCELLED:
            items.append(
                ReconciliationItem(
                    run=run,
                    kind=Kind.MISSING_IN_CHANNEL,
                    external_id=external_id or "",
                    booking=booking,
                    core_value=f"{booking.check_in}..{booking.check_out} {booking.status}",
                    error="The platform does not know this booking.",
                )
            )
    return items


def _reconcile_calendar(conn, run, adapter, core: list[DayState], channel: dict[date, DayState]):
    items = []
    to_push: list[DayState] = []
    to_block: list[date] = []
    for day in core:
        theirs = channel.get(day.day)
        if theirs is None:
            to_push.append(day)
            continue
        if theirs.available != day.available:
            blocked = resolve_availability(core_blocked=not day.available, channel_blocked=not theirs.available)
            item = ReconciliationItem(
                run=run,
                kind=Kind.AVAILABILITY_MISMATCH,
                day=day.day,
                core_value="available" if day.available else "blocked",
                channel_value="available" if theirs.available else "blocked",
            )
            if blocked and day.available:
                to_block.append(day.day)
                item.action = "blocked in the PMS (blocked wins)"
            else:
                to_push.append(day)
                item.action = "closed on the platform (blocked wins)"
            items.append(item)
        elif day.available and (
            (theirs.price is not None and day.price is not None and theirs.price != day.price)
            or theirs.restrictions() != day.restrictions()
        ):
            to_push.append(day)
    if to_block:
        for s, e in _runs(to_block):
            try:
                availability_services.block_create(
                    property_id=conn.property_id,
                    start_date=s,
                    end_date=e,
                    source=BlockSource.RECONCILIATION,
                    note=f"Closed on {conn.get_platform_display()} (reconciliation run {run.pk}).",
                    connection_id=conn.pk,
                )
            except DomainError as exc:
                for i in items:
                    if i.day and s <= i.day < e and i.action.startswith("blocked"):
                        i.error = str(exc)
    if to_push:
        try:
            adapter.push_calendar(to_push)
        except AdapterError as exc:
            for i in items:
                if i.action.startswith("closed on the platform"):
                    i.error = str(exc)
            raise
    return items
