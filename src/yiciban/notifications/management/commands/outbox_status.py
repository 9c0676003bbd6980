import json

from django.core.management.base import BaseCommand

from yiciban.notifications.selectors import outbox_status_summary


class Command(BaseCommand):
    help = "Print outbox counts by channel and status and the backlog (no personal data)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="machine-readable output"
        )

    def handle(self, *args, as_json: bool = False, **options):
        summary = outbox_status_summary()
        oldest = summary.oldest_due_since.isoformat() if summary.oldest_due_since else None
        if as_json:
            payload = {
                "counts": summary.counts,
                "due_now": summary.due_now,
                "oldest_due_since": oldest,
                "dead": summary.dead,
            }
            self.stdout.write(json.dumps(payload))
            return
        for channel, by_status in summary.counts.items():
            cells = "  ".join(f"{status}={n}" for status, n in by_status.items())
            self.stdout.write(f"{channel:6} {cells}")
        self.stdout.write(f"due now: {summary.due_now} (oldest since {oldest or '-'})")
        self.stdout.write(f"dead: {summary.dead}")
