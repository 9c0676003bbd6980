"""The working-day calendar: every legal and promised time limit on the platform is counted
with it.

Semantics (docs/glossary.md):
- the day of the starting event is not counted;
- the due date is the N-th working day after it; N = 0 means the same day;
- a working day is Monday to Friday, except the official holidays, plus the weekend days the
  State Council notice makes working days (调休上班).

Data: the `CalendarYear` and `CalendarDay` tables (seeded 2004–2026 from the
`chinesecalendar` package by migration 0002, edited by platform admins, imported with
`yiciban calendar_import`). A year not marked official is answered by the provisional rule —
Monday to Friday minus the fixed-date statutory holidays FIXED_DATE_HOLIDAYS, overlaid by any
days an admin has already entered for that year — and every answer that depends on such a
year carries provisional=True, so no screen shows a guess as fact.

Speed: every case item and every queue row asks, so the whole table (some 30 rows a year) is
held in process memory and no call runs a per-day query. Writes through the services drop the
cache at once; other processes notice a change by a cheap fingerprint query (row counts and
latest update times) made at most every YICIBAN["CALENDAR_RECHECK_SECONDS"] seconds (5)."""

from __future__ import annotations

import bisect
import datetime as dt
import importlib.metadata
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from .errors import FieldError, ValidationFailed
from .models import CalendarDay, CalendarDayKind, CalendarYear

# Statutory holidays that fall on the same calendar date every year (全国年节及纪念日放假办法,
# as revised by State Council decree No. 795, in force 2025-01-01). The lunar and solar-term
# holidays (春节, 清明节, 端午节, 中秋节) move every year and are not guessed.
FIXED_DATE_HOLIDAYS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "元旦"),
    (5, 1, "劳动节"),
    (5, 2, "劳动节"),
    (10, 1, "国庆节"),
    (10, 2, "国庆节"),
    (10, 3, "国庆节"),
)

# Years a schedule may be entered for: holidays as we know them start with the PRC; beyond
# 2100 nobody publishes anything.
YEAR_MIN, YEAR_MAX = 1949, 2100
NAME_MAX_LENGTH = 100

_HOLIDAY = CalendarDayKind.HOLIDAY.value
_MAKEUP = CalendarDayKind.MAKEUP_WORKDAY.value
_ONE_DAY = dt.timedelta(days=1)


# --- answers ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DueDate:
    due: dt.date
    provisional: bool  # the answer depends on a year without an official schedule


@dataclass(frozen=True, slots=True)
class WorkingDayCount:
    days: int
    provisional: bool


@dataclass(frozen=True, slots=True)
class DayInfo:
    date: dt.date
    working: bool
    name: str  # "春节", "春节调休上班", or "" for an ordinary weekday or weekend
    provisional: bool


def add_working_days(start: dt.date, n: int) -> DueDate:
    """The N-th working day after `start` (the start day itself is not counted); N = 0 is
    `start` itself, whatever kind of day it is."""
    start = _as_date(start, "start")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, not {type(n).__name__}")
    if n < 0:
        raise ValidationFailed.on_field("working_days", "min_value", _("工作日数不能为负数"))
    if n == 0:
        return DueDate(due=start, provisional=False)
    snapshot = _current()
    day, remaining, provisional = start, n, False
    year_number, entries = None, {}
    try:
        while remaining:
            day += _ONE_DAY
            if day.year != year_number:
                year = snapshot.year(day.year)
                year_number, entries = day.year, year.entries
                provisional = provisional or not year.official
            entry = entries.get(day)
            if entry.working if entry is not None else day.weekday() < 5:
                remaining -= 1
    except OverflowError:
        raise ValidationFailed.on_field(
            "start", "out_of_range", _("截止日期超出可计算的日期范围")
        ) from None
    return DueDate(due=day, provisional=provisional)


def working_days_between(start: dt.date, end: dt.date) -> WorkingDayCount:
    """Working days in (start, end]: the start day is not counted, the end day is. When end
    is before start the count is negative (-(working days in (end, start])), so
    `working_days_between(today, due)` is the working days left, negative once overdue."""
    start = _as_date(start, "start")
    end = _as_date(end, "end")
    if end < start:
        before = working_days_between(end, start)
        return WorkingDayCount(days=-before.days, provisional=before.provisional)
    if end == start:
        return WorkingDayCount(days=0, provisional=False)
    snapshot = _current()
    days = _weekdays_through(end) - _weekdays_through(start)
    provisional = False
    # start < end, so start + 1 day exists; years wholly before it contribute nothing.
    for year_number in range((start + _ONE_DAY).year, end.year + 1):
        year = snapshot.year(year_number)
        days += year.adjustment(after=start, through=end)
        provisional = provisional or not year.official
    return WorkingDayCount(days=days, provisional=provisional)


