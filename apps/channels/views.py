"""Inbound webhook endpoint: ``POST /webhooks/<platform>/``. Thin: all logic is in ``inbound``."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .inbound import MAX_BODY, webhook_receive, webhook_too_large
from .metrics import timed_webhook

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
@timed_webhook
def webhook(request: HttpRequest, platform: str) -> JsonResponse:
    body = request.read(MAX_BODY + 1)
    receive = webhook_too_large if len(body) > MAX_BODY else webhook_receive
    try:
        response = receive(platform=platform, headers=dict(request.headers), body=body)
    except Exception:  # the raw message is already stored; answer retryable, never a bare 500 page
        logger.exception("webhook processing failed for %s", platform)
        return JsonResponse({"status": "error", "error": "Temporary failure, please retry."}, status=503)
    return JsonResponse({**response.body, "message_id": str(response.message.pk)}, status=response.http_status)
