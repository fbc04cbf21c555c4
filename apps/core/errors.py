"""Domain errors. Callers (views, admin, API, tasks) turn them into 4xx / form errors."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a caller can show to a user. ``code`` is stable, ``message`` readable."""

    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def __str__(self) -> str:
        return self.message


class ValidationFailed(DomainError):
    code = "validation_error"
    http_status = 400


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class Forbidden(DomainError):
    """The caller may see the object but not do this to it."""

    code = "permission_denied"
    http_status = 403


class Protected(Conflict):
    """Other records still refer to the object (bookings, channel connections): it cannot be deleted."""

    code = "protected"


def unavailable_dependency(exc: BaseException) -> tuple[str, str] | None:
    """``(code, message)`` when ``exc`` means a backing service (PostgreSQL, Redis, the broker) cannot
    answer right now, so the caller should answer 503 with ``Retry-After`` rather than 500."""
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError):
        return "database_unavailable", "The database cannot answer right now (connection lost or busy); please retry."
    import redis

    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return "redis_unavailable", "A service this needs (Redis) is unavailable right now; please retry."
    try:
        from django_redis.exceptions import ConnectionInterrupted
    except ImportError:  # pragma: no cover
        ConnectionInterrupted = ()  # noqa: N806
    if ConnectionInterrupted and isinstance(exc, ConnectionInterrupted):
        return "redis_unavailable", "A service this needs (Redis) is unavailable right now; please retry."
    from kombu.exceptions import OperationalError as BrokerError

    if isinstance(exc, BrokerError):
        return "broker_unavailable", "The task queue (Redis) is unavailable right now; please retry."
    return None
