"""Integrator API: channel connection status (read-only; secrets are never exposed)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from apps.api.base import ApiViewSet, q_choice, q_int

from .models import ChannelConnection, Platform

CONNECTION_EXAMPLE = {
    "id": 4,
    "property": 12,
    "platform": "airbnb",
    "label": "",
    "external_property_id": "AB-998877",
    "sync_enabled": True,
    "sync_status": "ok",
    "last_sync_at": "2026-01-05T10:00:00Z",
    "last_error": "",
    "last_import_at": None,
    "last_import_status": "",
    "created_at": "2026-01-01T09:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z",
}


class ChannelConnectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChannelConnection
        fields = [
            "id", "property", "platform", "label", "external_property_id", "sync_enabled", "sync_status",
            "last_sync_at", "last_error", "last_import_at", "last_import_status", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List channel connections and their sync status",
        parameters=[
            OpenApiParameter("property", int, description="Filter by property id."),
            OpenApiParameter("platform", str, enum=[p.value for p in Platform]),
            OpenApiParameter("sync_status", str, enum=[s.value for s in ChannelConnection.SyncStatus]),
        ],
        examples=[
            OpenApiExample(
                "A page",
                value=CONNECTION_EXAMPLE,
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get a channel connection's status",
        examples=[OpenApiExample("Connection", value=CONNECTION_EXAMPLE, response_only=True)],
    ),
)
class ChannelConnectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = ChannelConnectionSerializer
    ordering_fields = ["platform", "last_sync_at", "created_at", "id"]
    ordering = ["property", "platform"]

    def scoped_queryset(self):
        qs = ChannelConnection.objects.visible_to(self.request.user)
        if self.action == "list":
            request = self.request
            if (value := q_int(request, "property")) is not None:
                qs = qs.filter(property_id=value)
            if (value := q_choice(request, "platform", Platform.values)) is not None:
                qs = qs.filter(platform=value)
            if (value := q_choice(request, "sync_status", ChannelConnection.SyncStatus.values)) is not None:
                qs = qs.filter(sync_status=value)
        return qs
