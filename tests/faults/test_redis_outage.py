"""Redis stopped and restarted empty (issue 12, finding 3), on a Redis of this test's own.

The cache (API throttling, rate limits), the channel manager's breakers and buckets and the Celery
broker all point at a ``redis-server`` the test starts on a free port, stops in the middle and
starts again (empty, as after a crash). While it is down: the API answers from the database (no
500), the guest pages and webhooks keep working, ``/readyz`` says ``degraded``, and what truly needs
Redis answers 503 with Retry-After. After the restart everything recovers and every outbox event is
delivered; the recovery times are printed.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
import requests

from apps.api.models import IdempotencyRecord
from apps.bookings.models import Booking
from apps.channels.delivery import deliveries_run_due
from apps.channels.models import Delivery
from apps.core import outbox
from apps.core.models import SyncEvent
from apps.sandbox import booking_com as sim
from tests.api.conftest import client_for
from tests.factories import future

from .conftest import assert_no_overlap, wait_for
from .test_worker_kill import channel_differences

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own: no persistence, so a restart comes back empty."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_for(lambda: self._pings(client), timeout=20, interval=0.05, what="redis-server up")

    @staticmethod
    def _pings(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    def keys(self, pattern: str) -> list[bytes]:
        return redis.Redis(port=self.port).keys(pattern)


@contextlib.contextmanager
def celery_broker_at(url: str):
    """Tasks are published (not run eagerly) to the broker at ``url``; nobody consumes them here, so
    this test plays beat and worker itself (``run_sweeps``)."""
    from pms.celery import app

    def reset_pools() -> None:
        # kombu keeps one pool per broker URL in a process-wide registry: only forget ours, close nothing shared
        app._pool = None
        app.amqp._producer_pool = None

    old = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = url, False
    reset_pools()
    test_pool = app.pool
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = old
        reset_pools()
        test_pool.force_close_all()  # the pool of this test's own Redis only


def run_sweeps() -> None:
    """What beat's sweepers and a worker do: dispatch pending outbox events, attempt due deliveries."""
    for event_id in outbox.pending_event_ids(older_than_seconds=0):
        outbox.event_dispatch(event_id=event_id)
    deliveries_run_due()


