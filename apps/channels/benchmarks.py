"""``sync`` benchmark: booking commit -> Booking.com simulator calendar closed (p50/p99, through a
real Celery worker and real HTTP), and inbound reservations processed per second (pull).

Creates its own owner, property, simulator listing and connection (slug ``bench-sync-<id>``) in the
configured database; run it against a scratch/demo database. The simulator is served by an
in-process HTTP server on 127.0.0.1 (a free port).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent.parent


def _serve() -> tuple[Any, str]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _start_worker(queue: str) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "pms.settings"),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_QUEUE": queue,
        "SANDBOX_ENABLED": "1",
    }
    if db.get("PASSWORD"):
        env["DATABASE_URL"] = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pms",
            "worker",
            "-Q",
            queue,
            "--concurrency=2",
            "--pool=threads",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 1)


def run_sync_benchmark(
    *, bookings: int = 20, reservations: int = 50, worker: bool = True, timeout: float = 30.0
) -> dict[str, Any]:
    from apps.bookings import services as booking_services
    from apps.channels.inbound import reservations_pull
    from apps.channels.models import ChannelConnection
    from apps.properties.models import Property
    from apps.sandbox import booking_com as sim
    from apps.sandbox.models import SimCalendarDay, SimListing
    from pms.celery import app

    tag = uuid.uuid4().hex[:8]
    from django.contrib.auth import get_user_model

    owner, _ = get_user_model().objects.get_or_create(username="bench-sync", defaults={"email": "bench@example.com"})
    prop = Property.objects.create(
        owner=owner,
        name=f"Benchmark {tag}",
        slug=f"bench-sync-{tag}",
        city="Berlin",
        country="DE",
        max_guests=4,
        base_price=Decimal("100.00"),
        default_max_stay=365,
        max_advance_days=1000,
    )
    listing = SimListing.objects.create(hotel_code=f"B{tag}", username=f"bench-{tag}", password=tag)
    server, base = _serve()
    conn = ChannelConnection(
        property=prop,
        platform="booking_com",
        external_property_id=listing.hotel_code,
        base_url=f"{base}/sandbox/booking_com",
        username=listing.username,
    )
    conn.set_secret("access_token", tag)
    conn.save()

    proc = None
    old = (app.conf.task_always_eager, app.conf.task_default_queue)
    if worker:
        queue = f"pms-bench-{tag}"
        proc = _start_worker(queue)
        app.conf.task_always_eager, app.conf.task_default_queue = False, queue
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not app.control.ping(timeout=0.5):
            if proc.poll() is not None:
                raise RuntimeError("the Celery worker did not start")
    latencies: list[float] = []
    lost = 0
    try:
        start = timezone.localdate() + timedelta(days=5)
        for i in range(bookings):
            check_in = start + timedelta(days=3 * i)
            t0 = time.monotonic()
            booking_services.booking_create(
                property_id=prop.pk,
                check_in=check_in,
                check_out=check_in + timedelta(days=2),
                guests=2,
                status="confirmed",
            )
            deadline = t0 + timeout
            while time.monotonic() < deadline:
                closed = SimCalendarDay.objects.filter(
                    listing=listing, day__in=[check_in, check_in + timedelta(days=1)]
                )
                if closed.count() == 2 and not any(d.open for d in closed):
                    latencies.append((time.monotonic() - t0) * 1000)
                    break
                time.sleep(0.01)
            else:
                lost += 1
        # inbound: reservations on the simulator, pulled and applied
        first = start + timedelta(days=3 * bookings + 10)
        for i in range(reservations):
            d = first + timedelta(days=2 * i)
            sim.create_reservation(listing=listing, check_in=d, check_out=d + timedelta(days=1), force=True)
        t0 = time.monotonic()
        processed = 0
        while processed < reservations and time.monotonic() - t0 < 120:
            result = reservations_pull(connection_id=conn.pk)
            processed += result.created
            if result.fetched == 0:
                break
        inbound_s = time.monotonic() - t0
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = old
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.shutdown()
        server.server_close()
    return {
        "benchmark": "sync",
        "worker": worker,
        "bookings": bookings,
        "p50_ms": _pct(latencies, 50),
        "p99_ms": _pct(latencies, 99),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
        "not_closed_within_timeout": lost,
        "inbound_reservations": reservations,
        "inbound_processed": processed,
        "inbound_per_second": round(processed / inbound_s, 1) if inbound_s > 0 else 0.0,
    }
