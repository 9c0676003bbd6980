"""Each case item's deadline (电子监察), from core.deadlines.Clock — the platform's one
deadline computation — over the inputs stored on the item: started_on, limit, unit,
extension_days and its suspensions.

The services call `refresh` whenever an input changes; it stores the due date, the first
day of the warning and the suspended flag on the item (and on its active tasks), so that
queues sort and classify in SQL. `view` answers for one item with the remaining working
days, computed afresh."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from yiciban.core.calendar import is_working_day, working_days_between
from yiciban.core.deadlines import Clock, DeadlineStatus, DeadlineUnit, Suspension

from . import conf
from .models import DECIDED_ITEM_STATES, CaseItem

ONE_DAY = dt.timedelta(days=1)


def clock_of(item: CaseItem, suspensions=None) -> Clock | None:
    if item.started_on is None:
        return None
    rows = suspensions if suspensions is not None else list(item.suspensions.all())
    return Clock(
        started_on=item.started_on,
        limit=item.limit,
        unit=item.unit,
        suspensions=tuple(Suspension(start=s.start, end=s.end) for s in rows),
        extension_days=item.extension_days,
    )


def warning_threshold(limit_total: int) -> int:
    """Working days left at which the warning starts (Clock.status uses the same rule)."""
    threshold = conf.warning_days()
    share = conf.warning_share()
    if share is not None:
        threshold = max(threshold, math.ceil(limit_total * share))
    return threshold


def warn_from(due: dt.date, threshold: int, unit: str) -> dt.date:
    """The first day on which at most `threshold` days are left before `due`.

    Working days: days left on d = working days in (d, due]; that is ≤ k from the (k+1)-th
    working day counted back from `due` (itself included when it is a working day)."""
    if unit == DeadlineUnit.NATURAL:
        return due - dt.timedelta(days=threshold)
    day, found = due, 0
    # a year has ~250 working days; 400 steps back is far more than any limit needs
    for _step in range(400):
        if is_working_day(day).working:
            found += 1
            if found == threshold + 1:
                return day
        day -= ONE_DAY
    return day


def _open_suspension(clock: Clock, today: dt.date) -> bool:
    """An open suspension stops the clock and the work; a closed one that ends today still
    does not count towards the limit, but the work goes on."""
    return any(s.end is None and s.start <= today for s in clock.suspensions)


def refresh(item: CaseItem, today: dt.date, suspensions=None) -> list[str]:
    """Recompute the stored copies of the item's deadline; returns the changed fields."""
    before = (item.due_on, item.warn_from, item.suspended, item.due_provisional)
    clock = clock_of(item, suspensions)
    if clock is None:
        item.due_on = item.warn_from = None
        item.suspended = item.due_provisional = False
    else:
        due = clock.due_on(today)
        item.due_on = due.due
        item.due_provisional = due.provisional
        item.suspended = _open_suspension(clock, today) and item.state not in DECIDED_ITEM_STATES
        item.warn_from = warn_from(
            due.due, warning_threshold(item.limit + item.extension_days), item.unit
        )
    after = (item.due_on, item.warn_from, item.suspended, item.due_provisional)
    names = ("due_on", "warn_from", "suspended", "due_provisional")
    return [n for n, b, a in zip(names, before, after, strict=True) if b != a]


def clock_remaining(due: dt.date | None, today: dt.date, unit: str) -> int | None:
    """Days from `today` to a stored due date, counted as Clock.remaining counts them."""
    if due is None:
        return None
    if unit == DeadlineUnit.NATURAL:
        return (due - today).days
    if due >= today:
        return working_days_between(today, due).days
    return -working_days_between(due, today).days


@dataclass(frozen=True)
class DeadlineView:
    due_on: dt.date | None
    remaining: int | None  # working (or natural) days left; negative when overdue
    status: str  # normal / warning / overdue / suspended / "" (not started) / "done"
    provisional: bool
    limit: int
    unit: str
    extension_days: int
    on_time: bool | None


def view(item: CaseItem, today: dt.date, suspensions=None) -> DeadlineView:
    clock = clock_of(item, suspensions)
    if clock is None:
        return DeadlineView(None, None, "", False, item.limit, item.unit, item.extension_days, None)
    due = clock.due_on(today)
    if item.state in DECIDED_ITEM_STATES:
        return DeadlineView(
            due.due,
            None,
            "done",
            due.provisional,
            item.limit,
            item.unit,
            item.extension_days,
            item.on_time,
        )
    if _open_suspension(clock, today):
        status, remaining = DeadlineStatus.SUSPENDED, None
    else:
        # Clock.status's rule, except that a suspension ended today no longer holds the work
        remaining = clock.remaining(today)
        if remaining < 0:
            status = DeadlineStatus.OVERDUE
        elif remaining <= warning_threshold(item.limit + item.extension_days):
            status = DeadlineStatus.WARNING
        else:
            status = DeadlineStatus.NORMAL
    return DeadlineView(
        due.due,
        remaining,
        str(status),
        due.provisional,
        item.limit,
        item.unit,
        item.extension_days,
        None,
    )
