"""yiciban cases_token_create USERNAME --name NAME — make an API token for a user and print
it once (for staff tools and scripts; only its hash is stored)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yiciban.cases import services
from yiciban.core import context


class Command(BaseCommand):
    help = "Create an API bearer token for a user and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        with context.bound(context.with_channel("cli")):
            _token, raw = services.api_token_create(actor=user, name=name)
        self.stdout.write(raw)
