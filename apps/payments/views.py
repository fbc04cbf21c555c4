"""Stripe webhook endpoint: verify, store (deduped by event id), apply."""

from __future__ import annotations

import logging
import re

import stripe
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.badinput import read_request_body
from apps.core.errors import DomainError

from . import gateway, services
from .gateway import GatewayError

logger = logging.getLogger(__name__)

#: Stripe's events are a few KiB; a body larger than this is not one.
MAX_BODY = 1024 * 1024
#: Stripe's event ids (``evt_...``); anything else (5000 characters, NUL, spaces) is not an event.
EVENT_ID = re.compile(r"^[A-Za-z0-9_]{1,255}$")


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """``POST /payments/stripe/webhook/``: 400 on a bad signature or body, 503 when Stripe cannot be
    reached to re-read the object (Stripe retries), 200 otherwise (also for replays)."""
    try:
        payload = read_request_body(request, MAX_BODY)  # chunked bodies too
        if len(payload) > MAX_BODY:
            return JsonResponse({"error": "payload too large"}, status=413)
        event = gateway.construct_event(payload=payload, sig_header=request.headers.get("Stripe-Signature"))
    except stripe.SignatureVerificationError as exc:
        logger.warning("Stripe webhook with a bad signature refused: %s", exc)
        return JsonResponse({"error": "invalid signature"}, status=400)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return JsonResponse({"error": "invalid payload"}, status=400)
    if event.get("object") != "event" or not isinstance(event.get("id"), str) or not EVENT_ID.match(event["id"]):
        return JsonResponse({"error": "not a Stripe event"}, status=400)
    try:
        record, duplicate = services.stripe_event_process(event=event)
    except GatewayError as exc:
        if exc.retryable:  # Stripe cannot be reached: Stripe retries, and the retry can succeed
            return JsonResponse({"error": exc.message}, status=503)
        # Stripe answered (e.g. no such PaymentIntent): retrying would never succeed; recorded, 200
        logger.warning("Stripe event %s refused for good: %s", event["id"], exc.message)
        return JsonResponse({"received": True, "error": exc.message})
    except DomainError as exc:
        logger.exception("Stripe event %s could not be applied", event.get("id"))
        return JsonResponse({"received": True, "error": exc.message})
    return JsonResponse({"received": True, "duplicate": duplicate, "result": record.result})