def is_working_day(day: dt.date) -> DayInfo:
    day = _as_date(day, "day")
    year = _current().year(day.year)
    entry = year.entries.get(day)
    if entry is None:
        return DayInfo(date=day, working=day.weekday() < 5, name="", provisional=not year.official)
    return DayInfo(
        date=day, working=entry.working, name=_label(entry), provisional=not year.official
    )


def invalidate() -> None:
    """Drop this process's copy of the calendar; the next call reloads it. The services call
    it on every write (at once and again on commit)."""
    global _snapshot, _checked_at
    with _lock:
        _snapshot = None
        _checked_at = float("-inf")


def _as_date(value: Any, name: str) -> dt.date:
    # A datetime is refused rather than truncated: its date depends on the time zone, and the
    # caller knows which one it means (use django.utils.timezone.localdate).
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")
    return value


def _weekdays_through(day: dt.date) -> int:
    """Mondays to Fridays from 0001-01-01 (a Monday, ordinal 1) through `day`."""
    ordinal = day.toordinal()
    return ordinal // 7 * 5 + min(ordinal % 7, 5)


def _label(entry: _Entry) -> str:
    if entry.kind == _MAKEUP:
        return _("%(name)s调休上班") % {"name": entry.name}
    return entry.name


# --- the in-memory copy -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Entry:
    working: bool
    kind: str
    name: str


class _Year:
    """One year's exceptions to the weekday rule, with prefix sums so that counting working
    days across a range costs two binary searches, not a walk over the days."""

    __slots__ = ("_dates", "_prefix", "entries", "official")

    def __init__(self, official: bool, entries: dict[dt.date, _Entry]):
        self.official = official
        self.entries = entries
        self._dates = sorted(entries)
        self._prefix = [0]
        for day in self._dates:
            self._prefix.append(self._prefix[-1] + _difference_from_rule(day, entries[day]))

    def adjustment(self, *, after: dt.date, through: dt.date) -> int:
        low = bisect.bisect_right(self._dates, after)
        high = bisect.bisect_right(self._dates, through)
        return self._prefix[high] - self._prefix[low]


def _difference_from_rule(day: dt.date, entry: _Entry) -> int:
    weekday = day.weekday() < 5
    if entry.working and not weekday:
        return 1
    if not entry.working and weekday:
        return -1
    return 0  # a named holiday on a weekend: off either way


class _Snapshot:
    def __init__(
        self,
        fingerprint: tuple,
        official_years: frozenset[int],
        stored: dict[int, dict[dt.date, _Entry]],
    ):
        self.fingerprint = fingerprint
        self._official_years = official_years
        self._stored = stored
        self._years: dict[int, _Year] = {}

    def year(self, number: int) -> _Year:
        # Built lazily; two threads may build the same year at once, which is harmless.
        found = self._years.get(number)
        if found is None:
            official = number in self._official_years
            entries = dict(self._stored.get(number, {}))
            if not official:
                fixed = {
                    dt.date(number, month, day): _Entry(False, _HOLIDAY, name)
                    for month, day, name in FIXED_DATE_HOLIDAYS
                }
                entries = {**fixed, **entries}  # days an admin entered win over the rule
            found = self._years[number] = _Year(official, entries)
        return found


_lock = threading.Lock()
_snapshot: _Snapshot | None = None
_checked_at = float("-inf")


def _recheck_seconds() -> float:
    return float(getattr(settings, "YICIBAN", {}).get("CALENDAR_RECHECK_SECONDS", 5))


def _current() -> _Snapshot:
    global _snapshot, _checked_at
    snapshot = _snapshot
    if snapshot is not None and time.monotonic() - _checked_at < _recheck_seconds():
        return snapshot
    with _lock:
        snapshot = _snapshot
        if snapshot is not None and time.monotonic() - _checked_at < _recheck_seconds():
            return snapshot
        # Fingerprint first, rows second: a write landing in between makes the next check
        # see a new fingerprint and reload, never keeps stale rows under a fresh fingerprint.
        fingerprint = _fingerprint()
        if snapshot is None or snapshot.fingerprint != fingerprint:
            snapshot = _load(fingerprint)
            _snapshot = snapshot
        _checked_at = time.monotonic()
        return snapshot


def _fingerprint() -> tuple:
    summary = CalendarYear.objects.aggregate(
        year_rows=Count("id", distinct=True),
        year_updated=Max("updated_at"),
        day_rows=Count("days"),
        day_updated=Max("days__updated_at"),
    )
    return (
        summary["year_rows"],
        summary["year_updated"],
        summary["day_rows"],
        summary["day_updated"],
    )


