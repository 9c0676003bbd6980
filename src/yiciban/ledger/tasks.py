"""Background integration (Django Tasks, database queue; `yiciban worker` runs it).

Every committed append calls `schedule_integration`. Enqueuing a task per append would double
the writes, so each process enqueues at most one task per delay D, due D after it was
enqueued: appends committed in that window are integrated by that task, and the first
append after it enqueues the next. An entry therefore waits at most D plus the worker's
polling interval plus one integration."""

from __future__ import annotations

import datetime as dt
import threading
import time

from django.utils import timezone
from django_tasks import task

from yiciban.core.queue import enqueue

from . import conf

_lock = threading.Lock()
_next_enqueue_at = 0.0  # monotonic time before which this process enqueues nothing


@task()
def integrate_pending() -> dict:
    from .services import ledger_integrate

    result = ledger_integrate()
    return {"size_before": result.size_before, "size_after": result.size_after}


def schedule_integration() -> None:
    global _next_enqueue_at
    delay = conf.integration_delay()
    now = time.monotonic()
    with _lock:
        if now < _next_enqueue_at:
            return
        _next_enqueue_at = now + delay
    enqueue(integrate_pending.using(run_after=timezone.now() + dt.timedelta(seconds=delay)))
