from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="api.purge_idempotency_records", ignore_result=True)
def purge_idempotency_records() -> int:
    return services.idempotency_purge()
