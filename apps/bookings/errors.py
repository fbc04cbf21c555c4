"""Errors of the booking domain, shown to guests, owners and integrators."""

from __future__ import annotations

from apps.availability.errors import BookingConflict  # the calendar's refusal (re-exported)
from apps.core.errors import Conflict, DomainError, ValidationFailed

__all__ = ["BookingConflict", "InvalidTransition", "BookingValidationError", "GuestEmailTaken", "DomainError"]


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
