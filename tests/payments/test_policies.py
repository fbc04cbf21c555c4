"""The cancellation policies, table-driven (pure functions, no database)."""

from __future__ import annotations

import zoneinfo
from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from apps.bookings import policies

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
STARTS = policies.check_in_at(check_in=date(2026, 8, 20), check_in_time=time(15, 0), tz=BERLIN)
BOOKED_EARLY = STARTS - timedelta(days=60)
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.mark.parametrize(
    "policy, before, booked_at, share",
    [
        # flexible: 100 % until 24 h before check-in
        ("flexible", 30 * D, BOOKED_EARLY, "1"),
        ("flexible", 24 * H, BOOKED_EARLY, "1"),
        ("flexible", 24 * H - timedelta(seconds=1), BOOKED_EARLY, "0"),
        ("flexible", 0 * H, BOOKED_EARLY, "0"),
        # moderate: 100 % until 5 days, 50 % until 24 h
        ("moderate", 5 * D, BOOKED_EARLY, "1"),
        ("moderate", 5 * D - H, BOOKED_EARLY, "0.5"),
        ("moderate", 24 * H, BOOKED_EARLY, "0.5"),
        ("moderate", 23 * H, BOOKED_EARLY, "0"),
        # strict: 50 % until 7 days; 100 % within 48 h of booking if check-in is >= 14 days away
        ("strict", 30 * D, BOOKED_EARLY, "0.5"),
        ("strict", 7 * D, BOOKED_EARLY, "0.5"),
        ("strict", 7 * D - H, BOOKED_EARLY, "0"),
        ("strict", 20 * D, STARTS - 21 * D, "1"),  # one day after booking, 20 days ahead
        ("strict", 13 * D, STARTS - 14 * D, "0.5"),  # within 48 h of booking but only 13 days ahead
        ("strict", 17 * D, STARTS - 20 * D, "0.5"),  # 3 days after booking
        # after check-in nothing, whatever the policy
        ("flexible", -H, BOOKED_EARLY, "0"),
    ],
)
def test_refund_share(policy, before, booked_at, share):
    assert policies.refund_share(policy=policy, starts_at=STARTS, booked_at=booked_at, now=STARTS - before) == Decimal(
        share
    )


@pytest.mark.parametrize(
    "paid, currency, share_before, expected",
    [
        (Decimal("255.55"), "EUR", 3 * D, Decimal("127.78")),  # 50 %, rounded half up to the cent
        (Decimal("255.55"), "EUR", 6 * D, Decimal("255.55")),
        (Decimal("12345"), "JPY", 3 * D, Decimal("6173")),  # zero-decimal currency
        (Decimal("0"), "EUR", 6 * D, Decimal("0")),
    ],
)
def test_refund_amount_rounds_to_the_currency(paid, currency, share_before, expected):
    amount = policies.refund_amount(
        policy="moderate",
        paid=paid,
        currency=currency,
        starts_at=STARTS,
        booked_at=BOOKED_EARLY,
        now=STARTS - share_before,
    )
    assert amount == expected


def test_check_in_is_property_local():
    assert STARTS.utcoffset() == timedelta(hours=2)  # CEST
    assert STARTS.astimezone(zoneinfo.ZoneInfo("UTC")).hour == 13


@pytest.mark.parametrize("policy", ["flexible", "moderate", "strict"])
def test_every_policy_is_described_for_guests(policy):
    assert policies.describe(policy).lower().startswith(policy)
    lines = policies.describe_for_stay(
        policy=policy, starts_at=STARTS, booked_at=STARTS - 30 * D, tz=BERLIN, now=STARTS - 30 * D
    )
    assert lines[-1] == "No refund after that."
    assert all("2026" in line for line in lines[:-1])


def test_strict_grace_deadline_is_dated():
    lines = policies.describe_for_stay(
        policy="strict", starts_at=STARTS, booked_at=STARTS - 30 * D, tz=BERLIN, now=STARTS - 30 * D
    )
    assert lines[0].startswith("Full refund") and len(lines) == 3


def test_deadlines_that_have_passed_are_not_listed():
    def lines_at(now):
        return policies.describe_for_stay(
            policy="moderate", starts_at=STARTS, booked_at=STARTS - 30 * D, tz=BERLIN, now=now
        )

    assert len(lines_at(STARTS - 10 * D)) == 3  # full, 50 %, none
    later = lines_at(STARTS - 3 * D)
    assert len(later) == 2 and later[0].startswith("50% refund") and later[1] == "No refund after that."
    assert lines_at(STARTS - timedelta(hours=2)) == ["No refund if you cancel now."]


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="Unknown cancellation policy"):
        policies.refund_share(policy="lenient", starts_at=STARTS, booked_at=BOOKED_EARLY, now=STARTS)
    with pytest.raises(ValueError):
        policies.describe("lenient")
