"""The working-day calendar: official 2024–2026 schedules (holidays and 调休 make-up days),
deadline semantics, the provisional rule, and the in-memory cache."""

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yiciban.core import calendar
from yiciban.core.calendar import add_working_days, is_working_day, working_days_between
from yiciban.core.errors import ValidationFailed
from yiciban.core.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db

D = dt.date


# --- the seeded official schedules --------------------------------------------------------
def test_migration_seeds_2004_to_2026_as_official():
    years = list(CalendarYear.objects.order_by("year").values_list("year", "official"))
    assert years == [(year, True) for year in range(2004, 2027)]
    assert CalendarYear.objects.get(year=2026).source.startswith("chinesecalendar")


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_every_day_of_recent_years_matches_the_package(year):
    day = D(year, 1, 1)
    while day.year == year:
        info = is_working_day(day)
        assert info.working == chinese_calendar.is_workday(day), day
        assert info.provisional is False
        day += dt.timedelta(days=1)


def test_only_exceptions_and_named_holidays_are_stored():
    # A year holds its named holiday days and weekend make-up days, not 365 rows.
    for row in CalendarDay.objects.filter(calendar_year__year=2025):
        if row.working:
            assert row.date.weekday() >= 5 and row.kind == "makeup_workday"
        else:
            assert row.kind == "holiday" and row.name
    assert CalendarDay.objects.filter(calendar_year__year=2025).count() < 40


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (D(2024, 2, 4), "春节调休上班"),  # Sunday
        (D(2024, 2, 18), "春节调休上班"),  # Sunday
        (D(2024, 9, 29), "国庆节调休上班"),  # Sunday
        (D(2024, 10, 12), "国庆节调休上班"),  # Saturday
        (D(2025, 1, 26), "春节调休上班"),  # Sunday
        (D(2025, 2, 8), "春节调休上班"),  # Saturday
        (D(2025, 9, 28), "国庆节调休上班"),  # Sunday
        (D(2025, 10, 11), "国庆节调休上班"),  # Saturday
        (D(2026, 1, 4), "元旦调休上班"),  # Sunday
        (D(2026, 2, 14), "春节调休上班"),  # Saturday
        (D(2026, 2, 28), "春节调休上班"),  # Saturday
        (D(2026, 9, 20), "国庆节调休上班"),  # Sunday
        (D(2026, 10, 10), "国庆节调休上班"),  # Saturday
    ],
)
def test_makeup_weekend_days_are_working_days(day, name):
    assert day.weekday() >= 5
    info = is_working_day(day)
    assert info.working is True
    assert info.name == name
    assert info.provisional is False


@pytest.mark.parametrize(
    ("first", "last", "name"),
    [
        (D(2024, 2, 10), D(2024, 2, 17), "春节"),
        (D(2024, 10, 1), D(2024, 10, 7), "国庆节"),
        (D(2025, 1, 28), D(2025, 2, 4), "春节"),
        (D(2025, 5, 1), D(2025, 5, 5), "劳动节"),
        (D(2026, 2, 15), D(2026, 2, 23), "春节"),  # nine days, the longest yet
        (D(2026, 10, 1), D(2026, 10, 7), "国庆节"),
    ],
)
def test_holiday_periods_are_days_off(first, last, name):
    day = first
    while day <= last:
        info = is_working_day(day)
        assert info.working is False, day
        assert info.name == name
        day += dt.timedelta(days=1)


def test_ordinary_days_have_no_name():
    assert is_working_day(D(2025, 3, 12)) == calendar.DayInfo(D(2025, 3, 12), True, "", False)
    assert is_working_day(D(2025, 3, 15)) == calendar.DayInfo(D(2025, 3, 15), False, "", False)


def test_full_names_for_the_short_package_names():
    assert is_working_day(D(2025, 4, 4)).name == "清明节"
    assert is_working_day(D(2025, 5, 31)).name == "端午节"
    assert is_working_day(D(2024, 9, 17)).name == "中秋节"


