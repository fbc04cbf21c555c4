"""Writes of the channel manager. Channel reservations enter through the same booking services as
every other source (``apps.bookings.services``), which take the property lock."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import DataError, transaction

from apps.bookings import services as booking_services
from apps.bookings.errors import BookingConflict, InvalidTransition
from apps.bookings.models import Booking, BookingStatus, PaymentStatus
from apps.core import audit
from apps.core.errors import DomainError
from apps.core.models import SyncEvent
from apps.core.outbox import event_emit

from .adapters.base import ChannelReservation, reservation_check
from .conflicts import resolve_status
from .models import ChannelAlert, ChannelConnection

logger = logging.getLogger(__name__)


@dataclass
class ApplyResult:
    outcome: str  # created | changed | cancelled | exists | unchanged | refused | invalid | failed | ignored
    booking_id: int | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.outcome == "refused"

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "booking_id": self.booking_id, "message": self.message, **self.details}


def alert_create(
    *,
    connection: ChannelConnection | None,
    property_id: int | None,
    kind: str,
    message: str,
    details: dict | None = None,
) -> ChannelAlert:
    """Record an alert for the owner (staff only when ``property_id`` is None) and its
    ``alert.raised`` event, in one transaction."""
    logger.warning("channel alert %s: %s", kind, message)
    with transaction.atomic():
        alert = ChannelAlert.objects.create(
            connection=connection, property_id=property_id, kind=kind, message=message[:2000], details=details or {}
        )
        event_emit(
            event_type=SyncEvent.Type.ALERT_RAISED,
            entity_type="channel_alert",
            entity_id=alert.pk,
            property_id=property_id,
            source=connection.platform if connection is not None else "system",
            payload={
                "alert_id": alert.pk,
                "property_id": property_id,
                "connection_id": connection.pk if connection is not None else None,
                "kind": kind,
                "message": alert.message,
            },
        )
    return alert


def _guest(res: ChannelReservation) -> booking_services.GuestData:
    return booking_services.GuestData(
        first_name=res.first_name or "Guest", last_name=res.last_name, email=res.email if "@" in res.email else ""
    )


def channel_booking_find(*, connection: ChannelConnection, external_id: str) -> Booking | None:
    """The booking a platform's reservation id names, looked up only under ``connection``'s property."""
    return (
        Booking.objects.filter(property_id=connection.property_id, source=connection.platform, external_id=external_id)
        .order_by("pk")
        .first()
    )


def _alert_id_collision(*, connection: ChannelConnection, reservation: ChannelReservation) -> None:
    """A reservation id that another property already holds: platforms never reuse ids across
    hotels, so this is a misrouted or forged message. Staff see the alert (it names no property,
    so neither owner learns anything about the other); nothing is applied to the other property."""
    others = list(
        Booking.objects.filter(source=connection.platform, external_id=reservation.external_id)
        .exclude(property_id=connection.property_id)
        .values_list("pk", "property_id")[:5]
    )
    if not others:
        return
    alert_create(
        connection=None,
        property_id=None,
        kind=ChannelAlert.Kind.ID_COLLISION,
        message=f"{connection.get_platform_display()} connection {connection.pk} sent reservation id "
        f"{reservation.external_id[:128]} ({reservation.status}), which another property already holds; "
        "it was applied only to the connection's own property.",
        details={
            "connection_id": connection.pk,
            "property_id": connection.property_id,
            "external_id": reservation.external_id[:128],
            "status": reservation.status,
            "held_by": [{"booking_id": b, "property_id": p} for b, p in others],
        },
    )


@audit.actor_from(audit.channel_actor)  # the audit log names the connection
def reservation_apply(*, connection: ChannelConnection, reservation: ChannelReservation) -> ApplyResult:
    """Apply one platform reservation (new / modified / cancelled) to the core.

    A conflict is returned as ``refused`` (the caller refuses it on the platform after commit and
    an alert is recorded); nothing is dropped silently.
    """
    platform = connection.platform
    try:
        res = reservation_check(reservation)
    except DomainError as exc:  # a permanent refusal of this reservation, recorded with its reason
        return ApplyResult("invalid", None, str(exc), {"field": exc.details.get("field", "")})
    # The trust boundary: a message that arrived through this connection sees only this
    # connection's property. A reservation id held by another property is invisible here (the
    # answer is the same as for an unknown id) and is never changed from here.
    existing = channel_booking_find(connection=connection, external_id=res.external_id)
    if existing is None:
        _alert_id_collision(connection=connection, reservation=res)
    try:
        if res.status == "cancelled":
            if existing is None:
                return ApplyResult("ignored", message="Cancellation of a reservation we never had.")
            winner = resolve_status(
                booking_source=existing.source,
                core_status=existing.status,
                channel_status="cancelled",
                update_source=platform,
            )
            if winner != "cancelled" or existing.status == BookingStatus.CANCELLED:
                return ApplyResult("unchanged", existing.pk)
            booking_services.booking_cancel(
                booking_id=existing.pk, reason=f"Cancelled on {connection.get_platform_display()}.", source=platform
            )
            return ApplyResult("cancelled", existing.pk)
        if existing is None:
            booking = booking_services.booking_create(
                property_id=connection.property_id,
                check_in=res.check_in,
                check_out=res.check_out,
                guests=max(1, res.guests),
                source=platform,
                guest=_guest(res),
                status=BookingStatus.CONFIRMED,
                external_id=res.external_id,
                total_price=res.total,
                currency=res.currency if res.total is not None else None,
                payment_status=PaymentStatus.NOT_REQUIRED,
                enforce_rules=False,
            )
            return ApplyResult("created", booking.pk)
        if existing.status == BookingStatus.CANCELLED:
            return ApplyResult("unchanged", existing.pk, "The booking is already cancelled here.")
        if (existing.check_in, existing.check_out, existing.guests) == (res.check_in, res.check_out, res.guests):
            return ApplyResult("exists" if res.status == "new" else "unchanged", existing.pk)
        booking_services.booking_change_stay(
            booking_id=existing.pk,
            check_in=res.check_in,
            check_out=res.check_out,
            guests=max(1, res.guests),
            total_price=res.total,
            source=platform,
        )
        return ApplyResult("changed", existing.pk)
    except BookingConflict as exc:
        return ApplyResult(
            "refused", existing.pk if existing else None, str(exc), {"conflicts": exc.details.get("conflicts", [])}
        )
    except (InvalidTransition, DomainError) as exc:
        return ApplyResult("failed", existing.pk if existing else None, str(exc))
    except DataError as exc:  # a value the database cannot hold: permanent, never "try again"
        logger.warning("channel reservation %s refused by the database: %s", res.external_id, exc)
        return ApplyResult("invalid", existing.pk if existing else None, "A value is out of range.")


def refusal_reclose(*, connection: ChannelConnection, reservation: ChannelReservation) -> SyncEvent:
    """After a reservation was refused on its platform: the platform may have reopened the nights it
    had sold (Booking.com does), so push the core's calendar for them to every connection again, the
    refusing platform included. Called after the refusal went out (an earlier push would be undone)."""
    with transaction.atomic():
        return event_emit(
            event_type=SyncEvent.Type.AVAILABILITY_UPDATED,
            entity_type="property",
            entity_id=connection.property_id,
            property_id=connection.property_id,
            source=connection.platform,
            payload={
                "property_id": connection.property_id,
                "start": reservation.check_in,
                "end": reservation.check_out,
                "reason": "channel.refused",
                "external_id": reservation.external_id,
            },
        )


def connection_sync_now(*, connection_id: int) -> SyncEvent:
    """Push the whole calendar horizon to one connection (admin "sync now")."""
    conn = ChannelConnection.objects.get(pk=connection_id)
    with transaction.atomic():
        return event_emit(
            event_type=SyncEvent.Type.AVAILABILITY_UPDATED,
            entity_type="channel_connection",
            entity_id=conn.pk,
            property_id=conn.property_id,
            source="manual",
            payload={"property_id": conn.property_id, "connection_id": conn.pk, "reason": "sync_now"},
        )
