from django.core.management.base import BaseCommand

from yiciban.notifications.services import outbox_retry_due


class Command(BaseCommand):
    help = (
        "Re-enqueue due outbox messages whose delivery task was lost and take back messages "
        "whose worker died mid-send. Run it every few minutes (cron or a systemd timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="most messages per run")

    def handle(self, *args, limit: int, verbosity: int, **options):
        count = outbox_retry_due(limit=limit)
        if verbosity:
            self.stdout.write(f"enqueued {count} outbox message(s)")
