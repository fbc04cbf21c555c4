"""The benchmark command's registry and the data loader (the full run is done by hand, see README)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from apps.availability.search import SearchQuery, availability_sql, search_properties
from apps.benchmarks import search as benchmarks
from apps.benchmarks.common import percentiles
from apps.benchmarks.management.commands.benchmark import registry


def test_registry_lists_search_and_quote():
    assert {"search", "quote"} <= set(registry())
    out = StringIO()
    call_command("benchmark", stdout=out)
    assert "quote" in out.getvalue() and "search" in out.getvalue()


def test_unknown_benchmark_is_a_clear_error():
    with pytest.raises(CommandError, match="Unknown benchmark"):
        call_command("benchmark", "nope")


def test_bench_database_name_is_guarded():
    with pytest.raises(CommandError, match="bench"):
        call_command("benchmark", "search", "--database", "pms")


def test_percentiles():
    got = percentiles([float(i) for i in range(1, 101)])
    assert got["n"] == 100 and got["p50_ms"] == 50.5 and got["p95_ms"] == 95.05


@pytest.mark.django_db
def test_loader_builds_consistent_data():
    counts = benchmarks.load_data(properties=30, bookings=600, seed=1, log=lambda _: None)
    assert counts["properties"] == 30 and counts["bookings"] == 600
    with connection.cursor() as cur:
        # every night of every blocking booking is in the occupancy table, and nothing else
        cur.execute(
            """SELECT count(*) FROM bookings_booking b, generate_series(b.check_in, b.check_out - 1, '1 day') d
                WHERE b.status <> 'cancelled'"""
        )
        assert cur.fetchone()[0] == counts["occupied_nights"]
        cur.execute("SELECT count(*) FROM availability_pricingrule GROUP BY property_id")
        assert {r[0] for r in cur.fetchall()} == {10}
    assert search_properties(location="City 01").total_count >= 1
    # the naive reference and our query agree on the plain availability (no restrictions involved)
    q = SearchQuery(
        check_in=timezone.localdate() + timedelta(days=3), check_out=timezone.localdate() + timedelta(days=5), guests=1
    )
    sql, params = benchmarks.naive_sql(q, limit=1000)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        naive = {r[0] for r in cur.fetchall()}
        sql, params = availability_sql(q, now=timezone.now(), limit=None)
        cur.execute(sql, params)
        ours = {r[0] for r in cur.fetchall()}
    assert ours <= naive
