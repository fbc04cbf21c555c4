"""The Grafana dashboards and Prometheus alert rules in ops/ only name metrics that /metrics serves,
after the system did a bit of everything (bookings, pushes, a refused webhook, guest pages, the API)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from apps.availability import services as availability_services
from apps.bookings import services as booking_services
from tests.api.conftest import client_for
from tests.channels.conftest import _clean_channel_redis, bcom, listing  # noqa: F401 - fixtures
from tests.factories import future

OPS = Path(__file__).resolve().parents[2] / "ops"
METRIC = re.compile(r"\b(pms_[a-z0-9_]+)")
SPEC_THRESHOLDS = {  # section 9 of the spec: alert -> (metric, threshold)
    "SyncLatencyHigh": ("pms_sync_latency_seconds_bucket", "> 30"),
    "SyncErrorRateHigh": ("pms_sync_error_rate", "> 0.10"),
    "ApiLatencyHigh": ("pms_api_request_duration_seconds_bucket", "> 0.5"),
    "CalendarLockHeldLong": ("pms_calendar_lock_duration_seconds_bucket", "> 60"),
    "WebhookProcessingSlow": ("pms_webhook_processing_time_seconds_bucket", "> 5"),
    "ChannelApiErrors": ("pms_channel_api_errors_total", "* 60 > 5"),
}


def _dashboards() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((OPS / "grafana").glob("*.json"))}


def _rules() -> list[dict]:
    doc = yaml.safe_load((OPS / "prometheus" / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _referenced() -> set[str]:
    exprs = [t["expr"] for d in _dashboards().values() for p in d["panels"] for t in p["targets"]]
    exprs += [r["expr"] for r in _rules()]
    return {m for e in exprs for m in METRIC.findall(e)}


def test_the_three_dashboards_and_the_spec_alerts_are_there():
    titles = {d["title"] for d in _dashboards().values()}
    assert titles == {"PMS: channel manager", "PMS: booking funnel", "PMS: API health"}
    rules = {r["alert"]: r["expr"] for r in _rules()}
    for alert, (metric, threshold) in SPEC_THRESHOLDS.items():
        assert metric in rules[alert] and rules[alert].replace(" ", "").endswith(threshold.replace(" ", "")), alert


@pytest.mark.django_db(transaction=True)
def test_every_metric_the_dashboards_and_alerts_use_is_served(client, alice, prop, listing, bcom, settings):  # noqa: F811
    settings.METRICS_TOKEN = "scrape-token"
    # a bit of everything: bookings and blocks (locks, pushes, sync latency), a refused webhook,
    # the guest pages (funnel), the API
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(10), check_out=future(12), guests=2, status="confirmed"
    )
    availability_services.block_create(property_id=prop.pk, start_date=future(20), end_date=future(22))
    client.post("/webhooks/booking_com/", data=b"{}", content_type="application/json")
    client.get("/", {"guests": 1})
    client.get(f"/properties/{prop.slug}/")
    api = client_for(alice)
    assert api.get("/api/v1/properties/").status_code == 200

    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token").content.decode()
    samples = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    missing = sorted(name for name in _referenced() if name not in samples)
    assert not missing, f"named in ops/ but not served by /metrics: {missing}"
