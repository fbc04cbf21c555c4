"""The ``sync`` benchmark: ``python manage.py benchmark sync [--iterations N --reservations M] --json``.

Outbound: booking commit -> every connected platform's simulator shows the nights closed, through the
real pipeline. Each benchmark property is connected to every platform in ``SYNC_PROBES`` (a probe per
simulator makes the connection and tells when its calendar shows nights closed). The booking's outbox
event is dispatched by a real Celery worker (a subprocess on its own queue), the deliveries push over
HTTP to the simulators, and this process polls each simulator until the nights are closed there.
Latency runs from the ``booking_create()`` call (the booking's own transaction included) to the poll
that sees them closed, per platform (``platforms.<platform>.p50_ms`` / ``p99_ms``; the top-level
figures are Booking.com's). Bookings are committed one at a time, spaced so every platform's token
bucket (``CHANNEL_RATE_LIMITS``) always holds the tokens of the next push: the figure is the pipeline's
latency, not time queued behind the limiter.

Inbound: M reservations are made on the simulator, then one ``channels.pull_connection`` task on
the worker fetches, applies (one booking each) and acknowledges them; reservations per second from
enqueueing the task to the simulator holding every acknowledgement.

Everything runs in the separate benchmark database (``--database``; the default ``pms_bench`` becomes
``pms_bench_sync`` so the search/quote data set is left alone): this process, the simulator's HTTP
server threads (127.0.0.1, a free port; the simulators are mounted there whatever ``SANDBOX_ENABLED``
says) and the worker. Each run adds its own properties, listings and connections (tag in the slug).
Circuit breakers and token buckets use their own Redis prefix. The worker and the server are stopped,
the queue and the Redis keys removed, even on error.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, connections
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu import Exchange, Queue

from apps.benchmarks.common import bench_database, percentiles

ROOT = Path(__file__).resolve().parent.parent.parent
PLATFORM = "booking_com"
DEFAULT_DATABASE = "pms_bench"  # the command's default: the sync benchmark uses its own database then
SYNC_DATABASE = "pms_bench_sync"
POLL_SECONDS = 0.005
WORKER_START_SECONDS = 60.0
NIGHTS = 2  # per outbound booking; bookings are laid end to end

Log = Callable[[str], Any]
logger = logging.getLogger(__name__)


def _quiet(_message: str) -> None:
    return None


# --- settings and database for the duration ----------------------------------------------------
@contextmanager
def _settings_overrides(**values: Any) -> Iterator[None]:
    missing = object()
    old = {key: getattr(settings, key, missing) for key in values}
    for key, value in values.items():
        setattr(settings, key, value)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is missing:
                delattr(settings, key)
            else:
                setattr(settings, key, value)


@contextmanager
def _database_everywhere(name: str) -> Iterator[None]:
    """``bench_database`` repoints this thread's connection; make sure ``settings.DATABASES`` and the
    connection handler's settings (what new threads connect with) name the same database. In Django
    they are usually one dict already; this covers the case they are not."""
    dicts = {id(d): d for d in (settings.DATABASES["default"], connections.settings["default"])}
    dicts[id(connection.settings_dict)] = connection.settings_dict
    old = [(d, d["NAME"]) for d in dicts.values()]
    for d in dicts.values():
        d["NAME"] = name
    try:
        yield
    finally:
        for d, value in old:
            d["NAME"] = value


def database_url(db: dict[str, Any]) -> str:
    """A ``DATABASE_URL`` for the database in ``db`` (a Django settings dict)."""
    user = quote(str(db.get("USER") or ""), safe="")
    password = str(db.get("PASSWORD") or "")
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = quote(str(db.get("HOST") or ""), safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(str(db['NAME']), safe='')}"


# --- the simulator's HTTP server ---------------------------------------------------------------
def _serve() -> tuple[Any, str]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.urls import include, path

    class SimulatorURLs:  # the URLconf of this server: just the simulators
        urlpatterns = [
            path("sandbox/", include("apps.sandbox.urls")),
            path("vrbo/", include("apps.channels.vrbo_urls")),  # the feeds the Vrbo simulator crawls
        ]

    class Handler(WSGIHandler):
        def get_response(self, request):
            request.urlconf = SimulatorURLs
            return super().get_response(request)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=False)
    server.set_app(Handler())
    threading.Thread(target=server.serve_forever, name="bench-sync-simulator", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _stop_server(server: Any) -> None:
    server.shutdown()
    server.server_close()


# --- the Celery worker -------------------------------------------------------------------------
@dataclass
class Worker:
    proc: subprocess.Popen
    node: str
    queue: str
    output: Any  # temporary file with the worker's stdout/stderr

    def tail(self, chars: int = 2000) -> str:
        self.output.flush()
        self.output.seek(0)
        return self.output.read().decode("utf-8", "replace")[-chars:]

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise CommandError(f"The Celery worker exited (code {self.proc.returncode}):\n{self.tail()}")


def _start_worker(*, queue: str, redis_prefix: str, log: Log) -> Worker:
    from pms.celery import app

    node = f"{queue}@bench"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "pms.settings"),
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_QUEUE": queue,
        "CHANNEL_REDIS_URL": settings.CHANNEL_REDIS_URL,
        "CHANNEL_REDIS_PREFIX": redis_prefix,
        "CHANNEL_RATE_LIMITS": settings.CHANNEL_RATE_LIMITS,
        "ALLOW_PRIVATE_HOSTS": "1",  # the simulator is on 127.0.0.1
        "SANDBOX_ENABLED": "1",  # the simulators' partner credentials (e.g. Airbnb's sandbox app)
    }
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _stop_worker
    log(f"starting a Celery worker on queue {queue}…")
    proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pms",
            "worker",
            "-Q",
            queue,
            "-n",
            node,
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
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    worker = Worker(proc=proc, node=node, queue=queue, output=output)
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while not app.control.ping(destination=[node], timeout=0.5):
            worker.check_alive()
            if time.monotonic() > deadline:
                raise CommandError(f"The Celery worker did not answer within {WORKER_START_SECONDS:.0f} s.")
    except BaseException:
        _stop_worker(worker)
        raise
    return worker


def _stop_worker(worker: Worker) -> None:
    from pms.celery import app

    try:
        if worker.proc.poll() is None:
            worker.proc.terminate()
            try:
                worker.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait(timeout=10)
    finally:
        worker.output.close()
        # leftovers (retries with a countdown) would sit in Redis for good: nobody listens any more
        try:
            with app.connection_for_write() as conn:
                name = worker.queue
                queue = Queue(name, Exchange(name, type="direct"), routing_key=name)(conn.default_channel)
                queue.declare()  # registers the binding in this channel, so delete() removes it too
                queue.purge()
                queue.delete()
        except Exception:  # best effort, never hide the run's own error
            logger.warning("could not delete the benchmark queue %s", worker.queue, exc_info=True)


@contextmanager
def _celery_mode(*, eager: bool, queue: str | None = None) -> Iterator[None]:
    from pms.celery import app

    old = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = eager
    if queue:
        app.conf.task_default_queue = queue
    try:
        with _settings_overrides(CELERY_TASK_ALWAYS_EAGER=eager):
            yield
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = old


def _clear_redis(prefix: str) -> None:
    from apps.channels import redis as chredis

    try:
        client = chredis.client()
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    except Exception:  # best effort (the keys expire), never hide the run's own error
        logger.warning("could not delete the benchmark's Redis keys %s:*", prefix, exc_info=True)


# --- data ----------------------------------------------------------------------------------------
#: platform -> the simulator's probe (see ``apps.sandbox.booking_com.SyncProbe`` for the interface):
#: ``connect(prop=, tag=, index=, base_url=) -> ChannelConnection`` makes the simulator's side (a
#: listing) and a connection of ``prop`` to it; ``nights_closed(connection=, nights=) -> bool`` says
#: whether the simulator shows those nights closed. Every registered platform is measured at once.
SYNC_PROBES: dict[str, str] = {
    "booking_com": "apps.sandbox.booking_com.SyncProbe",
    "expedia": "apps.sandbox.expedia.SyncProbe",
    "airbnb": "apps.sandbox.airbnb.SyncProbe",
    "google_vr": "apps.sandbox.google_vr.SyncProbe",
    "fewo_direkt": "apps.sandbox.vrbo.SyncProbe",
}


def probes() -> dict[str, Any]:
    return {platform: import_string(path)() for platform, path in SYNC_PROBES.items()}


@dataclass
class Subject:
    prop: Any
    connections: dict[str, Any]  # platform -> ChannelConnection

    @property
    def conn(self) -> Any:  # the Booking.com connection (inbound pulls)
        return self.connections[PLATFORM]


def _subject(*, tag: str, index: int, base_url: str, platform_probes: dict[str, Any]) -> Subject:
    """A property connected to every measured platform's simulator (over the in-process server)."""
    from django.contrib.auth import get_user_model

    from apps.properties.models import Property

    owner, _ = get_user_model().objects.get_or_create(username="bench-sync", defaults={"email": "bench@example.com"})
    name = f"{tag}-{index}"
    prop = Property.objects.create(
        owner=owner,
        name=f"Sync benchmark {name}",
        slug=f"bench-sync-{name}",
        city="Berlin",
        country="DE",
        max_guests=4,
        base_price=Decimal("100.00"),
        default_max_stay=365,
        max_advance_days=1000,
    )
    connections_ = {
        platform: probe.connect(prop=prop, tag=tag, index=index, base_url=base_url)
        for platform, probe in platform_probes.items()
    }
    return Subject(prop, connections_)


