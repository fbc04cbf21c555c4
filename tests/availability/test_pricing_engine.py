"""The pure pricing engine: table-driven tests per rule type, priority and combination, plus properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.availability.pricing import DayRange, Rule, Terms, compute_quote

D = Decimal
TODAY = date(2030, 1, 1)  # a Tuesday
MON = date(2030, 3, 4)  # Monday; Fri = Mar 8, Sat = Mar 9


def terms(**kw) -> Terms:
    base = {"property_id": 1, "currency": "EUR", "base_price": D("100"), "cleaning_fee": D("0"), "max_guests": 6}
    base.update(kw)
    return Terms(**base)


def rule(rule_type, adjustment_type, value, priority=0, id=None, **conditions) -> Rule:
    return Rule.parse(
        id=id,
        rule_type=rule_type,
        adjustment_type=adjustment_type,
        value=value,
        conditions=conditions,
        priority=priority,
    )


def quote(rules=(), ranges=(), check_in=MON, nights=1, guests=2, today=TODAY, **terms_kw):
    return compute_quote(
        terms=terms(**terms_kw),
        rules=list(rules),
        ranges=list(ranges),
        check_in=check_in,
        check_out=check_in + timedelta(days=nights),
        guests=guests,
        today=today,
    )


# (name, rules, ranges, check_in, nights, guests, today, expected nightly finals, expected total)
CASES = [
    ("base only", [], [], MON, 2, 2, TODAY, ["100.00", "100.00"], "200.00"),
    (
        "block price override",
        [],
        [DayRange(MON + timedelta(days=1), MON + timedelta(days=5), D("80"))],
        MON,
        2,
        2,
        TODAY,
        ["100.00", "80.00"],
        "180.00",
    ),
    (
        "seasonal percentage inside range only",
        [rule("seasonal", "percentage", "20", start_date="2030-03-05", end_date="2030-03-06")],
        [],
        MON,
        3,
        2,
        TODAY,
        ["100.00", "120.00", "100.00"],
        "320.00",
    ),
    (
        "seasonal end is exclusive",
        [rule("seasonal", "fixed", "15", start_date="2030-03-01", end_date="2030-03-05")],
        [],
        MON,
        2,
        2,
        TODAY,
        ["115.00", "100.00"],
        "215.00",
    ),
    (
        "seasonal recurring yearly (other year)",
        [rule("seasonal", "fixed", "10", start_date="2020-03-04", end_date="2020-03-05", recurring_yearly=True)],
        [],
        MON,
        2,
        2,
        TODAY,
        ["110.00", "100.00"],
        "210.00",
    ),
    (
        "seasonal recurring across new year",
        [rule("seasonal", "percentage", "50", start_date="2020-12-30", end_date="2021-01-02", recurring_yearly=True)],
        [],
        date(2030, 12, 29),
        5,
        2,
        TODAY,
        ["100.00", "150.00", "150.00", "150.00", "100.00"],
        "650.00",
    ),
    (
        "weekend default Fri+Sat nights",
        [rule("weekend", "percentage", "25")],
        [],
        MON,
        7,
        2,
        TODAY,
        ["100.00"] * 4 + ["125.00", "125.00", "100.00"],
        "750.00",
    ),
    (
        "weekend configurable nights",
        [rule("weekend", "fixed", "-10", days=[0])],
        [],
        MON,
        2,
        2,
        TODAY,
        ["90.00", "100.00"],
        "190.00",
    ),
    (
        "per-night rules compound in priority order",
        [
            rule("weekend", "fixed", "10", priority=2, id=1, days=[0]),
            rule("seasonal", "percentage", "10", priority=1, id=2, start_date="2030-03-01", end_date="2030-04-01"),
        ],
        [],
        MON,
        1,
        2,
        TODAY,
        ["120.00"],
        "120.00",
    ),
    (
        "same rules, other priority order",
        [
            rule("weekend", "fixed", "10", priority=1, id=1, days=[0]),
            rule("seasonal", "percentage", "10", priority=2, id=2, start_date="2030-03-01", end_date="2030-04-01"),
        ],
        [],
        MON,
        1,
        2,
        TODAY,
        ["121.00"],
        "121.00",
    ),
    (
        "override then rule",
        [rule("weekend", "percentage", "10", days=[0])],
        [DayRange(MON, MON + timedelta(days=1), D("50"))],
        MON,
        1,
        2,
        TODAY,
        ["55.00"],
        "55.00",
    ),
    ("night never below zero", [rule("weekend", "fixed", "-500", days=[0])], [], MON, 1, 2, TODAY, ["0.00"], "0.00"),
]


@pytest.mark.parametrize(
    ("name", "rules", "ranges", "ci", "nights", "guests", "today", "finals", "total"), CASES, ids=[c[0] for c in CASES]
)
def test_per_night_rules(name, rules, ranges, ci, nights, guests, today, finals, total):
    q = quote(rules, ranges, ci, nights, guests, today)
    assert [str(n.final) for n in q.nights] == finals
    assert q.total == D(total)
    assert q.total == q.lines_total()


STAY_CASES = [
    (
        "length of stay below threshold",
        [rule("length_of_stay", "percentage", "-10", min_nights=7)],
        6,
        TODAY,
        [],
        "600.00",
    ),
    (
        "length of stay at threshold",
        [rule("length_of_stay", "percentage", "-10", min_nights=7)],
        7,
        TODAY,
        ["-70.00"],
        "630.00",
    ),
    (
        "length of stay tiers: most specific wins",
        [
            rule("length_of_stay", "percentage", "-10", min_nights=7, id=1),
            rule("length_of_stay", "percentage", "-20", min_nights=14, id=2),
        ],
        14,
        TODAY,
        ["-280.00"],
        "1120.00",
    ),
    (
        "length of stay fixed per stay",
        [rule("length_of_stay", "fixed", "-25", min_nights=2)],
        3,
        TODAY,
        ["-25.00"],
        "275.00",
    ),
    (
        "last minute within window",
        [rule("last_minute", "percentage", "-15", max_days_before=7)],
        2,
        MON - timedelta(days=7),
        ["-30.00"],
        "170.00",
    ),
    (
        "last minute outside window",
        [rule("last_minute", "percentage", "-15", max_days_before=7)],
        2,
        MON - timedelta(days=8),
        [],
        "200.00",
    ),
    (
        "last minute tiers: closest wins",
        [
            rule("last_minute", "percentage", "-10", max_days_before=14, id=1),
            rule("last_minute", "percentage", "-30", max_days_before=2, id=2),
        ],
        1,
        MON - timedelta(days=1),
        ["-30.00"],
        "70.00",
    ),
    (
        "length of stay and last minute combine in priority order",
        [
            rule("length_of_stay", "percentage", "-10", min_nights=2, priority=1, id=1),
            rule("last_minute", "fixed", "-20", max_days_before=3, priority=2, id=2),
        ],
        2,
        MON - timedelta(days=3),
        ["-20.00", "-20.00"],
        "160.00",
    ),
    (
        "combination, other order",
        [
            rule("length_of_stay", "percentage", "-10", min_nights=2, priority=2, id=1),
            rule("last_minute", "fixed", "-20", max_days_before=3, priority=1, id=2),
        ],
        2,
        MON - timedelta(days=3),
        ["-20.00", "-18.00"],
        "162.00",
    ),
    ("rent never below zero", [rule("length_of_stay", "fixed", "-1000", min_nights=1)], 2, TODAY, ["-200.00"], "0.00"),
]


@pytest.mark.parametrize(
    ("name", "rules", "nights", "today", "adjustments", "total"), STAY_CASES, ids=[c[0] for c in STAY_CASES]
)
def test_stay_rules(name, rules, nights, today, adjustments, total):
    q = quote(rules, nights=nights, today=today)
    assert [str(a["amount"]) for a in q.stay_adjustments] == adjustments
    assert q.total == D(total)
    assert q.rent == q.total  # no fees / taxes here
    assert q.total == q.lines_total()


def test_fees_and_taxes():
    rules = [
        rule("extra_guest_fee", "fixed", "15", above_guests=2, id=1),
        rule("tax_percentage", "percentage", "7", id=2),
        rule("tax_per_person_night", "fixed", "2.50", id=3),
        rule("length_of_stay", "percentage", "-10", min_nights=3, id=4),
    ]
    q = quote(rules, nights=3, guests=4, cleaning_fee=D("40"))
    assert q.rent == D("270.00")
    assert [(f["code"], f["amount"]) for f in q.fees] == [("cleaning_fee", D("40.00")), ("extra_guest_fee", D("90.00"))]
    assert [(t["code"], t["amount"]) for t in q.taxes] == [
        ("tax_percentage", D("18.90")),
        ("tax_per_person_night", D("30.00")),
    ]
    assert q.subtotal == D("400.00")
    assert q.total == D("448.90")
    assert q.total == q.lines_total()


def test_extra_guest_fee_not_charged_up_to_threshold():
    q = quote([rule("extra_guest_fee", "fixed", "15", above_guests=2)], nights=3, guests=2)
    assert q.fees == []


def test_rounding_once_per_line_and_zero_decimal_currency():
    q = quote([rule("weekend", "percentage", "33.33", days=[0])], nights=1, base_price=D("99.99"))
    assert q.nights[0].adjustments[0]["amount"] == D("33.33")  # 33.326667 rounded once
    q = quote([rule("tax_percentage", "percentage", "7")], nights=1, base_price=D("10001"), currency="JPY")
    assert q.nights[0].final == D("10001") and q.taxes[0]["amount"] == D("700")
    assert str(q.total) == "10701"


def test_as_dict_is_json_and_snapshot_shaped():
    import json

    q = quote([rule("weekend", "percentage", "10", days=[0], id=9)], nights=2, cleaning_fee=D("30"))
    snap = json.loads(json.dumps(q.as_dict()))
    assert snap["total"] == "240.00" and snap["currency"] == "EUR"
    assert snap["nights"][0] == {
        "night": "2030-03-04",
        "base": "100.00",
        "final": "110.00",
        "adjustments": [
            {
                "rule_id": 9,
                "code": "weekend",
                "label": "Weekend",
                "type": "percentage",
                "value": "10",
                "amount": "10.00",
            }
        ],
    }


def test_deterministic():
    rules = [rule("weekend", "percentage", "10"), rule("tax_percentage", "percentage", "5")]
    assert quote(rules, nights=9).as_dict() == quote(rules, nights=9).as_dict()


# ----- property-based ---------------------------------------------------------------------------

money = st.decimals(min_value=D("0"), max_value=D("5000"), places=2, allow_nan=False, allow_infinity=False)
pct = st.decimals(min_value=D("-99"), max_value=D("200"), places=2, allow_nan=False, allow_infinity=False)
fixed = st.decimals(min_value=D("-300"), max_value=D("300"), places=2, allow_nan=False, allow_infinity=False)
positive = st.decimals(min_value=D("0"), max_value=D("100"), places=2, allow_nan=False, allow_infinity=False)


@st.composite
def rules_strategy(draw):
    out = []
    for i in range(draw(st.integers(0, 10))):
        kind = draw(
            st.sampled_from(
                [
                    "seasonal",
                    "weekend",
                    "length_of_stay",
                    "last_minute",
                    "extra_guest_fee",
                    "tax_percentage",
                    "tax_per_person_night",
                ]
            )
        )
        prio = draw(st.integers(-3, 3))
        if kind in ("extra_guest_fee", "tax_per_person_night"):
            atype, value = "fixed", draw(positive)
        elif kind == "tax_percentage":
            atype, value = "percentage", draw(positive)
        else:
            atype = draw(st.sampled_from(["percentage", "fixed"]))
            value = draw(pct if atype == "percentage" else fixed)
        cond = {}
        if kind == "seasonal":
            start = draw(st.dates(date(2029, 1, 1), date(2031, 12, 1)))
            cond = {
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=draw(st.integers(1, 365)))).isoformat(),
                "recurring_yearly": draw(st.booleans()),
            }
        elif kind == "weekend":
            cond = {"days": draw(st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True))}
        elif kind == "length_of_stay":
            cond = {"min_nights": draw(st.integers(1, 30))}
        elif kind == "last_minute":
            cond = {"max_days_before": draw(st.integers(0, 30))}
        elif kind == "extra_guest_fee":
            cond = {"above_guests": draw(st.integers(1, 8))}
        out.append(rule(kind, atype, value, priority=prio, id=i + 1, **cond))
    return out


@settings(max_examples=300, deadline=None)
@given(
    rules=rules_strategy(),
    base=money,
    cleaning=money,
    currency=st.sampled_from(["EUR", "JPY", "KWD", "USD"]),
    check_in=st.dates(date(2030, 1, 1), date(2031, 6, 1)),
    nights=st.integers(1, 40),
    guests=st.integers(1, 10),
    lead=st.integers(0, 60),
    override=st.one_of(st.none(), money),
)
def test_total_is_sum_of_lines(rules, base, cleaning, currency, check_in, nights, guests, lead, override):
    ranges = [DayRange(check_in + timedelta(days=1), check_in + timedelta(days=3), override)] if override else []
    q = compute_quote(
        terms=terms(base_price=base, cleaning_fee=cleaning, currency=currency),
        rules=rules,
        ranges=ranges,
        check_in=check_in,
        check_out=check_in + timedelta(days=nights),
        guests=guests,
        today=check_in - timedelta(days=lead),
    )
    assert len(q.nights) == nights
    assert q.total == q.lines_total()
    assert q.total >= 0 and q.rent >= 0 and all(n.final >= 0 for n in q.nights)
    for n in q.nights:
        assert n.final == n.base + sum((a["amount"] for a in n.adjustments), D(0))
    exp = {"JPY": 0, "KWD": -3}.get(currency, -2)
    for amount in [q.total, *(n.final for n in q.nights), *(f["amount"] for f in q.fees + q.taxes)]:
        assert amount.as_tuple().exponent == exp