def _load(fingerprint: tuple) -> _Snapshot:
    official = frozenset(CalendarYear.objects.filter(official=True).values_list("year", flat=True))
    stored: dict[int, dict[dt.date, _Entry]] = {}
    rows = CalendarDay.objects.values_list("date", "working", "kind", "name")
    for day, working, kind, name in rows:
        stored.setdefault(day.year, {})[day] = _Entry(working, kind, name)
    return _Snapshot(fingerprint, official, stored)


# --- schedules: what a year holds, from the package or from an admin's file ---------------
@dataclass(frozen=True, slots=True)
class ScheduleDay:
    date: dt.date
    kind: str  # CalendarDayKind value
    name: str


@dataclass(frozen=True, slots=True)
class Schedule:
    year: int
    official: bool
    source: str
    note: str
    days: tuple[ScheduleDay, ...]


# The package names some holidays by their short form; the notices use the full name.
_PACKAGE_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


def package_version() -> str:
    return importlib.metadata.version("chinesecalendar")


def package_years() -> range:
    import chinese_calendar

    years = {day.year for day in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


def package_schedule(year: int) -> tuple[ScheduleDay, ...]:
    """The holidays and weekend make-up working days that the installed `chinesecalendar`
    transcribes from the State Council notice for `year` (empty if it has none)."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    chinese = {holiday.value: holiday.chinese for holiday in Holiday}

    def name(english: str) -> str:
        short = chinese.get(english, english)
        return _PACKAGE_NAMES.get(short, short)

    days = [
        ScheduleDay(day, _HOLIDAY, name(english))
        for day, english in chinese_calendar.holidays.items()
        if day.year == year
    ]
    # The package lists only weekend working days; a weekday "working day" would not differ
    # from the rule, so it is skipped if a future version ever lists one.
    days += [
        ScheduleDay(day, _MAKEUP, name(english))
        for day, english in chinese_calendar.workdays.items()
        if day.year == year and day.weekday() >= 5
    ]
    return tuple(sorted(days, key=lambda d: d.date))


def year_problems(*, year: Any, official: bool, source: str) -> list[FieldError]:
    problems = []
    if isinstance(year, bool) or not isinstance(year, int):
        problems.append(FieldError("year", "integer", _("年份应为整数")))
    elif not YEAR_MIN <= year <= YEAR_MAX:
        problems.append(
            FieldError(
                "year",
                "range",
                _("年份应在%(min)d至%(max)d之间") % {"min": YEAR_MIN, "max": YEAR_MAX},
            )
        )
    if official and not source.strip():
        problems.append(
            FieldError(
                "source", "required", _("确认为正式安排时须写明来源（国务院办公厅通知文号）")
            )
        )
    return problems


def day_problems(
    *, year: int | None, day: dt.date, kind: str, name: str, field: str = ""
) -> list[FieldError]:
    """What is wrong with one calendar day; `field` prefixes the field names (e.g.
    "days[3]") so a file's errors point at the entry."""
    prefix = f"{field}." if field else ""
    problems = []
    if kind not in CalendarDayKind.values:
        problems.append(
            FieldError(
                f"{prefix}kind",
                "choice",
                _("类别应为 holiday（放假）或 makeup_workday（调休上班），实际为“%(k)s”")
                % {"k": kind},
            )
        )
    elif kind == _MAKEUP and day.weekday() < 5:
        problems.append(
            FieldError(
                f"{prefix}date",
                "makeup_on_weekday",
                _("%(d)s是周一至周五，本来就上班，不能登记为调休上班日") % {"d": day.isoformat()},
            )
        )
    if not name.strip():
        problems.append(FieldError(f"{prefix}name", "required", _("请填写节日名称")))
    elif len(name) > NAME_MAX_LENGTH:
        problems.append(
            FieldError(
                f"{prefix}name",
                "max_length",
                _("节日名称不能超过%(n)d个字") % {"n": NAME_MAX_LENGTH},
            )
        )
    if year is not None and day.year != year:
        problems.append(
            FieldError(
                f"{prefix}date",
                "year_mismatch",
                _("%(d)s不属于%(y)d年") % {"d": day.isoformat(), "y": year},
            )
        )
    return problems


def schedule_problems(schedule: Schedule) -> list[FieldError]:
    problems = year_problems(year=schedule.year, official=schedule.official, source=schedule.source)
    seen: set[dt.date] = set()
    for index, day in enumerate(schedule.days):
        field = f"days[{index}]"
        problems += day_problems(
            year=schedule.year, day=day.date, kind=day.kind, name=day.name, field=field
        )
        if day.date in seen:
            problems.append(_duplicate(field, day.date))
        seen.add(day.date)
    return problems


_FILE_KEYS = {"year", "official", "source", "note", "days"}
_DAY_KEYS = {"date", "from", "to", "kind", "name"}


def schedule_from_json(data: Any) -> Schedule:
    """Read an admin's transcription of a State Council notice:

        {"year": 2027, "official": true, "source": "国办发明电〔2026〕…号", "note": "",
         "days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
                  {"from": "2027-02-05", "to": "2027-02-12", "kind": "holiday", "name": "春节"},
                  {"date": "2027-02-20", "kind": "makeup_workday", "name": "春节"}]}

    Every mistake is reported at once, each with the path of the field at fault; raises
    ValidationFailed."""
    if not isinstance(data, dict):
        raise ValidationFailed.on_field("", "object", _("日历文件应为一个JSON对象"))
    problems: list[FieldError] = [
        FieldError(key, "unknown_field", _("未知字段“%(k)s”") % {"k": key})
        for key in sorted(set(data) - _FILE_KEYS)
    ]
    year = data.get("year")
    official = data.get("official", True)
    source = data.get("source", "")
    note = data.get("note", "")
    if not isinstance(official, bool):
        problems.append(FieldError("official", "boolean", _("official 应为 true 或 false")))
        official = True
    for key, value in (("source", source), ("note", note)):
        if not isinstance(value, str):
            problems.append(FieldError(key, "string", _("%(k)s 应为文本") % {"k": key}))
    source = source if isinstance(source, str) else ""
    note = note if isinstance(note, str) else ""
    problems += year_problems(year=year, official=official, source=source)
    year_ok = not any(p.field == "year" for p in problems)

    entries = data.get("days")
    days: list[ScheduleDay] = []
    if not isinstance(entries, list) or not entries:
        problems.append(FieldError("days", "required", _("days 应为非空列表")))
        entries = []
    seen: set[dt.date] = set()
    for index, entry in enumerate(entries):
        field = f"days[{index}]"
        entry_days, entry_problems = _read_entry(entry, field, year if year_ok else None)
        problems += entry_problems
        for day in entry_days:
            if day.date in seen:
                problems.append(_duplicate(field, day.date))
            seen.add(day.date)
        days += entry_days
    if problems:
        raise ValidationFailed(_("日历文件有%(n)d处错误") % {"n": len(problems)}, problems)
    return Schedule(
        year=year,
        official=official,
        source=source.strip(),
        note=note.strip(),
        days=tuple(sorted(days, key=lambda d: d.date)),
    )


def _read_entry(
    entry: Any, field: str, year: int | None
) -> tuple[list[ScheduleDay], list[FieldError]]:
    if not isinstance(entry, dict):
        return [], [FieldError(field, "object", _("每一项应为JSON对象"))]
    problems = [
        FieldError(f"{field}.{key}", "unknown_field", _("未知字段“%(k)s”") % {"k": key})
        for key in sorted(set(entry) - _DAY_KEYS)
    ]
    kind, name = entry.get("kind", ""), entry.get("name", "")
    if not isinstance(kind, str) or not isinstance(name, str):
        problems.append(FieldError(field, "string", _("kind 和 name 应为文本")))
        return [], problems
    if "date" in entry and ("from" in entry or "to" in entry):
        problems.append(FieldError(field, "date_or_range", _("date 与 from/to 只能二选一")))
        return [], problems
    if "date" in entry:
        first = last = _read_date(entry["date"], f"{field}.date", problems)
    elif "from" in entry and "to" in entry:
        first = _read_date(entry["from"], f"{field}.from", problems)
        last = _read_date(entry["to"], f"{field}.to", problems)
        if first and last and last < first:
            problems.append(FieldError(f"{field}.to", "range", _("to 不能早于 from")))
            return [], problems
    else:
        problems.append(FieldError(field, "date_or_range", _("每一项须有 date，或者 from 和 to")))
        return [], problems
    if first is None or last is None:
        return [], problems
    if year is not None and not (first.year == last.year == year):
        problems.append(
            FieldError(
                field,
                "year_mismatch",
                _("日期须在%(y)d年之内（跨年的日子登记在它所属的年度）") % {"y": year},
            )
        )
        return [], problems
    days = [ScheduleDay(day, kind, name.strip()) for day in _dates(first, last)]
    for day in days:
        for problem in day_problems(year=None, day=day.date, kind=kind, name=name, field=field):
            if problem not in problems:  # a range repeats a bad kind or name on every day
                problems.append(problem)
    return days, problems


def _read_date(value: Any, field: str, problems: list[FieldError]) -> dt.date | None:
    # Only the strict ten-character form: fromisoformat alone also takes "20270101".
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(
        FieldError(field, "date", _("“%(v)s”不是YYYY-MM-DD格式的有效日期") % {"v": value})
    )
    return None


def _dates(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY


def _duplicate(field: str, day: dt.date) -> FieldError:
    return FieldError(f"{field}.date", "duplicate", _("%(d)s重复出现") % {"d": day.isoformat()})
