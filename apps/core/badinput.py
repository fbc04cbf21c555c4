"""Refusals that hold for every URL, before any view runs.

A NUL character in the path or the query string (``/ical/%00.ics``, ``?status__exact=%00``) can
never name anything: PostgreSQL refuses it in text, so a lookup with it was a 500. It is answered
400 here (JSON on the JSON paths), once for all views, the admin's included.
"""

from __future__ import annotations

from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, JsonResponse

from .views import JSON_PREFIXES


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path_info:
        return True
    query = request.META.get("QUERY_STRING", "")
    return "%00" in query or "\x00" in query or "\x00" in unquote(query)


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            message = "The address contains a NUL character."
            if request.path.startswith(JSON_PREFIXES):
                return JsonResponse({"error": {"code": "bad_request", "message": message, "details": {}}}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
