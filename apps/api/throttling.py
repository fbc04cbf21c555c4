"""Throttling per API token (per user for session auth, per IP for anonymous schema/doc reads).

The counters live in the shared cache (Redis). When Redis cannot be reached the API keeps answering
from the database: the throttle falls back to a per-process counter (same rate, counted by each
process alone) and logs a warning at most once a minute; after a failure Redis is left alone for
``REDIS_RETRY_SECONDS`` so a hanging Redis does not slow every request down.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken

logger = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 5.0
WARN_EVERY_SECONDS = 60.0

_local_cache = LocMemCache("api-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})
_state = {"redis_down_until": 0.0, "warned_at": 0.0}
_state_lock = threading.Lock()


def _note_redis_down(exc: Exception) -> None:
    now = time.monotonic()
    with _state_lock:
        _state["redis_down_until"] = now + REDIS_RETRY_SECONDS
        warn = now - _state["warned_at"] >= WARN_EVERY_SECONDS or not _state["warned_at"]
        if warn:
            _state["warned_at"] = now
    if warn:
        logger.warning("API throttling falls back to per-process counters: Redis unavailable (%s)", exc)


def redis_considered_down() -> bool:
    return time.monotonic() < _state["redis_down_until"]


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    def get_rate(self) -> str:
        # Read at request time so the rate can be changed by settings (and in tests).
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiToken):
            ident = f"token:{auth.pk}:{auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle:{self.scope}:{ident}"

    def allow_request(self, request, view) -> bool:
        # The rate may change at run time (tests, settings reload): re-parse it every time.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if not redis_considered_down():
            try:
                return super().allow_request(request, view)
            except Exception as exc:  # noqa: BLE001 - any cache failure: fall back, never a 500
                _note_redis_down(exc)
        self.cache = _local_cache
        return super().allow_request(request, view)
