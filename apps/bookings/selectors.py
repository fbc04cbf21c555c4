"""Reads about bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection

from .models import BLOCKING_STATUSES


@dataclass(frozen=True)
class Overlap:
    property_id: int
    first_kind: str
    first_id: int
    first_start: date
    first_end: date
    second_kind: str
    second_id: int
    second_start: date
    second_end: date


def calendar_overlaps(*, property_id: int | None = None) -> list[Overlap]:
    """Every pair of blocking stays/blocks of one property whose dates overlap (should be none)."""
    sql = """
        WITH stays AS (
            SELECT property_id, 'booking' AS kind, id, check_in AS s, check_out AS e
              FROM bookings_booking WHERE status = ANY(%(statuses)s)
            UNION ALL
            SELECT property_id, block_type AS kind, id, start_date, end_date
              FROM availability_availabilityblock WHERE block_type IN ('blocked', 'maintenance')
        )
        SELECT a.property_id, a.kind, a.id, a.s, a.e, b.kind, b.id, b.s, b.e
          FROM stays a JOIN stays b
            ON a.property_id = b.property_id
           AND daterange(a.s, a.e) && daterange(b.s, b.e)
           AND (a.kind, a.id) < (b.kind, b.id)
         WHERE (%(property_id)s::bigint IS NULL OR a.property_id = %(property_id)s::bigint)
         ORDER BY a.property_id, a.s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"statuses": [str(s) for s in BLOCKING_STATUSES], "property_id": property_id})
        return [Overlap(*row) for row in cursor.fetchall()]
