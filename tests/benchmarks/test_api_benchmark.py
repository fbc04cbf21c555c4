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
    assert set(result["workloads"]) == WORKLOADS
    for workload, figures in result["workloads"].items():
        assert {"req_per_s", "p50_ms", "p95_ms", "p99_ms"} <= set(figures), workload
        assert not [code for code in figures["statuses"] if code.startswith("5")], (workload, figures)
        if workload != "create_hot_c32":
            assert "error" not in figures["statuses"], (workload, figures)
    # Open finding (issue 21): with 2 sync gunicorn workers, a few of the 32 racing clients have seen no
    # answer within the load client's 60 s timeout ("error"); no 5xx and never a second winner.
    print("create_hot_c32:", result["workloads"]["create_hot_c32"])
    assert set(result["workloads"]["create_spread_c8"]["statuses"]) == {"201"}  # distinct stays all succeed
    hot = result["workloads"]["create_hot_c32"]["statuses"]
    assert hot.get("201", 0) <= 1 and set(hot) <= {"201", "409", "error"}  # one stay, one winner at most
    assert hot.get("409", 0) > hot.get("error", 0)
    for read in ("availability_c50", "quote_c50", "property_c50", "search_c8"):
        assert set(result["workloads"][read]["statuses"]) == {"200"}, read
    assert result["raw_sql_tx_per_s"] > 0
    assert connection.settings_dict["NAME"] == configured