def test_redis_stopped_and_restarted(prop, listing, bcom, live_server, settings, tmp_path, stripe_sandbox, report):
    server = RedisServer(tmp_path)
    server.start()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    settings.CHANNEL_REDIS_URL = server.url
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {client_for(prop.owner).raw_token}"
    base = live_server.url
    answers: list[tuple[str, int]] = []

    def call(label: str, method: str, url: str, session: requests.Session | None = None, **kw) -> requests.Response:
        response = (session or requests).request(method, base + url, timeout=30, allow_redirects=False, **kw)
        answers.append((label, response.status_code))
        return response

    def booking_body(start: int) -> dict:
        return {"property": prop.pk, "check_in": str(future(start)), "check_out": str(future(start + 2)),
                "guests": 2}  # fmt: skip

    try:
        with celery_broker_at(server.url):
            assert call("api list", "GET", "/api/v1/properties/", api).status_code == 200
            assert call("readyz", "GET", "/readyz").json()["status"] == "ok"
            assert server.keys("*throttle*"), "the API throttle counts in Redis while it is up"

            server.stop()
            # --- Redis down ------------------------------------------------------------------
            ready = call("readyz", "GET", "/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded", ready.text
            assert ready.json()["checks"]["database"] == "ok" and ready.json()["checks"]["redis"].startswith("error")
            for _ in range(3):
                assert call("api list", "GET", "/api/v1/properties/", api).status_code == 200
            started = time.monotonic()
            created = call("api create", "POST", "/api/v1/bookings/", api, json=booking_body(10),
                           headers={"Idempotency-Key": "redis-down-1"})  # fmt: skip
            create_seconds = time.monotonic() - started
            assert created.status_code == 201, created.text
            again = call("api create retry", "POST", "/api/v1/bookings/", api, json=booking_body(10),
                         headers={"Idempotency-Key": "redis-down-1"})  # fmt: skip
            assert again.status_code == 201 and again.json()["id"] == created.json()["id"]
            assert again.headers["Idempotent-Replayed"] == "true"

            res = sim.create_reservation(listing=listing, check_in=future(20), check_out=future(23))
            body = b'<?xml version="1.0"?>' + sim.tostring(
                sim.reservation_document([res], modify=False), encoding="utf-8"
            )
            hook = call("webhook", "POST", "/webhooks/booking_com/", data=body,
                        headers=sim.signed_headers(secret="whsec-test", body=body, event_id=res.res_id))  # fmt: skip
            assert hook.status_code == 200 and hook.json()["status"] == "processed", hook.text

            assert call("search page", "GET", "/").status_code == 200
            assert call("property page", "GET", f"/properties/{prop.slug}/").status_code == 200
            # a guest books and pays on the guest pages
            shopper = requests.Session()
            url = f"/properties/{prop.slug}/book/?check_in={future(30)}&check_out={future(33)}&guests=2"
            page = call("checkout page", "GET", url, shopper)
            token = CSRF.search(page.text).group(1)
            details = {"first_name": "Rae", "last_name": "Dis", "email": "rae@example.com", "phone": "",
                       "country": "DE", "special_requests": "", "csrfmiddlewaretoken": token}  # fmt: skip
            held = call("checkout details", "POST", url, shopper, data=details, headers={"Referer": base + url})
            assert held.status_code == 302, held.text[:300]
            page = call("payment page", "GET", "/checkout/payment/", shopper)
            card = {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2040, "cvc": "123",
                    "csrfmiddlewaretoken": CSRF.search(page.text).group(1)}  # fmt: skip
            paid = call("payment", "POST", "/checkout/payment/", shopper, data=card,
                        headers={"Referer": base + "/checkout/payment/"})  # fmt: skip
            assert paid.status_code == 302 and "/bookings/" in paid.headers["Location"], paid.text[:300]
            guest = requests.Session()
            form = call("portal form", "GET", "/manage/", guest)
            assert form.status_code == 200
            # the magic-link rate limit lives in Redis: that truly needs it -> 503 + Retry-After
            link = call("portal link", "POST", "/manage/", guest, headers={"Referer": base + "/manage/"},
                        data={"csrfmiddlewaretoken": CSRF.search(form.text).group(1),
                              "reference": created.json()["reference"], "email": "nobody@example.com"})  # fmt: skip
            assert link.status_code == 503 and link.headers["Retry-After"] == "2", link.text[:300]
            assert "try again in a moment" in link.text
            settings.METRICS_TOKEN = "fault-scrape"  # noqa: S105
            metrics = call("metrics", "GET", "/metrics", headers={"Authorization": "Bearer fault-scrape"})
            assert metrics.status_code == 200

            run_sweeps()  # beat runs; deliveries wait for Redis instead of failing or getting stuck
            assert not Delivery.objects.filter(status__in=["in_progress", "dead"]).exists()
            assert Delivery.objects.filter(status="retrying", last_error__startswith="Redis unavailable").exists()
            assert not [a for a in answers if a[1] >= 500 and a[0] != "portal link"], answers

            # --- Redis back, empty -----------------------------------------------------------
            server.start()
            restarted = time.monotonic()
            ready_after = wait_for(
                lambda: requests.get(base + "/readyz", timeout=10).json()["status"] == "ok",
                timeout=30,
                what="/readyz ok again",
            )

            def throttle_counts_in_redis() -> bool:
                call("api list", "GET", "/api/v1/properties/", api)
                return bool(server.keys("*throttle*"))

            throttle_after = wait_for(throttle_counts_in_redis, timeout=30, interval=0.5, what="throttle in Redis")

            def delivered() -> bool:
                run_sweeps()
                return (
                    not SyncEvent.objects.filter(processed_at__isnull=True).exists()
                    and not Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED).exists()
                    and not channel_differences(prop, listing, 5, 40)
                )

            delivered_after = wait_for(delivered, timeout=60, interval=0.5, what="every event delivered")
            assert call("portal form again", "GET", "/manage/", guest).status_code == 200
    finally:
        server.stop()

    report(
        f"Redis down: API create answered 201 in {create_seconds:.2f} s; after the restart /readyz ok in "
        f"{ready_after:.1f} s, API throttling back on Redis in {throttle_after:.1f} s, every event delivered in "
        f"{delivered_after:.1f} s (from the restart: {time.monotonic() - restarted:.1f} s)"
    )
    assert [a for a in answers if a[1] >= 500] == [("portal link", 503)], answers
    # the API booking, the webhook's and the guest's (confirmed and paid)
    assert Booking.objects.filter(property=prop).count() == 3
    assert Booking.objects.get(guest__email="rae@example.com").payment_status == "paid"
    assert IdempotencyRecord.objects.get(key="redis-down-1").state == "completed"
    assert_no_overlap()
