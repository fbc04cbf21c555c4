"""Injected faults on the Google simulator map to our error kinds; the commands run and fail clearly."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from apps.channels.adapters import get_adapter
from apps.channels.adapters.base import AdapterError, DayState, ErrorKind
from apps.sandbox.models import SimFault
from apps.sandbox.models.google_vr import GoogleAccuracyCheck
from tests.factories import future

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"kind": "429", "retry_after": 7}, ErrorKind.RATE_LIMITED),
        ({"kind": "malformed"}, ErrorKind.RETRYABLE),
        ({"kind": "5xx", "status_code": 502}, ErrorKind.RETRYABLE),
        ({"kind": "timeout", "latency_ms": 2500}, ErrorKind.RETRYABLE),
    ],
)
def test_faults_map_to_error_kinds(google, fault, kind, settings):
    settings.CHANNEL_HTTP_TIMEOUT = 2  # the injected timeout sleeps 2.5 s
    SimFault.objects.create(simulator="google_vr", remaining=1, **fault)
    with pytest.raises(AdapterError) as exc:
        get_adapter(google).push_calendar([DayState(day=future(3), available=True)])
    assert exc.value.kind == kind
    if kind == ErrorKind.RATE_LIMITED:
        assert exc.value.retry_after == 7
    # the next push goes through (the fault was used up)
    assert get_adapter(google).push_calendar([DayState(day=future(3), available=True)]).http_status == 200


def test_commands(google, gprop):
    get_adapter(google).push_calendar([DayState(day=future(i), available=True) for i in range(1, 30)])
    out = io.StringIO()
    call_command("google_traveller_search", "--samples", "3", "--seed", "1", "--fetch-feed", stdout=out)
    assert (
        "alice-vr: feed ok: 1 listing(s)" in out.getvalue()
        and "alice-1: 3/3 match" in out.getvalue()
        and GoogleAccuracyCheck.objects.count() == 3
    )
    out = io.StringIO()
    call_command("google_price_check", "--samples", "5", "--seed", "1", stdout=out)
    assert "5/5 stays match (100%)" in out.getvalue()
    with pytest.raises(CommandError, match="between 1 and 1000"):
        call_command("google_price_check", "--samples", "0")
    with pytest.raises(CommandError, match="No active Google connection"):
        call_command("google_price_check", "--connection", "999999")
    with pytest.raises(CommandError, match="No listed Google listing"):
        call_command("google_traveller_search", "--partner", "nobody")
