"""The booking lifecycle: the one table of allowed moves."""

from __future__ import annotations

from datetime import date, datetime

from .errors import InvalidTransition, TooEarly
from .models import BookingStatus as S

ALLOWED: dict[str, tuple[str, ...]] = {
    S.INQUIRY: (S.RESERVED, S.CONFIRMED, S.CANCELLED),
    S.RESERVED: (S.CONFIRMED, S.CANCELLED),
    S.CONFIRMED: (S.CHECKED_IN, S.CANCELLED),
    S.CHECKED_IN: (S.CHECKED_OUT,),
    S.CHECKED_OUT: (),
    S.CANCELLED: (),
}


def check_transition(current: str, target: str) -> None:
    allowed = ALLOWED.get(current, ())
    if target not in allowed:
        raise InvalidTransition(current=current, target=target, allowed=[str(a) for a in allowed])


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED.get(current, ())


def check_timing(
    *,
    target: str,
    check_in: date,
    local_today: date,
    time_zone: str,
    now: datetime,
    checked_in_at: datetime | None = None,
) -> None:
    """The lifecycle's date rules, judged on the property's local calendar day (``local_today``):
    a guest checks in from the arrival day on, never before; a check-out never comes before the
    arrival day nor before the check-in itself. Leaving early (before the departure day) is fine."""
    if target == S.CHECKED_IN and local_today < check_in:
        raise TooEarly(
            f"Too early to check in: the stay starts on {check_in} ({time_zone} time); check-in is possible "
            f"from that day on, not before (today there is {local_today}).",
            earliest=check_in,
            time_zone=time_zone,
        )
    if target == S.CHECKED_OUT and (local_today < check_in or (checked_in_at is not None and now < checked_in_at)):
        raise TooEarly(
            f"Too early to check out: the stay starts on {check_in} ({time_zone} time); a check-out is not "
            "possible before the check-in.",
            earliest=check_in,
            time_zone=time_zone,
        )
