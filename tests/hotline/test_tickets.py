import datetime as dt

import pytest

from yiciban.core import crypto
from yiciban.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.hotline import selectors, services
from yiciban.hotline.models import (
    AssignmentOutcome,
    Satisfaction,
    Ticket,
    TicketKind,
    TicketStatus,
)
from yiciban.notifications.models import Notification, OutboxMessage

from .conftest import CALLER_PHONE


@pytest.fixture
def kb_entry(operator, huarong, market):
    return services.knowledge_entry_create(
        actor=operator,
        region=huarong,
        department=market,
        question="个体工商户营业执照办理需要哪些材料？",
        answer="经营者身份证、经营场所证明，到政务服务中心市场监管窗口办理，当场办结。",
        publish=True,
    )


def _sms_for(ticket, kind):
    notes = Notification.objects.filter(
        kind=kind, related_type="hotline.ticket", related_id=str(ticket.pk)
    )
    return OutboxMessage.objects.filter(notification__in=notes, channel="sms")


def test_logged_call_keeps_the_phone_encrypted_and_masked(logged_call):
    ticket = logged_call()
    raw = Ticket.objects.filter(pk=ticket.pk).values().get()
    assert CALLER_PHONE not in str(raw)
    assert ticket.caller_phone_masked == "138****5678"
    assert ticket.caller_phone == CALLER_PHONE
    assert ticket.caller_phone_index == crypto.blind_index(CALLER_PHONE, purpose="phone")
    assert ticket.status == TicketStatus.REGISTERED
    assert ticket.kind == TicketKind.CONSULTATION and ticket.channel == "phone"
    assert len(ticket.number) == 14 and ticket.number.isdigit()
    event = AuditEvent.objects.get(action="hotline.ticket_register", object_id=str(ticket.pk))
    assert CALLER_PHONE not in str(event.changes)
    assert event.changes["caller_phone"] == "138****5678"


def test_answer_from_knowledge_records_the_entry_and_texts_the_caller(
    logged_call, operator, kb_entry
):
    ticket = logged_call()
    ticket = services.ticket_answer_from_knowledge(actor=operator, ticket=ticket, entry=kb_entry)
    assert ticket.status == TicketStatus.ANSWERED
    assert ticket.knowledge_entry == kb_entry
    assert ticket.answer.startswith("经营者身份证")
    sms = _sms_for(ticket, "hotline.ticket_answered").get()
    assert sms.destination_masked == "138****5678"


def test_whole_lifecycle_dispatch_answer_follow_up(logged_call, operator, market, market_staff, at):
    at(dt.date(2025, 6, 9))  # a Monday
    ticket = logged_call(
        category="complaint",
        description="某超市销售过期食品",
        address="华容县章华镇人民路1号",
        attributes={"respondent": "某超市"},
    )
    assert ticket.kind == TicketKind.COMPLAINT
    ticket = services.ticket_dispatch(
        actor=operator, ticket=ticket, department=market, instructions="请核查处理"
    )
    assert ticket.status == TicketStatus.DISPATCHED and ticket.department == market
    assignment = selectors.open_assignment(ticket)
    deadline = selectors.assignment_deadline(assignment)
    assert assignment.limit_days == services.DEFAULT_TIME_LIMITS[TicketKind.COMPLAINT]
    assert deadline.due == dt.date(2025, 6, 23)  # 10 working days after Monday 9 June
    assert _sms_for(ticket, "hotline.ticket_dispatched").count() == 1
    assert selectors.ticket_actions(market_staff, ticket) == {"answer", "return"}
    assert selectors.ticket_actions(operator, ticket) == set()

    at(dt.date(2025, 6, 12))
    ticket = services.ticket_answer(
        actor=market_staff, ticket=ticket, answer="经核查属实，已责令下架并立案调查。"
    )
    assert ticket.status == TicketStatus.ANSWERED
    assignment.refresh_from_db()
    assert assignment.outcome == AssignmentOutcome.ANSWERED
    assert assignment.closed_on == dt.date(2025, 6, 12)
    assert _sms_for(ticket, "hotline.ticket_answered").count() == 1
    assert selectors.ticket_actions(operator, ticket) == {"follow_up"}

    ticket = services.ticket_follow_up(
        actor=operator, ticket=ticket, satisfaction=Satisfaction.SATISFIED, note="来电人认可"
    )
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    actions = [e.action for e in selectors.ticket_history(ticket)]
    assert actions == ["register", "dispatch", "answer", "follow_up"]
    assert selectors.ticket_actions(operator, ticket) == set()


