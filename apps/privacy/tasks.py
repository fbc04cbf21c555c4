from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="privacy.purge_inbound_bodies")
def purge_inbound_bodies() -> int:
    """Beat, daily: raw inbound message bodies past their retention lose their body (metadata stays)."""
    return services.inbound_bodies_purge()
