"""Integrator API: webhook subscriptions (the caller's own) and their delivery log."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.base import ApiViewSet, q_choice

from . import services
from .events import EVENT_TYPES
from .models import WebhookDelivery, WebhookSubscription

SUBSCRIPTION_EXAMPLE = {
    "id": 3,
    "url": "https://crm.example.com/hooks/pms",
    "description": "CRM",
    "event_types": ["booking.created", "booking.cancelled"],
    "is_active": True,
    "disabled_reason": "",
    "failure_streak": 0,
    "failing_since": None,
    "last_success_at": "2026-08-01T09:30:02Z",
    "created_at": "2026-07-01T08:00:00Z",
    "updated_at": "2026-07-01T08:00:00Z",
}


DELIVERY_EXAMPLE = {
    "id": 901,
    "subscription": 3,
    "event_type": "booking.created",
    "message_id": "msg_0b7f6d8e1c2a4b3c9d4e5f6a7b8c9d0e3",
    "status": "succeeded",
    "attempts": 1,
    "http_status": 204,
    "latency_ms": 84,
    "last_error": "",
    "next_attempt_at": None,
    "delivered_at": "2026-08-01T09:30:02Z",
    "created_at": "2026-08-01T09:30:00Z",
    "payload": {"id": "msg_0b7f6d8e1c2a4b3c9d4e5f6a7b8c9d0e3", "type": "booking.created", "data": {"booking_id": 77}},
}
SUB_OUT = [OpenApiExample("Subscription", value=SUBSCRIPTION_EXAMPLE, response_only=True)]
SUB_IN = OpenApiExample(
    "Subscribe",
    value={"url": "https://crm.example.com/hooks/pms", "event_types": ["booking.created"], "description": "CRM"},
    request_only=True,
)
DELIVERY_OUT = [OpenApiExample("Delivery", value=DELIVERY_EXAMPLE, response_only=True, status_codes=["200", "202"])]


class SubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), required=False)

    class Meta:
        model = WebhookSubscription
        fields = [
            "id", "url", "description", "event_types", "is_active", "disabled_reason", "failure_streak",
            "failing_since", "last_success_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "disabled_reason", "failure_streak", "failing_since", "last_success_at", "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"description": {"required": False}, "is_active": {"required": False}}


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret: returned only now.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "subscription", "event_type", "message_id", "status", "attempts", "http_status", "latency_ms",
            "last_error", "next_attempt_at", "delivered_at", "created_at", "payload",
        ]  # fmt: skip
        read_only_fields = fields


SECRET_RESPONSE = inline_serializer("WebhookSecret", fields={"secret": serializers.CharField()})


@extend_schema_view(
    list=extend_schema(summary="List your webhook subscriptions", examples=SUB_OUT),
    retrieve=extend_schema(summary="Get a webhook subscription", examples=SUB_OUT),
    create=extend_schema(
        summary="Subscribe an endpoint to events",
        description="The response carries the signing `secret` once; it is never shown again (rotate it if lost). "
        "`event_types` empty or absent: every event type. The URL must be https and public.",
        responses={201: SubscriptionCreatedSerializer},
        examples=[
            SUB_IN,
            OpenApiExample(
                "Created",
                value={**SUBSCRIPTION_EXAMPLE, "secret": "whsec_..."},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    ),
    partial_update=extend_schema(
        summary="Change a subscription (url, event types, description, is_active)", examples=[SUB_IN, *SUB_OUT]
    ),
    update=extend_schema(
        summary="Replace a subscription's url, event types, description and is_active", examples=[SUB_IN, *SUB_OUT]
    ),
    destroy=extend_schema(summary="Delete a subscription (its delivery log goes with it)"),
)
class WebhookSubscriptionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ApiViewSet
):
    serializer_class = SubscriptionSerializer
    ordering_fields = ["created_at", "id"]
    ordering = ["id"]

    def scoped_queryset(self):
        return WebhookSubscription.objects.visible_to(self.request.user)

    def create(self, request):
        body = SubscriptionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        sub, secret = services.subscription_create(
            owner=request.user,
            url=data["url"],
            event_types=data.get("event_types") or [],
            description=data.get("description", ""),
        )
        out = SubscriptionSerializer(sub).data
        out["secret"] = secret
        return Response(out, status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{sub.pk}/"})

    def update(self, request, pk=None, partial: bool = False):
        sub = self.get_object()
        body = SubscriptionSerializer(sub, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        sub = services.subscription_update(subscription=sub, **body.validated_data)
        return Response(SubscriptionSerializer(sub).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def perform_destroy(self, instance):
        services.subscription_delete(subscription=instance)

    @extend_schema(
        summary="Send a webhook.test event to this endpoint",
        request=None,
        responses={202: DeliverySerializer},
        examples=DELIVERY_OUT,
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = services.test_event_send(subscription=self.get_object())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Replace the signing secret",
        request=None,
        responses={200: SECRET_RESPONSE},
        examples=[OpenApiExample("New secret", value={"secret": "whsec_..."}, response_only=True)],
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        return Response({"secret": services.subscription_rotate_secret(subscription=self.get_object())})


@extend_schema_view(
    list=extend_schema(
        summary="The webhook delivery log (newest first)",
        parameters=[
            OpenApiParameter("status", str, enum=list(WebhookDelivery.Status.values)),
            OpenApiParameter("subscription", int),
        ],
        examples=DELIVERY_OUT,
    ),
    retrieve=extend_schema(summary="One webhook delivery", examples=DELIVERY_OUT),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = DeliverySerializer
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at"]

    def scoped_queryset(self):
        qs = WebhookDelivery.objects.visible_to(self.request.user)
        if self.action == "list":
            if (value := q_choice(self.request, "status", WebhookDelivery.Status.values)) is not None:
                qs = qs.filter(status=value)
            if (value := self.request.query_params.get("subscription")) is not None:
                qs = qs.filter(subscription_id=value) if value.isdigit() and len(value) < 12 else qs.none()
        return qs

    @extend_schema(
        summary="Send a dead letter again (same message id)",
        request=None,
        responses={202: DeliverySerializer},
        examples=DELIVERY_OUT,
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        delivery = self.get_object()
        if not services.delivery_retry(delivery_id=delivery.pk):
            from apps.core.errors import Conflict

            raise Conflict("Only a dead letter can be retried.", details={"status": delivery.status})
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
