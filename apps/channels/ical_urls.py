"""The iCal export, mounted at ``/ical/``.

    GET /ical/<token>.ics[?exclude=<source>[,<source>...]][&connection=<id>]

``token`` is ``Property.ical_token`` (unguessable; ``apps.channels.ical.feed_token_regenerate``
revokes it). An unknown or revoked token answers 404. ``exclude`` / ``connection`` keep a
platform's own imported events out of the feed it reads (no echo loops); see ``apps.channels.ical``.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.http import require_safe

from apps.core.errors import ValidationFailed
from apps.properties.models import Property

from . import ical

app_name = "ical"


@require_safe
def export_view(request: HttpRequest, token: str) -> HttpResponse:
    prop = Property.objects.filter(ical_token=token).first() if token else None
    if prop is None:
        raise Http404("No such calendar.")
    try:
        exclude = ical.parse_exclude(request.GET.get("exclude"))
        raw_connection = request.GET.get("connection", "").strip()
        if raw_connection and not raw_connection.isdigit():
            raise ValidationFailed("connection must be a connection id (a number).")
        connections = (int(raw_connection),) if raw_connection else ()
    except ValidationFailed as exc:
        return JsonResponse({"error": exc.code, "message": exc.message}, status=400)
    body = ical.export_feed(prop=prop, exclude_sources=exclude, exclude_connection_ids=connections)
    from .ical_reads import export_read_record

    export_read_record(property_id=prop.pk, user_agent=request.headers.get("User-Agent", ""))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="calendar-{prop.pk}.ics"'
    response["Cache-Control"] = "private, max-age=0, no-cache"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


urlpatterns = [
    path("<str:token>.ics", export_view, name="export"),
]
