"""Every answer under ``/api/`` is JSON in the error shape, whatever produced it.

DRF's exception handler covers the API views. What answers before or beside them does not: Django's
CSRF refusal (a POST to an unknown path or a non-numeric id with a session cookie), its 404 for a path
no pattern matches (e.g. an id with a newline), ``require_POST``-style 405s, a 400 for a bad Host, a
NUL character in the path. This middleware rewrites any non-JSON error answer under ``/api/`` into
``{"error": {"code", "message", "details"}}`` with the same status. The schema and the docs pages
(``/api/schema/``, ``/api/docs/``) are left alone.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from .exceptions import error_body

PREFIX = "/api/"
EXEMPT = ("/api/schema/", "/api/docs/")
CODES = {
    400: ("bad_request", "The request is malformed."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "No such API endpoint or object."),
    405: ("method_not_allowed", "This method is not allowed here."),
    406: ("not_acceptable", "Only JSON is served here."),
    413: ("too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send JSON (Content-Type: application/json)."),
}


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() in ("application/json", "application/problem+json")


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        response = self.get_response(request)
        if not path.startswith(PREFIX) or path.startswith(EXEMPT) or response.status_code < 400:
            return response
        if _is_json(response) or getattr(response, "streaming", False):
            return response
        code, message = CODES.get(response.status_code, ("error", "The request could not be served."))
        if response.status_code >= 500:
            code, message = "server_error", "Something went wrong on our side; the error was logged."
        replaced = JsonResponse(error_body(code, message), status=response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate", "X-Request-ID"):
            if header in response:
                replaced[header] = response[header]
        return replaced
