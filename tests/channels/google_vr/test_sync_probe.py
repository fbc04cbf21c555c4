"""``benchmark sync`` measures Google too: its probe lists a home on the simulator and sees the nights closed."""

from __future__ import annotations

import pytest

from apps.benchmarks.sync import SYNC_PROBES, run_sync_benchmark


@pytest.mark.django_db(transaction=True)
def test_sync_benchmark_reports_google():
    assert SYNC_PROBES["google_vr"] == "apps.sandbox.google_vr.SyncProbe"
    out = run_sync_benchmark(bookings=2, reservations=1, worker=False, timeout=10)
    google = out["platforms"]["google_vr"]
    assert google["n"] == 2 and google["not_closed_within_timeout"] == 0
    assert 0 < google["p50_ms"] <= google["p99_ms"]
