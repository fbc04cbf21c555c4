"""Benchmarks of search and quotes (``python manage.py benchmark search|quote``).

Data is generated with set-based SQL (``generate_series``) in the separate benchmark database:
N properties in 50 cities, M bookings laid end to end per property (1-7 nights, 0-2 free nights
between, starting a year ago; 3 % cancelled), their occupied nights, ``available`` ranges with
prices and restrictions on a third of the properties, 4 pricing rules per property and 10 on the
first 100 (the quote subjects).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.benchmarks.common import bench_database, insert_rows_sql, percentiles, timed_ms

CITIES = [f"City {i:02d}" for i in range(50)]
QUOTE_SUBJECTS = 100
META_TABLE = "bench_meta"
SUBJECTS_FROM = (
    "FROM properties_property p WHERE p.id IN (SELECT id FROM properties_property ORDER BY id LIMIT %(subjects)s)"
)


def _meta_matches(properties: int, bookings: int) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", [META_TABLE])
        if cur.fetchone()[0] is None:
            return False
        cur.execute(f"SELECT properties, bookings FROM {META_TABLE}")  # noqa: S608
        row = cur.fetchone()
    return row == (properties, bookings)


def load_data(*, properties: int, bookings: int, seed: int, log: Callable[[str], Any]) -> dict[str, Any]:
    """Fill the (empty, migrated) benchmark database. Returns counts and load time."""
    from django.contrib.auth import get_user_model

    from apps.availability.models import AvailabilityBlock, OccupiedNight, PricingRule
    from apps.bookings.models import Booking
    from apps.properties.models import Property

    started = time.monotonic()
    today = timezone.localdate()
    owner = get_user_model().objects.create(username="bench-owner", email="bench@example.com", is_staff=True)
    per_property = max(1, bookings // properties)
    with connection.cursor() as cur:
        # synthetic bulk data in the benchmark's own database: the audit log's triggers skip this session
        cur.execute("SELECT set_config('pms.audit_off', 'on', false)")
        cur.execute("SELECT setseed(%s)", [((seed % 1000) / 1000.0)])
        log(f"properties: {properties}")
        sql, params = insert_rows_sql(
            Property,
            {
                "owner_id": "%(owner)s",
                "name": "'Bench house ' || g",
                "slug": "'bench-' || g",
                "city": "(%(cities)s::text[])[1 + g %% 50]",
                "country": "'DE'",
                "amenities": "(CASE g %% 3 WHEN 0 THEN ARRAY['wifi', 'kitchen'] WHEN 1 THEN ARRAY['wifi', 'pool'] "
                "ELSE ARRAY['sauna', 'wifi'] END)::varchar(64)[]",
                "max_guests": "2 + g %% 5",
                "bedrooms": "1 + g %% 4",
                "base_price": "(50 + (g * 37) %% 250)::numeric(10,2)",
                "cleaning_fee": "30",
                "default_min_stay": "CASE WHEN g %% 4 = 0 THEN 2 ELSE 1 END",
                "default_max_stay": "28",
                "status": "CASE WHEN g %% 20 = 0 THEN 'inactive' ELSE 'active' END",
                "ical_token": "md5('bench' || g || random())",
            },
            "FROM generate_series(1, %(n)s) g",
        )
        cur.execute(sql, {**params, "owner": owner.pk, "cities": CITIES, "n": properties})

        log(f"bookings: {per_property} per property")
        sql, params = insert_rows_sql(
            Booking,
            {
                "reference": "'BENCH-' || x.property_id || '-' || x.i",
                "property_id": "x.property_id",
                "check_in": "x.check_in",
                "check_out": "x.check_in + x.len",
                "guests": "1 + x.i %% 2",
                "status": "CASE WHEN x.i %% 33 = 0 THEN 'cancelled' ELSE 'confirmed' END",
                "total_price": "100 * x.len",
                "payment_status": "'paid'",
            },
            """FROM (
                 SELECT s.property_id, s.i, s.len,
                        %(start)s::date + (sum(s.len + s.gap) OVER (PARTITION BY s.property_id ORDER BY s.i)
                                          - s.len - s.gap)::int AS check_in
                   FROM (SELECT p.id AS property_id, i, 1 + floor(random() * 7)::int AS len,
                                floor(random() * 3)::int AS gap
                           FROM properties_property p CROSS JOIN generate_series(1, %(per)s) i) s
               ) x""",
        )
        cur.execute(sql, {**params, "start": today - timedelta(days=365), "per": per_property})

        log("occupied nights")
        sql, params = insert_rows_sql(
            OccupiedNight,
            {"property_id": "b.property_id", "night": "d::date", "booking_id": "b.id", "block_id": "NULL"},
            """FROM bookings_booking b
               CROSS JOIN LATERAL generate_series(b.check_in, b.check_out - 1, interval '1 day') d
              WHERE b.status IN ('reserved', 'confirmed', 'checked_in', 'checked_out')""",
        )
        cur.execute(sql, params)

        log("available ranges")
        sql, params = insert_rows_sql(
            AvailabilityBlock,
            {
                "property_id": "p.id",
                "start_date": "%(today)s::date + 10 + 20 * k",
                "end_date": "%(today)s::date + 17 + 20 * k",
                "block_type": "'available'",
                "price_override": "round(p.base_price * 1.2, 2)",
                "min_stay": "CASE WHEN k %% 2 = 1 THEN 2 END",
                "closed_to_arrival": "k = 3",
                "closed_to_departure": "k = 4",
            },
            "FROM properties_property p CROSS JOIN generate_series(0, 5) k WHERE p.id %% 3 = 0",
        )
        cur.execute(sql, {**params, "today": today})

        log("pricing rules")
        rules = [
            ("weekend", "percentage", "15", '{"days": [4, 5]}', 1, "all"),
            (
                "seasonal",
                "percentage",
                "20",
                '{"start_date": "2024-06-15", "end_date": "2024-09-01", "recurring_yearly": true}',
                2,
                "all",
            ),
            ("length_of_stay", "percentage", "-10", '{"min_nights": 7}', 3, "all"),
            ("tax_percentage", "percentage", "5", "{}", 9, "all"),
            (
                "seasonal",
                "fixed",
                "-10",
                '{"start_date": "2024-11-01", "end_date": "2025-03-01", "recurring_yearly": true}',
                2,
                "subjects",
            ),
            ("weekend", "fixed", "-5", '{"days": [6]}', 4, "subjects"),
            ("length_of_stay", "percentage", "-15", '{"min_nights": 14}', 3, "subjects"),
            ("last_minute", "percentage", "-10", '{"max_days_before": 7}', 5, "subjects"),
            ("extra_guest_fee", "fixed", "10", '{"above_guests": 2}', 6, "subjects"),
            ("tax_per_person_night", "fixed", "1.50", "{}", 9, "subjects"),
        ]
        for rule_type, adj_type, value, conditions, priority, scope in rules:
            sql, params = insert_rows_sql(
                PricingRule,
                {
                    "property_id": "p.id",
                    "name": "%(name)s",
                    "rule_type": "%(rule_type)s",
                    "adjustment_type": "%(adj_type)s",
                    "adjustment_value": "%(value)s::numeric",
                    "conditions": "%(conditions)s::jsonb",
                    "priority": "%(priority)s",
                },
                SUBJECTS_FROM if scope == "subjects" else "FROM properties_property p",
            )
            cur.execute(
                sql,
                {
                    **params,
                    "name": f"{rule_type} {value}",
                    "rule_type": rule_type,
                    "adj_type": adj_type,
                    "value": value,
                    "conditions": conditions,
                    "priority": priority,
                    "subjects": QUOTE_SUBJECTS,
                },
            )
        log("vacuum analyze")
        # VACUUM sets the visibility map so index-only scans skip the heap (not possible in a transaction).
        cur.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        cur.execute(f"CREATE TABLE {META_TABLE} (properties integer, bookings integer, load_seconds float)")
        cur.execute(
            f"INSERT INTO {META_TABLE} VALUES (%s, %s, %s)",  # noqa: S608
            [properties, bookings, round(time.monotonic() - started, 1)],
        )
        cur.execute("SELECT set_config('pms.audit_off', 'off', false)")
    return data_counts()


def data_counts() -> dict[str, Any]:
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT (SELECT count(*) FROM properties_property), (SELECT count(*) FROM bookings_booking),
                       (SELECT count(*) FROM availability_occupiednight), (SELECT load_seconds FROM {META_TABLE})"""  # noqa: S608
        )
        props, books, nights, load_seconds = cur.fetchone()
    return {"properties": props, "bookings": books, "occupied_nights": nights, "load_seconds": load_seconds}


