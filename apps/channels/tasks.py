"""Celery tasks of the channel manager: thin, id-based, acks_late, idempotent."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.utils import timezone

logger = logging.getLogger(__name__)


@worker_ready.connect(weak=False, dispatch_uid="channels-resume-after-restart")
def _resume_after_restart(**kwargs) -> None:
    """A worker that starts (e.g. after its predecessor was killed) sweeps due deliveries at once, and
    again when the claims a dead worker left have lapsed, instead of waiting for beat."""
    from .delivery import claim_lease

    try:
        deliver_due.apply_async()
        deliver_due.apply_async(countdown=claim_lease().total_seconds() + 1)
    except Exception:  # broker down: beat sweeps later
        logger.exception("could not enqueue the start-up delivery sweep")


@shared_task(name="channels.deliver", acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    from .delivery import delivery_attempt

    return delivery_attempt(delivery_id=int(delivery_id)).status


@shared_task(name="channels.deliver_due", acks_late=True, ignore_result=True)
def deliver_due() -> int:
    """Backstop: enqueue every delivery whose retry time has come (lost messages, eager runs)."""
    from .delivery import release_stale_claims
    from .outbox import enqueue_deliveries
    from .selectors import due_delivery_ids

    now = timezone.now()
    release_stale_claims(now=now)
    ids = due_delivery_ids(now=now)
    enqueue_deliveries(ids)
    return len(ids)


@shared_task(name="channels.pull_reservations", acks_late=True, ignore_result=True)
def pull_reservations() -> int:
    """Poll every pull-platform connection's reservation queue (Booking.com: every ~20 s)."""
    from .inbound import pull_connection_ids

    ids = pull_connection_ids()
    for pk in ids:
        pull_connection.delay(pk)
    return len(ids)


@shared_task(name="channels.pull_connection", acks_late=True, ignore_result=True)
def pull_connection(connection_id: int) -> dict:
    from .inbound import reservations_pull

    return reservations_pull(connection_id=int(connection_id)).as_dict()


@shared_task(name="channels.reconcile_all", acks_late=True, ignore_result=True)
def reconcile_all() -> int:
    from .models import ChannelConnection

    ids = list(
        ChannelConnection.objects.filter(sync_enabled=True).exclude(platform="ical").values_list("pk", flat=True)
    )
    for pk in ids:
        reconcile_connection.delay(pk)
    return len(ids)


@shared_task(name="channels.reconcile_connection", acks_late=True, ignore_result=True)
def reconcile_connection(connection_id: int) -> int:
    from .reconciliation import reconcile

    return reconcile(connection_id=int(connection_id), triggered_by="beat").pk


@shared_task(name="channels.import_ical_feeds", acks_late=True, ignore_result=True)
def import_ical_feeds() -> object:
    """Import every iCal connection's feed (``apps.channels.ical.import_all_feeds``)."""
    from . import ical

    return ical.import_all_feeds()


@shared_task(name="channels.vrbo_staleness", acks_late=True, ignore_result=True)
def vrbo_staleness() -> int:
    """Alert when Vrbo has not read a changed availability feed for ``VRBO_STALE_MINUTES``."""
    from .vrbo import staleness_check

    return len(staleness_check())
