from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from . import outbox

logger = logging.getLogger(__name__)


@worker_ready.connect(weak=False, dispatch_uid="core-resume-after-restart")
def _resume_after_restart(**kwargs) -> None:
    """A worker that starts dispatches the outbox events a dead worker (or a broker outage) left behind
    at once, instead of waiting for beat's next sweep (dispatching is idempotent)."""
    try:
        sweep_outbox.apply_async(kwargs={"older_than_seconds": 0})
    except Exception:  # broker down: beat sweeps later
        logger.exception("could not enqueue the start-up outbox sweep")


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
