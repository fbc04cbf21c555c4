"""Security headers and log scrubbing (issue 19).

Content-Security-Policy
    ``SecurityHeadersMiddleware`` sends one policy on every response: scripts only from our origin
    (and Stripe's, for the real Payment Element) or inline blocks carrying the request's nonce
    (``<script nonce="{{ request.csp_nonce }}">``); no plugins, no foreign frames, no ``<base>``
    tricks. Inline ``style`` attributes stay allowed (``'unsafe-inline'`` in ``style-src``: the admin
    and the guest pages use them; styles cannot run code). Framing: ``frame-ancestors 'none'`` (with
    Django's ``X-Frame-Options: DENY`` for older browsers) except on views marked
    ``@xframe_options_exempt`` – the booking widget – which send ``frame-ancestors *``.

No-store
    Pages that show a booking (confirmation, its ``.ics``, the guest portal, the payment step) are
    decorated with ``never_cache`` in their views; API answers (guest data) get ``Cache-Control:
    private, no-store`` here.

Log scrubbing
    ``apps.core.logscrub.scrub`` removes secrets from a log line: guest-link tokens in paths (``/manage/<token>/``,
    ``/ical/<token>.ics``), secret query parameters (``t``, ``token``, ``signature``, ``client_secret``
    ...), ``Authorization`` values and Stripe-style keys. The JSON and plain log formatters and the
    gunicorn access log run every line through it (``apps.core.logscrub``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

STRIPE_JS = "https://js.stripe.com"


def content_security_policy(*, nonce: str, frameable: bool) -> str:
    stripe = "" if settings.STRIPE_SANDBOX else f" {STRIPE_JS}"
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'{stripe}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:" + "".join(f" {src}" for src in settings.CSP_EXTRA_IMG_SRC),
        "font-src 'self' data:",
        "worker-src 'self' blob:",  # the API docs (ReDoc) start a worker from a blob
        "connect-src 'self'" + ("" if settings.STRIPE_SANDBOX else " https://api.stripe.com"),
        "frame-src 'self'" + ("" if settings.STRIPE_SANDBOX else f" {STRIPE_JS} https://hooks.stripe.com"),
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors *" if frameable else "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: ``CLIENT_IP_HEADER`` (set by a trusted proxy) if configured, else the socket's."""
    header = settings.CLIENT_IP_HEADER
    if header:
        value = request.headers.get(header, "").split(",")[0].strip()
        if value:
            return value
    return request.META.get("REMOTE_ADDR")


class SecurityHeadersMiddleware:
    """Content-Security-Policy with a per-request nonce; no-store on API answers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        header = "Content-Security-Policy-Report-Only" if settings.CSP_REPORT_ONLY else "Content-Security-Policy"
        response[header] = content_security_policy(
            nonce=nonce, frameable=getattr(response, "xframe_options_exempt", False)
        )
        if request.path.startswith("/api/v1/") and "Cache-Control" not in response:
            response["Cache-Control"] = "private, no-store"
        return response
