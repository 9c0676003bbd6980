"""Writes of the core app: the working-day calendar. Each service is one transaction, writes
one audit event, and drops the in-memory calendar (at once, and again on commit so that a
reader that reloaded mid-transaction does not keep the old rows)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from . import calendar
from .audit import changed_fields, record
from .errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from .models import CalendarDay, CalendarDayKind, CalendarYear

_YEAR_FIELDS = ["official", "source", "note"]
_DAY_FIELDS = ["date", "kind", "name", "calendar_year"]


def calendar_year_create(
    *, actor, year: int, official: bool = False, source: str = "", note: str = ""
) -> CalendarYear:
    _require(actor, "core.add_calendaryear")
    _raise_if(calendar.year_problems(year=year, official=official, source=source))
    with transaction.atomic():
        if CalendarYear.objects.filter(year=year).exists():
            raise ValidationFailed.on_field("year", "unique", _("%(y)d年已经建立") % {"y": year})
        try:
            with transaction.atomic():  # a concurrent create of the same year loses here
                created = CalendarYear.objects.create(
                    year=year, official=official, source=source.strip(), note=note.strip()
                )
        except IntegrityError:
            raise ValidationFailed.on_field(
                "year", "unique", _("%(y)d年已经建立") % {"y": year}
            ) from None
        record(
            actor=actor,
            action="core.calendar_year_create",
            obj=created,
            changes={"year": year, "official": official, "source": created.source},
        )
        _calendar_changed()
    return created


def calendar_year_update(
    *, actor, calendar_year: CalendarYear, official: bool, source: str, note: str
) -> CalendarYear:
    _require(actor, "core.change_calendaryear")
    _raise_if(calendar.year_problems(year=calendar_year.year, official=official, source=source))
    with transaction.atomic():
        locked = _lock_year(calendar_year)
        before = {name: getattr(locked, name) for name in _YEAR_FIELDS}
        locked.official, locked.source, locked.note = official, source.strip(), note.strip()
        locked.save()
        record(
            actor=actor,
            action="core.calendar_year_update",
            obj=locked,
            changes=changed_fields(locked, before, _YEAR_FIELDS),
        )
        _calendar_changed()
    return locked


def calendar_year_mark_official(
    *, actor, calendar_year: CalendarYear, source: str | None = None
) -> CalendarYear:
    """Confirm that a year's days follow the published notice `source` (kept if omitted)."""
    _require(actor, "core.change_calendaryear")
    with transaction.atomic():
        locked = _lock_year(calendar_year)
        new_source = (locked.source if source is None else source).strip()
        _raise_if(calendar.year_problems(year=locked.year, official=True, source=new_source))
        before = {name: getattr(locked, name) for name in _YEAR_FIELDS}
        locked.official, locked.source = True, new_source
        locked.save()
        record(
            actor=actor,
            action="core.calendar_year_mark_official",
            obj=locked,
            changes=changed_fields(locked, before, _YEAR_FIELDS),
        )
        _calendar_changed()
    return locked


def calendar_year_delete(*, actor, calendar_year: CalendarYear) -> None:
    """Remove a year and its days; the year falls back to the provisional rule."""
    _require(actor, "core.delete_calendaryear")
    with transaction.atomic():
        locked = _lock_year(calendar_year)
        record(
            actor=actor,
            action="core.calendar_year_delete",
            obj=locked,
            changes={"year": locked.year, "days": locked.days.count()},
        )
        locked.delete()
        _calendar_changed()


def calendar_year_import(
    *, actor, schedule: calendar.Schedule, replace: bool = False
) -> CalendarYear:
    """Set one year's whole schedule (the year row and all its days) in one transaction. A
    year that already has days is only overwritten with `replace=True`, so a re-run never
    silently undoes an admin's corrections."""
    _require(actor, "core.change_calendaryear")
    _require(actor, "core.add_calendarday")
    _require(actor, "core.delete_calendarday")
    _raise_if(calendar.schedule_problems(schedule))
    with transaction.atomic():
        year = CalendarYear.objects.select_for_update().filter(year=schedule.year).first()
        replaced = 0
        if year is None:
            year = CalendarYear(year=schedule.year)
        elif year.days.exists():
            if not replace:
                raise Conflict(
                    _("%(y)d年已有%(n)d条节假日记录；如需整体替换，请明确要求替换")
                    % {"y": schedule.year, "n": year.days.count()},
                    code="calendar_year_exists",
                )
            replaced, _details = year.days.all().delete()
        year.official, year.source, year.note = schedule.official, schedule.source, schedule.note
        try:
            with transaction.atomic():  # two first imports of one year: the second loses here
                year.save()
        except IntegrityError:
            raise Conflict(
                _("%(y)d年正在被另一次导入写入，请稍后重试") % {"y": schedule.year},
                code="calendar_year_exists",
            ) from None
        CalendarDay.objects.bulk_create(
            CalendarDay(
                calendar_year=year,
                date=day.date,
                kind=day.kind,
                working=day.kind == CalendarDayKind.MAKEUP_WORKDAY,
                name=day.name,
            )
            for day in schedule.days
        )
        record(
            actor=actor,
            action="core.calendar_year_import",
            obj=year,
            changes={
                "official": year.official,
                "source": year.source,
                "days": len(schedule.days),
                "replaced_days": replaced,
            },
        )
        _calendar_changed()
    return year


