"""Record due scheduled publications and withdrawals and notify subscribers. Run it every
minute from cron or a systemd timer; it is safe to run concurrently (row locks)."""

from django.core.management.base import BaseCommand

from yiciban.core.context import RequestContext, bound

from ...services import articles_run_schedule


class Command(BaseCommand):
    help = "记录到期的定时发布和定时撤回，并通知订阅者"

    def handle(self, *args, **options):
        import uuid

        with bound(RequestContext(request_id=uuid.uuid4().hex, channel="task")):
            run = articles_run_schedule()
        self.stdout.write(f"published={run.published} withdrawn={run.withdrawn}")
