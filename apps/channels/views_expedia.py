"""Expedia Booking Notification endpoint: ``POST /webhooks/expedia/bn/`` (SOAP). Thin: the logic is in
``inbound_expedia``."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .inbound import MAX_BODY
from .inbound_expedia import bn_receive, soap_fault
from .metrics import timed_webhook

logger = logging.getLogger(__name__)
SOAP_TYPE = "text/xml; charset=utf-8"


@csrf_exempt
@require_POST
@timed_webhook
def booking_notification(request: HttpRequest, platform: str) -> HttpResponse:
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return HttpResponse(soap_fault(code="Client", text="Message too large."), status=413, content_type=SOAP_TYPE)
    try:
        answer = bn_receive(headers=dict(request.headers), body=body)
    except Exception:  # the raw message is stored; a SOAP Fault makes Expedia retry (RetryIndicator)
        logger.exception("Expedia Booking Notification processing failed")
        fault = soap_fault(code="Server", text="Temporary failure, please retry.")
        return HttpResponse(fault, status=503, content_type=SOAP_TYPE)
    return HttpResponse(answer.body, status=answer.http_status, content_type=SOAP_TYPE)
