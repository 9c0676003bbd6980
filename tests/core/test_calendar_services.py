"""Calendar writes: validated, audited, permission-checked, atomic, and the in-memory calendar
follows them at once."""

import datetime as dt
import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from yiciban.core import calendar, services
from yiciban.core.calendar import Schedule, ScheduleDay, is_working_day
from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent, CalendarDay, CalendarYear, User

pytestmark = pytest.mark.django_db

D = dt.date
NOTICE_2027 = "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕9号）"


@pytest.fixture
def platform_admin():
    return User.objects.create_superuser("calendar_admin", password=None)


@pytest.fixture
def clerk():
    return User.objects.create_user("clerk", password=None, is_staff=True)


def schedule_2027(**overrides) -> Schedule:
    fields = {
        "year": 2027,
        "official": True,
        "source": NOTICE_2027,
        "note": "",
        "days": (
            ScheduleDay(D(2027, 2, 6), "holiday", "春节"),
            ScheduleDay(D(2027, 2, 8), "holiday", "春节"),
            ScheduleDay(D(2027, 2, 9), "holiday", "春节"),
            ScheduleDay(D(2027, 2, 20), "makeup_workday", "春节"),
        ),
    }
    return Schedule(**{**fields, **overrides})


def events(action):
    return AuditEvent.objects.filter(action=action)


# --- years ------------------------------------------------------------------------------
def test_year_create_is_audited_and_leaves_the_year_provisional(platform_admin):
    year = services.calendar_year_create(actor=platform_admin, year=2027, note="等待通知")
    assert year.official is False
    event = events("core.calendar_year_create").get()
    assert event.actor == platform_admin
    assert event.object_id == str(year.pk)
    assert is_working_day(D(2027, 10, 1)).provisional is True


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"year": 2026}, "year", "unique"),
        ({"year": 1800}, "year", "range"),
        ({"year": 2027, "official": True, "source": "  "}, "source", "required"),
    ],
)
def test_year_create_refuses_bad_input(platform_admin, kwargs, field, rule):
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_year_create(actor=platform_admin, **kwargs)
    assert (caught.value.errors[0].field, caught.value.errors[0].rule) == (field, rule)
    assert not events("core.calendar_year_create").exists()


def test_staff_without_the_permission_cannot_edit_the_calendar(clerk):
    with pytest.raises(PermissionDenied):
        services.calendar_year_create(actor=clerk, year=2027)
    with pytest.raises(PermissionDenied):
        services.calendar_day_create(actor=clerk, date=D(2026, 3, 2), kind="holiday", name="x")
    with pytest.raises(PermissionDenied):
        services.calendar_year_import(actor=clerk, schedule=schedule_2027())
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_model_permission_is_enough(clerk):
    clerk.user_permissions.add(Permission.objects.get(codename="add_calendaryear"))
    clerk = User.objects.get(pk=clerk.pk)  # permissions are cached per instance
    assert services.calendar_year_create(actor=clerk, year=2027).year == 2027


def test_mark_official_needs_a_source_and_ends_the_provisional_mark(platform_admin):
    year = services.calendar_year_create(actor=platform_admin, year=2027)
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_year_mark_official(actor=platform_admin, calendar_year=year)
    assert caught.value.errors[0].field == "source"
    assert is_working_day(D(2027, 3, 1)).provisional is True

    services.calendar_year_mark_official(
        actor=platform_admin, calendar_year=year, source=NOTICE_2027
    )
    assert is_working_day(D(2027, 3, 1)).provisional is False
    # Official and without days: 1 October is whatever the weekday rule says (a Friday).
    assert is_working_day(D(2027, 10, 1)).working is True
    event = events("core.calendar_year_mark_official").get()
    assert event.changes["official"] == [False, True]
    assert event.changes["source"] == ["", NOTICE_2027]


def test_year_update_records_only_changed_fields(platform_admin):
    year = CalendarYear.objects.get(year=2026)
    services.calendar_year_update(
        actor=platform_admin,
        calendar_year=year,
        official=True,
        source=year.source,
        note="已与国办发明电〔2025〕7号核对",
    )
    event = events("core.calendar_year_update").get()
    assert list(event.changes) == ["note"]


def test_year_delete_falls_back_to_the_provisional_rule(platform_admin):
    services.calendar_year_delete(
        actor=platform_admin, calendar_year=CalendarYear.objects.get(year=2024)
    )
    assert not CalendarDay.objects.filter(date__year=2024).exists()
    info = is_working_day(D(2024, 2, 4))  # was a make-up Sunday
    assert (info.working, info.provisional) == (False, True)
    assert events("core.calendar_year_delete").get().changes["year"] == 2024


# --- days -------------------------------------------------------------------------------
def test_day_create_takes_effect_at_once(platform_admin):
    assert is_working_day(D(2026, 3, 2)).working is True  # cached now
    day = services.calendar_day_create(
        actor=platform_admin, date=D(2026, 3, 2), kind="holiday", name="特别休息日"
    )
    assert day.calendar_year.year == 2026 and day.working is False
    assert is_working_day(D(2026, 3, 2)).working is False
    assert events("core.calendar_day_create").get().changes == {
        "date": "2026-03-02",
        "kind": "holiday",
        "name": "特别休息日",
    }


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        (
            {"date": D(2026, 3, 3), "kind": "makeup_workday", "name": "春节"},
            "date",
            "makeup_on_weekday",
        ),
        ({"date": D(2026, 3, 7), "kind": "day_off", "name": "春节"}, "kind", "choice"),
        ({"date": D(2026, 3, 7), "kind": "holiday", "name": " "}, "name", "required"),
        ({"date": D(2026, 3, 7), "kind": "holiday", "name": "节" * 101}, "name", "max_length"),
        ({"date": D(2026, 10, 1), "kind": "holiday", "name": "国庆节"}, "date", "unique"),
        ({"date": D(2031, 3, 1), "kind": "holiday", "name": "x"}, "date", "year_missing"),
    ],
)
def test_day_create_refuses_bad_input(platform_admin, kwargs, field, rule):
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_day_create(actor=platform_admin, **kwargs)
    assert (caught.value.errors[0].field, caught.value.errors[0].rule) == (field, rule)


