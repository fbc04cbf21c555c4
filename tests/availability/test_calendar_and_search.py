"""The calendar selector and guest search (with a brute-force oracle on random data)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.availability import services
from apps.availability.models import PricingRule
from apps.availability.search import search_properties
from apps.availability.selectors import calendar_days, stay_check
from apps.core.errors import ValidationFailed
from apps.properties.models import Property
from tests.availability.calendar_helpers import apply_calendar, book
from tests.factories import PropertyFactory, future

pytestmark = pytest.mark.django_db


def test_calendar_days(prop, django_assert_max_num_queries):
    book(prop, future(2), future(4))
    services.block_create(property_id=prop.pk, start_date=future(5), end_date=future(6))
    services.block_create(
        property_id=prop.pk,
        start_date=future(6),
        end_date=future(8),
        block_type="available",
        price_override=Decimal("150"),
        min_stay=3,
        closed_to_arrival=True,
    )
    PricingRule.objects.create(
        property=prop,
        rule_type="weekend",
        adjustment_type="fixed",
        adjustment_value=10,
        conditions={"days": list(range(7))},
    )
    with django_assert_max_num_queries(2):
        days = calendar_days(prop=prop, start=future(1), end=future(9))
    assert [d.date for d in days] == [future(i) for i in range(1, 9)]
    assert [d.status for d in days] == [
        "available",
        "booked",
        "booked",
        "available",
        "blocked",
        "available",
        "available",
        "available",
    ]
    assert [d.price for d in days] == [Decimal("110.00")] * 5 + [Decimal("160.00")] * 2 + [Decimal("110.00")]
    assert [d.min_stay for d in days] == [1] * 5 + [3, 3, 1]
    assert [d.closed_to_arrival for d in days] == [False] * 5 + [True, True, False]
    assert days[0].as_dict()["price"] == "110.00"


def test_calendar_empty_and_too_long(prop):
    assert calendar_days(prop=prop, start=future(5), end=future(5)) == []
    with pytest.raises(ValidationFailed):
        calendar_days(prop=prop, start=future(0), end=future(1000))


def test_search_filters_and_totals(alice, django_assert_max_num_queries):
    a = PropertyFactory(owner=alice, city="Berlin", base_price=Decimal("90"), amenities=["wifi", "sauna"], bedrooms=3)
    b = PropertyFactory(owner=alice, city="Berlin", base_price=Decimal("80"), amenities=["wifi"], max_guests=2)
    c = PropertyFactory(owner=alice, city="Hamburg", base_price=Decimal("70"))
    PropertyFactory(owner=alice, city="Berlin", status="draft")
    book(b, future(10), future(12))

    page = search_properties(location="berlin")
    assert [r.property for r in page.results] == [b, a] and page.total_count == 2
    assert all(r.quote is None and r.total is None for r in page.results)
    assert page.results[0].nightly_from == Decimal("80")

    with django_assert_max_num_queries(4):
        page = search_properties(location="Berlin", check_in=future(11), check_out=future(14), guests=2)
    assert [r.property for r in page.results] == [a]
    assert page.results[0].total == Decimal("300.00")  # 3 x 90 + 30 cleaning
    assert search_properties(location="DE", check_in=future(12), check_out=future(14)).total_count == 3
    assert search_properties(location="ham").results[0].property == c
    assert [r.property for r in search_properties(guests=3).results] == [c, a]
    assert [r.property for r in search_properties(amenities=["sauna", "wifi"]).results] == [a]
    assert [r.property for r in search_properties(min_bedrooms=3).results] == [a]
    assert [r.property for r in search_properties(max_price="80").results] == [c, b]
    assert [r.property for r in search_properties(order="-price").results] == [a, b, c]
    assert search_properties(location="100%_").total_count == 0  # LIKE wildcards are escaped
    within = search_properties(location="Berlin", property_ids=[a.pk, c.pk])
    assert [r.property for r in within.results] == [a] and within.total_count == 1
    assert search_properties(property_ids=[]).total_count == 0


def test_search_pagination(alice):
    for i in range(5):
        PropertyFactory(owner=alice, base_price=Decimal(100 + i))
    p1 = search_properties(per_page=2)
    assert (p1.total_count, p1.num_pages, p1.has_next, p1.has_previous) == (5, 3, True, False)
    p3 = search_properties(per_page=2, page=3)
    assert len(p3.results) == 1 and not p3.has_next and p3.has_previous
    beyond = search_properties(per_page=2, page=9)
    assert beyond.page == 3 and len(beyond.results) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"check_in": future(5)},
        {"check_in": future(5), "check_out": future(5)},
        {"guests": 0},
        {"guests": "many"},
        {"max_price": "cheap"},
        {"min_bedrooms": -1},
        {"order": "random"},
    ],
)
def test_search_rejects_bad_input(kwargs):
    with pytest.raises(ValidationFailed):
        search_properties(**kwargs)


# ----- property-based: search == brute-force oracle ------------------------------------------------

CITIES = ["Berlin", "Bremen", "Köln"]
AMENITIES = ["wifi", "pool", "sauna"]


@st.composite
def worlds(draw):
    props = []
    for _ in range(draw(st.integers(1, 7))):
        cal = []
        for _ in range(draw(st.integers(0, 4))):
            s = draw(st.integers(0, 12))
            cal.append(
                (
                    draw(st.sampled_from(["booking", "blocked", "available", "available"])),
                    s,
                    s + draw(st.integers(1, 5)),
                    draw(st.one_of(st.none(), st.integers(1, 4))),
                    draw(st.booleans()),
                    draw(st.booleans()),
                )
            )
        props.append(
            {
                "city": draw(st.sampled_from(CITIES)),
                "status": draw(st.sampled_from(["active", "active", "active", "draft"])),
                "max_guests": draw(st.integers(1, 6)),
                "bedrooms": draw(st.integers(1, 4)),
                "base_price": Decimal(draw(st.integers(50, 200))),
                "amenities": draw(st.lists(st.sampled_from(AMENITIES), unique=True)),
                "default_min_stay": draw(st.integers(1, 2)),
                "default_max_stay": draw(st.sampled_from([2, 4, 10])),
                "min_notice_hours": draw(st.sampled_from([0, 48])),
                "max_advance_days": draw(st.sampled_from([10, 365])),
                "timezone": draw(st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Tokyo"])),
                "cal": cal,
            }
        )
    return props


def oracle(*, location, ci, co, guests, amenities, min_bedrooms, max_price, now):
    out = []
    for p in Property.objects.all():
        if p.status != "active" or p.max_guests < guests:
            continue
        terms = [t.strip().lower() for t in location.split(",") if t.strip()]
        if not all(t in p.city.lower() or t in p.name.lower() or t.upper() == p.country for t in terms):
            continue
        if not set(amenities) <= set(p.amenities):
            continue
        if min_bedrooms is not None and p.bedrooms < min_bedrooms:
            continue
        if max_price is not None and p.base_price > max_price:
            continue
        if ci is not None and not stay_check(prop=p, check_in=ci, check_out=co, guests=guests, now=now).bookable:
            continue
        out.append(p)
    return [p.pk for p in sorted(out, key=lambda p: (p.base_price, p.pk))]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    world=worlds(),
    searches=st.lists(
        st.tuples(
            st.sampled_from(["", "b", "Berlin", "köln", "DE", "Bremen, DE"]),
            st.one_of(st.none(), st.integers(-1, 14)),
            st.integers(1, 6),
            st.integers(1, 6),
            st.lists(st.sampled_from(AMENITIES), max_size=1, unique=True),
            st.one_of(st.none(), st.integers(1, 4)),
            st.one_of(st.none(), st.integers(40, 210)),
        ),
        min_size=1,
        max_size=10,
    ),
)
def test_search_equals_oracle(alice, world, searches):
    with transaction.atomic():
        for spec in world:
            cal = spec.pop("cal")
            prop = PropertyFactory(owner=alice, **spec)
            apply_calendar(prop, cal)
        now = timezone.now()
        for location, ci, nights, guests, amenities, bedrooms, max_price in searches:
            dates = (future(ci), future(ci) + timedelta(days=nights)) if ci is not None else (None, None)
            page = search_properties(
                location=location,
                check_in=dates[0],
                check_out=dates[1],
                guests=guests,
                amenities=amenities,
                min_bedrooms=bedrooms,
                max_price=max_price,
                now=now,
                per_page=100,
            )
            expected = oracle(
                location=location,
                ci=dates[0],
                co=dates[1],
                guests=guests,
                amenities=amenities,
                min_bedrooms=bedrooms,
                max_price=max_price,
                now=now,
            )
            assert [r.property.pk for r in page.results] == expected
            assert page.total_count == len(expected)
            if dates[0] is not None:
                for r in page.results:
                    assert r.quote is not None and r.total == r.quote.total
        transaction.set_rollback(True)


@pytest.mark.parametrize("seed", [1, 2])
def test_search_equals_oracle_dense(alice, seed):
    """A denser seeded world: many restriction ranges and searches that start on them."""
    import random

    rnd = random.Random(seed)
    starts = []
    for i in range(12):
        prop = PropertyFactory(
            owner=alice,
            city=rnd.choice(CITIES),
            base_price=Decimal(rnd.randint(50, 60)),
            max_guests=rnd.randint(2, 6),
            default_min_stay=rnd.randint(1, 2),
            default_max_stay=rnd.choice([3, 7]),
            max_advance_days=rnd.choice([8, 365]),
            timezone=rnd.choice(["Europe/Berlin", "Pacific/Auckland", "America/Los_Angeles"]),
            min_notice_hours=rnd.choice([0, 30]),
            name=f"Seed {seed} house {i}",
        )
        day = rnd.randint(0, 2)
        while day < 16:
            length = rnd.randint(1, 3)
            kind = rnd.choice(["available", "available", "available", "blocked", "booking", "gap"])
            if kind == "booking":
                book(prop, future(day), future(day + length))
            elif kind == "blocked":
                services.block_create(property_id=prop.pk, start_date=future(day), end_date=future(day + length))
            elif kind == "available":
                services.block_create(
                    property_id=prop.pk,
                    start_date=future(day),
                    end_date=future(day + length),
                    block_type="available",
                    min_stay=rnd.choice([None, 1, 2, 3]),
                    max_stay=rnd.choice([None, 4]),
                    closed_to_arrival=rnd.random() < 0.4,
                    closed_to_departure=rnd.random() < 0.4,
                )
            starts.append(day)
            day += length
    now = timezone.now()
    for _ in range(60):
        ci = future(rnd.choice(starts + [-1, 0, 1]))
        co = ci + timedelta(days=rnd.randint(1, 5))
        guests = rnd.randint(1, 4)
        location = rnd.choice(["", "Berlin", "b"])
        page = search_properties(location=location, check_in=ci, check_out=co, guests=guests, now=now, per_page=100)
        expected = oracle(
            location=location, ci=ci, co=co, guests=guests, amenities=[], min_bedrooms=None, max_price=None, now=now
        )
        assert [r.property.pk for r in page.results] == expected
