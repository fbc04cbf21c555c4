"""Database helpers: property locks in a fixed order and bounded retries of failed transactions."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# SQLSTATEs worth retrying as a whole transaction.
RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
EXCLUSION_VIOLATION = "23P01"
UNIQUE_VIOLATION = "23505"
CHECK_VIOLATION = "23514"


def sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind a Django database error, if any."""
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None)


def constraint_name(exc: BaseException) -> str | None:
    cause = exc.__cause__ or exc
    diag = getattr(cause, "diag", None)
    return getattr(diag, "constraint_name", None)


def retry_transaction(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` (which opens its own ``transaction.atomic``) again when PostgreSQL aborts it
    with a deadlock or serialization failure, a bounded number of times with jittered backoff.

    Retrying is only possible when we own the outermost transaction; inside a caller's
    transaction the error propagates unchanged.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        attempts = max(1, settings.DB_RETRY_ATTEMPTS)
        for attempt in range(1, attempts + 1):
            outermost = not connection.in_atomic_block
            try:
                return func(*args, **kwargs)
            except DatabaseError as exc:
                if not outermost or sqlstate(exc) not in RETRYABLE_SQLSTATES or attempt == attempts:
                    raise
                logger.warning("retrying %s after %s (attempt %d)", func.__name__, sqlstate(exc), attempt)
                _lock_held_end()  # the aborted attempt's locks are gone
                time.sleep(min(0.5, 0.01 * 2**attempt) * random.random())  # noqa: S311
            finally:
                if outermost:
                    _lock_held_end()
        raise AssertionError("unreachable")

    return wrapper


def _lock_held_end() -> None:
    from .observability import lock_held_end

    lock_held_end()  # a rolled-back transaction's locks were held until now (a commit observed them already)


def lock_properties(property_ids: Iterable[int]) -> None:
    """Take the row lock of each property, in ascending id order, for the current transaction.

    Every calendar write (booking, block) calls this first, so a booking and a block of the same
    property are serialised and checked against each other, and two writers never deadlock.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("lock_properties() must run inside transaction.atomic()")
    ids = sorted({int(pk) for pk in property_ids})
    if not ids:
        return
    from .observability import lock_wait_timer

    with connection.cursor() as cursor, lock_wait_timer():
        cursor.execute("SET LOCAL lock_timeout = %s", [f"{settings.LOCK_TIMEOUT_MS}ms"])
        cursor.execute(
            "SELECT id FROM properties_property WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            [ids],
        )
        found = [row[0] for row in cursor.fetchall()]
    from .observability import lock_held_begin

    lock_held_begin()
    if len(found) != len(ids):
        from .errors import NotFound

        raise NotFound("Property not found.", details={"missing": sorted(set(ids) - set(found))})


def on_commit(func: Callable[[], object]) -> None:
    """Run ``func`` after the current transaction commits (immediately outside a transaction)."""
    transaction.on_commit(func)


def reconnecting(func: Callable[[], R], *, attempts: int = 3, pause: float = 0.2) -> R:
    """Run ``func`` outside any transaction; if the database connection died under it (a restart,
    ``pg_terminate_backend``), run it again on a fresh connection, up to ``attempts`` times. Only for
    idempotent work (re-reads, idempotent applies), never for a write that may have committed."""
    from django.db import InterfaceError, OperationalError

    for attempt in range(1, attempts + 1):
        try:
            return func()
        except (OperationalError, InterfaceError):
            if attempt == attempts or connection.in_atomic_block:
                raise
            logger.warning("database connection lost; retrying on a fresh one (attempt %d)", attempt)
            connection.close()
            time.sleep(pause * attempt)
    raise AssertionError("unreachable")
