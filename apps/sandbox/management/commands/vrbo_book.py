from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from apps.sandbox import vrbo
from apps.sandbox.models.vrbo import VrboSimListing


class Command(BaseCommand):
    help = (
        "A guest books on Vrbo: the simulator sends a bookingRequest built from what it last crawled "
        "(dates open in its calendar, its own quote) and prints the PMS's answer."
    )

    def add_arguments(self, parser):
        parser.add_argument("--listing", required=True, help="listingExternalId")
        parser.add_argument("--check-in", type=date.fromisoformat, help="YYYY-MM-DD (default: the first open stay)")
        parser.add_argument("--check-out", type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--nights", type=int, default=3, help="Without dates: a stay this long ...")
        parser.add_argument("--after", type=int, default=14, help="... starting at least this many days from today")
        parser.add_argument("--adults", type=int, default=2)
        parser.add_argument("--crawl", action="store_true", help="Crawl first (else: what it last crawled)")
        parser.add_argument("--force", action="store_true", help="Send even if the crawled calendar is closed")
        parser.add_argument("--malformed", action="store_true", help="Fault: send the request cut in half")

    def handle(self, *args, **o):
        listing = VrboSimListing.objects.filter(listing_external_id=o["listing"]).first()
        if listing is None:
            raise CommandError(f"No Vrbo simulator listing {o['listing']}.")
        if o["crawl"] or not listing.rates:
            record = vrbo.crawl(listing, trigger="command")
            if record.error:
                raise CommandError(f"The crawl failed: {record.error}")
        if (o["check_in"] is None) != (o["check_out"] is None):
            raise CommandError("Give both --check-in and --check-out, or neither (then --nights and --after).")
        if o["check_in"] is None:
            if not 1 <= o["nights"] <= 30 or not 0 <= o["after"] <= 365:
                raise CommandError("--nights must be 1-30 and --after 0-365.")
            stay = vrbo.first_open_stay(listing, nights=o["nights"], after=o["after"])
            if stay is None:
                raise CommandError("No open stay in what the simulator crawled.")
            o["check_in"], o["check_out"] = stay
        if o["check_out"] <= o["check_in"] or o["check_out"] - o["check_in"] > timedelta(days=365):
            raise CommandError("--check-out must be after --check-in (at most 365 nights).")
        try:
            record = vrbo.book(
                listing,
                check_in=o["check_in"],
                check_out=o["check_out"],
                adults=o["adults"],
                force=o["force"],
                malformed=o["malformed"],
            )
        except Exception as exc:  # noqa: BLE001 - a person reads it
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Booking request {record.tracking_uuid} ({record.check_in} to {record.check_out}, "
            f"{record.total} {record.currency}): HTTP {record.http_status}, {record.get_status_display()}"
            + (f", our booking {record.pms_external_id}" if record.pms_external_id else "")
            + (f", {record.error_code}" if record.error_code else "")
        )
        if record.status != record.Status.BOOKED:
            raise CommandError("The PMS did not book it.")
