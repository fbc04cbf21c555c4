"""``benchmark api``: the app as the Procfile runs it, under load from a separate process.

gunicorn (``--web-workers``, sync workers, as in the Procfile) and a real Celery worker serve their own
benchmark database (``pms_bench_api``: ``--properties`` homes with ``--bookings`` past bookings, the
search benchmark's loader), and ``apps.benchmarks.loadclient`` drives it over HTTP with keep-alive
connections, one workload after the other, for ``--seconds`` each after a short warm-up:

- ``create_spread_c8``: 8 clients create distinct 2-night stays spread over 100 homes (all succeed);
- ``create_hot_c32``: 32 clients race for the same stay of one home (one wins, the rest are 409s);
- ``availability_c50``, ``quote_c50``, ``property_c50``: 50 clients reading a 31-day calendar, a quote,
  a home;
- ``search_c8``: 8 clients searching 3-night stays for 2 guests.

In the same run, ``raw_sql_tx_per_s`` is what PostgreSQL does with the same work in bare SQL from 8
connections (lock the home's row, insert a stay, insert an outbox row, commit): the ceiling. Figures per
workload: requests/s, p50/p95/p99 ms and the status codes seen.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from .common import bench_database
from .search import _meta_matches, load_data
from .sync import ROOT, _database_everywhere, _start_worker, _stop_worker, database_url

API_DATABASE = "pms_bench_api"
DEFAULT_DATABASE = "pms_bench"

Log = Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_web(*, port: int, workers: int, queue: str, log: Log) -> subprocess.Popen:
    from apps.channels import crypto

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pms.settings",
        "READ_DOT_ENV": "0",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY or "bench-secret-key",
        "DATABASE_URL": database_url(connection.settings_dict),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "CHANNEL_ENCRYPTION_KEYS": os.environ.get("CHANNEL_ENCRYPTION_KEYS") or f"bench:{crypto.generate_key()}",
        "CELERY_QUEUE": queue,
        "CACHE_KEY_PREFIX": f"bench-{queue}",
        "CHANNEL_REDIS_PREFIX": f"bench-{queue}:channels",
        "API_THROTTLE_RATE": "100000000/minute",
        "LOG_LEVEL": "WARNING",
    }
    log(f"starting gunicorn with {workers} workers on 127.0.0.1:{port}…")
    proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-m", "gunicorn", "pms.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CommandError(f"gunicorn exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise CommandError("gunicorn did not answer /healthz within 60 s.")


def _stop_web(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _drive(*, base: str, token: str, spec: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
        path = f.name
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "apps.benchmarks.loadclient", "--base", base, "--token", token, "--spec", path],
            cwd=ROOT, capture_output=True, text=True, timeout=spec["seconds"] + spec.get("warmup", 0) + 300,
        )  # fmt: skip
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise CommandError(f"the load client failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def raw_sql_baseline(*, property_ids: list[int], clients: int, seconds: float) -> float:
    """Transactions per second of bare SQL doing a booking's essential writes, ``clients`` connections."""
    import psycopg

    dsn = database_url(connection.settings_dict).replace("postgres://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_stay (id bigserial PRIMARY KEY, property_id int, "
            "check_in date, check_out date, created_at timestamptz DEFAULT now())"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_event (id bigserial PRIMARY KEY, property_id int, "
            "payload jsonb, created_at timestamptz DEFAULT now())"
        )
    done = [0] * clients
    stop_at = time.monotonic() + seconds

    def run(n: int) -> None:
        rnd = random.Random(n)  # noqa: S311
        with psycopg.connect(dsn) as conn:
            while time.monotonic() < stop_at:
                pid = rnd.choice(property_ids)
                with conn.transaction():
                    conn.execute("SELECT id FROM properties_property WHERE id = %s FOR UPDATE", [pid])
                    conn.execute(
                        "INSERT INTO bench_raw_stay (property_id, check_in, check_out) "
                        "VALUES (%s, current_date + 400, current_date + 402)",
                        [pid],
                    )
                    conn.execute(
                        "INSERT INTO bench_raw_event (property_id, payload) VALUES (%s, %s)",
                        [pid, json.dumps({"property_id": pid})],
                    )
                done[n] += 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return round(sum(done) / (time.monotonic() - began), 1)


def run_api_benchmark(*, seconds: float, web_workers: int, warmup: float, log: Log) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from apps.api.services import api_token_create
    from apps.properties.models import Property

    owner = get_user_model().objects.get(username="bench-owner")
    _, token = api_token_create(user=owner, name=f"bench {uuid.uuid4().hex[:6]}")
    homes = list(Property.objects.filter(status="active").order_by("pk").values_list("pk", flat=True))
    if len(homes) < 2:
        raise CommandError("The benchmark needs at least 2 active homes (--properties).")
    spread = homes[:100]
    today = timezone.localdate()
    rnd = random.Random(7)  # noqa: S311
    tag = uuid.uuid4().hex[:8]
    queue = f"bench-api-{tag}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"

    def day(n: int) -> str:
        return (today + timedelta(days=n)).isoformat()

    # distinct 2-night stays, 3 days apart, from day 20 on: none overlaps another or the loaded past
    stays = [
        ("POST", "/api/v1/bookings/", {"property": pid, "check_in": day(20 + 3 * k), "check_out": day(22 + 3 * k),
                                        "guests": 1})
        for k in range(300) for pid in spread
    ]  # fmt: skip
    hot_home = homes[-1]
    hot = [
        ("POST", "/api/v1/bookings/", {"property": hot_home, "check_in": day(30), "check_out": day(33), "guests": 1})
    ]
    calendars = [("GET", f"/api/v1/properties/{rnd.choice(homes)}/calendar/?start={day(0)}&end={day(31)}", None)
                 for _ in range(500)]  # fmt: skip
    quotes = [
        ("POST", "/api/v1/quotes/", {"property": rnd.choice(homes), "check_in": day(s), "check_out": day(s + 3),
                                      "guests": 2})
        for s in (rnd.randint(1, 200) for _ in range(500))
    ]  # fmt: skip
    reads = [("GET", f"/api/v1/properties/{rnd.choice(homes)}/", None) for _ in range(500)]
    searches = [
        ("GET", f"/api/v1/search/?check_in={day(s)}&check_out={day(s + 3)}&guests=2", None)
        for s in (rnd.randint(1, 120) for _ in range(200))
    ]
    workloads = {
        "create_spread_c8": {"clients": 8, "requests": stays, "mode": "once"},
        "create_hot_c32": {"clients": 32, "requests": hot, "mode": "cycle"},
        "availability_c50": {"clients": 50, "requests": calendars, "mode": "cycle"},
        "quote_c50": {"clients": 50, "requests": quotes, "mode": "cycle"},
        "property_c50": {"clients": 50, "requests": reads, "mode": "cycle"},
        "search_c8": {"clients": 8, "requests": searches, "mode": "cycle"},
    }
    result: dict[str, Any] = {"workloads": {}}
    with ExitStack() as stack:
        worker = _start_worker(queue=queue, redis_prefix=f"bench-{queue}:channels", log=log)
        stack.callback(_stop_worker, worker)
        web = _start_web(port=port, workers=web_workers, queue=queue, log=log)
        stack.callback(_stop_web, web)
        for name, spec in workloads.items():
            log(f"{name}…")
            result["workloads"][name] = _drive(
                base=base, token=token, spec={**spec, "seconds": seconds, "warmup": warmup}
            )
    log("raw SQL baseline…")
    result["raw_sql_tx_per_s"] = raw_sql_baseline(property_ids=spread, clients=8, seconds=seconds)
    create = result["workloads"]["create_spread_c8"]["req_per_s"]
    result["create_vs_raw_sql"] = round(create / result["raw_sql_tx_per_s"], 4) if result["raw_sql_tx_per_s"] else None
    result.update(web_workers=web_workers, seconds=seconds, cpus=os.cpu_count(), homes=len(homes))
    return result


def bench_api(*, log: Log, **options: Any) -> dict[str, Any]:
    name = API_DATABASE if options["database"] == DEFAULT_DATABASE else options["database"]
    seconds = float(options.get("seconds") or 10)
    if seconds <= 0:
        raise CommandError("--seconds must be more than 0.")
    with bench_database(name, rebuild=options["rebuild"]) as fresh, _database_everywhere(name):
        if fresh or not _meta_matches(options["properties"], options["bookings"]):
            if not fresh:
                raise CommandError(f"Database {name} holds other data: run again with --rebuild.")
            log("loading data…")
            load_data(properties=options["properties"], bookings=options["bookings"], seed=options["seed"], log=log)
        # stays created by an earlier run would turn this run's creates into conflicts
        from apps.bookings.models import Booking

        with connection.cursor() as cur:
            cur.execute("DELETE FROM availability_occupiednight WHERE night >= current_date")
        Booking.objects.filter(check_in__gte=timezone.localdate()).delete()
        result = run_api_benchmark(
            seconds=seconds, web_workers=int(options.get("web_workers") or 4), warmup=2.0, log=log
        )
    return {**result, "database": name}