def test_dissatisfied_ticket_reopens_once(logged_call, operator, market, market_staff):
    ticket = logged_call(category="suggest", description="建议县城增设公共自行车站点")
    ticket = services.ticket_dispatch(actor=operator, ticket=ticket, department=market)
    ticket = services.ticket_answer(
        actor=market_staff, ticket=ticket, answer="已转交相关部门研究。"
    )
    ticket = services.ticket_follow_up(
        actor=operator, ticket=ticket, satisfaction=Satisfaction.DISSATISFIED
    )
    assert selectors.ticket_actions(operator, ticket) == {"reopen"}
    ticket = services.ticket_reopen(actor=operator, ticket=ticket, reason="答复未解决实际问题")
    assert ticket.status == TicketStatus.REGISTERED and ticket.reopen_count == 1
    assert ticket.answer == "" and ticket.satisfaction == ""
    ticket = services.ticket_dispatch(actor=operator, ticket=ticket, department=market)
    ticket = services.ticket_answer(
        actor=market_staff, ticket=ticket, answer="已在城区新增三个站点。"
    )
    ticket = services.ticket_follow_up(
        actor=operator, ticket=ticket, satisfaction=Satisfaction.VERY_DISSATISFIED
    )
    with pytest.raises(Conflict) as again:
        services.ticket_reopen(actor=operator, ticket=ticket, reason="还是不满意")
    assert again.value.code == "reopen_limit"
    assert ticket.assignments.count() == 2


def test_satisfied_ticket_cannot_be_reopened(logged_call, operator, kb_entry):
    ticket = logged_call()
    ticket = services.ticket_answer_from_knowledge(actor=operator, ticket=ticket, entry=kb_entry)
    ticket = services.ticket_follow_up(
        actor=operator, ticket=ticket, satisfaction=Satisfaction.BASICALLY_SATISFIED
    )
    with pytest.raises(Conflict) as refused:
        services.ticket_reopen(actor=operator, ticket=ticket, reason="再办一次")
    assert refused.value.code == "reopen_not_dissatisfied"


@pytest.mark.parametrize(
    ("dispatched_on", "last_day", "first_refused"),
    [
        # Friday → the window closes on Monday; Tuesday is too late.
        (dt.date(2025, 6, 13), dt.date(2025, 6, 16), dt.date(2025, 6, 17)),
        # The day before National Day 2025 (holiday 1–8 October) → Thursday 9 October.
        (dt.date(2025, 9, 30), dt.date(2025, 10, 9), dt.date(2025, 10, 10)),
        # Saturday 27 September 2025 → Sunday 28 September is a make-up working day (调休).
        (dt.date(2025, 9, 27), dt.date(2025, 9, 28), dt.date(2025, 9, 29)),
    ],
)
def test_return_within_one_working_day(
    logged_call, operator, market, market_staff, social, at, dispatched_on, last_day, first_refused
):
    at(dispatched_on)
    on_time = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    late = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    assert selectors.return_window_closes_on(selectors.open_assignment(late)) == last_day

    at(last_day, hour=17)
    returned = services.ticket_return(
        actor=market_staff, ticket=on_time, reason="属人社部门职责，请改派"
    )
    assert returned.status == TicketStatus.RETURNED and returned.department is None
    assert selectors.ticket_actions(operator, returned) == {"answer_from_knowledge", "dispatch"}

    at(first_refused, hour=9)
    assert "return" not in selectors.ticket_actions(market_staff, late)
    with pytest.raises(Conflict) as refused:
        services.ticket_return(actor=market_staff, ticket=late, reason="不属本部门")
    assert refused.value.code == "return_window_closed"
    late.refresh_from_db()
    assert late.status == TicketStatus.DISPATCHED

    again = services.ticket_dispatch(actor=operator, ticket=returned, department=social)
    assert again.status == TicketStatus.DISPATCHED and again.department == social
    outcomes = list(again.assignments.order_by("id").values_list("outcome", flat=True))
    assert outcomes == [AssignmentOutcome.RETURNED, AssignmentOutcome.OPEN]


def test_return_needs_a_reason(logged_call, operator, market, market_staff):
    ticket = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    with pytest.raises(ValidationFailed) as bad:
        services.ticket_return(actor=market_staff, ticket=ticket, reason="  ")
    assert bad.value.errors[0].field == "reason"


def test_only_the_departments_staff_answer_or_return(
    logged_call, operator, market, social_staff, market_admin
):
    ticket = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    with pytest.raises(PermissionDenied):
        services.ticket_answer(actor=social_staff, ticket=ticket, answer="不是我们的")
    with pytest.raises(PermissionDenied):
        services.ticket_return(actor=operator, ticket=ticket, reason="话务员不能退回")
    ticket = services.ticket_answer(actor=market_admin, ticket=ticket, answer="部门管理员答复")
    assert ticket.status == TicketStatus.ANSWERED