# --- deadlines --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # Spring Festival 2024: 9 Feb (除夕, a Friday) was a working day, 10–17 off,
        # Sunday 18 Feb a make-up working day.
        (D(2024, 2, 8), 1, D(2024, 2, 9)),
        (D(2024, 2, 8), 2, D(2024, 2, 18)),
        (D(2024, 2, 8), 3, D(2024, 2, 19)),
        # Spring Festival 2025: 28 Jan – 4 Feb off, Saturday 8 Feb working.
        (D(2025, 1, 24), 1, D(2025, 1, 26)),  # Sunday 26 Jan is a make-up day
        (D(2025, 1, 26), 1, D(2025, 1, 27)),
        (D(2025, 1, 27), 1, D(2025, 2, 5)),
        (D(2025, 2, 5), 3, D(2025, 2, 8)),  # Thursday, Friday, make-up Saturday
        # National Day and Mid-autumn 2025: 1–8 Oct off, Saturday 11 Oct working.
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 9, 30), 3, D(2025, 10, 11)),
        (D(2025, 9, 30), 4, D(2025, 10, 13)),
        # Spring Festival 2026: 15–23 Feb off, Saturdays 14 and 28 Feb working.
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 13), 2, D(2026, 2, 24)),
        (D(2026, 2, 27), 1, D(2026, 2, 28)),
        # National Day 2026: 1–7 Oct off, Sunday 20 Sep and Saturday 10 Oct working.
        (D(2026, 9, 19), 1, D(2026, 9, 20)),
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),
        # A 20-working-day limit filed before Spring Festival 2026.
        (D(2026, 2, 2), 20, D(2026, 3, 6)),
    ],
)
def test_deadlines_across_holidays(start, n, due):
    answer = add_working_days(start, n)
    assert answer == calendar.DueDate(due=due, provisional=False)


def test_start_day_is_not_counted():
    # Filed on a Monday: one working day later is Tuesday, not Monday.
    assert add_working_days(D(2025, 3, 10), 1).due == D(2025, 3, 11)
    # Filed on a Saturday: the first working day after it is Monday.
    assert add_working_days(D(2025, 3, 15), 1).due == D(2025, 3, 17)


def test_zero_working_days_is_the_same_day_even_on_a_holiday():
    assert add_working_days(D(2024, 10, 1), 0) == calendar.DueDate(D(2024, 10, 1), False)
    assert add_working_days(D(2030, 10, 1), 0) == calendar.DueDate(D(2030, 10, 1), False)


def test_negative_working_days_are_refused():
    with pytest.raises(ValidationFailed) as caught:
        add_working_days(D(2025, 3, 10), -1)
    assert caught.value.errors[0].field == "working_days"
    assert caught.value.errors[0].rule == "min_value"


def test_datetimes_and_wrong_types_are_refused():
    with pytest.raises(TypeError):
        add_working_days(dt.datetime(2025, 3, 10, 9, 0), 1)
    with pytest.raises(TypeError):
        is_working_day("2025-03-10")
    with pytest.raises(TypeError):
        add_working_days(D(2025, 3, 10), 1.0)
    with pytest.raises(TypeError):
        add_working_days(D(2025, 3, 10), True)


def test_a_due_date_past_the_last_representable_day_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        add_working_days(D(9999, 12, 30), 5)
    assert caught.value.errors[0].rule == "out_of_range"


# --- counting ---------------------------------------------------------------------------
def test_counting_between_dates():
    assert working_days_between(D(2024, 2, 8), D(2024, 2, 19)) == calendar.WorkingDayCount(3, False)
    assert working_days_between(D(2025, 3, 10), D(2025, 3, 10)).days == 0
    # Reversed: the working days left, negative once the due date has passed.
    assert working_days_between(D(2024, 2, 19), D(2024, 2, 8)).days == -3


def test_counting_a_whole_year_matches_the_package():
    expected = len(chinese_calendar.get_workdays(D(2026, 1, 1), D(2026, 12, 31)))
    assert working_days_between(D(2025, 12, 31), D(2026, 12, 31)).days == expected


def test_counting_across_years():
    # 31 Dec 2024 not counted; 2025 from 1 Jan (holiday) to 3 Jan: Thursday and Friday.
    assert working_days_between(D(2024, 12, 31), D(2025, 1, 3)).days == 2


# --- the provisional rule ---------------------------------------------------------------
def test_a_year_without_official_schedule_is_provisional():
    info = is_working_day(D(2027, 3, 10))
    assert info.working is True and info.provisional is True


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (D(2027, 1, 1), "元旦"),
        (D(2027, 5, 1), "劳动节"),
        (D(2027, 5, 2), "劳动节"),
        (D(2027, 10, 1), "国庆节"),
        (D(2027, 10, 2), "国庆节"),
        (D(2027, 10, 3), "国庆节"),
    ],
)
def test_provisional_years_keep_the_fixed_date_holidays(day, name):
    assert is_working_day(day) == calendar.DayInfo(day, False, name, True)


def test_provisional_years_do_not_guess_lunar_holidays():
    # Spring Festival 2027 falls on 6 Feb; without the notice the weekdays stay working.
    assert is_working_day(D(2027, 2, 8)).working is True
    assert is_working_day(D(2027, 10, 4)).working is True  # Monday after 1–3 Oct


def test_years_before_the_seed_are_provisional_too():
    assert is_working_day(D(2003, 10, 2)) == calendar.DayInfo(D(2003, 10, 2), False, "国庆节", True)


