"""Outbox handler: fans an event out to one WebhookDelivery per subscription that wants it and may
see it. Runs inside the outbox dispatcher's transaction; sending starts after commit.

Who may see an event is the one tenancy decision (``SyncEvent.objects.visible_to``), made for the
subscription's owner when the event is fanned out: an owner's endpoint never hears of another owner's
property; an event without a property (a staff-only alert) reaches staff subscriptions only.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from apps.core.models import SyncEvent

from .events import CATALOGUE, event_envelope
from .models import WebhookDelivery, WebhookSubscription


def handle_event(event: SyncEvent) -> list[int]:
    if event.event_type not in CATALOGUE:
        return []
    created = []
    wanting = Q(event_types=[]) | Q(event_types__contains=[event.event_type])
    subs = WebhookSubscription.objects.filter(wanting, is_active=True).select_related("owner")
    sees: dict[int, bool] = {}  # one visibility decision per owner, however many endpoints they have
    for sub in subs:
        if sub.owner_id not in sees:
            sees[sub.owner_id] = SyncEvent.objects.visible_to(sub.owner).filter(pk=event.pk).exists()
        if not sees[sub.owner_id]:
            continue
        message_id = f"msg_{event.pk.hex}{sub.pk:x}"
        delivery, was_created = WebhookDelivery.objects.get_or_create(
            subscription=sub,
            event=event,
            defaults={
                "event_type": event.event_type,
                "message_id": message_id,
                "payload": event_envelope(event, message_id=message_id),
            },
        )
        if was_created:
            created.append(delivery.pk)
    if created:
        from .delivery import enqueue

        transaction.on_commit(lambda: enqueue(created))
    return created
