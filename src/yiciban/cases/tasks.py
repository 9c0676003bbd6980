"""Background tasks of the case engine (Django Tasks, database queue; `yiciban worker`)."""

from __future__ import annotations

import uuid

from django_tasks import task

from yiciban.core.context import RequestContext, bound


@task()
def refresh_suspended_clocks() -> int:
    """While a suspension is open its item's due date moves out day by day; run daily (for
    instance from cron: `yiciban shell -c ...` or a scheduler enqueuing this task) so that
    the stored due dates of suspended items stay current. Returns how many changed."""
    from .services import clocks_refresh

    with bound(RequestContext(request_id=uuid.uuid4().hex, channel="task")):
        return clocks_refresh()


@task()
def send_case_notices(case_id: int, actor_id: int | None, notices: list[dict]) -> int:
    """The applicant's notices of a submission (submitted; accepted or decided when the
    system decides at once), queued in the submission's transaction and sent here — the
    notification, its outbox messages and their audit events — so that the submit request
    does not pay for them."""
    from .services import case_notices_send

    with bound(RequestContext(request_id=uuid.uuid4().hex, channel="task")):
        return case_notices_send(case_id=case_id, actor_id=actor_id, notices=notices)
