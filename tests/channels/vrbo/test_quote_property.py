"""Property test: for random pricing rules and random stays, the quote the Vrbo simulator builds from our
rates document (parsed as the platform would) equals our storefront's quote, line by line."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.availability.models import PricingRule
from apps.availability.pricing import quote_stay
from apps.channels import vrbo
from apps.sandbox import vrbo_quote

pytestmark = pytest.mark.django_db

money = st.decimals(min_value=Decimal("-40"), max_value=Decimal("60"), places=2)
discount = st.decimals(min_value=Decimal("-35"), max_value=Decimal("0"), places=2)

rule = st.one_of(
    st.builds(
        lambda v, days, p: ("weekend", "percentage", v, {"days": sorted(days)}, p),
        money,
        st.sets(st.integers(0, 6), min_size=1, max_size=3),
        st.integers(0, 3),
    ),
    st.builds(
        lambda v, start, length, p: ("seasonal", "fixed", v, {"start": start, "length": length}, p),
        money,
        st.integers(0, 40),
        st.integers(1, 40),
        st.integers(0, 3),
    ),
    st.builds(
        lambda v, fixed, n, p: (
            "length_of_stay",
            "fixed" if fixed else "percentage",
            v * (3 if fixed else 1),
            {"min_nights": n},
            p,
        ),
        discount,
        st.booleans(),
        st.integers(2, 14),
        st.integers(0, 3),
    ),
    st.builds(
        lambda v, d, p: ("last_minute", "percentage", v, {"max_days_before": d}, p),
        discount,
        st.integers(0, 10),
        st.integers(0, 3),
    ),
    st.builds(
        lambda v, above: ("extra_guest_fee", "fixed", abs(v), {"above_guests": above}, 0),
        money,
        st.integers(1, 3),
    ),
    st.builds(lambda v: ("tax_percentage", "percentage", abs(v) / 3, {}, 0), money),
    st.builds(lambda v: ("tax_per_person_night", "fixed", abs(v) / 10, {}, 0), money),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rules=st.lists(rule, max_size=6),
    offset=st.integers(0, 45),
    nights=st.integers(1, 21),
    guests=st.integers(1, 4),
    cleaning=st.decimals(min_value=Decimal("0"), max_value=Decimal("99.99"), places=2),
)
def test_vrbo_quote_equals_ours_for_random_rules(alice_vrbo, prop, rules, offset, nights, guests, cleaning):
    today = vrbo.local_today(prop)
    PricingRule.objects.filter(property=prop).delete()
    prop.cleaning_fee = cleaning
    prop.max_guests = 4
    prop.save()
    for rule_type, adjustment, value, conditions, priority in rules:
        if rule_type == "seasonal":
            start = today + timedelta(days=conditions["start"])
            conditions = {
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=conditions["length"])).isoformat(),
            }
        PricingRule.objects.create(
            property=prop,
            rule_type=rule_type,
            adjustment_type=adjustment,
            adjustment_value=Decimal(value).quantize(Decimal("0.01")),
            conditions=conditions,
            priority=priority,
        )
    alice_vrbo.property.refresh_from_db()
    rates = vrbo_quote.parse_rates(vrbo.rates_document(alice_vrbo).body)
    check_in = today + timedelta(days=offset)
    check_out = check_in + timedelta(days=nights)
    ours = quote_stay(prop=prop, check_in=check_in, check_out=check_out, guests=guests)
    theirs = vrbo_quote.quote(rates, check_in=check_in, check_out=check_out, guests=guests, today=today)
    assert theirs["nights"] == [n.final for n in ours.nights]
    assert [d["amount"] for d in theirs["discounts"]] == [a["amount"] for a in ours.stay_adjustments]
    assert sorted(theirs["fees"]) == sorted(f["amount"] for f in ours.fees)
    assert sorted(theirs["taxes"]) == sorted(t["amount"] for t in ours.taxes)
    assert theirs["total"] == ours.total
