"""The ``sync`` benchmark: registered with the benchmark command, runs with a real worker, cleans up."""

from __future__ import annotations

import json
from io import StringIO

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from apps.benchmarks.management.commands.benchmark import registry
from apps.benchmarks.sync import database_url, run_sync_benchmark


def test_sync_is_registered():
    assert "sync" in registry()


def test_database_url_quotes_credentials():
    db = {"USER": "pms", "PASSWORD": "p@ss/word", "HOST": "127.0.0.1", "PORT": 5432, "NAME": "pms_bench_sync"}
    assert database_url(db) == "postgres://pms:p%40ss%2Fword@127.0.0.1:5432/pms_bench_sync"


@pytest.mark.django_db(transaction=True)
def test_sync_benchmark_small_eager():
    out = run_sync_benchmark(bookings=2, reservations=3, worker=False, timeout=10)
    assert out["n"] == 2 and out["not_closed_within_timeout"] == 0
    assert 0 < out["p50_ms"] <= out["p95_ms"] <= out["p99_ms"]
    assert out["inbound_n"] == 3 and out["inbound_complete"] and out["inbound_per_second"] > 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sync_command_with_a_real_worker_twice():
    """``benchmark sync --json`` in its own database, twice (the second run reuses it), with a real
    Celery worker; afterwards the configured database is back and the worker's queue is gone."""
    configured = connection.settings_dict["NAME"]
    bench = f"{configured}_bench_sync"[:63]
    try:
        for _ in range(2):
            out, err = StringIO(), StringIO()
            call_command(
                "benchmark",
                "sync",
                "--json",
                "--iterations=3",
                "--warmup=1",
                "--reservations=4",
                f"--database={bench}",
                stdout=out,
                stderr=err,
            )
            result = json.loads(out.getvalue())
            assert result["benchmark"] == "sync" and result["database"] == bench and result["worker"] is True
            assert result["n"] == 3 and result["not_closed_within_timeout"] == 0, err.getvalue()
            assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
            from apps.benchmarks.sync import SYNC_PROBES

            assert set(result["platforms"]) == set(SYNC_PROBES)  # every registered platform measured
            for figures in result["platforms"].values():
                assert figures["n"] == 3 and figures["not_closed_within_timeout"] == 0, err.getvalue()
                assert 0 < figures["p50_ms"] <= figures["p99_ms"]
            assert result["inbound_n"] == 4 and result["inbound_per_second"] > 0
            assert connection.settings_dict["NAME"] == settings.DATABASES["default"]["NAME"] == configured
        broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        assert not broker.keys(f"_kombu.binding.{settings.CELERY_TASK_DEFAULT_QUEUE}-sync-bench-*")
        broker.close()
    finally:
        connection.close()
        with connection._nodb_cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{bench}" WITH (FORCE)')
