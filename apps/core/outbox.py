"""The transactional outbox: write events with the change, dispatch them after commit."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import SyncEvent

logger = logging.getLogger(__name__)


def event_emit(
    *,
    event_type: str,
    entity_type: str,
    entity_id: Any,
    property_id: int | None,
    source: str,
    payload: dict[str, Any] | None = None,
) -> SyncEvent:
    """Write an outbox event. Must run inside the transaction of the change it describes."""
    if not connection.in_atomic_block:
        raise RuntimeError("event_emit() must run inside the transaction of the change")
    event = SyncEvent.objects.create(
        event_type=event_type,
        entity_type=entity_type,
        entity_id=str(entity_id),
        property_id=property_id,
        source=source,
        payload=_jsonable(payload or {}),
    )
    transaction.on_commit(lambda: _enqueue(event.pk))
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "quantize"):  # Decimal
        return str(value)
    return value


def _enqueue(event_id: Any) -> None:
    from .tasks import dispatch_sync_event

    try:
        dispatch_sync_event.delay(str(event_id))
    except Exception:  # broker down: the sweeper will pick it up
        logger.exception("could not enqueue outbox event %s; the sweeper will retry", event_id)


def event_dispatch(*, event_id: str) -> bool:
    """Run every registered handler for one event, once. Returns True if it was processed now.

    The event row is locked (SKIP LOCKED) so two workers never handle the same event at once;
    a processed event is never handled again.
    """
    handlers = [import_string(path) for path in settings.OUTBOX_HANDLERS]
    with transaction.atomic():
        event = (
            SyncEvent.objects.select_for_update(skip_locked=True).filter(pk=event_id, processed_at__isnull=True).first()
        )
        if event is None:
            return False
        try:
            with transaction.atomic():
                for handler in handlers:
                    handler(event)
        except Exception as exc:
            logger.exception("outbox handler failed for %s", event_id)
            event.retry_count += 1
            event.error = f"{type(exc).__name__}: {exc}"[:2000]
            event.save(update_fields=["retry_count", "error"])
            return False
        event.processed_at = timezone.now()
        event.error = ""
        event.save(update_fields=["processed_at", "error"])
        return True


def pending_event_ids(*, older_than_seconds: int = 30, limit: int = 500) -> list[str]:
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return [
        str(pk)
        for pk in SyncEvent.objects.filter(processed_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    ]
