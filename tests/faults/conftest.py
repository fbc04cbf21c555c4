"""Fault tests: real processes and services are killed, stopped and cut off while the system works.

The fixtures of the channel tests (a Booking.com simulator listing, a connection to it over the live
server) are shared; the Stripe sandbox comes from ``tests.stripe_fixtures``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.channels.conftest import _clean_channel_redis, bcom, listing  # noqa: F401


@pytest.fixture
def report(capsys):
    """Print a recovery figure to the terminal even when pytest captures output (``make test``)."""

    def write(text: str) -> None:
        with capsys.disabled():
            print(f"\n[fault] {text}")

    return write


def wait_for(condition: Callable[[], bool], *, timeout: float, interval: float = 0.2, what: str = "") -> float:
    """Poll ``condition`` until true; returns the seconds it took (fails after ``timeout``)."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout:.0f} s: {what or condition}")
        time.sleep(interval)


def assert_no_overlap() -> None:
    from apps.bookings.selectors import calendar_overlaps

    overlaps = calendar_overlaps(property_id=None)
    assert not overlaps, overlaps


class BackendKiller:
    """A thread that terminates every database session of the test database except the test's own
    (``pg_terminate_backend``), every ``interval`` seconds, ``rounds`` times (or until stopped)."""

    def __init__(self, *, interval: float, rounds: int | None = None) -> None:
        self.interval = interval
        self.rounds = rounds
        self.kills = 0
        self._stop = threading.Event()
        self._spare = {self._pid()}
        self._thread = threading.Thread(target=self._run, name="backend-killer", daemon=True)

    @staticmethod
    def _pid() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    def _run(self) -> None:
        db = settings.DATABASES["default"]
        with psycopg.connect(
            dbname=connection.settings_dict["NAME"],
            user=db["USER"],
            host=db["HOST"],
            port=db["PORT"],
            password=db.get("PASSWORD") or None,
            autocommit=True,
        ) as admin:
            done = 0
            while not self._stop.wait(self.interval) and (self.rounds is None or done < self.rounds):
                done += 1
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> ALL(%s)",
                    [list(self._spare)],
                ).fetchall()
                self.kills += sum(1 for (ok,) in rows if ok)

    def __enter__(self) -> BackendKiller:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def kill_own_connection() -> None:
    """The database ends this request's session, as a crashed or restarted server would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


@contextlib.contextmanager
def connection_dies_at(owner, name: str, times: int = 1):
    """The first ``times`` calls of ``owner.name`` find their database connection terminated."""
    original = getattr(owner, name)
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= times:
            kill_own_connection()
        return original(*args, **kwargs)

    setattr(owner, name, dying)
    try:
        yield calls
    finally:
        setattr(owner, name, original)
