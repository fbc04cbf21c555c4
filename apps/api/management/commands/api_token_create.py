"""Create an API token for a user and print it once: ``manage.py api_token_create alice --name RMS``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.api.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user (the raw token is printed once and never stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="CLI token", help="What the token is for.")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user “{options['username']}”.")
        if not user.is_active:
            raise CommandError(f"User “{user.username}” is inactive.")
        token, raw = api_token_create(user=user, name=options["name"])
        self.stdout.write(raw)
        self.stderr.write(f"Token {token.pk} ({token.name}) for {user.username}; it will not be shown again.")
