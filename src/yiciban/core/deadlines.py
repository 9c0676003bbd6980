"""The one deadline computation of the platform (电子监察): case items, disclosure requests,
hotline tickets, suggestion answers and record timeliness all build a `Clock` from what they
store and ask it for the due date and status. Pure: no database writes, only calendar reads.

Rules (see docs/glossary.md):
- The day of the starting event is not counted; the due date is the N-th working (or
  natural) day after it; N = 0 means the same day.
- Suspended periods (补正, inspection, expert review, hearing, third-party consultation) do
  not count: each suspended day that would have counted pushes the due date out by one.
  A suspension is inclusive of its first and last day; an open suspension (no end yet) runs
  up to `today`.
- An extension adds its days to the limit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from .calendar import DueDate, add_working_days, working_days_between
from .errors import ValidationFailed

ONE_DAY = dt.timedelta(days=1)


class DeadlineUnit(StrEnum):
    WORKING = "working"
    NATURAL = "natural"


class DeadlineStatus(StrEnum):
    NORMAL = "normal"
    WARNING = "warning"
    OVERDUE = "overdue"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Suspension:
    start: dt.date
    end: dt.date | None = None  # None: still suspended

    def closed_by(self, today: dt.date) -> Suspension:
        return self if self.end is not None else Suspension(self.start, max(today, self.start))


@dataclass(frozen=True)
class Clock:
    started_on: dt.date
    limit: int
    unit: DeadlineUnit | str = DeadlineUnit.WORKING
    suspensions: Sequence[Suspension] = field(default_factory=tuple)
    extension_days: int = 0

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValidationFailed.on_field("limit", "min", "时限不能为负数")
        if self.extension_days < 0:
            raise ValidationFailed.on_field("extension_days", "min", "延长天数不能为负数")
        if self.unit not in (DeadlineUnit.WORKING, DeadlineUnit.NATURAL):
            raise ValidationFailed.on_field("unit", "choice", f"未知的时限单位：{self.unit}")
        for s in self.suspensions:
            if s.end is not None and s.end < s.start:
                raise ValidationFailed.on_field(
                    "suspensions", "order", "中止期间的结束日期早于开始日期"
                )

    @property
    def is_working(self) -> bool:
        return self.unit == DeadlineUnit.WORKING

    def _add(self, days: int) -> DueDate:
        if self.is_working:
            return add_working_days(self.started_on, days)
        return DueDate(due=self.started_on + dt.timedelta(days=days), provisional=False)

    def _counted_days(self, first: dt.date, last: dt.date) -> tuple[int, bool]:
        """Days in [first, last] that count towards the limit, and whether provisional."""
        if last < first:
            return 0, False
        if self.is_working:
            counted = working_days_between(first - ONE_DAY, last)
            return counted.days, counted.provisional
        return (last - first).days + 1, False

    def due_on(self, today: dt.date | None = None) -> DueDate:
        today = today or dt.date.today()
        suspensions = [s.closed_by(today) for s in self.suspensions]
        base = self.limit + self.extension_days
        due = self._add(base)
        provisional = due.provisional
        # Fixed point: suspended days inside (start, due] push the due date out, which may
        # bring further suspended days inside the window. Terminates: `suspended` only grows
        # and is bounded by the days of all suspensions.
        suspended = 0
        while True:
            total = 0
            for s in suspensions:
                first = max(s.start, self.started_on + ONE_DAY)
                last = min(s.end, due.due)  # type: ignore[type-var]
                days, prov = self._counted_days(first, last)
                total += days
                provisional = provisional or prov
            if total == suspended:
                return DueDate(due=due.due, provisional=provisional)
            suspended = total
            due = self._add(base + suspended)
            provisional = provisional or due.provisional

    def is_suspended(self, today: dt.date) -> bool:
        return any(s.start <= today and (s.end is None or today <= s.end) for s in self.suspensions)

    def remaining(self, today: dt.date) -> int:
        """Days left until the due date (0 on the due date itself, negative when overdue)."""
        due = self.due_on(today).due
        if not self.is_working:
            return (due - today).days
        if due >= today:
            return working_days_between(today, due).days
        return -working_days_between(due, today).days

    def status(
        self, today: dt.date, *, warning_days: int = 1, warning_share: float | None = None
    ) -> DeadlineStatus:
        """normal / warning (≤ warning_days left, or ≤ the share of the limit) / overdue /
        suspended (an open suspension covers today)."""
        if self.is_suspended(today):
            return DeadlineStatus.SUSPENDED
        left = self.remaining(today)
        if left < 0:
            return DeadlineStatus.OVERDUE
        threshold = warning_days
        if warning_share is not None:
            threshold = max(
                threshold, math.ceil((self.limit + self.extension_days) * warning_share)
            )
        return DeadlineStatus.WARNING if left <= threshold else DeadlineStatus.NORMAL
