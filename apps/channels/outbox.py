"""Outbox handler of the channel manager: fans a SyncEvent out to one Delivery per connection.

Runs inside the outbox dispatcher's transaction; delivery tasks are enqueued on commit.
Pushes are state-based, so only events that change what the platforms show (availability,
prices) create deliveries, and every pushing connection gets one, the channel the change came from
included: a push carries the core's current calendar, never the reservation itself, so it cannot
echo anything, and it closes again whatever the platform reopened on its own (e.g. the nights of a
reservation we refused).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.models import SyncEvent

from .models import Delivery
from .selectors import push_connections

PUSH_EVENTS = {SyncEvent.Type.AVAILABILITY_UPDATED, SyncEvent.Type.PRICING_UPDATED}


def _range(event: SyncEvent) -> tuple[date, date]:
    today = timezone.localdate()
    horizon = today + timedelta(days=settings.CHANNEL_PUSH_HORIZON_DAYS)
    payload = event.payload or {}
    try:
        start = date.fromisoformat(payload["start"])
        end = date.fromisoformat(payload["end"])
    except (KeyError, TypeError, ValueError):
        start, end = today, horizon
    return max(start, today), min(end, horizon)


def handle_event(event: SyncEvent) -> list[int]:
    """Create the deliveries of one event (idempotent: one row per (event, connection))."""
    if event.event_type not in PUSH_EVENTS or not event.property_id:
        return []
    start, end = _range(event)
    if end <= start:
        return []  # the change lies entirely in the past
    only = (event.payload or {}).get("connection_id")
    created_ids = []
    for conn in push_connections(property_id=event.property_id):
        if only and conn.pk != only:
            continue
        delivery, created = Delivery.objects.get_or_create(
            event=event,
            connection=conn,
            defaults={"range_start": start, "range_end": end, "kind": "calendar"},
        )
        if created:
            created_ids.append(delivery.pk)
    if created_ids:
        transaction.on_commit(lambda: enqueue_deliveries(created_ids))
    return created_ids


def enqueue_deliveries(ids: list[Any], *, countdown: float | None = None) -> None:
    from .tasks import deliver

    for pk in ids:
        try:
            if countdown:
                deliver.apply_async((pk,), countdown=countdown)
            else:
                deliver.delay(pk)
        except Exception:  # broker down: the due-deliveries sweeper picks it up
            import logging

            logging.getLogger(__name__).exception("could not enqueue delivery %s", pk)
