"""``manage.py google_price_check [--connection ID] [--samples 20]``: compare, for sampled stays, the
price Google computes from our ARI with our booking page's quote, per Google connection."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.channels.google_vr import PLATFORM, price_accuracy_check
from apps.channels.models import ChannelConnection


class Command(BaseCommand):
    help = "Google price accuracy: pushed ARI vs. our booking page, for a sample of stays per connection."

    def add_arguments(self, parser):
        parser.add_argument("--connection", type=int, help="Only this connection id.")
        parser.add_argument("--samples", type=int, default=20)
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, connection=None, samples=20, seed=None, **options):
        if not 1 <= samples <= 1000:
            raise CommandError("--samples must be between 1 and 1000.")
        conns = ChannelConnection.objects.filter(platform=PLATFORM, sync_enabled=True)
        if connection is not None:
            conns = conns.filter(pk=connection)
            if not conns.exists():
                raise CommandError(f"No active Google connection with id {connection}.")
        failed = False
        for conn in conns.select_related("property").order_by("pk"):
            result = price_accuracy_check(connection_id=conn.pk, samples=samples, seed=seed)
            score = "n/a" if result["score"] is None else f"{result['score']:.0%}"
            self.stdout.write(f"{conn.property.name}: {result['matched']}/{result['sampled']} stays match ({score})")
            failed = failed or bool(result["mismatches"])
        if failed:
            raise CommandError("Some stays would show a different price on Google (see the channel alerts).")
