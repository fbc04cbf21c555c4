"""``benchmark sync`` measures Vrbo: commit -> our hosted availability document shows the nights, and
separately the simulator's crawl lag at its configured interval (1 s in tests)."""

from __future__ import annotations

import pytest

from apps.benchmarks.sync import SYNC_PROBES, run_sync_benchmark

pytestmark = pytest.mark.django_db(transaction=True)


def test_sync_benchmark_reports_vrbo(monkeypatch):
    monkeypatch.setenv("VRBO_BENCH_CRAWL_SAMPLES", "2")
    monkeypatch.setenv("VRBO_BENCH_BOOKING_REQUESTS", "3")
    assert "fewo_direkt" in SYNC_PROBES
    out = run_sync_benchmark(bookings=2, reservations=0, worker=False, timeout=10)
    figures = out["platforms"]["fewo_direkt"]
    assert figures["n"] == 2 and figures["not_closed_within_timeout"] == 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert figures["crawl_interval_s"] == 1 and figures["crawl_lag_n"] == 2 and figures["crawl_lag_lost"] == 0
    assert 0 < figures["crawl_lag_p50_ms"] <= figures["crawl_lag_p99_ms"] < 10_000
    assert figures["booking_requests_booked"] == 3 and 0 < figures["booking_request_p50_ms"]
