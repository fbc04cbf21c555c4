"""The webhooks section of the OpenAPI document: one entry per event type, with an example body.

The schema is OpenAPI 3.0.3, whose root has no ``webhooks`` key; drf-spectacular's ``WEBHOOKS`` are
therefore published as ``x-webhooks`` (which ReDoc renders) by ``webhooks_as_extension``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema, inline_serializer
from rest_framework import serializers

from .events import CATALOGUE, EVENT_TYPES, PAYLOAD_VERSION, example_envelope

HEADERS_DOC = (
    "Signed the Standard Webhooks way: `webhook-id` (the message id, the same on every retry), "
    "`webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256>` over "
    '`"{webhook-id}.{webhook-timestamp}.{raw body}"`, keyed with the base64-decoded part of your `whsec_` '
    "secret. Answer 2xx within the timeout; anything else is retried with backoff."
)

Envelope = inline_serializer(
    "WebhookEvent",
    fields={
        "id": serializers.CharField(help_text="Message id, equal to the webhook-id header."),
        "type": serializers.ChoiceField(choices=EVENT_TYPES),
        "version": serializers.CharField(help_text=f"Payload version (currently {PAYLOAD_VERSION})."),
        "created_at": serializers.DateTimeField(),
        "event_id": serializers.UUIDField(allow_null=True),
        "property_id": serializers.IntegerField(allow_null=True),
        "data": serializers.DictField(help_text="The event's data (see the examples)."),
    },
)


def _webhook(event_type: str) -> OpenApiWebhook:
    description, _ = CATALOGUE[event_type]
    return OpenApiWebhook(
        name=event_type,
        decorator=extend_schema(
            summary=description,
            description=HEADERS_DOC,
            request=Envelope,
            responses={200: OpenApiResponse(description="Received (any 2xx)")},
        ),
    )


WEBHOOKS = [_webhook(t) for t in EVENT_TYPES]


def webhooks_as_extension(result, generator, request, public):
    """Postprocessing hook: an example body per event, and OpenAPI 3.0 keeps webhooks under ``x-webhooks``."""
    for event_type, item in result.get("webhooks", {}).items():
        content = item.get("post", {}).get("requestBody", {}).get("content", {}).get("application/json")
        if content is not None and event_type in CATALOGUE:
            content["examples"] = {event_type: {"value": example_envelope(event_type), "summary": event_type}}
    if "webhooks" in result and not str(result.get("openapi", "")).startswith("3.1"):
        result["x-webhooks"] = result.pop("webhooks")
    return result
