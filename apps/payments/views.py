"""Stripe webhook endpoint: verify, store (deduped by event id), apply."""

from __future__ import annotations

import logging

import stripe
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.errors import DomainError

from . import gateway, services
from .gateway import GatewayError

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """``POST /payments/stripe/webhook/``: 400 on a bad signature or body, 503 when Stripe cannot be
    reached to re-read the object (Stripe retries), 200 otherwise (also for replays)."""
    try:
        event = gateway.construct_event(payload=request.body, sig_header=request.headers.get("Stripe-Signature"))
    except stripe.SignatureVerificationError as exc:
        logger.warning("Stripe webhook with a bad signature refused: %s", exc)
        return JsonResponse({"error": "invalid signature"}, status=400)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return JsonResponse({"error": "invalid payload"}, status=400)
    if event.get("object") != "event" or not event.get("id"):
        return JsonResponse({"error": "not a Stripe event"}, status=400)
    try:
        record, duplicate = services.stripe_event_process(event=event)
    except GatewayError as exc:
        return JsonResponse({"error": exc.message}, status=503 if exc.retryable else 502)
    except DomainError as exc:
        logger.exception("Stripe event %s could not be applied", event.get("id"))
        return JsonResponse({"received": True, "error": exc.message})
    return JsonResponse({"received": True, "duplicate": duplicate, "result": record.result})
