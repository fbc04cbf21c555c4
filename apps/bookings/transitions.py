"""The booking lifecycle: the one table of allowed moves."""

from __future__ import annotations

from .errors import InvalidTransition
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
