import uuid

from django.core.management.base import BaseCommand

from yiciban.cases.services import clocks_refresh
from yiciban.core.context import RequestContext, bound


class Command(BaseCommand):
    help = (
        "Move the stored due dates of items whose suspension is still open (run daily, "
        "e.g. from cron: `yiciban cases_refresh_clocks`)."
    )

    def handle(self, *args, **options):
        with bound(RequestContext(request_id=uuid.uuid4().hex, channel="cli")):
            changed = clocks_refresh()
        self.stdout.write(f"{changed} case items updated")
