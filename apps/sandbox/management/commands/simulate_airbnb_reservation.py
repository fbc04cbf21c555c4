"""A guest on the Airbnb simulator books a listing (the real sequence against the PMS), sends a request
to book or an inquiry, changes or cancels a reservation."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.sandbox import airbnb
from apps.sandbox.models.airbnb import AirbnbListing, AirbnbReservation


class Command(BaseCommand):
    help = (
        "Airbnb simulator: a guest books a listing (check_availability -> PUT reservation -> acceptance "
        "notification against the PMS), or --kind request/inquiry, or --alter/--cancel CODE."
    )

    def add_arguments(self, parser):
        parser.add_argument("--listing", help="Simulator listing id (default: the only linked listing)")
        parser.add_argument("--check-in", type=date.fromisoformat, help="YYYY-MM-DD (default: the first open stay)")
        parser.add_argument("--nights", type=int, default=3)
        parser.add_argument("--after", type=int, default=14, help="Without --check-in: from this many days ahead")
        parser.add_argument("--guests", type=int, default=2)
        parser.add_argument("--kind", choices=["instant", "request", "inquiry"], default="instant")
        parser.add_argument("--first-name", default="Ana")
        parser.add_argument("--last-name", default="Ruiz")
        parser.add_argument("--message", default="")
        parser.add_argument("--force", action="store_true", help="Book even if the simulator's calendar is closed")
        parser.add_argument("--alter", metavar="CODE", help="Change this reservation (--check-in / --nights)")
        parser.add_argument("--cancel", metavar="CODE", help="The guest cancels this reservation")

    def handle(self, *args, **o):
        if not 1 <= o["nights"] <= 365 or not 0 <= o["after"] <= 730 or not 1 <= o["guests"] <= 50:
            raise CommandError("--nights must be 1-365, --after 0-730, --guests 1-50.")
        code = o["alter"] or o["cancel"]
        if code:
            res = AirbnbReservation.objects.filter(confirmation_code=code).select_related("listing").first()
            if res is None:
                raise CommandError(f"No simulator reservation {code}.")
            if res.status != AirbnbReservation.Status.ACCEPTED:
                raise CommandError(f"Reservation {code} is {res.status}; only accepted ones change.")
            call = (
                airbnb.guest_cancels(res)
                if o["cancel"]
                else airbnb.guest_alters(res, start_date=o["check_in"], nights=o["nights"])
            )
            self.stdout.write(f"Notified the PMS: HTTP {call.status} {call.data or call.error}")
            return
        listing = self._listing(o["listing"])
        try:
            start = o["check_in"] or airbnb.first_open_start(listing, nights=o["nights"], after=o["after"])
            res = airbnb.guest_books(
                listing=listing,
                start_date=start,
                nights=o["nights"],
                guests=o["guests"],
                first_name=o["first_name"],
                last_name=o["last_name"],
                kind=o["kind"],
                message=o["message"],
                force=o["force"],
            )
        except airbnb.GuestBookingRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Airbnb {res.get_kind_display().lower()} {res.confirmation_code} for listing {listing.listing_id}, "
            f"{res.start_date} + {res.nights} night(s): {res.get_status_display()}"
            + (f" – {res.failure}" if res.failure else "")
        )
        if res.status == AirbnbReservation.Status.ACCEPTED:
            self.stdout.write("It is a confirmed booking in the PMS now (admin → Bookings).")
        elif res.status == AirbnbReservation.Status.PENDING:
            self.stdout.write("The owner answers it in the admin → Airbnb requests and inquiries.")

    def _listing(self, listing_id: str | None) -> AirbnbListing:
        if listing_id:
            listing = AirbnbListing.objects.filter(listing_id=listing_id).first()
            if listing is None:
                raise CommandError(f"No simulator listing {listing_id}.")
            return listing
        from apps.channels.models import ChannelConnection

        connected = ChannelConnection.objects.filter(platform="airbnb", sync_enabled=True).values_list(
            "external_property_id", flat=True
        )
        linked = list(AirbnbListing.objects.filter(unlinked=False, listing_id__in=list(connected))[:2])
        if len(linked) != 1:
            raise CommandError("Give --listing (several listings are connected to the PMS, or none).")
        return linked[0]
