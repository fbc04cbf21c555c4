"""The spec's status conflict rule (section 6.2), as one pure function."""

from __future__ import annotations

#: Lower = more restrictive (wins in a cross-channel conflict). Unknown statuses rank last.
STATUS_PRIORITY = {
    "cancelled": 1,
    "checked_out": 2,
    "checked_in": 3,
    "confirmed": 4,
    "reserved": 5,
    "inquiry": 6,
}


def resolve_status(*, booking_source: str, core_status: str, channel_status: str, update_source: str) -> str:
    """Which status wins when the core and a platform disagree about a booking.

    - the platform the booking came from wins for its own bookings;
    - the core wins for direct (and API) bookings;
    - otherwise (a platform reporting on another channel's booking) the most restrictive wins.
    """
    if booking_source == update_source:
        return channel_status
    if booking_source in ("direct", "api"):
        return core_status
    if STATUS_PRIORITY.get(channel_status, 99) < STATUS_PRIORITY.get(core_status, 99):
        return channel_status
    return core_status


def resolve_availability(*, core_blocked: bool, channel_blocked: bool) -> bool:
    """Spec 6.3: the most restrictive wins (blocked over available). Returns whether blocked."""
    return core_blocked or channel_blocked
