from django.core.management.base import BaseCommand, CommandError

from apps.sandbox import vrbo
from apps.sandbox.models.vrbo import VrboSimListing


class Command(BaseCommand):
    help = "Let the Vrbo simulator crawl our feeds now (conditional requests; 304s are counted)."

    def add_arguments(self, parser):
        parser.add_argument("--listing", help="listingExternalId (default: every simulator listing)")

    def handle(self, *args, **o):
        listings = VrboSimListing.objects.order_by("id")
        if o["listing"]:
            listings = listings.filter(listing_external_id=o["listing"])
            if not listings.exists():
                raise CommandError(f"No Vrbo simulator listing {o['listing']}.")
        failed = 0
        for listing in listings:
            record = vrbo.crawl(listing, trigger="command")
            failed += bool(record.error)
            self.stdout.write(
                f"{listing.listing_external_id}: {record.fetched} downloaded, {record.not_modified} unchanged (304)"
                + (f"; error: {record.error}" if record.error else ".")
            )
        if failed:
            raise CommandError(f"{failed} crawl(s) failed.")
