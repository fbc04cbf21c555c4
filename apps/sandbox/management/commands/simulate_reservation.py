from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from apps.sandbox import booking_com
from apps.sandbox.models import SimListing


class Command(BaseCommand):
    help = "Create a reservation on the Booking.com simulator (it arrives in the PMS at the next pull)."

    def add_arguments(self, parser):
        parser.add_argument("--hotel", required=True, help="Simulator hotel code (the connection's property id)")
        parser.add_argument("--check-in", type=date.fromisoformat, help="YYYY-MM-DD (default: the first free stay)")
        parser.add_argument("--check-out", type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--nights", type=int, default=3, help="Without dates: a stay this long ...")
        parser.add_argument("--after", type=int, default=14, help="... starting at least this many days from today")
        parser.add_argument("--guests", type=int, default=2)
        parser.add_argument("--first-name", default="Ana")
        parser.add_argument("--last-name", default="Gast")
        parser.add_argument("--force", action="store_true", help="Book even if the simulator's calendar is closed")
        parser.add_argument("--push", action="store_true", help="Also POST it, signed, to the listing's webhook URL")

    def handle(self, *args, **o):
        listing = SimListing.objects.filter(hotel_code=o["hotel"]).first()
        if listing is None:
            raise CommandError(f"No simulator listing with hotel code {o['hotel']}.")
        if (o["check_in"] is None) != (o["check_out"] is None):
            raise CommandError("Give both --check-in and --check-out, or neither (then --nights and --after).")
        if o["check_in"] is None:
            if not 1 <= o["nights"] <= 30 or not 0 <= o["after"] <= 365:
                raise CommandError("--nights must be 1-30 and --after 0-365.")
            o["check_in"] = self._first_free(listing, nights=o["nights"], after=o["after"])
            o["check_out"] = o["check_in"] + timedelta(days=o["nights"])
        if o["check_out"] <= o["check_in"]:
            raise CommandError("--check-out must be after --check-in.")
        try:
            res = booking_com.create_reservation(
                listing=listing,
                check_in=o["check_in"],
                check_out=o["check_out"],
                guests=o["guests"],
                first_name=o["first_name"],
                last_name=o["last_name"],
                force=o["force"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Created Booking.com reservation {res.res_id} ({res.check_in} to {res.check_out}). "
            "The PMS pulls it within about 20 seconds: see Bookings in the admin."
        )
        if o["push"]:
            if not listing.webhook_url:
                raise CommandError("The listing has no webhook URL.")
            response = booking_com.push_reservation(res)
            self.stdout.write(f"Pushed to {listing.webhook_url}: HTTP {response.status_code}")

    def _first_free(self, listing, *, nights: int, after: int) -> date:
        """The first stay of ``nights`` nights, from ``after`` days ahead, that the simulator's calendar
        sells and that is also free in the PMS (so the demo shows a reservation arriving, not a refusal)."""
        from django.utils import timezone

        from apps.availability.models import OccupiedNight
        from apps.channels.models import ChannelConnection

        start = timezone.localdate() + timedelta(days=after)
        conn = ChannelConnection.objects.filter(platform="booking_com", external_property_id=listing.hotel_code).first()
        taken: set[date] = set()
        if conn is not None:
            taken = set(
                OccupiedNight.objects.filter(
                    property_id=conn.property_id, night__gte=start, night__lt=start + timedelta(days=400)
                ).values_list("night", flat=True)
            )
        day = start
        for _i in range(365):
            end = day + timedelta(days=nights)
            stay = {day + timedelta(days=i) for i in range(nights)}
            if not taken & stay and not booking_com.nights_closed(listing, day, end):
                return day
            day += timedelta(days=1)
        raise CommandError("No free stay of that length in the next year.")
