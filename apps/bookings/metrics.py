"""Booking figures for the booking-funnel dashboard, read from PostgreSQL at scrape time: bookings,
revenue and average booking value of the current month (UTC, by creation), by source (channel)."""

from __future__ import annotations

from django.db.models import Avg, Count, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import Booking, BookingStatus


class BookingCollector:
    def collect(self):
        now = timezone.now()
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        rows = (
            Booking.objects.filter(created_at__gte=month_start)
            .exclude(status=BookingStatus.CANCELLED)
            .values("source", "currency")
            .annotate(n=Count("pk"), revenue=Sum("total_price"), avg=Avg("total_price"))
            .order_by()
        )
        count = GaugeMetricFamily(
            "pms_bookings_month", "Bookings created this month (not cancelled), by source.", labels=["source"]
        )
        revenue = GaugeMetricFamily(
            "pms_revenue_month",
            "Total price of the bookings created this month (not cancelled), by source and currency.",
            labels=["source", "currency"],
        )
        average = GaugeMetricFamily(
            "pms_booking_value_avg",
            "Average booking value of the bookings created this month, by source and currency.",
            labels=["source", "currency"],
        )
        per_source: dict[str, int] = {}
        for row in rows:
            per_source[row["source"]] = per_source.get(row["source"], 0) + row["n"]
            revenue.add_metric([row["source"], row["currency"]], float(row["revenue"] or 0))
            average.add_metric([row["source"], row["currency"]], float(row["avg"] or 0))
        for source, n in per_source.items():
            count.add_metric([source], n)
        yield count
        yield revenue
        yield average
