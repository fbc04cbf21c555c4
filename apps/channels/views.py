"""Inbound webhook endpoint: ``POST /webhooks/<platform>/``. Thin: all logic is in ``inbound``."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.badinput import read_request_body
from apps.core.errors import unavailable_dependency

from .inbound import MAX_BODY, webhook_receive, webhook_too_large
from .metrics import timed_webhook

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
@timed_webhook
def webhook(request: HttpRequest, platform: str) -> JsonResponse:
    body = read_request_body(request, MAX_BODY)  # chunked bodies too
    receive = webhook_too_large if len(body) > MAX_BODY else webhook_receive
    try:
        response = receive(platform=platform, headers=dict(request.headers), body=body)
    except Exception as exc:  # only a fault that can pass (database, Redis) is "retry"; never a bare 500
        logger.exception("webhook processing failed for %s", platform)
        if unavailable_dependency(exc) is not None:
            response = JsonResponse({"status": "error", "error": "Temporary failure, please retry."}, status=503)
            response["Retry-After"] = "5"
            return response
        return JsonResponse({"status": "failed", "error": "The message could not be processed."}, status=422)
    return JsonResponse({**response.body, "message_id": str(response.message.pk)}, status=response.http_status)
