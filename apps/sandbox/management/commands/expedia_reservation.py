"""A guest books, changes or cancels on the Expedia simulator.

The transaction is queued for the partner's next BookingRetrievalRQ (the hotel's model ``pull``) or
POSTed at once as a Booking Notification (model ``push``)."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.sandbox import expedia
from apps.sandbox.models.expedia import ExpBooking, ExpHotel


class Command(BaseCommand):
    help = (
        "Book (or --modify / --cancel a booking) on the Expedia simulator: queued for booking retrieval, "
        "or pushed as a Booking Notification when the hotel uses the push model."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hotel", help="Simulator hotel id (the connection's Expedia hotel id)")
        parser.add_argument("--modify", metavar="BOOKING_ID", help="Change this Expedia booking's stay")
        parser.add_argument("--cancel", metavar="BOOKING_ID", help="Cancel this Expedia booking")
        parser.add_argument("--retry", action="store_true", help="Send Booking Notifications not accepted yet again")
        parser.add_argument("--check-in", type=date.fromisoformat, help="YYYY-MM-DD (default: the first free stay)")
        parser.add_argument("--check-out", type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--nights", type=int, default=3, help="Without dates: a stay this long ...")
        parser.add_argument("--after", type=int, default=14, help="... starting at least this many days from today")
        parser.add_argument("--adults", type=int, default=2)
        parser.add_argument("--given-name", default="Lena")
        parser.add_argument("--surname", default="Traveller")
        parser.add_argument("--force", action="store_true", help="Book even if Expedia's calendar is closed")

    def handle(self, *args, **o):
        if o["retry"]:
            retried = expedia.push_due()
            for txn in retried:
                self.stdout.write(expedia.describe(txn))
            self.stdout.write(f"{len(retried)} Booking Notification(s) sent again.")
            return
        if sum(bool(o[k]) for k in ("hotel", "modify", "cancel")) != 1:
            raise CommandError("Give exactly one of --hotel (a new booking), --modify or --cancel.")
        if (o["check_in"] is None) != (o["check_out"] is None):
            raise CommandError("Give both --check-in and --check-out, or neither.")
        if o["check_in"] is not None and o["check_out"] <= o["check_in"]:
            raise CommandError("--check-out must be after --check-in.")
        if not 1 <= o["adults"] <= 20:
            raise CommandError("--adults must be 1-20.")
        try:
            if o["hotel"]:
                txn = self._book(o)
            else:
                booking = ExpBooking.objects.filter(booking_id=o["modify"] or o["cancel"]).first()
                if booking is None:
                    raise CommandError(f"No Expedia booking {o['modify'] or o['cancel']} on the simulator.")
                if o["cancel"]:
                    txn = expedia.cancel_booking(booking=booking)
                else:
                    if o["check_in"] is None:
                        raise CommandError("--modify needs --check-in and --check-out.")
                    txn = expedia.modify_booking(
                        booking=booking, check_in=o["check_in"], check_out=o["check_out"], adults=o["adults"]
                    )
                txn = expedia.deliver(txn)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(expedia.describe(txn))
        if not txn.bn_attempts:
            self.stdout.write("The PMS retrieves it within about 20 seconds: see Bookings in the admin.")

    def _book(self, o):
        hotel = ExpHotel.objects.filter(hotel_id=o["hotel"]).first()
        if hotel is None:
            raise CommandError(f"No simulator hotel with id {o['hotel']}.")
        if o["check_in"] is None:
            if not 1 <= o["nights"] <= 28 or not 0 <= o["after"] <= 365:
                raise CommandError("--nights must be 1-28 and --after 0-365.")
            o["check_in"] = self._first_free(hotel, nights=o["nights"], after=o["after"])
            o["check_out"] = o["check_in"] + timedelta(days=o["nights"])
        return expedia.guest_books(
            hotel=hotel,
            check_in=o["check_in"],
            check_out=o["check_out"],
            adults=o["adults"],
            given_name=o["given_name"][:100],
            surname=o["surname"][:100],
            force=o["force"],
        )

    def _first_free(self, hotel: ExpHotel, *, nights: int, after: int) -> date:
        """The first stay Expedia sells that is also free in the PMS (a reservation arriving, not a refusal)."""
        from apps.availability.models import OccupiedNight
        from apps.channels.models import ChannelConnection

        start = timezone.localdate() + timedelta(days=after)
        conn = ChannelConnection.objects.filter(platform="expedia", external_property_id=hotel.hotel_id).first()
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
            if not taken & stay and not expedia.nights_closed(hotel, day, end):
                return day
            day += timedelta(days=1)
        raise CommandError("No free stay of that length in the next year.")
