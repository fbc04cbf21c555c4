"""When a platform last read a property's iCal export (the sync health page shows it): kept in the cache
(Redis) for 30 days, one key per property; nothing is recorded, and nothing fails, while Redis is down."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

TTL = 30 * 24 * 3600


def _key(property_id: int) -> str:
    return f"ical-export-read:{property_id}"


def export_read_record(*, property_id: int, user_agent: str = "", now: datetime | None = None) -> None:
    value = {"at": (now or timezone.now()).isoformat(), "agent": (user_agent or "")[:120]}
    try:
        cache.set(_key(property_id), value, TTL)
    except Exception as exc:  # Redis down: the feed is still served
        logger.warning("iCal export read of property %s not recorded: %s", property_id, exc)


def export_last_reads(*, property_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{property_id: {"at": datetime, "agent": str}} for the properties whose feed was read (30 days)."""
    if not property_ids:
        return {}
    try:
        found = cache.get_many([_key(pid) for pid in property_ids])
    except Exception as exc:
        logger.warning("iCal export reads unavailable: %s", exc)
        return {}
    out = {}
    for pid in property_ids:
        value = found.get(_key(pid))
        if isinstance(value, dict) and value.get("at"):
            try:
                out[pid] = {"at": datetime.fromisoformat(value["at"]), "agent": value.get("agent", "")}
            except ValueError:
                continue
    return out
