"""Errors of the booking domain, shown to guests, owners and integrators."""

from __future__ import annotations

from datetime import date

from apps.core.errors import Conflict, DomainError, ValidationFailed

__all__ = ["BookingConflict", "InvalidTransition", "BookingValidationError", "GuestEmailTaken", "DomainError"]


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


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, *, current: str, target: str, allowed: list[str]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"A booking cannot go from “{current}” to “{target}” (allowed next: {allowed_text}).",
            details={"current": current, "target": target, "allowed": allowed},
        )


class BookingValidationError(ValidationFailed):
    code = "validation_error"


class GuestEmailTaken(Conflict):
    """Another guest of the same owner already has this e-mail."""

    code = "guest_email_taken"

    def __init__(self, *, email: str, guest_id: int | None) -> None:
        super().__init__(
            "Another guest in this guest book already has this e-mail address.",
            details={"email": email, "guest_id": guest_id},
        )
