"""Expedia Booking Notification endpoint: ``POST /webhooks/expedia/bn/`` (SOAP). Thin: the logic is in
``inbound_expedia``."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.badinput import read_request_body
from apps.core.errors import unavailable_dependency

from .inbound import MAX_BODY
from .inbound_expedia import bn_receive, soap_fault
from .metrics import timed_webhook

logger = logging.getLogger(__name__)
SOAP_TYPE = "text/xml; charset=utf-8"


@csrf_exempt
@require_POST
@timed_webhook
def booking_notification(request: HttpRequest, platform: str) -> HttpResponse:
    body = read_request_body(request, MAX_BODY)  # chunked bodies too
    if len(body) > MAX_BODY:
        return HttpResponse(soap_fault(code="Client", text="Message too large."), status=413, content_type=SOAP_TYPE)
    try:
        answer = bn_receive(headers=dict(request.headers), body=body)
    except Exception as exc:  # the raw message is stored; never a bare 500 page
        logger.exception("Expedia Booking Notification processing failed")
        if unavailable_dependency(exc) is None:  # retrying would fail the same way
            fault = soap_fault(code="Server", text="The message could not be processed.")
            return HttpResponse(fault, status=422, content_type=SOAP_TYPE)
        fault = soap_fault(code="Server", text="Temporary failure, please retry.")  # Expedia retries
        response = HttpResponse(fault, status=503, content_type=SOAP_TYPE)
        response["Retry-After"] = "5"
        return response
    return HttpResponse(answer.body, status=answer.http_status, content_type=SOAP_TYPE)
