"""Enqueueing a background task from a hot transaction.

`task.enqueue()` on the database backend builds its row through `objects.create` (a query
compiled per call), then a `TaskResult` for the `task_enqueued` signal — together the
largest single cost of a case submission, which queues one task. `enqueue` writes the same
row with one prepared statement (`core.statements.insert_rows`) and logs what the signal's
only receiver (django_tasks' debug log) would. Any other backend: `task.enqueue()`."""

from __future__ import annotations

import logging
from typing import Any

from django.db import router
from django_tasks.utils import normalize_json
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from .statements import insert_rows

logger = logging.getLogger("django_tasks")


def enqueue(task, *args: Any, **kwargs: Any) -> str:
    """Queue `task(*args, **kwargs)` in the caller's transaction; returns the result id."""
    row = task_row(task, *args, **kwargs)
    if row is None:
        return str(task.enqueue(*args, **kwargs).id)
    insert_rows([row], using=router.db_for_write(DBTaskResult))
    enqueued(row)
    return str(row.id)


def task_row(task, *args: Any, **kwargs: Any) -> DBTaskResult | None:
    """The queue row of `task(*args, **kwargs)`, not yet written — for a service that
    inserts it with its other rows (`core.statements.insert_together`), then calls
    `enqueued(row)`. None when the task's backend is not the database queue: then call
    `enqueue`."""
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return None
    backend.validate_task(task)
    row = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        # what django_tasks_db's pre_save handler puts for "no earliest time"
        run_after=task.run_after if task.run_after is not None else get_date_max(),
        backend_name=backend.alias,
    )
    return row


def enqueued(row: DBTaskResult) -> None:
    """What the `task_enqueued` signal's only receiver (django_tasks' debug log) does."""
    logger.debug("Task id=%s path=%s enqueued backend=%s", row.id, row.task_path, row.backend_name)
