"""Reads of the channel manager."""

from __future__ import annotations

from datetime import date
from typing import Any

from apps.availability.selectors import calendar_days

from .adapters.base import DayState
from .models import ChannelConnection, Delivery


def calendar_states(*, prop: Any, start: date, end: date) -> list[DayState]:
    """The core's calendar for [start, end), as the adapters push it (state-based). A property that is
    not on sale (draft, archived) is closed on every night."""
    out: list[DayState] = []
    on_sale = prop.status == "active"
    cursor = start
    while cursor < end:  # calendar_days answers bounded ranges
        from datetime import timedelta

        chunk_end = min(end, cursor + timedelta(days=366))
        for d in calendar_days(prop=prop, start=cursor, end=chunk_end):
            out.append(
                DayState(
                    day=d.date,
                    available=d.available and on_sale,
                    price=d.price,
                    currency=prop.currency,
                    min_stay=d.min_stay or None,
                    max_stay=d.max_stay or None,
                    closed_to_arrival=d.closed_to_arrival,
                    closed_to_departure=d.closed_to_departure,
                )
            )
        cursor = chunk_end
    return out


def push_connections(*, property_id: int) -> list[ChannelConnection]:
    """Connections that outbound deliveries go to (not iCal feeds, not platforms that read feeds we
    host, such as Vrbo: their adapter says ``supports_push = False``)."""
    from .adapters import adapter_class

    conns = (
        ChannelConnection.objects.filter(property_id=property_id, sync_enabled=True)
        .exclude(platform="ical")
        .order_by("id")
    )
    return [c for c in conns if (cls := adapter_class(c.platform)) is None or cls.supports_push]


def due_delivery_ids(*, now, limit: int = 200) -> list[int]:
    from django.db.models import Q

    return list(
        Delivery.objects.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING])
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
