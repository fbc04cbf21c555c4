"""FeWo-direkt / Vrbo HTTP endpoints (thin; logic in ``apps.channels.vrbo`` and ``inbound_vrbo``).

Feeds (``GET``, HTTP Basic auth of one ``fewo_direkt`` connection, ``ETag`` / ``Last-Modified``,
``304 Not Modified`` for ``If-None-Match`` / ``If-Modified-Since``):

- ``/vrbo/feeds/<kind>/index.xml`` and ``/vrbo/feeds/<kind>/<listingExternalId>.xml`` for ``kind`` in
  ``listing``, ``lodging``, ``rates``, ``availability``;
- ``/vrbo/feeds/bookings/index.xml`` (``bookingContentIndex``) and ``/vrbo/feeds/bookings/<id>.xml``.

Real-time requests (``apps.channels.inbound_vrbo``): ``POST /vrbo/booking`` (``bookingRequest``,
``cancelBookingRequest``, ``bookingModificationRequest``) and ``POST /vrbo/quote`` (FAS JSON).

A listing or booking that is not the authenticated connection's answers 404, exactly like one that
does not exist. Every authenticated read is recorded (``VrboFeedRead``).
"""

from __future__ import annotations

import logging
import time

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import inbound_vrbo, vrbo
from .inbound import MAX_BODY
from .models import VrboFeedRead

logger = logging.getLogger(__name__)

XML = "application/xml; charset=utf-8"


def error_response(status: int, message: str) -> HttpResponse:
    """Vrbo's error document (PLATFORMS.md section 4): ``<error><errorCode/><message/></error>``."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<error><errorCode>{status}</errorCode><message>{message}</message></error>"
    ).encode()
    response = HttpResponse(body, status=status, content_type=XML)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="vrbo-feeds"'
    return response


def _not_modified(request: HttpRequest, doc: vrbo.FeedDocument) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return doc.etag in tags or "*" in tags
    ims = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return ims is not None and int(doc.last_modified.timestamp()) <= ims


def _serve(request: HttpRequest, conn, doc: vrbo.FeedDocument, *, document: str, item: str) -> HttpResponse:
    not_modified = _not_modified(request, doc)
    response = HttpResponse(status=304) if not_modified else HttpResponse(doc.body, content_type=XML)
    response["ETag"] = doc.etag
    # HTTP dates have whole seconds: a change later in the same second as the document's last
    # change would look "not modified since" to a crawler that only sends If-Modified-Since. So the
    # date is sent only once its second is over; until then the ETag alone decides.
    if int(doc.last_modified.timestamp()) < int(time.time()):
        response["Last-Modified"] = http_date(doc.last_modified.timestamp())
    response["Cache-Control"] = "private, no-cache"
    vrbo.feed_read_record(conn=conn, document=document, item=item, status_code=response.status_code, etag=doc.etag)
    return response


def _auth(request: HttpRequest):
    return vrbo.authenticate(request.headers.get("Authorization", ""))


@csrf_exempt
@require_GET
def index(request: HttpRequest, kind: str) -> HttpResponse:
    conn = _auth(request)
    if conn is None:
        return error_response(401, "Authentication required.")
    if kind not in vrbo.KINDS:
        return error_response(404, "No such feed.")
    return _serve(request, conn, vrbo.index_document(conn, kind), document=vrbo.INDEX_OF_KIND[kind], item="")


@csrf_exempt
@require_GET
def document(request: HttpRequest, kind: str, listing: str) -> HttpResponse:
    conn = _auth(request)
    if conn is None:
        return error_response(401, "Authentication required.")
    if kind not in vrbo.KINDS or listing != vrbo.listing_external_id(conn):
        return error_response(404, "No such listing.")
    doc = vrbo.DOCUMENTS[kind](conn)
    return _serve(request, conn, doc, document=vrbo.DOC_OF_KIND[kind], item=listing)


@csrf_exempt
@require_GET
def booking_index(request: HttpRequest) -> HttpResponse:
    conn = _auth(request)
    if conn is None:
        return error_response(401, "Authentication required.")
    doc = vrbo.booking_index_document(conn)
    return _serve(request, conn, doc, document=VrboFeedRead.Document.BOOKING_INDEX, item="")


@csrf_exempt
@require_GET
def booking_update(request: HttpRequest, external_id: str) -> HttpResponse:
    conn = _auth(request)
    if conn is None:
        return error_response(401, "Authentication required.")
    booking = vrbo.booking_for_update(conn, external_id)
    if booking is None:
        return error_response(404, "No such booking.")
    doc = vrbo.booking_update_document(conn, booking)
    return _serve(request, conn, doc, document=VrboFeedRead.Document.BOOKING, item=external_id)


@csrf_exempt
@require_POST
def booking_request(request: HttpRequest) -> HttpResponse:
    """``bookingRequest`` / ``cancelBookingRequest`` / ``bookingModificationRequest`` (Basic auth)."""
    body = request.read(MAX_BODY + 1)
    try:
        answer = inbound_vrbo.booking_request_receive(headers=dict(request.headers), body=body)
    except Exception:  # the raw message is stored; answer "try again", never a bare 500 page
        logger.exception("Vrbo booking request failed")
        return error_response(503, "Temporary failure, please retry.")
    response = HttpResponse(answer.body, status=answer.http_status, content_type=answer.content_type)
    if answer.http_status == 401:
        response["WWW-Authenticate"] = 'Basic realm="vrbo-feeds"'
    return response


@csrf_exempt
@require_POST
def quote(request: HttpRequest) -> JsonResponse:
    """The quote / fast availability (FAS) JSON request."""
    status, answer = inbound_vrbo.quote_receive(headers=dict(request.headers), body=request.read(MAX_BODY + 1))
    response = JsonResponse(answer, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="vrbo-feeds"'
    return response