def _prepare(options: dict[str, Any], log: Callable[[str], Any]):
    class Prepared:
        def __enter__(self):
            self.cm = bench_database(options["database"], rebuild=options["rebuild"])
            fresh = self.cm.__enter__()
            if fresh or not _meta_matches(options["properties"], options["bookings"]):
                if not fresh:
                    self.cm.__exit__(None, None, None)
                    self.cm = bench_database(options["database"], rebuild=True)
                    self.cm.__enter__()
                log("loading data…")
                load_data(properties=options["properties"], bookings=options["bookings"], seed=options["seed"], log=log)
            return data_counts()

        def __exit__(self, *exc):
            return self.cm.__exit__(*exc)

    return Prepared()


NAIVE_AVAILABILITY = """NOT EXISTS (SELECT 1 FROM bookings_booking b
                        WHERE b.property_id = p.id
                          AND b.status IN ('reserved', 'confirmed', 'checked_in', 'checked_out')
                          AND daterange(b.check_in, b.check_out) && daterange(%(ci)s, %(co)s))
   AND NOT EXISTS (SELECT 1 FROM availability_availabilityblock k
                    WHERE k.property_id = p.id AND k.block_type IN ('blocked', 'maintenance')
                      AND daterange(k.start_date, k.end_date) && daterange(%(ci)s, %(co)s))"""