# --- the run -------------------------------------------------------------------------------------
def _outbound(
    *,
    total: int,
    warmup: int,
    timeout: float,
    new_subject: Callable[[int], Subject],
    platform_probes: dict[str, Any],
    worker: Worker | None,
    log: Log,
) -> dict[str, Any]:
    """Commit bookings one at a time; for each, time until every platform's simulator shows the
    nights closed (each platform timed on its own, all pushed in parallel by the worker)."""
    from apps.bookings import services as booking_services
    from apps.channels import ratelimit
    from apps.channels.models import Delivery

    limits = {p: ratelimit.limits_for(p) for p in platform_probes}
    today = timezone.localdate()
    first = today + timedelta(days=2)
    # bookings laid end to end inside the push horizon (later nights are never pushed); a new
    # property (and listings, connections) when one is full
    per_subject = max(1, (settings.CHANNEL_PUSH_HORIZON_DAYS - 4) // NIGHTS)
    subject: Subject | None = None
    latencies: dict[str, list[float]] = {p: [] for p in platform_probes}
    lost: dict[str, int] = {p: 0 for p in platform_probes}
    writes: list[float] = []
    subjects: list[Subject] = []
    next_at = 0.0
    for i in range(total):
        if subject is None or i % per_subject == 0:
            subject = new_subject(i // per_subject)
            subjects.append(subject)
        check_in = first + timedelta(days=NIGHTS * (i % per_subject))
        nights = [check_in + timedelta(days=n) for n in range(NIGHTS)]
        pause = next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        if i == warmup:
            log(f"measuring {total - warmup} bookings…")
        t0 = time.monotonic()
        booking_services.booking_create(
            property_id=subject.prop.pk,
            check_in=check_in,
            check_out=nights[-1] + timedelta(days=1),
            guests=2,
            status="confirmed",
        )
        written = time.monotonic()
        # paced so every platform's token bucket holds the tokens of the next push
        cost = 2 * len({(d.year, d.month) for d in nights})
        next_at = t0 + 1.05 * max(min(burst, cost) / rate for rate, burst in limits.values())
        deadline = t0 + timeout
        waiting = set(platform_probes)
        while waiting:
            for platform in sorted(waiting):
                if platform_probes[platform].nights_closed(connection=subject.connections[platform], nights=nights):
                    waiting.discard(platform)
                    if i >= warmup:
                        latencies[platform].append((time.monotonic() - t0) * 1000)
            if not waiting:
                break
            if time.monotonic() > deadline:
                for platform in waiting:
                    lost[platform] += i >= warmup
                break
            if worker is not None:
                worker.check_alive()
            time.sleep(POLL_SECONDS)
        if i >= warmup:
            writes.append((written - t0) * 1000)
    platforms: dict[str, Any] = {}
    for platform in platform_probes:
        conns = [s.connections[platform] for s in subjects]
        deliveries = Delivery.objects.filter(connection__in=conns, latency_ms__isnull=False)
        http_ms = [float(ms) for ms in deliveries.order_by("pk").values_list("latency_ms", flat=True)[warmup:]]
        samples = latencies[platform]
        rate, burst = limits[platform]
        platforms[platform] = {
            **percentiles(samples),
            "mean_ms": round(sum(samples) / len(samples), 3) if samples else 0.0,
            "max_ms": round(max(samples), 3) if samples else 0.0,
            "push_http_p50_ms": percentiles(http_ms)["p50_ms"],
            "not_closed_within_timeout": lost[platform],
            "rate_limit": f"{rate:g}/s, burst {burst:g}",
        }
    # the top-level figures stay Booking.com's (as before the registry), the rest under "platforms"
    result = {k: v for k, v in platforms.get(PLATFORM, {}).items()}
    result.update(
        platforms=platforms,
        booking_write_p50_ms=percentiles(writes)["p50_ms"],
        warmup=warmup,
    )
    return result


def _inbound(*, reservations: int, subject: Subject, worker: Worker | None, log: Log) -> dict[str, Any]:
    from apps.bookings.models import Booking
    from apps.channels.tasks import pull_connection
    from apps.sandbox import booking_com as sim
    from apps.sandbox.models import SimListing, SimReservation

    if reservations == 0:
        return {
            "inbound_n": 0,
            "inbound_reservations": 0,
            "inbound_complete": True,
            "inbound_seconds": 0.0,
            "inbound_per_second": 0.0,
        }
    listing = SimListing.objects.get(hotel_code=subject.conn.external_property_id)
    first = timezone.localdate() + timedelta(days=3)
    for i in range(reservations):
        day = first + timedelta(days=i)
        sim.create_reservation(listing=listing, check_in=day, check_out=day + timedelta(days=1), force=True)
    log(f"pulling {reservations} reservations…")
    pending = SimReservation.objects.filter(listing=listing, new_acked_at__isnull=True)
    deadline_s = max(60.0, reservations * 1.0)
    t0 = time.monotonic()
    pull_connection.delay(subject.conn.pk)  # eager: runs right here
    complete = True
    while pending.exists():
        if time.monotonic() - t0 > deadline_s:
            complete = False
            break
        if worker is not None:
            worker.check_alive()
        time.sleep(POLL_SECONDS * 2)
    seconds = time.monotonic() - t0
    created = Booking.objects.filter(property_id=subject.prop.pk, source=PLATFORM).count()
    return {
        "inbound_n": created,
        "inbound_reservations": reservations,
        "inbound_complete": complete,
        "inbound_seconds": round(seconds, 3),
        "inbound_per_second": round(created / seconds, 1) if seconds > 0 else 0.0,
    }


def run_sync_benchmark(
    *,
    bookings: int = 20,
    reservations: int = 50,
    warmup: int = 0,
    worker: bool = True,
    timeout: float = 30.0,
    log: Log = _quiet,
) -> dict[str, Any]:
    """Run both measurements in the current database (see the module docstring) and return the
    figures. ``worker=False`` runs the tasks eagerly in this process (tests)."""
    if bookings < 1 or reservations < 0 or warmup < 0:
        raise CommandError("Need at least one booking and no negative counts.")
    tag = uuid.uuid4().hex[:8]
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-sync-bench-{tag}"
    redis_prefix = f"{settings.CHANNEL_REDIS_PREFIX}:bench-{tag}"
    hosts = list(settings.ALLOWED_HOSTS)
    if "127.0.0.1" not in hosts and "*" not in hosts:
        hosts.append("127.0.0.1")
    with ExitStack() as stack:
        stack.enter_context(
            _settings_overrides(CHANNEL_REDIS_PREFIX=redis_prefix, ALLOWED_HOSTS=hosts, ALLOW_PRIVATE_HOSTS=True)
        )
        stack.callback(_clear_redis, redis_prefix)
        server, base_url = _serve()
        stack.callback(_stop_server, server)
        running: Worker | None = None
        if worker:
            running = _start_worker(queue=queue, redis_prefix=redis_prefix, log=log)
            stack.callback(_stop_worker, running)
        stack.enter_context(_celery_mode(eager=not worker, queue=queue if worker else None))

        subjects: list[Subject] = []
        platform_probes = probes()

        def new_subject(index: int) -> Subject:
            subjects.append(_subject(tag=tag, index=index, base_url=base_url, platform_probes=platform_probes))
            return subjects[-1]

        log(f"outbound: {warmup} warm-up + {bookings} bookings, platforms {', '.join(platform_probes)}…")
        result = _outbound(
            total=warmup + bookings,
            warmup=warmup,
            timeout=timeout,
            new_subject=new_subject,
            platform_probes=platform_probes,
            worker=running,
            log=log,
        )
        inbound_subject = new_subject(len(subjects))
        result.update(_inbound(reservations=reservations, subject=inbound_subject, worker=running, log=log))
        for platform, probe in platform_probes.items():  # a probe's own further figures, measured last
            if hasattr(probe, "report"):
                conns = [s.connections[platform] for s in subjects]
                result["platforms"][platform].update(probe.report(connections=conns, log=log))
        result.update(worker=worker, properties_created=len(subjects))
        return result


def bench_sync(*, log: Log, **options: Any) -> dict[str, Any]:
    """``benchmark sync``: ``--iterations`` bookings (after ``--warmup``), ``--reservations`` pulled."""
    reservations = options.get("reservations", 200)
    if reservations is None or reservations < 0:
        raise CommandError("--reservations must not be negative.")
    name = SYNC_DATABASE if options["database"] == DEFAULT_DATABASE else options["database"]
    with bench_database(name, rebuild=options["rebuild"]), _database_everywhere(name):
        result = run_sync_benchmark(
            bookings=options["iterations"],
            warmup=options["warmup"],
            reservations=reservations,
            worker=True,
            log=log,
        )
    return {**result, "database": name}
