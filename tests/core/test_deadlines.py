"""The shared deadline clock over the official 2024–2026 calendars."""

import datetime as dt

import pytest

from yiciban.core.deadlines import Clock, DeadlineStatus, Suspension
from yiciban.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db
D = dt.date


def test_due_date_without_suspension_skips_national_day_and_counts_makeup_saturday():
    # 2025-09-30 (Tue) + 3 working days: Oct 1–8 is the holiday, Sep 28 (Sun) and Oct 11 (Sat)
    # are make-up working days; so Oct 9, 10, 11.
    clock = Clock(started_on=D(2025, 9, 30), limit=3)
    assert clock.due_on(D(2025, 9, 30)).due == D(2025, 10, 11)


def test_zero_limit_is_due_the_same_day():
    assert Clock(started_on=D(2025, 3, 3), limit=0).due_on(D(2025, 3, 3)).due == D(2025, 3, 3)


def test_closed_suspension_pushes_due_date_by_the_working_days_it_covers():
    # 2025-03-03 (Mon) + 5 → 2025-03-10. Suspended Tue 4 – Thu 6: three working days → 13th.
    plain = Clock(started_on=D(2025, 3, 3), limit=5)
    suspended = Clock(
        started_on=D(2025, 3, 3), limit=5, suspensions=[Suspension(D(2025, 3, 4), D(2025, 3, 6))]
    )
    assert plain.due_on(D(2025, 3, 3)).due == D(2025, 3, 10)
    assert suspended.due_on(D(2025, 3, 20)).due == D(2025, 3, 13)


def test_suspension_over_a_holiday_only_counts_its_working_days():
    # Suspended over the 2025 National Day week (Sep 29 – Oct 10): the holiday days Oct 1–8
    # would not have counted anyway; Sep 29, 30 and Oct 9, 10 did, and the make-up Sunday
    # Sep 28 lies before the suspension.
    start = D(2025, 9, 26)
    plain = Clock(started_on=start, limit=10)
    suspended = Clock(
        started_on=start, limit=10, suspensions=[Suspension(D(2025, 9, 29), D(2025, 10, 10))]
    )
    base_due = plain.due_on(start).due
    pushed = suspended.due_on(D(2025, 11, 1)).due
    from yiciban.core.calendar import working_days_between

    assert working_days_between(base_due, pushed).days == 4


def test_suspension_after_the_due_date_does_not_count():
    clock = Clock(
        started_on=D(2025, 3, 3), limit=2, suspensions=[Suspension(D(2025, 3, 20), D(2025, 3, 21))]
    )
    assert clock.due_on(D(2025, 3, 25)).due == D(2025, 3, 5)


def test_open_suspension_runs_until_today_and_reports_suspended():
    clock = Clock(started_on=D(2025, 3, 3), limit=5, suspensions=[Suspension(D(2025, 3, 4))])
    assert clock.status(D(2025, 3, 5)) == DeadlineStatus.SUSPENDED
    # As of Wed 5th: Tue 4 and Wed 5 suspended → due moves from Mon 10 to Wed 12.
    assert clock.due_on(D(2025, 3, 5)).due == D(2025, 3, 12)


def test_extension_adds_days():
    clock = Clock(started_on=D(2025, 3, 3), limit=5, extension_days=5)
    assert clock.due_on(D(2025, 3, 3)).due == D(2025, 3, 17)


def test_status_normal_warning_overdue():
    clock = Clock(started_on=D(2025, 3, 3), limit=5)  # due Mon 10th
    assert clock.status(D(2025, 3, 4)) == DeadlineStatus.NORMAL
    assert clock.remaining(D(2025, 3, 7)) == 1
    assert clock.status(D(2025, 3, 7)) == DeadlineStatus.WARNING
    assert clock.status(D(2025, 3, 10)) == DeadlineStatus.WARNING
    assert clock.remaining(D(2025, 3, 11)) == -1
    assert clock.status(D(2025, 3, 11)) == DeadlineStatus.OVERDUE


def test_warning_share_of_the_limit():
    clock = Clock(started_on=D(2025, 3, 3), limit=20)
    today = D(2025, 3, 24)  # 5 working days before the due date (Mon 31st)
    assert clock.remaining(today) == 5
    assert clock.status(today) == DeadlineStatus.NORMAL
    assert clock.status(today, warning_share=0.25) == DeadlineStatus.WARNING


def test_natural_days():
    clock = Clock(started_on=D(2025, 9, 30), limit=3, unit="natural")
    assert clock.due_on(D(2025, 9, 30)).due == D(2025, 10, 3)
    assert clock.remaining(D(2025, 10, 5)) == -2


def test_provisional_year_is_flagged():
    assert Clock(started_on=D(2027, 3, 1), limit=5).due_on(D(2027, 3, 1)).provisional


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": -1}, "limit"),
        ({"limit": 1, "extension_days": -2}, "extension_days"),
        ({"limit": 1, "unit": "hours"}, "unit"),
        ({"limit": 1, "suspensions": [Suspension(D(2025, 3, 5), D(2025, 3, 4))]}, "suspensions"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ValidationFailed) as err:
        Clock(started_on=D(2025, 3, 3), **kwargs)
    assert err.value.errors[0].field == field
