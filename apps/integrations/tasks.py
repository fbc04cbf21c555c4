from __future__ import annotations

from celery import shared_task

from .delivery import deliveries_run_due, delivery_attempt


@shared_task(name="integrations.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: int) -> str:
    return delivery_attempt(delivery_id=delivery_id)


@shared_task(name="integrations.deliver_due", ignore_result=True)
def deliver_due() -> int:
    return len(deliveries_run_due())
