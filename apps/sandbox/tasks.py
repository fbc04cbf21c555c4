"""Celery tasks of the simulators (they do nothing unless ``SANDBOX_ENABLED``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings


@shared_task(name="sandbox.vrbo_crawl_due", acks_late=True, ignore_result=True)
def vrbo_crawl_due() -> int:
    """The Vrbo simulator's scheduled crawler: every listing whose interval has passed."""
    if not getattr(settings, "SANDBOX_ENABLED", False):
        return 0
    from .vrbo import crawl_due

    return len(crawl_due())
