import pytest

from apps.channels.benchmarks import run_sync_benchmark


@pytest.mark.django_db(transaction=True)
def test_sync_benchmark_small_eager():
    out = run_sync_benchmark(bookings=2, reservations=3, worker=False, timeout=10)
    assert out["not_closed_within_timeout"] == 0
    assert out["p50_ms"] > 0 and out["p99_ms"] >= out["p50_ms"]
    assert out["inbound_processed"] == 3 and out["inbound_per_second"] > 0
