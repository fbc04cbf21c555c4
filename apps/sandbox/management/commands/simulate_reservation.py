from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.sandbox import booking_com
from apps.sandbox.models import SimListing


class Command(BaseCommand):
    help = "Create a reservation on the Booking.com simulator (it arrives in the PMS at the next pull)."

    def add_arguments(self, parser):
        parser.add_argument("--hotel", required=True, help="Simulator hotel code (the connection's property id)")
        parser.add_argument("--check-in", required=True, type=date.fromisoformat)
        parser.add_argument("--check-out", required=True, type=date.fromisoformat)
        parser.add_argument("--guests", type=int, default=2)
        parser.add_argument("--first-name", default="Ana")
        parser.add_argument("--last-name", default="Gast")
        parser.add_argument("--force", action="store_true", help="Book even if the simulator's calendar is closed")
        parser.add_argument("--push", action="store_true", help="Also POST it, signed, to the listing's webhook URL")

    def handle(self, *args, **o):
        listing = SimListing.objects.filter(hotel_code=o["hotel"]).first()
        if listing is None:
            raise CommandError(f"No simulator listing with hotel code {o['hotel']}.")
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
        self.stdout.write(f"Created Booking.com reservation {res.res_id} ({res.check_in} to {res.check_out}).")
        if o["push"]:
            if not listing.webhook_url:
                raise CommandError("The listing has no webhook URL.")
            response = booking_com.push_reservation(res)
            self.stdout.write(f"Pushed to {listing.webhook_url}: HTTP {response.status_code}")