def test_operator_actions_need_the_role_in_the_region(
    logged_call, lanshan_operator, market_staff, market, kb_entry, person
):
    ticket = logged_call()
    for actor in (lanshan_operator, market_staff, person):
        with pytest.raises(PermissionDenied):
            services.ticket_dispatch(actor=actor, ticket=ticket, department=market)
        with pytest.raises(PermissionDenied):
            services.ticket_answer_from_knowledge(actor=actor, ticket=ticket, entry=kb_entry)


def test_dispatch_outside_the_region_is_refused(logged_call, operator, lanshan_market):
    ticket = logged_call()
    with pytest.raises(ValidationFailed) as bad:
        services.ticket_dispatch(actor=operator, ticket=ticket, department=lanshan_market)
    assert bad.value.errors[0].field == "department"
    assert bad.value.errors[0].rule == "out_of_region"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REGISTERED and not ticket.assignments.exists()


def test_transitions_from_the_wrong_state_conflict(
    logged_call, operator, market, market_staff, kb_entry
):
    ticket = logged_call()
    with pytest.raises(Conflict):
        services.ticket_answer(actor=market_staff, ticket=ticket, answer="还没派单")
    with pytest.raises(Conflict):
        services.ticket_follow_up(actor=operator, ticket=ticket, satisfaction="satisfied")
    with pytest.raises(Conflict):
        services.ticket_reopen(actor=operator, ticket=ticket, reason="未办结")
    services.ticket_dispatch(actor=operator, ticket=ticket, department=market)
    with pytest.raises(Conflict):
        services.ticket_dispatch(actor=operator, ticket=ticket, department=market)
    with pytest.raises(Conflict):
        services.ticket_answer_from_knowledge(actor=operator, ticket=ticket, entry=kb_entry)


def test_stale_copies_lose_to_the_first_action(
    logged_call, operator, other_operator, market, social, kb_entry
):
    """Two operators opened the same ticket; the one who acts second gets 409."""
    ticket = logged_call()
    stale = Ticket.objects.get(pk=ticket.pk)
    services.ticket_dispatch(actor=operator, ticket=ticket, department=market)
    with pytest.raises(Conflict):
        services.ticket_dispatch(actor=other_operator, ticket=stale, department=social)
    with pytest.raises(Conflict):
        services.ticket_answer_from_knowledge(actor=other_operator, ticket=stale, entry=kb_entry)
    ticket.refresh_from_db()
    assert ticket.department == market and ticket.assignments.count() == 1


def test_follow_up_validation(logged_call, operator, kb_entry):
    ticket = services.ticket_answer_from_knowledge(
        actor=operator, ticket=logged_call(), entry=kb_entry
    )
    with pytest.raises(ValidationFailed) as bad:
        services.ticket_follow_up(actor=operator, ticket=ticket, satisfaction="happy")
    assert bad.value.errors[0].field == "satisfaction"


def test_answer_from_draft_entry_refused(logged_call, operator, huarong):
    draft = services.knowledge_entry_create(
        actor=operator, region=huarong, question="草稿问题", answer="草稿答复"
    )
    with pytest.raises(ValidationFailed) as bad:
        services.ticket_answer_from_knowledge(actor=operator, ticket=logged_call(), entry=draft)
    assert bad.value.errors[0].rule == "published"


def test_registration_validation(operator, huarong, categories):
    with pytest.raises(ValidationFailed) as bad:
        services.ticket_log_call(
            actor=operator,
            region=huarong,
            category=categories["complaint"],
            description="",
            caller_phone="12345",
            attributes={"loss": "maybe", "colour": "red"},
        )
    fields = {(e.field, e.rule) for e in bad.value.errors}
    assert ("description", "required") in fields
    assert ("caller_phone", "phone_format") in fields
    assert ("address", "location_required") in fields
    # required attributes are enforced for machine clients (see test_open311)
    assert ("attribute[respondent]", "required") not in fields
    assert ("attribute[loss]", "choice") in fields
    assert ("attribute[colour]", "unknown") in fields
    assert not Ticket.objects.exists()


def test_landline_caller_gets_no_sms(operator, huarong, categories, market):
    ticket = services.ticket_log_call(
        actor=operator,
        region=huarong,
        category=categories["consult"],
        description="咨询",
        caller_phone="0730-4221234",
    )
    assert ticket.caller_phone_masked == "073****1234"
    services.ticket_dispatch(actor=operator, ticket=ticket, department=market)
    assert not Notification.objects.exists()


