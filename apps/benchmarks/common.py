"""Helpers of the benchmark modules: a separate benchmark database, percentiles, bulk loads."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, models


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
