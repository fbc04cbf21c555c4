from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="bookings.expire_holds", acks_late=True, ignore_result=True)
def expire_holds() -> int:
    return len(services.holds_expire())
