"""Errors of the calendar (shown to guests, owners and integrators as 409 / 400)."""

from __future__ import annotations

from datetime import date

from apps.core.errors import Conflict, ValidationFailed


class BookingConflict(Conflict):
    """The dates are taken. ``details['conflicts']`` lists what overlaps, with its dates."""

    code = "booking_conflict"

    def __init__(self, *, property_id: int, check_in: date, check_out: date, conflicts: list[dict]) -> None:
        if conflicts:
            spans = ", ".join(f"{c['start']} to {c['end']} ({c['kind']})" for c in conflicts)
            message = f"The dates {check_in} to {check_out} are not available: taken {spans}."
        else:
            message = f"The dates {check_in} to {check_out} are not available."
        super().__init__(
            message,
            details={
                "property_id": property_id,
                "check_in": check_in.isoformat(),
                "check_out": check_out.isoformat(),
                "conflicts": conflicts,
            },
        )
        self.conflicts = conflicts


class CalendarValidationError(ValidationFailed):
    """A block or calendar change that is not valid as such (dates, overlapping price ranges...)."""

    code = "validation_error"
