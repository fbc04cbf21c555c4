"""Google Vacation Rentals endpoints on the PMS side: the owner account's Hotel List Feed (fetched by
Google on its schedule). Thin: the feed is built in ``apps.channels.google_vr``."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from . import google_vr


@require_GET
def hotel_list_feed(request: HttpRequest, partner: str, owner_id: int, token: str) -> HttpResponse:
    if not google_vr.feed_token_valid(owner_id=owner_id, partner=partner, token=token):
        raise Http404("No such feed.")  # a wrong token, partner or owner all look the same
    response = HttpResponse(
        google_vr.hotel_list_feed(owner_id=owner_id, partner=partner), content_type="application/xml"
    )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
