"""Celery tasks of the back office: thin callers of ``notifications``."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="backoffice.send_notifications", ignore_result=True)
def send_notifications() -> int:
    """Channel alerts become owner notifications; pending notifications are e-mailed (beat, every 20 s)."""
    from . import notifications

    notifications.alerts_collect()
    notifications.breakers_collect()
    notifications.payments_collect()
    return notifications.notifications_send()


@shared_task(name="backoffice.daily_digest", ignore_result=True)
def daily_digest() -> int:
    """Tomorrow's arrivals and departures, one digest per owner (beat, daily)."""
    from . import notifications

    made = notifications.digest_create()
    notifications.notifications_send()
    return made
