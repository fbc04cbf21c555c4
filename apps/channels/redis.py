"""The Redis connection of the channel manager (circuit breakers, rate limits)."""

from __future__ import annotations

import functools

import redis
from django.conf import settings


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)


def client() -> redis.Redis:
    return _client(settings.CHANNEL_REDIS_URL)


def key(*parts: object) -> str:
    return ":".join([settings.CHANNEL_REDIS_PREFIX, *(str(p) for p in parts)])
