"""The events integrators can subscribe to, and the versioned envelope each webhook carries.

Every webhook body is one JSON object::

    {"id": "msg_...", "type": "booking.created", "version": "2026-12-01", "created_at": "...",
     "event_id": "<outbox event uuid>", "property_id": 12, "data": {...}}

``id`` equals the ``webhook-id`` header and stays the same on every retry of that delivery (use it
to drop replays); ``data`` is the outbox event's own payload (ids, references, dates, amounts; no
guest personal data: fetch ``/api/v1/bookings/<booking_id>/`` with your token for that).
"""

from __future__ import annotations

from typing import Any

from apps.core.models import SyncEvent

#: The payload version: bumped (with a new date) whenever a field changes meaning or disappears.
PAYLOAD_VERSION = "2026-12-01"
TEST_EVENT = "webhook.test"

T = SyncEvent.Type
#: event type -> (description, example ``data``)
CATALOGUE: dict[str, tuple[str, dict[str, Any]]] = {
    T.BOOKING_CREATED: (
        "A booking was created (any source: guest pages, API, admin, a channel).",
        {
            "booking_id": 77, "reference": "PMS-2026-000077", "property_id": 12, "source": "direct",
            "external_id": None, "status": "reserved", "check_in": "2026-08-03", "check_out": "2026-08-06",
            "guests": 2, "total_price": "400.00", "currency": "EUR",
        },
    ),
    T.BOOKING_UPDATED: (
        "A booking changed: status (confirmed, checked in/out), dates, party size.",
        {
            "booking_id": 77, "reference": "PMS-2026-000077", "property_id": 12, "source": "direct",
            "external_id": None, "status": "confirmed", "previous_status": "reserved", "check_in": "2026-08-03",
            "check_out": "2026-08-06", "guests": 2, "total_price": "400.00", "currency": "EUR", "reason": "",
        },
    ),
    T.BOOKING_CANCELLED: (
        "A booking was cancelled (by the guest, the owner, a channel or an expired hold).",
        {
            "booking_id": 77, "reference": "PMS-2026-000077", "property_id": 12, "source": "direct",
            "external_id": None, "status": "cancelled", "previous_status": "confirmed", "check_in": "2026-08-03",
            "check_out": "2026-08-06", "guests": 2, "total_price": "400.00", "currency": "EUR",
            "reason": "Plans changed",
        },
    ),
    T.AVAILABILITY_UPDATED: (
        "Nights of a property opened or closed (bookings, blocks, stay rules); [start, end).",
        {"property_id": 12, "start": "2026-08-03", "end": "2026-08-06", "reason": "booking.created"},
    ),
    T.PRICING_UPDATED: (
        "A property's prices or fees changed.",
        {"property_id": 12, "fields": ["base_price"], "reason": "owner"},
    ),
    T.CHANNEL_BOOKING_RECEIVED: (
        "A platform's reservation was accepted into the core as a booking.",
        {
            "booking_id": 78, "reference": "PMS-2026-000078", "property_id": 12, "platform": "booking_com",
            "connection_id": 4, "external_id": "BDC-5566", "check_in": "2026-09-01", "check_out": "2026-09-04",
        },
    ),
    T.SYNC_COMPLETED: (
        "A platform acknowledged a calendar push (availability, rates, restrictions).",
        {
            "property_id": 12, "platform": "booking_com", "connection_id": 4, "delivery_id": 901,
            "range_start": "2026-08-03", "range_end": "2026-08-06", "attempts": 1, "latency_seconds": 0.84,
        },
    ),
    T.SYNC_FAILED: (
        "A calendar push gave up (permanent or auth error, or retries exhausted): a dead letter.",
        {
            "property_id": 12, "platform": "booking_com", "connection_id": 4, "delivery_id": 902,
            "range_start": "2026-08-03", "range_end": "2026-08-06", "attempts": 1, "error_kind": "permanent",
            "error": "Booking.com refused the request (OTA error 392).",
        },
    ),
    T.ALERT_RAISED: (
        "Something needs the owner's attention (conflict refused, dead letter, feed problem).",
        {"alert_id": 55, "property_id": 12, "connection_id": 4, "kind": "conflict", "message": "..."},
    ),
    T.PAYMENT_SUCCEEDED: (
        "A guest's payment succeeded.",
        {"payment_id": 31, "booking_id": 77, "property_id": 12, "amount": "400.00", "currency": "EUR"},
    ),
    T.PAYMENT_REFUNDED: (
        "A refund was paid back to the guest.",
        {
            "refund_id": 9, "payment_id": 31, "booking_id": 77, "property_id": 12, "amount": "200.00",
            "currency": "EUR",
        },
    ),
}  # fmt: skip

EVENT_TYPES: list[str] = [str(t) for t in CATALOGUE]


def envelope(*, message_id: str, event_type: str, created_at, event_id: str | None, property_id, data: dict) -> dict:
    return {
        "id": message_id,
        "type": event_type,
        "version": PAYLOAD_VERSION,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "event_id": event_id,
        "property_id": property_id,
        "data": data,
    }


def event_envelope(event: SyncEvent, *, message_id: str) -> dict:
    return envelope(
        message_id=message_id,
        event_type=event.event_type,
        created_at=event.created_at,
        event_id=str(event.pk),
        property_id=event.property_id,
        data=dict(event.payload or {}),
    )


def example_envelope(event_type: str) -> dict:
    from datetime import UTC, datetime

    return envelope(
        message_id="msg_2f6c3c1d0c2b4f6e9b0e8b7a6d5c4b3a",
        event_type=event_type,
        created_at=datetime(2026, 8, 1, 9, 30, tzinfo=UTC),
        event_id="0b7f6d8e-1c2a-4b3c-9d4e-5f6a7b8c9d0e",
        property_id=12,
        data=CATALOGUE[event_type][1],
    )