def naive_sql(query, *, limit: int) -> tuple[str, dict[str, Any]]:
    """The reference: the same property filters, count and page, with availability as the plain
    ``NOT EXISTS (... daterange && ...)`` anti-join over the bookings' (and blocks') GiST indexes."""
    where = ["p.status = 'active'", "p.max_guests >= %(guests)s", NAIVE_AVAILABILITY]
    params: dict[str, Any] = {"guests": query.guests, "ci": query.check_in, "co": query.check_out, "limit": limit}
    if query.location:
        params["loc"] = f"%{query.location}%"
        params["cc"] = query.location.upper()
        where.append("(p.city ILIKE %(loc)s OR p.name ILIKE %(loc)s OR p.country = %(cc)s)")
    sql = (
        "SELECT p.id, count(*) OVER () FROM properties_property p WHERE "  # noqa: S608 - constant fragments, values bound
        + " AND ".join(where)
        + " ORDER BY p.base_price, p.id LIMIT %(limit)s"
    )
    return sql, params


def _search_params(rnd: random.Random, today) -> dict[str, Any]:
    check_in = today + timedelta(days=rnd.randint(1, 120))
    return {
        "location": rnd.choice(CITIES) if rnd.random() < 0.5 else "",
        "check_in": check_in,
        "check_out": check_in + timedelta(days=rnd.randint(2, 7)),
        "guests": rnd.randint(1, 4),
    }


