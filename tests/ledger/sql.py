"""Independent figures for statements: plain SQL over bookings, payments and refunds (not the ledger)."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection

BLOCKING = ("reserved", "confirmed", "checked_in", "checked_out")


def independent_totals(*, owner_id: int, start, end) -> dict[str, Decimal]:
    """For stays of ``owner_id``'s properties arriving in [start, end): the totals of the bookings
    that hold their dates, the money received and given back, and what cancelled ones kept."""
    scope = """FROM bookings_booking b JOIN properties_property p ON p.id = b.property_id
               WHERE p.owner_id = %(owner)s AND b.check_in >= %(start)s AND b.check_in < %(end)s"""
    sql = f"""
        SELECT
          (SELECT COALESCE(SUM(b.total_price), 0) {scope} AND b.status = ANY(%(blocking)s)),
          (SELECT COALESCE(SUM(x.amount_received), 0) FROM payments_payment x
             WHERE x.status = 'succeeded' AND x.booking_id IN (SELECT b.id {scope})),
          (SELECT COALESCE(SUM(r.amount), 0) FROM payments_refund r
             WHERE r.status = 'succeeded' AND r.booking_id IN (SELECT b.id {scope})),
          (SELECT COALESCE(SUM(x.amount_received), 0) FROM payments_payment x
             WHERE x.status = 'succeeded' AND x.booking_id IN (SELECT b.id {scope} AND b.status = 'cancelled')),
          (SELECT COALESCE(SUM(r.amount), 0) FROM payments_refund r
             WHERE r.status = 'succeeded' AND r.booking_id IN (SELECT b.id {scope} AND b.status = 'cancelled'))
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"owner": owner_id, "start": start, "end": end, "blocking": list(BLOCKING)})
        active, received, refunded, cancelled_received, cancelled_refunded = cursor.fetchone()
    kept = cancelled_received - cancelled_refunded
    return {
        "active_total": active,
        "received": received,
        "refunded": refunded,
        "kept": kept,
        # a refund on a stay that goes ahead lowers what the guest is charged for it
        "charged": active + kept - (refunded - cancelled_refunded),
    }
