"""Clickjacking: no page of ours may be framed by another site, except the booking widget.

Django's ``XFrameOptionsMiddleware`` sends ``X-Frame-Options: DENY`` (older browsers); this adds the
modern ``Content-Security-Policy: frame-ancestors 'none'`` to every response that sets no policy of
its own. The booking widget (``storefront:embed``) is exempt from both and sends
``frame-ancestors *``: owners frame it on their own websites.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class FrameAncestorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response and not getattr(response, "xframe_options_exempt", False):
            response["Content-Security-Policy"] = "frame-ancestors 'none'"
        return response
