"""Per-platform token bucket in Redis (shared by every worker), refilled continuously."""

from __future__ import annotations

from django.conf import settings

from . import redis as r

# KEYS[1] bucket key; ARGV: rate per second, burst, now (seconds, float), cost
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""


def limits_for(platform: str) -> tuple[float, float]:
    table: dict[str, tuple[float, float]] = {}
    for part in settings.CHANNEL_RATE_LIMITS.split(","):
        bits = part.strip().split(":")
        if len(bits) == 3:
            table[bits[0]] = (float(bits[1]), float(bits[2]))
    return table.get(platform) or table.get("default") or (5.0, 10.0)


def take(platform: str, *, cost: float = 1.0, now: float | None = None) -> float:
    """Take ``cost`` tokens. Returns 0 if granted, else the seconds to wait (nothing taken)."""
    import time

    rate, burst = limits_for(platform)
    wait = float(r.client().eval(_TAKE, 1, r.key("bucket", platform), rate, burst, now or time.time(), cost))
    return wait


def wait_for_token(platform: str, *, max_wait: float = 5.0) -> bool:
    """Block up to ``max_wait`` seconds for a token (used between the requests of one push)."""
    import time

    deadline = time.monotonic() + max_wait
    while True:
        wait = take(platform)
        if wait <= 0:
            return True
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(wait)