def calendar_year_import_from_package(*, actor, year: int, replace: bool = False) -> CalendarYear:
    """Take a year from the installed `chinesecalendar` (for when a newer version of the
    package knows the State Council notice of a new year)."""
    days = calendar.package_schedule(year)
    if not days:
        known = calendar.package_years()
        raise ValidationFailed.on_field(
            "year",
            "not_in_package",
            _(
                "已安装的 chinesecalendar %(v)s 没有%(y)d年的安排（只有%(a)d–%(b)d年）；"
                "请升级该软件包，或按国务院办公厅通知编写文件导入"
            )
            % {"v": calendar.package_version(), "y": year, "a": known[0], "b": known[-1]},
        )
    schedule = calendar.Schedule(
        year=year,
        official=True,
        source=f"chinesecalendar {calendar.package_version()}（转录国务院办公厅节假日安排通知）",
        note="",
        days=days,
    )
    return calendar_year_import(actor=actor, schedule=schedule, replace=replace)


def calendar_day_create(*, actor, date: dt.date, kind: str, name: str) -> CalendarDay:
    _require(actor, "core.add_calendarday")
    _raise_if(calendar.day_problems(year=None, day=date, kind=kind, name=name))
    with transaction.atomic():
        year = _year_of(date)
        if CalendarDay.objects.filter(date=date).exists():
            raise ValidationFailed.on_field(
                "date", "unique", _("%(d)s已有记录") % {"d": date.isoformat()}
            )
        try:
            with transaction.atomic():  # a concurrent create of the same date loses here
                day = CalendarDay.objects.create(
                    calendar_year=year,
                    date=date,
                    kind=kind,
                    working=kind == CalendarDayKind.MAKEUP_WORKDAY,
                    name=name.strip(),
                )
        except IntegrityError:
            raise ValidationFailed.on_field(
                "date", "unique", _("%(d)s已有记录") % {"d": date.isoformat()}
            ) from None
        record(
            actor=actor,
            action="core.calendar_day_create",
            obj=day,
            changes={"date": date.isoformat(), "kind": kind, "name": day.name},
        )
        _calendar_changed()
    return day


def calendar_day_update(
    *, actor, day: CalendarDay, date: dt.date, kind: str, name: str
) -> CalendarDay:
    _require(actor, "core.change_calendarday")
    _raise_if(calendar.day_problems(year=None, day=date, kind=kind, name=name))
    with transaction.atomic():
        locked = CalendarDay.objects.select_for_update().filter(pk=day.pk).first()
        if locked is None:
            raise ValidationFailed.on_field("date", "gone", _("该日期记录已被删除"))
        if CalendarDay.objects.filter(date=date).exclude(pk=locked.pk).exists():
            raise ValidationFailed.on_field(
                "date", "unique", _("%(d)s已有记录") % {"d": date.isoformat()}
            )
        before = {name_: getattr(locked, name_) for name_ in _DAY_FIELDS}
        locked.calendar_year = _year_of(date)
        locked.date, locked.kind, locked.name = date, kind, name.strip()
        locked.working = kind == CalendarDayKind.MAKEUP_WORKDAY
        locked.save()
        record(
            actor=actor,
            action="core.calendar_day_update",
            obj=locked,
            changes=changed_fields(locked, before, _DAY_FIELDS),
        )
        _calendar_changed()
    return locked


def calendar_day_delete(*, actor, day: CalendarDay) -> None:
    _require(actor, "core.delete_calendarday")
    with transaction.atomic():
        locked = CalendarDay.objects.select_for_update().filter(pk=day.pk).first()
        if locked is None:
            return  # already gone: the wanted state holds
        record(
            actor=actor,
            action="core.calendar_day_delete",
            obj=locked,
            changes={"date": locked.date.isoformat(), "kind": locked.kind, "name": locked.name},
        )
        locked.delete()
        _calendar_changed()


# --- helpers ----------------------------------------------------------------------------
def _require(actor, permission: str) -> None:
    # actor None is the platform itself (a migration, an operator's CLI command without
    # --as); people must hold the model permission the admin also checks.
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied(_("无权维护工作日历"))


def _raise_if(problems: list[FieldError]) -> None:
    if problems:
        raise ValidationFailed(str(problems[0].message), problems)


def _lock_year(calendar_year: CalendarYear) -> CalendarYear:
    locked = CalendarYear.objects.select_for_update().filter(pk=calendar_year.pk).first()
    if locked is None:
        raise ValidationFailed.on_field("year", "gone", _("该年度已被删除"))
    return locked


def _year_of(date: dt.date) -> CalendarYear:
    year = CalendarYear.objects.filter(year=date.year).first()
    if year is None:
        raise ValidationFailed.on_field(
            "date",
            "year_missing",
            _("%(y)d年尚未建立，请先添加该年度") % {"y": date.year},
        )
    return year


def _calendar_changed() -> None:
    calendar.invalidate()
    transaction.on_commit(calendar.invalidate)