def test_a_deadline_reaching_into_a_provisional_year_is_marked():
    # 31 Dec 2026 (Thursday), then 1 Jan 2027 off by the fixed-date rule, 4 and 5 Jan.
    answer = add_working_days(D(2026, 12, 30), 3)
    assert answer == calendar.DueDate(D(2027, 1, 5), provisional=True)
    assert add_working_days(D(2026, 12, 28), 3).provisional is False  # stays in 2026
    assert working_days_between(D(2026, 12, 1), D(2027, 1, 5)).provisional is True
    assert working_days_between(D(2026, 12, 1), D(2026, 12, 31)).provisional is False


def test_days_entered_for_an_unofficial_year_win_over_the_rule():
    year = CalendarYear.objects.create(year=2027, official=False)
    CalendarDay.objects.create(
        calendar_year=year, date=D(2027, 2, 8), working=False, kind="holiday", name="春节"
    )
    calendar.invalidate()
    assert is_working_day(D(2027, 2, 8)) == calendar.DayInfo(D(2027, 2, 8), False, "春节", True)
    assert is_working_day(D(2027, 10, 1)).working is False  # the rule still fills the rest


def test_an_official_year_uses_only_its_stored_days():
    year = CalendarYear.objects.create(year=2027, official=True, source="国办发明电〔2026〕1号")
    CalendarDay.objects.create(
        calendar_year=year, date=D(2027, 2, 8), working=False, kind="holiday", name="春节"
    )
    calendar.invalidate()
    assert is_working_day(D(2027, 2, 8)) == calendar.DayInfo(D(2027, 2, 8), False, "春节", False)
    assert is_working_day(D(2027, 10, 1)) == calendar.DayInfo(D(2027, 10, 1), True, "", False)


# --- properties -------------------------------------------------------------------------
dates = st.dates(min_value=D(2003, 6, 1), max_value=D(2028, 6, 30))
_settings = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_settings
@given(start=dates, n=st.integers(min_value=1, max_value=400))
def test_due_date_is_a_working_day_n_working_days_later(start, n):
    answer = add_working_days(start, n)
    assert answer.due > start
    assert is_working_day(answer.due).working
    assert working_days_between(start, answer.due).days == n


@_settings
@given(start=dates, n=st.integers(min_value=0, max_value=400))
def test_counting_undoes_adding(start, n):
    assert working_days_between(start, add_working_days(start, n).due).days == n


@_settings
@given(a=dates, b=dates)
def test_adding_undoes_counting_on_working_days(a, b):
    start, end = min(a, b), max(a, b)
    while not is_working_day(end).working:
        end += dt.timedelta(days=1)
    count = working_days_between(start, end)
    assert add_working_days(start, count.days).due == end
    assert working_days_between(end, start).days == -count.days


@_settings
@given(a=dates, span=st.integers(min_value=0, max_value=120))
def test_counting_matches_a_day_by_day_walk(a, span):
    end = a + dt.timedelta(days=span)
    walk = 0
    day = a
    while day < end:
        day += dt.timedelta(days=1)
        walk += is_working_day(day).working
    assert working_days_between(a, end).days == walk


# --- the in-memory copy -----------------------------------------------------------------
def test_answers_come_from_memory_without_queries(django_assert_num_queries):
    add_working_days(D(2025, 1, 2), 1)  # load
    with django_assert_num_queries(0):
        add_working_days(D(2024, 1, 2), 400)
        working_days_between(D(2004, 1, 1), D(2026, 12, 31))
        is_working_day(D(2026, 10, 1))


def test_other_processes_changes_are_noticed_by_the_fingerprint(settings):
    # A write that did not pass through this process's services (another worker, the
    # database shell): found by the fingerprint check, here made on every call.
    settings.YICIBAN = {**settings.YICIBAN, "CALENDAR_RECHECK_SECONDS": 0}
    assert is_working_day(D(2026, 3, 2)).working is True
    year = CalendarYear.objects.get(year=2026)
    CalendarDay.objects.create(
        calendar_year=year, date=D(2026, 3, 2), working=False, kind="holiday", name="特别休息日"
    )
    assert is_working_day(D(2026, 3, 2)) == calendar.DayInfo(
        D(2026, 3, 2), False, "特别休息日", False
    )
    CalendarDay.objects.filter(date=D(2026, 3, 2)).delete()
    assert is_working_day(D(2026, 3, 2)).working is True


def test_within_the_recheck_interval_the_copy_is_kept(settings):
    settings.YICIBAN = {**settings.YICIBAN, "CALENDAR_RECHECK_SECONDS": 3600}
    assert is_working_day(D(2026, 3, 2)).working is True
    year = CalendarYear.objects.get(year=2026)
    CalendarDay.objects.create(
        calendar_year=year, date=D(2026, 3, 2), working=False, kind="holiday", name="特别休息日"
    )
    assert is_working_day(D(2026, 3, 2)).working is True  # not yet seen: no query was made
    calendar.invalidate()
    assert is_working_day(D(2026, 3, 2)).working is False
