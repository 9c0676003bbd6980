"""Electronic supervision: each item's due date from core.deadlines.Clock across holidays and
make-up working days (调休), suspensions that overlap a holiday, the warning and overdue
status computed in SQL from the stored copies, queues sorted by urgency, the supervisor's
board, and who sees which case."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from tests.cases.helpers import ZHANGSAN_ID, submit_restaurant
from yiciban.cases import conf, deadlines, selectors, services
from yiciban.cases.models import CaseItem, Task
from yiciban.core.errors import NotFound, PermissionDenied

BEFORE_NATIONAL_DAY = "2025-09-26 10:00 +0800"  # a Friday; 2025-09-28 (Sun) is a make-up day


def _accept_on(world, when: str, **submit):
    case = submit_restaurant(world, alcohol=False, seats=10, **submit).case
    with time_machine.travel(when, tick=False):
        services.case_accept(actor=world.clerk, case_id=case.pk)
    case.refresh_from_db()
    return case


def _food(case) -> CaseItem:
    return case.items.get(name="食品经营许可")


def test_deadline_across_national_day_counts_the_make_up_working_days(world):
    case = _accept_on(world, BEFORE_NATIONAL_DAY)
    food = _food(case)
    # 7 working days after Fri 26 Sep 2025: Sun 28 (调休上班), Mon 29, Tue 30, [1–8 Oct off],
    # Thu 9, Fri 10, Sat 11 (调休上班), Mon 13
    assert food.started_on == dt.date(2025, 9, 26)
    assert food.due_on == dt.date(2025, 10, 13)
    assert not food.due_provisional
    view = deadlines.view(food, dt.date(2025, 10, 10))
    assert (view.remaining, view.status) == (2, "normal")
    assert deadlines.view(food, dt.date(2025, 10, 11)).status == "warning"
    assert deadlines.view(food, dt.date(2025, 10, 14)).status == "overdue"


def test_a_suspension_overlapping_a_holiday_adds_only_its_working_days(world):
    case = _accept_on(world, BEFORE_NATIONAL_DAY)
    food = _food(case)
    with time_machine.travel("2025-09-30 10:00 +0800", tick=False):
        suspension = services.suspension_start(
            actor=world.reviewer, item_id=food.pk, kind="expert_review", reason="组织专家评审"
        )
    with time_machine.travel("2025-10-09 10:00 +0800", tick=False):
        services.suspension_end(actor=world.reviewer, suspension_id=suspension.pk)
    food.refresh_from_db()
    # suspended 30 Sep – 9 Oct: of those days only 30 Sep and 9 Oct are working days
    assert food.due_on == dt.date(2025, 10, 15)
    task = food.tasks.get(kind="review")
    assert (task.due_on, task.suspended) == (dt.date(2025, 10, 15), False)


def test_sql_status_agrees_with_the_clock_every_day(world, settings):
    settings.YICIBAN = {**settings.YICIBAN, "CASES_WARNING_SHARE": 0.5}
    case = _accept_on(world, BEFORE_NATIONAL_DAY)
    food = _food(case)
    day = dt.date(2025, 9, 26)
    seen = set()
    while day <= dt.date(2025, 10, 20):
        row = selectors.task_queue(world.reviewer, role="reviewer", today=day).get(case_item=food)
        expected = deadlines.view(food, day).status
        assert row.deadline_status == expected, day
        seen.add(expected)
        day += dt.timedelta(days=1)
    assert seen == {"normal", "warning", "overdue"}


def test_queue_is_sorted_by_urgency(world):
    overdue = _accept_on(world, "2026-02-02 09:00 +0800")
    later = _accept_on(world, "2026-03-04 09:00 +0800")
    sooner = _accept_on(world, "2026-03-03 09:00 +0800")
    green = submit_restaurant(
        world,
        user=world.clerk,
        channel="counter",
        applicant_id_number=ZHANGSAN_ID,
        alcohol=False,
        seats=10,
        green_channel=True,
        green_channel_reason="重点项目",
    ).case
    with time_machine.travel("2026-03-09 09:00 +0800", tick=False):
        services.case_accept(actor=world.clerk, case_id=green.pk)  # 2 days: due 11 March
    suspended = _accept_on(world, "2026-03-02 09:00 +0800")
    with time_machine.travel("2026-03-05 09:00 +0800", tick=False):
        services.suspension_start(
            actor=world.reviewer, item_id=_food(suspended).pk, kind="hearing", reason="听证"
        )
    rows = list(selectors.task_queue(world.reviewer, role="reviewer", today=dt.date(2026, 3, 10)))
    order = [r.case_id for r in rows]
    assert order == [overdue.pk, green.pk, sooner.pk, later.pk, suspended.pk]
    statuses = [r.deadline_status for r in rows]
    assert statuses == ["overdue", "warning", "normal", "normal", "suspended"]
    mine = selectors.task_queue(world.reviewer, role="reviewer", mine=True)
    assert not mine.exists()
    row = selectors.task_row(rows[2], dt.date(2026, 3, 10))
    assert (row["due_on"], row["remaining"]) == (dt.date(2026, 3, 12), 2)


def test_each_department_sees_only_its_own_queue(world):
    _accept_on(world, "2026-03-02 09:00 +0800")
    assert selectors.task_queue(world.reviewer, role="reviewer").count() == 1
    assert selectors.task_queue(world.health_reviewer, role="reviewer").count() == 0
    assert selectors.task_queue(world.xiangyin_reviewer).count() == 0
    assert selectors.task_queue(world.approver, role="approver").count() == 1  # registration
    assert selectors.task_queue(world.admin, role="reviewer").count() == 1


def test_supervisor_board_counts_by_department(world):
    _accept_on(world, "2026-02-02 09:00 +0800")
    _accept_on(world, "2026-03-09 09:00 +0800")
    board = selectors.supervisor_board(world.supervisor, today=dt.date(2026, 3, 10))
    market = next(r for r in board if r["department_id"] == world.market.pk)
    assert (market["total"], market["overdue"], market["normal"]) == (4, 2, 1)
    assert market["warning"] == 1  # the registration of 9 March is due on 10 March
    assert board[0]["department_id"] == world.market.pk  # overdue departments first
    alerts = list(selectors.supervisor_alerts(world.supervisor, today=dt.date(2026, 3, 10)))
    assert [a.deadline_status for a in alerts] == ["overdue", "overdue", "warning"]
    with pytest.raises(PermissionDenied):
        selectors.supervisor_board(world.reviewer)
    assert selectors.supervisor_board(world.supervisor, region=world.xiangyin) == []


def test_counter_queue_shows_the_clerks_place_green_channel_first(world):
    plain = submit_restaurant(world).case
    green = submit_restaurant(
        world,
        user=world.clerk,
        channel="counter",
        applicant_id_number=ZHANGSAN_ID,
        green_channel=True,
        green_channel_reason="重点项目",
    ).case
    assert list(selectors.counter_queue(world.clerk)) == [green, plain]
    assert not selectors.counter_queue(world.xiangyin_clerk).exists()
    with pytest.raises(PermissionDenied):
        selectors.counter_queue(world.reviewer)


def test_who_sees_a_case(world):
    case = submit_restaurant(world).case
    for who in ("zhangsan_user", "clerk", "reviewer", "supervisor", "admin"):
        assert selectors.case_for(getattr(world, who), number=case.number) == case
    for who in ("lisi_user", "xiangyin_clerk", "xiangyin_reviewer"):
        with pytest.raises(NotFound):
            selectors.case_for(getattr(world, who), number=case.number)
    with pytest.raises(NotFound):
        selectors.case_for(world.zhangsan_user, number="430623-20990101-000001")
    assert list(selectors.cases_of_applicant(world.zhangsan_user)) == [case]
    assert not selectors.cases_of_applicant(world.lisi_user).exists()


def test_enterprise_cases_are_seen_by_whoever_may_act_for_it(world):
    case = submit_restaurant(
        world, user=world.lisi_user, enterprise_uscc=world.enterprise.uscc
    ).case
    assert selectors.case_for(world.lisi_user, number=case.number) == case
    assert list(selectors.cases_of_applicant(world.lisi_user)) == [case]


def test_case_status_tells_what_is_awaited(world):
    case = _accept_on(world, "2026-03-02 09:00 +0800")
    status = selectors.case_status(case, today=dt.date(2026, 3, 3))
    food = next(i for i in status["items"] if i["name"] == "食品经营许可")
    assert food["awaiting"] == "等待华容县市场监督管理局审查"
    assert food["deadline"]["due_on"] == dt.date(2026, 3, 11)
    assert food["deadline"]["remaining"] == 6
    assert status["awaiting"] == "各部门并联办理中"
    submitted = next(e for e in status["events"] if e["kind"] == "submitted")
    assert submitted["data"] == {}  # applicants see the history, not the internals
    assert submitted["actor"] == "zhangsan"
    staff = selectors.case_status(case, for_applicant=False)
    assert next(e for e in staff["events"] if e["kind"] == "submitted")["data"]["items"]


def test_green_channel_cut_below_sixty_percent_is_refused(settings):
    settings.YICIBAN = {**settings.YICIBAN, "CASES_GREEN_CHANNEL_CUT": 0.5}
    with pytest.raises(ImproperlyConfigured):
        conf.green_channel_cut()


def test_queue_rows_carry_the_same_copies_as_their_items(world):
    case = _accept_on(world, "2026-03-02 09:00 +0800")
    for task in Task.objects.filter(case=case).exclude(kind="post_check"):
        assert (task.due_on, task.warn_from) == (task.case_item.due_on, task.case_item.warn_from)
