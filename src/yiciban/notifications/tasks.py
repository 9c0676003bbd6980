"""Background tasks (Django Tasks, database queue; `yiciban worker` runs them)."""

from __future__ import annotations

import uuid

from django_tasks import task

from yiciban.core.context import RequestContext, bound


@task()
def deliver_outbox_message(message_id: int) -> str:
    """Send one outbox message (SMS or e-mail); failures reschedule themselves."""
    # services imports this module to enqueue; importing it back here, at run time,
    # keeps the two from importing each other while loading.
    from .services import outbox_message_deliver

    # Audit events written by the delivery say they came from the worker.
    with bound(RequestContext(request_id=uuid.uuid4().hex, channel="task")):
        return outbox_message_deliver(message_id=message_id)
