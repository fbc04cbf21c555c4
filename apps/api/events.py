"""Integrator API: the outbox's sync events (read-only)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from apps.core.models import SyncEvent

from .base import ApiViewSet, q_bool, q_choice, q_int, q_str

EVENT_EXAMPLE = {
    "id": "8f14e45f-ceea-467f-a0e6-2f5b2b6e1c11",
    "event_type": "booking.created",
    "entity_type": "booking",
    "entity_id": "77",
    "property": 12,
    "source": "api",
    "payload": {"booking_id": 77, "reference": "PMS-2026-000077", "status": "reserved"},
    "created_at": "2026-01-05T10:00:00Z",
    "processed_at": "2026-01-05T10:00:01Z",
    "error": "",
    "retry_count": 0,
}


class SyncEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncEvent
        fields = [
            "id", "event_type", "entity_type", "entity_id", "property", "source", "payload", "created_at",
            "processed_at", "error", "retry_count",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List sync events",
        description="Domain events (bookings, availability, pricing) of the visible properties, newest first, "
        "and whether the channel manager processed them.",
        parameters=[
            OpenApiParameter("property", int, description="Filter by property id."),
            OpenApiParameter("event_type", str, enum=[t.value for t in SyncEvent.Type]),
            OpenApiParameter("source", str, description="Where the change came from (direct, api, airbnb, ...)."),
            OpenApiParameter("processed", bool, description="true: processed; false: still pending."),
        ],
        examples=[
            OpenApiExample(
                "A page",
                value=EVENT_EXAMPLE,
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get a sync event", examples=[OpenApiExample("Event", value=EVENT_EXAMPLE, response_only=True)]
    ),
)
class SyncEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = SyncEventSerializer
    lookup_value_regex = r"[0-9a-fA-F-]{36}"
    ordering_fields = ["created_at", "processed_at"]
    ordering = ["-created_at"]

    def scoped_queryset(self):
        qs = SyncEvent.objects.visible_to(self.request.user)
        if self.action == "list":
            request = self.request
            if (value := q_int(request, "property")) is not None:
                qs = qs.filter(property_id=value)
            if (value := q_choice(request, "event_type", SyncEvent.Type.values)) is not None:
                qs = qs.filter(event_type=value)
            if (value := q_str(request, "source")) is not None:
                qs = qs.filter(source=value)
            if (value := q_bool(request, "processed")) is not None:
                qs = qs.filter(processed_at__isnull=not value)
        return qs
