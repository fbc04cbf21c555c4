"""Airbnb's calls to the PMS (``/webhooks/airbnb/...``). Thin: all logic is in ``inbound_airbnb``."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.core.badinput import read_request_body
from apps.core.errors import unavailable_dependency

from . import inbound_airbnb
from .inbound import MAX_BODY
from .metrics import timed_webhook

logger = logging.getLogger(__name__)


def _answer(call) -> JsonResponse:
    try:
        answer = call()
    except Exception as exc:  # the raw message is stored; never a bare 500 page
        logger.exception("Airbnb call failed")
        if unavailable_dependency(exc) is None:  # retrying would fail the same way: a permanent answer
            return JsonResponse({"succeed": False, "error": "The message could not be processed."}, status=422)
        response = JsonResponse({"succeed": False, "error": "Temporary failure, please retry."}, status=503)
        response["Retry-After"] = "5"
        return response
    return JsonResponse({**answer.body, "message_id": str(answer.message.pk)}, status=answer.http_status)


def _body(request: HttpRequest) -> bytes | None:
    body = read_request_body(request, MAX_BODY)  # chunked bodies too
    return None if len(body) > MAX_BODY else body


@csrf_exempt
@timed_webhook
def reservations(request: HttpRequest, platform: str) -> JsonResponse:
    if request.method != "GET":
        return JsonResponse({"error": "Use GET ...?action=check_availability."}, status=405)
    return _answer(
        lambda: inbound_airbnb.check_availability(
            headers=dict(request.headers), full_path=request.get_full_path(), params=request.GET.dict()
        )
    )


@csrf_exempt
@timed_webhook
def reservation(request: HttpRequest, platform: str, code: str) -> JsonResponse:
    if request.method != "PUT":
        return JsonResponse({"error": "Use PUT."}, status=405)
    body = _body(request)
    if body is None:
        return JsonResponse({"succeed": False, "error": "Message too large."}, status=413)
    return _answer(lambda: inbound_airbnb.reservation_put(headers=dict(request.headers), body=body, code=code))


@csrf_exempt
@timed_webhook
def notifications(request: HttpRequest, platform: str) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse({"error": "Use POST."}, status=405)
    body = _body(request)
    if body is None:
        return JsonResponse({"succeed": False, "error": "Message too large."}, status=413)
    return _answer(lambda: inbound_airbnb.notification_receive(headers=dict(request.headers), body=body))


@csrf_exempt
@timed_webhook
def elsewhere(request: HttpRequest, platform: str) -> JsonResponse:
    """``/webhooks/airbnb/`` itself: Airbnb calls the paths above. Kept like every message, answered 404."""
    body = read_request_body(request, MAX_BODY)
    return _answer(lambda: inbound_airbnb.not_here(headers=dict(request.headers), body=body[:MAX_BODY]))
