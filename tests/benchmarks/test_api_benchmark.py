"""``benchmark api`` runs from the command at a tiny size: gunicorn + a real worker on its own
database, driven by the load client in its own process, and prints the agreed JSON shape."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

WORKLOADS = {"create_spread_c8", "create_hot_c32", "availability_c50", "quote_c50", "property_c50", "search_c8"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_api_benchmark_small():
    configured = connection.settings_dict["NAME"]
    name = f"{configured}_bench_api"
    out = StringIO()
    call_command(
        "benchmark", "api", "--properties", "20", "--bookings", "40", "--seconds", "1", "--web-workers", "2",
        "--database", name, "--rebuild", "--json", stdout=out, stderr=StringIO(),
    )  # fmt: skip
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    print("benchmark api (tiny):", json.dumps(result["workloads"]))
    assert set(result["workloads"]) == WORKLOADS
    # Open finding (issue 21): on a busy machine, with 2 sync gunicorn workers, some requests have seen no
    # answer within the load client's 60 s timeout ("error"). Tolerated here, printed; never a 5xx, never a
    # second winner, only the expected answers (a workload stuck behind such requests may measure none).
    expected = {"create_spread_c8": {"201"}, "create_hot_c32": {"201", "409"}}
    for workload, figures in result["workloads"].items():
        assert {"req_per_s", "p50_ms", "p95_ms", "p99_ms"} <= set(figures), workload
        answered = set(figures["statuses"]) - {"error"}
        assert answered <= expected.get(workload, {"200"}), (workload, figures)
    assert result["workloads"]["create_hot_c32"]["statuses"].get("201", 0) <= 1  # one stay, one winner at most
    assert result["raw_sql_tx_per_s"] > 0
    assert connection.settings_dict["NAME"] == configured