def test_online_submission_belongs_to_the_person(person, huarong, categories, operator):
    ticket = services.ticket_submit_online(
        actor=person,
        region=huarong,
        category=categories["suggest"],
        description="建议延长政务大厅周末服务时间",
        caller_phone="13900001111",
    )
    assert ticket.channel == "online" and ticket.caller_user == person
    assert ticket.caller_name == "张三"
    assert list(selectors.tickets_of_person(person)) == [ticket]
    assert selectors.ticket_get(user=person, number=ticket.number) == ticket


def test_visibility(
    logged_call, operator, market, market_staff, social_staff, supervisor, lanshan_operator, person
):
    ticket = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    for user in (operator, market_staff, supervisor):
        assert selectors.ticket_get(user=user, number=ticket.number) == ticket
    for user in (social_staff, lanshan_operator, person):
        with pytest.raises(NotFound):
            selectors.ticket_get(user=user, number=ticket.number)


def test_caller_history_by_blind_index(logged_call, operator):
    first = logged_call()
    second = logged_call(description="再次来电询问进度")
    history = selectors.caller_history(operator, "138-1234-5678")
    assert {t.pk for t in history} == {first.pk, second.pk}
    assert selectors.caller_history(operator, "13900000000") == []


def test_time_limit_is_configurable(admin_user, logged_call, operator, market, at):
    services.ticket_time_limit_set(actor=admin_user, kind=TicketKind.CONSULTATION, working_days=2)
    at(dt.date(2025, 6, 9))
    ticket = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    deadline = selectors.assignment_deadline(selectors.open_assignment(ticket))
    assert deadline.due == dt.date(2025, 6, 11)
    with pytest.raises(ValidationFailed):
        services.ticket_time_limit_set(
            actor=admin_user, kind=TicketKind.CONSULTATION, working_days=0
        )
    with pytest.raises(PermissionDenied):
        services.ticket_time_limit_set(actor=operator, kind=TicketKind.CONSULTATION, working_days=3)


def test_department_queue_orders_by_urgency(logged_call, operator, market, market_staff, at):
    at(dt.date(2025, 6, 2))
    complaint = services.ticket_dispatch(
        actor=operator,
        ticket=logged_call(
            category="complaint", address="章华镇", attributes={"respondent": "某店"}
        ),
        department=market,
    )
    at(dt.date(2025, 6, 9))
    consult = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    at(dt.date(2025, 6, 13))
    rows = selectors.department_queue(market_staff)
    assert [r.ticket.pk for r in rows] == [consult.pk, complaint.pk]
    assert rows[0].deadline.status == "overdue"  # due 12 June
    # 2 June 2025 was the Dragon Boat holiday: ten working days run to 16 June.
    assert rows[1].deadline.due == dt.date(2025, 6, 16)
    assert (rows[1].deadline.remaining, rows[1].deadline.status) == (1, "warning")
    assert not rows[0].can_return
    assert selectors.department_queue(operator) == []


def test_supervisor_board_counts(
    logged_call, operator, market, social, market_staff, social_staff, supervisor, at, huarong
):
    at(dt.date(2025, 6, 2))
    overdue = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    late_answer = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    on_time = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=social)
    returned = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=social)
    at(dt.date(2025, 6, 3))
    services.ticket_answer(actor=social_staff, ticket=on_time, answer="已答复")
    services.ticket_return(actor=social_staff, ticket=returned, reason="不属本部门")
    at(dt.date(2025, 6, 10))
    services.ticket_answer(actor=market_staff, ticket=late_answer, answer="迟到的答复")
    board = selectors.supervisor_board(supervisor, region=huarong)
    rows = {row.department.pk: row for row in board.rows}
    assert (rows[market.pk].open, rows[market.pk].overdue) == (1, 1)
    assert (rows[market.pk].answered, rows[market.pk].answered_on_time) == (1, 0)
    assert rows[market.pk].on_time_rate == 0.0
    assert (rows[social.pk].returned, rows[social.pk].answered) == (1, 1)
    assert rows[social.pk].on_time_rate == 1.0
    assert [item.ticket.pk for item in board.overdue] == [overdue.pk]
    assert [item.ticket.pk for item in board.returned] == [returned.pk]
    assert board.totals.answered == 2
    with pytest.raises(PermissionDenied):
        selectors.supervisor_board(operator, region=huarong)
    with pytest.raises(ValidationFailed):
        selectors.supervisor_board(
            supervisor, region=huarong, since=dt.date(2025, 6, 10), until=dt.date(2025, 6, 1)
        )