def test_day_update_and_delete(platform_admin):
    day = CalendarDay.objects.get(date=D(2026, 2, 14))  # make-up Saturday
    services.calendar_day_update(
        actor=platform_admin, day=day, date=D(2026, 2, 14), kind="holiday", name="春节"
    )
    assert is_working_day(D(2026, 2, 14)).working is False
    event = events("core.calendar_day_update").get()
    assert event.changes == {"kind": ["makeup_workday", "holiday"]}

    services.calendar_day_delete(actor=platform_admin, day=CalendarDay.objects.get(pk=day.pk))
    assert is_working_day(D(2026, 2, 14)) == calendar.DayInfo(D(2026, 2, 14), False, "", False)
    assert events("core.calendar_day_delete").count() == 1


def test_day_update_refuses_a_date_taken_by_another_day(platform_admin):
    day = CalendarDay.objects.get(date=D(2026, 2, 14))
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_day_update(
            actor=platform_admin, day=day, date=D(2026, 2, 28), kind="makeup_workday", name="春节"
        )
    assert caught.value.errors[0].rule == "unique"


# --- whole years --------------------------------------------------------------------------
def test_import_sets_a_whole_year(platform_admin):
    assert is_working_day(D(2027, 2, 8)).working is True  # provisional guess, cached
    year = services.calendar_year_import(actor=platform_admin, schedule=schedule_2027())
    assert (year.official, year.source) == (True, NOTICE_2027)
    assert year.days.count() == 4
    assert is_working_day(D(2027, 2, 8)) == calendar.DayInfo(D(2027, 2, 8), False, "春节", False)
    assert is_working_day(D(2027, 2, 20)).working is True  # make-up Saturday
    event = events("core.calendar_year_import").get()
    assert event.changes == {
        "official": True,
        "source": NOTICE_2027,
        "days": 4,
        "replaced_days": 0,
    }


def test_import_does_not_overwrite_without_replace(platform_admin):
    services.calendar_year_import(actor=platform_admin, schedule=schedule_2027())
    smaller = schedule_2027(days=(ScheduleDay(D(2027, 2, 8), "holiday", "春节"),))
    with pytest.raises(Conflict):
        services.calendar_year_import(actor=platform_admin, schedule=smaller)
    assert CalendarDay.objects.filter(date__year=2027).count() == 4

    services.calendar_year_import(actor=platform_admin, schedule=smaller, replace=True)
    assert CalendarDay.objects.filter(date__year=2027).count() == 1
    assert events("core.calendar_year_import").first().changes["replaced_days"] == 4


def test_an_invalid_schedule_changes_nothing(platform_admin):
    bad = schedule_2027(
        days=(
            ScheduleDay(D(2027, 2, 8), "holiday", "春节"),
            ScheduleDay(D(2027, 2, 9), "makeup_workday", "春节"),  # a Tuesday
            ScheduleDay(D(2026, 12, 31), "holiday", "元旦"),  # another year
        )
    )
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_year_import(actor=platform_admin, schedule=bad)
    assert {(e.field, e.rule) for e in caught.value.errors} == {
        ("days[1].date", "makeup_on_weekday"),
        ("days[2].date", "year_mismatch"),
    }
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not AuditEvent.objects.exists()


def test_import_from_the_package_refuses_to_overwrite_and_can_replace(platform_admin):
    before = set(CalendarDay.objects.filter(date__year=2025).values_list("date", "kind", "name"))
    with pytest.raises(Conflict):
        services.calendar_year_import_from_package(actor=platform_admin, year=2025)
    services.calendar_year_import_from_package(actor=platform_admin, year=2025, replace=True)
    after = set(CalendarDay.objects.filter(date__year=2025).values_list("date", "kind", "name"))
    assert after == before


def test_import_from_the_package_of_an_unknown_year_says_what_to_do(platform_admin):
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_year_import_from_package(actor=platform_admin, year=2099)
    assert caught.value.errors[0].rule == "not_in_package"
    assert "chinesecalendar" in caught.value.errors[0].message


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_year_one_wins(platform_admin):
    if connection.vendor == "sqlite":
        # The in-memory test database fails a second writer at once ("table is locked");
        # a real SQLite file with BEGIN IMMEDIATE queues writers, so the race needs PostgreSQL.
        pytest.skip("write races are exercised on PostgreSQL")
    barrier = threading.Barrier(2)
    outcomes = []

    def create():
        barrier.wait()
        try:
            services.calendar_year_create(actor=platform_admin, year=2040)
            outcomes.append("created")
        except ValidationFailed as exc:
            outcomes.append(exc.errors[0].rule)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "unique"]
    assert CalendarYear.objects.filter(year=2040).count() == 1
