import sys

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse

from .errors import unavailable_dependency

#: seconds a client should wait after a 503 (a database connection or Redis that is unavailable)
RETRY_AFTER_SECONDS = 2
JSON_PREFIXES = ("/api/", "/webhooks/", "/payments/stripe/", "/readyz", "/healthz", "/metrics", "/ical/")


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    """For the load balancer: 503 only when this process cannot serve (no database). Redis down is
    ``degraded`` (200): the API, the guest pages and webhooks keep working from the database, and
    whatever truly needs Redis answers 503 itself."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # reported, not raised
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        cache.set("readyz", "1", 5)
        checks["redis"] = "ok" if cache.get("readyz") == "1" else "error"
    except Exception as exc:  # reported, not raised
        checks["redis"] = f"error: {type(exc).__name__}"
    if checks["database"] != "ok":
        status, code = "error", 503
    elif checks["redis"] != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem">
<h1>{title}</h1><p>{text}</p><p lang="de">{text_de}</p></body></html>"""


def server_error(request, *args, **kwargs):
    """``handler500``: an exception nobody handled. A backing service that is unreachable for now
    (PostgreSQL connection lost, Redis down) is a 503 with ``Retry-After``, not a 500; API, webhook and
    health paths always answer JSON, never an HTML page. Renders without the database or templates."""
    exc = sys.exc_info()[1]
    unavailable = unavailable_dependency(exc) if exc is not None else None
    if unavailable is not None:
        code, message = unavailable
        status = 503
    else:
        code, message = "server_error", "Something went wrong on our side; the error was logged."
        status = 500
    path = getattr(request, "path", "") or ""
    if path.startswith(JSON_PREFIXES) or "application/json" in request.headers.get("Accept", ""):
        details = {"retry_after_seconds": RETRY_AFTER_SECONDS} if status == 503 else {}
        response = JsonResponse({"error": {"code": code, "message": message, "details": details}}, status=status)
    elif status == 503:
        response = HttpResponse(
            _PAGE.format(
                title="Back in a moment",
                text="We could not finish this just now. Nothing was lost: please try again in a moment.",
                text_de="Das hat gerade nicht geklappt. Es ist nichts verloren gegangen: Bitte versuchen Sie es "
                "gleich noch einmal.",
            ),
            status=503,
        )
    else:
        response = HttpResponse(
            _PAGE.format(
                title="Something went wrong",
                text="Something went wrong on our side; the error was logged.",
                text_de="Bei uns ist etwas schiefgegangen; der Fehler wurde protokolliert.",
            ),
            status=500,
        )
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