def bench_search(*, log: Callable[[str], Any], **options: Any) -> dict[str, Any]:
    from apps.availability.search import availability_sql, clean_query, search_properties

    with _prepare(options, log) as counts:
        rnd = random.Random(options["seed"])
        today = timezone.localdate()
        now = timezone.now()
        runs = [_search_params(rnd, today) for _ in range(options["warmup"] + options["iterations"])]
        per_page = 12

        def run_search(p):
            page = search_properties(**p, per_page=per_page, now=now)
            return page.total_count

        def run_sql(p):
            sql, params = availability_sql(clean_query(**p), now=now, limit=per_page)
            with connection.cursor() as cur:
                cur.execute(sql, params)
                cur.fetchall()

        def run_naive(p):
            sql, params = naive_sql(clean_query(**p), limit=per_page)
            with connection.cursor() as cur:
                cur.execute(sql, params)
                cur.fetchall()

        log("warm-up…")
        for p in runs[: options["warmup"]]:
            run_search(p)
            run_sql(p)
            run_naive(p)
        measured = runs[options["warmup"] :]
        log("measuring…")
        search_ms, sql_ms, naive_ms, matches = [], [], [], []
        for p in measured:  # interleaved so every variant sees the same cache state
            search_ms.append(timed_ms(lambda p=p: matches.append(run_search(p))))
            sql_ms.append(timed_ms(lambda p=p: run_sql(p)))
            naive_ms.append(timed_ms(lambda p=p: run_naive(p)))
        result = percentiles(search_ms)
        sql = percentiles(sql_ms)
        naive = percentiles(naive_ms)
        result.update(
            sql_p50_ms=sql["p50_ms"],
            sql_p95_ms=sql["p95_ms"],
            naive_p50_ms=naive["p50_ms"],
            naive_p95_ms=naive["p95_ms"],
            ratio_to_naive_p95=round(result["p95_ms"] / naive["p95_ms"], 3) if naive["p95_ms"] else None,
            ratio_to_sql_p95=round(result["p95_ms"] / sql["p95_ms"], 3) if sql["p95_ms"] else None,
            mean_matches=round(sum(matches) / len(matches), 1) if matches else 0,
            per_page=per_page,
            **counts,
        )
        result["targets_met"] = bool(
            result["ratio_to_naive_p95"] is not None
            and result["ratio_to_naive_p95"] <= 0.3
            and result["ratio_to_sql_p95"] <= 2
        )
        return result


def bench_quote(*, log: Callable[[str], Any], **options: Any) -> dict[str, Any]:
    from apps.availability import pricing
    from apps.properties.models import Property

    with _prepare(options, log) as counts:
        rnd = random.Random(options["seed"])
        now = timezone.now()
        props = list(Property.objects.order_by("pk")[:QUOTE_SUBJECTS])
        rules = pricing.load_rules([p.pk for p in props])
        total = options["warmup"] + options["iterations"]
        cases = []
        for _ in range(total):
            prop = rnd.choice(props)
            check_in = timezone.localdate() + timedelta(days=rnd.randint(1, 200))
            check_out = check_in + timedelta(days=28)
            ranges, _ = pricing.load_calendar([prop.pk], check_in, check_out, occupied=False)
            cases.append(
                (prop, pricing.Terms.of(prop), rules[prop.pk], ranges[prop.pk], check_in, check_out, rnd.randint(1, 4))
            )
        rule_counts = sorted({len(c[2]) for c in cases})

        def pure(case):
            prop, terms, prop_rules, ranges, ci, co, guests = case
            return pricing.compute_quote(
                terms=terms,
                rules=prop_rules,
                ranges=ranges,
                check_in=ci,
                check_out=co,
                guests=guests,
                today=pricing.local_today(terms, now),
            )

        def with_db(case):
            prop, _, _, _, ci, co, guests = case
            return pricing.quote_stay(prop=prop, check_in=ci, check_out=co, guests=guests, now=now)

        for case in cases[: options["warmup"]]:
            pure(case)
            with_db(case)
        pure_ms, db_ms = [], []
        totals = Decimal(0)
        for case in cases[options["warmup"] :]:
            pure_ms.append(timed_ms(lambda case=case: pure(case)))
            db_ms.append(timed_ms(lambda case=case: with_db(case)))
            totals += pure(case).total
        result = percentiles(pure_ms)
        db = percentiles(db_ms)
        result.update(
            nights=28,
            rules_per_property=rule_counts,
            with_db_p50_ms=db["p50_ms"],
            with_db_p95_ms=db["p95_ms"],
            with_db_p99_ms=db["p99_ms"],
            checksum=str(totals),
            **counts,
        )
        result["targets_met"] = result["p95_ms"] <= 1.0
        return result
