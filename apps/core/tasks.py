from __future__ import annotations

from celery import shared_task

from . import outbox


@shared_task(name="core.dispatch_sync_event", acks_late=True, ignore_result=True)
def dispatch_sync_event(event_id: str) -> bool:
    return outbox.event_dispatch(event_id=event_id)


@shared_task(name="core.sweep_outbox", acks_late=True, ignore_result=True)
def sweep_outbox(older_than_seconds: int = 30) -> int:
    """Re-dispatch every event still unprocessed after ``older_than_seconds``."""
    ids = outbox.pending_event_ids(older_than_seconds=older_than_seconds)
    for event_id in ids:
        outbox.event_dispatch(event_id=event_id)
    return len(ids)
