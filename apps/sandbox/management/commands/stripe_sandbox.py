"""Run the local Stripe sandbox (localstripe, patched) on 127.0.0.1 for the demo.

    python manage.py stripe_sandbox [--port 8420] [--state-dir var/stripe-sandbox] [--reset]

Point the app at it with STRIPE_API_BASE=http://127.0.0.1:8420 and STRIPE_SANDBOX=1. Webhooks are
sent, signed with STRIPE_WEBHOOK_SECRET, to SITE_URL + /payments/stripe/webhook/.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse


def default_state_dir() -> Path:
    in_project = Path(settings.BASE_DIR).resolve() / "var" / "stripe-sandbox"
    if not str(in_project).startswith("/tmp"):  # noqa: S108 - keeping state out of it
        return in_project
    state_home = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state_home / "pms-webapp" / "stripe-sandbox"


class Command(BaseCommand):
    help = "Run the local Stripe sandbox (localstripe) bound to 127.0.0.1."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8420)
        parser.add_argument(
            "--state-dir",
            default="",
            help="Where the sandbox keeps its objects between runs (default: var/stripe-sandbox in the "
            "project, or ~/.local/state/pms-webapp/stripe-sandbox when the project itself lives in /tmp).",
        )
        parser.add_argument("--reset", action="store_true", help="Start from an empty sandbox.")
        parser.add_argument("--webhook-url", default="", help="Default: SITE_URL + /payments/stripe/webhook/.")

    def handle(self, *args, **options):
        try:
            import localstripe  # noqa: F401
        except ImportError as exc:
            raise CommandError("localstripe is not installed: pip install -r requirements/dev.txt") from exc
        from apps.sandbox.stripe_sandbox import serve_forever

        port = options["port"]
        if not 1 <= port <= 65535:
            raise CommandError("--port must be between 1 and 65535.")
        state_dir = Path(options["state_dir"] or default_state_dir()).resolve()
        if str(state_dir).startswith("/tmp"):  # noqa: S108 - refusing it, not using it
            raise CommandError("Keep the sandbox state out of /tmp (e.g. var/stripe-sandbox).")
        if options["reset"]:
            (state_dir / "localstripe.pickle").unlink(missing_ok=True)
        webhook_url = options["webhook_url"] or settings.SITE_URL.rstrip("/") + reverse("payments:stripe-webhook")
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            self.stderr.write("STRIPE_WEBHOOK_SECRET is empty: webhooks are not sent.")
        self.stdout.write(
            f"Stripe sandbox on http://127.0.0.1:{port} (state in {state_dir}); webhooks to {webhook_url}\n"
            f"Set STRIPE_API_BASE=http://127.0.0.1:{port} STRIPE_SANDBOX=1 for the app."
        )
        try:
            serve_forever(port=port, state_dir=state_dir, webhook_url=webhook_url, webhook_secret=secret)
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {exc}") from exc
