"""``manage.py google_traveller_search [--partner KEY] [--samples 10]``: the Google simulator picks stays
from the ARI it holds, follows our landing pages and records the price-accuracy checks."""

from __future__ import annotations

import random

from django.core.management.base import BaseCommand, CommandError

from apps.sandbox import google_vr
from apps.sandbox.models.google_vr import GoogleAccount, GoogleListing


class Command(BaseCommand):
    help = "Google simulator: a traveller searches (price-accuracy check against our landing pages)."

    def add_arguments(self, parser):
        parser.add_argument("--partner", default="", help="Only this partner account.")
        parser.add_argument("--samples", type=int, default=10, help="Stays per listing.")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--fetch-feed", action="store_true", help="Fetch the accounts' Hotel List Feeds first.")

    def handle(self, *args, partner="", samples=10, seed=None, fetch_feed=False, **options):
        if not 1 <= samples <= 1000:
            raise CommandError("--samples must be between 1 and 1000.")
        if fetch_feed:
            accounts = GoogleAccount.objects.filter(partner=partner) if partner else GoogleAccount.objects.all()
            for account in accounts:
                self.stdout.write(f"{account.partner}: feed {google_vr.fetch_feed(account)['status']}")
        listings = GoogleListing.objects.filter(listed=True).select_related("account").order_by("hotel_id")
        if partner:
            listings = listings.filter(account__partner=partner)
        if not listings:
            raise CommandError("No listed Google listing (fetch the partner's feed first).")
        rng = random.Random(seed)  # noqa: S311 - sampling, not security
        for listing in listings:
            checks = [google_vr.traveller_search(listing, rng=rng) for _ in range(samples)]
            done = [c for c in checks if c is not None]
            for check in done:
                if not check.match:
                    self.stdout.write(
                        f"  {listing.hotel_id} {check.check_in} {check.nights}n {check.guests}g: {check.reason}"
                    )
            score = google_vr.accuracy_score(listing)
            score_text = "n/a" if score is None else f"{score:.0%}"
            self.stdout.write(
                f"{listing.hotel_id}: {sum(c.match for c in done)}/{len(done)} match; accuracy so far {score_text}"
            )
