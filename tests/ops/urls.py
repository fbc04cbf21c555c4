"""Test-only routes: the project's URLs plus a view that enqueues a task inside a request."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def enqueue(request: HttpRequest) -> HttpResponse:
    import logging

    from tests.ops.test_observability import capture_context

    queue = request.GET.get("queue")
    if queue:
        capture_context.apply_async(queue=queue)
    else:
        capture_context.delay()
    logging.getLogger("tests.ops").warning("in view")
    return HttpResponse("ok")


urlpatterns = [
    path("ops-test/enqueue/", enqueue, name="ops-test-enqueue"),
    path("", include("pms.urls")),
]
