"""The simulated iCal feed host under ``/sandbox/ical/`` (see ``apps.sandbox.ical_host``).

    GET    /sandbox/ical/<name>.ics          the feed (with its fault applied)
    PUT    /sandbox/ical/<name>.ics          publish the request body as the feed (?status=200)
    DELETE /sandbox/ical/<name>.ics          remove the feed (then GET answers 404)
    POST   /sandbox/ical/<name>/fault        fault=none|error|timeout|slow|truncated|empty|malformed|drip,
                                             fault_status=500, delay=<seconds> (form or JSON)
    GET    /sandbox/ical/<name>/stats        {"hits": n, "fault": ...}

Only mounted when ``SANDBOX_ENABLED`` (tests, demo); it has no authentication of its own.
"""

from __future__ import annotations

import json
import time

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from apps.core.errors import DomainError

from . import ical_host

app_name = "sandbox_ical"


def _error(exc: DomainError) -> JsonResponse:
    return JsonResponse({"error": exc.code, "message": exc.message, "details": exc.details}, status=exc.http_status)


def _drip(body: bytes, delay: float):
    for index in range(len(body)):
        time.sleep(delay)
        yield body[index : index + 1]


@csrf_exempt
def feed_view(request: HttpRequest, name: str) -> HttpResponse:
    try:
        if request.method in ("GET", "HEAD"):
            answer = ical_host.feed_respond(name=name)
            if answer.drip:
                return StreamingHttpResponse(_drip(answer.body, answer.delay), content_type=answer.content_type)
            if answer.delay:
                time.sleep(answer.delay)
            response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
            response["Cache-Control"] = "no-store"
            return response
        if request.method == "PUT":
            status = int(request.GET.get("status", 200))
            content_type = request.GET.get("content_type", ical_host.CONTENT_TYPE)
            ical_host.feed_set(name=name, body=request.body, status=status, content_type=content_type)
            return HttpResponse(status=204)
        if request.method == "DELETE":
            ical_host.feed_delete(name=name)
            return HttpResponse(status=204)
    except DomainError as exc:
        return _error(exc)
    except (ValueError, UnicodeDecodeError) as exc:
        return JsonResponse({"error": "bad_request", "message": str(exc)}, status=400)
    return HttpResponse(status=405, headers={"Allow": "GET, HEAD, PUT, DELETE"})


@csrf_exempt
def fault_view(request: HttpRequest, name: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    try:
        if request.content_type == "application/json":
            data = json.loads(request.body or b"{}")
            if not isinstance(data, dict):
                raise ValueError("Send a JSON object.")
        else:
            data = request.POST.dict()
        delay = data.get("delay")
        feed = ical_host.feed_fault_set(
            name=name,
            fault=str(data.get("fault", "none")),
            fault_status=int(data.get("fault_status", 500)),
            delay=float(delay) if delay not in (None, "") else None,
        )
    except DomainError as exc:
        return _error(exc)
    except (ValueError, TypeError) as exc:
        return JsonResponse({"error": "bad_request", "message": str(exc)}, status=400)
    return JsonResponse(
        {"name": feed.name, "fault": feed.fault, "fault_status": feed.fault_status, "delay": feed.delay}
    )


def stats_view(request: HttpRequest, name: str) -> HttpResponse:
    feed = ical_host.feed_get(name=name)
    if feed is None:
        return JsonResponse({"error": "not_found", "message": "No such feed."}, status=404)
    return JsonResponse({"name": name, "hits": ical_host.feed_hits(name=name), "fault": feed.fault})


urlpatterns = [
    path("<str:name>.ics", feed_view, name="feed"),
    path("<str:name>/fault", fault_view, name="fault"),
    path("<str:name>/stats", stats_view, name="stats"),
]
