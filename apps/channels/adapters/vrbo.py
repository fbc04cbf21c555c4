"""FeWo-direkt / Vrbo adapter (PLATFORMS.md section 4): nothing to push, nothing to pull.

Vrbo reads the feeds we host (``apps.channels.vrbo``) and sends booking requests to us in real time
(``apps.channels.inbound_vrbo``), so outbound deliveries skip Vrbo connections (``supports_push`` is
False) and a refusal is the synchronous ``errorList`` answer, not a later call. Reconciliation compares
the core with what the platform reads: the availability document parsed back (so a feed renderer
that disagrees with the core shows up as differences) and the bookings of our booking feed.
"""

from __future__ import annotations

from datetime import date, timedelta

from defusedxml import ElementTree as SafeET

from .base import ChannelAdapter, ChannelReservation, DayState, PushResult


class VrboAdapter(ChannelAdapter):
    platform = "fewo_direkt"
    supports_push = False
    supports_pull = False

    def push_calendar(self, days: list[DayState]) -> PushResult:
        return PushResult(warnings=["Vrbo reads the hosted feeds; nothing is pushed."])

    def request_cost(self, days: list[DayState]) -> int:
        return 0

    def test_connection(self) -> str:
        from apps.channels import vrbo

        conn = self.connection
        if not conn.username or not conn.has_secret("access_token"):
            return "Set a username and a password (access token): Vrbo sends them as HTTP Basic auth."
        doc = vrbo.availability_document(conn)
        return (
            f"Feeds ready for listing {vrbo.listing_external_id(conn)} "
            f"({len(doc.body)} bytes of availability). {vrbo.staleness_text(conn)}"
        )

    def reject(self, reservation: ChannelReservation, *, reason: str) -> None:
        """The refusal was the booking request's answer (``errorList``); nothing to call."""

    def fetch_bookings(self, *, start: date, end: date) -> list[ChannelReservation]:
        from apps.channels import vrbo

        out = []
        for b in vrbo.vrbo_bookings(self.connection).filter(check_out__gt=start, check_in__lt=end):
            out.append(
                ChannelReservation(
                    external_id=b.external_id,
                    status="cancelled" if b.status == "cancelled" else "new",
                    check_in=b.check_in,
                    check_out=b.check_out,
                    guests=b.guests,
                    total=b.total_price,
                    currency=b.currency,
                    hotel_code=vrbo.listing_external_id(self.connection),
                )
            )
        return out

    def fetch_calendar(self, *, start: date, end: date) -> dict[date, DayState]:
        from apps.channels import vrbo

        root = SafeET.fromstring(vrbo.availability_document(self.connection).body)
        begin = date.fromisoformat(root.findtext("unitAvailability/dateRange/beginDate"))
        cfg = root.find("unitAvailability/unitAvailabilityConfiguration")
        avail = cfg.findtext("availability") or ""
        change = cfg.findtext("changeOver") or ""
        min_stay = (cfg.findtext("minStay") or "").split(",")
        max_stay = (cfg.findtext("maxStay") or "").split(",")
        out: dict[date, DayState] = {}
        for i, flag in enumerate(avail):
            day = begin + timedelta(days=i)
            if not start <= day < end:
                continue
            co = change[i] if i < len(change) else "X"
            out[day] = DayState(
                day=day,
                available=flag == "Y",
                min_stay=int(min_stay[i]) if i < len(min_stay) and min_stay[i] else None,
                max_stay=int(max_stay[i]) if i < len(max_stay) and max_stay[i] else None,
                closed_to_arrival=co in ("O", "X"),
                closed_to_departure=co in ("I", "X"),
            )
        return out
