"""``python manage.py benchmark <name> [--properties N --bookings M] --json``

Dispatches by name to the benchmarks that apps declare: any installed app may have a
``benchmarks`` module with ``BENCHMARKS = {"name": callable}``; each callable takes the parsed
options (keyword arguments) and returns a JSON-able dict. Benchmarks run against a separate
database (``--database``, default ``pms_bench``) that this command creates and migrates, never
against the configured one. Helpers for benchmark modules live here too (``bench_database``,
``percentiles``, ``insert_rows_sql``).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, models

BenchmarkFn = Callable[..., dict[str, Any]]


def registry() -> dict[str, BenchmarkFn]:
    """Every benchmark declared by an installed app (``<app>.benchmarks.BENCHMARKS``)."""
    found: dict[str, BenchmarkFn] = {}
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.benchmarks")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.benchmarks":
                continue
            raise
        for name, fn in getattr(module, "BENCHMARKS", {}).items():
            if name in found:
                raise CommandError(f"Benchmark “{name}” is declared twice (second in {config.name}).")
            found[name] = fn
    return found


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99 (inclusive method) and n of a list of milliseconds."""
    if not samples_ms:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "n": 0}
    if len(samples_ms) == 1:
        v = round(samples_ms[0], 3)
        return {"p50_ms": v, "p95_ms": v, "p99_ms": v, "n": 1}
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50_ms": round(q[49], 3), "p95_ms": round(q[94], 3), "p99_ms": round(q[98], 3), "n": len(samples_ms)}


def timed_ms(fn: Callable[[], Any]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1e6


def database_exists(name: str) -> bool:
    conn = connections["default"]
    with conn._nodb_cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cur.fetchone() is not None


@contextmanager
def bench_database(name: str, *, rebuild: bool) -> Iterator[bool]:
    """Point the default connection at database ``name`` (created and migrated when missing or
    ``rebuild``) for the duration; yields True when the database is new (needs data)."""
    if "bench" not in name:
        raise CommandError("The benchmark database name must contain “bench” (it may be dropped and recreated).")
    conn = connections["default"]
    original = conn.settings_dict["NAME"]
    if name == original:
        raise CommandError("The benchmark database must not be the configured database.")
    conn.close()
    fresh = rebuild or not database_exists(name)
    if fresh:
        with conn._nodb_cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.settings_dict["NAME"] = name
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield fresh
    finally:
        conn.close()
        conn.settings_dict["NAME"] = original


def insert_rows_sql(model: type[models.Model], exprs: dict[str, str], from_sql: str) -> tuple[str, dict[str, Any]]:
    """``INSERT INTO <table> (...) SELECT ... <from_sql>`` with SQL expressions for the columns in
    ``exprs`` and the model's defaults for every other column (so new fields don't break loads)."""
    conn = connections["default"]
    cols, values, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in exprs:
            continue
        cols.append(f'"{field.column}"')
        if field.column in exprs:
            values.append(exprs[field.column])
        elif isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            values.append("now()")
        else:
            key = f"default_{field.column}"
            params[key] = field.get_db_prep_save(field.get_default(), conn)
            values.append(f"%({key})s")
    sql = f'INSERT INTO "{model._meta.db_table}" ({", ".join(cols)}) SELECT {", ".join(values)} {from_sql}'
    return sql, params


class Command(BaseCommand):
    help = "Run a named benchmark on its own generated data in a separate database and print the figures."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="Benchmark to run (omit to list them).")
        parser.add_argument("--properties", type=int, default=1000)
        parser.add_argument("--bookings", type=int, default=100_000)
        parser.add_argument("--iterations", "-n", type=int, default=300, help="Measured runs.")
        parser.add_argument("--warmup", type=int, default=30, help="Unmeasured runs first.")
        parser.add_argument("--reservations", type=int, default=200, help="sync: inbound reservations to pull.")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--database", default="pms_bench", help="Database to (re)create for the data.")
        parser.add_argument("--rebuild", action="store_true", help="Drop and reload the data even if it matches.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        benchmarks = registry()
        name = options["name"]
        if not name:
            self.stdout.write("Benchmarks: " + ", ".join(sorted(benchmarks)))
            return
        if name not in benchmarks:
            raise CommandError(f"Unknown benchmark “{name}”. Available: {', '.join(sorted(benchmarks)) or 'none'}.")
        for key in ("properties", "bookings", "iterations"):
            if options[key] < 1:
                raise CommandError(f"--{key} must be at least 1.")
        if options["warmup"] < 0:
            raise CommandError("--warmup must not be negative.")
        if not options["json"]:
            self.stderr.write(f"Running benchmark {name} on database {options['database']}…")
        result = {"benchmark": name, **benchmarks[name](log=self.stderr.write, **options)}
        result["debug"] = settings.DEBUG
        if options["json"]:
            self.stdout.write(json.dumps(result, default=str))
        else:
            width = max(len(k) for k in result)
            for key, value in result.items():
                self.stdout.write(f"{key.ljust(width)}  {value}")
