"""Circuit breaker per platform, in Redis: closed -> open (after N consecutive failures) ->
half-open (after the cool-down, one probe at a time) -> closed on success / open on failure."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from . import redis as r

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass
class BreakerState:
    platform: str
    state: str
    failures: int
    opened_at: float | None
    retry_at: float | None

    def as_dict(self) -> dict:
        return {
            "platform": self.platform,
            "state": self.state,
            "failures": self.failures,
            "opened_at": self.opened_at,
            "retry_at": self.retry_at,
        }


def _key(platform: str) -> str:
    return r.key("breaker", platform)


def state(platform: str, *, now: float | None = None) -> BreakerState:
    now = now or time.time()
    data = r.client().hgetall(_key(platform))
    failures = int(data.get("failures", 0))
    opened_at = float(data["opened_at"]) if data.get("opened_at") else None
    if opened_at is None:
        return BreakerState(platform, CLOSED, failures, None, None)
    retry_at = opened_at + settings.CHANNEL_BREAKER_COOLDOWN_SECONDS
    return BreakerState(platform, OPEN if now < retry_at else HALF_OPEN, failures, opened_at, retry_at)


def allow(platform: str, *, now: float | None = None) -> tuple[bool, float]:
    """Whether a request may go out now; if not, how many seconds until it may."""
    now = now or time.time()
    st = state(platform, now=now)
    if st.state == CLOSED:
        return True, 0.0
    if st.state == OPEN:
        return False, max(0.5, (st.retry_at or now) - now)
    # half-open: one probe at a time
    probe = r.client().set(
        r.key("breaker-probe", platform), "1", nx=True, ex=max(5, int(settings.CHANNEL_HTTP_TIMEOUT) + 5)
    )
    return (True, 0.0) if probe else (False, 1.0)


def record_success(platform: str) -> None:
    client = r.client()
    client.delete(_key(platform), r.key("breaker-probe", platform))


def record_failure(platform: str, *, now: float | None = None) -> BreakerState:
    now = now or time.time()
    client = r.client()
    key = _key(platform)
    failures = client.hincrby(key, "failures", 1)
    current = state(platform, now=now)
    if current.state == HALF_OPEN or (current.state == CLOSED and failures >= settings.CHANNEL_BREAKER_THRESHOLD):
        client.hset(key, "opened_at", now)
        client.delete(r.key("breaker-probe", platform))
    client.expire(key, 7 * 24 * 3600)
    return state(platform, now=now)


def reset(platform: str) -> None:
    record_success(platform)


def all_states(platforms) -> list[BreakerState]:
    return [state(p) for p in platforms]
