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


def _read_chunked(stream, limit: int) -> bytes:
    """Undo HTTP/1.1 chunked framing read straight from the socket (servers that pass it through,
    such as Django's own development and test server). Stops after ``limit`` + 1 bytes of payload."""
    out = bytearray()
    while len(out) <= limit:
        line = stream.readline(1024)
        if not line:
            break
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            break  # not chunked framing after all: what was read so far is the body
        if size == 0:
            while stream.readline(1024) not in (b"", b"\r\n", b"\n"):  # trailers
                pass
            break
        out += stream.read(min(size, limit + 1 - len(out)) if len(out) + size > limit else size)
        if len(out) > limit:
            break
        stream.readline(16)  # the CRLF after each chunk
    return bytes(out)


def read_request_body(request: HttpRequest, limit: int) -> bytes:
    """The request body, at most ``limit`` + 1 bytes (so a caller can tell "too large"), also when it
    came with ``Transfer-Encoding: chunked`` and no ``Content-Length``: Django reads such a body as
    empty, which stored a signed platform message as nothing. Gunicorn de-chunks and says so
    (``wsgi.input_terminated``); otherwise the framing is undone here."""
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not chunked or request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
        return request.read(limit + 1)
    stream = request.META.get("wsgi.input")
    if stream is None:
        return b""
    if request.META.get("wsgi.input_terminated"):
        return stream.read(limit + 1)
    return _read_chunked(stream, limit)
