"""The back office: claim, review, joint site inspection, approve/refuse (一审一核),
post-approval checks, suspensions and extensions — and delivery of everything at once."""

import datetime as dt

import pytest
import time_machine

from tests.cases.helpers import submit_restaurant
from yiciban.cases import hooks, services
from yiciban.cases.models import (
    CaseOutput,
    CaseState,
    Inspection,
    InspectionState,
    ItemState,
    Suspension,
    Task,
    TaskState,
)
from yiciban.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

WHEN = dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC)


@pytest.fixture
def accepted(world):
    case = submit_restaurant(world).case
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False):
        return services.case_accept(actor=world.clerk, case_id=case.pk)


def _item(case, name):
    return case.items.get(name=name)


def _task(case, name, kind):
    return _item(case, name).tasks.get(kind=kind, state__in=("open", "claimed"))


def _through_inspection(world, case):
    food = _item(case, "食品经营许可")
    services.item_review(
        actor=world.reviewer, task_id=_task(case, "食品经营许可", "review").pk, opinion="approve"
    )
    inspection = services.inspection_schedule(
        actor=world.inspector, case_id=case.pk, item_ids=[food.pk], scheduled_for=WHEN
    )
    services.inspection_record(
        actor=world.inspector, inspection_id=inspection.pk, result="passed", findings="布局合理"
    )
    return _task(case, "食品经营许可", "approve")


def test_a_full_case_is_decided_in_parallel_and_delivered_as_one(world, accepted):
    case = accepted
    services.item_approve(
        actor=world.approver, task_id=_task(case, "市场主体设立登记", "approve").pk
    )
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS  # the food licence is still under way
    approve = _through_inspection(world, case)
    decision = services.item_approve(actor=world.approver, task_id=approve.pk, comment="符合条件")
    assert (decision.basis, decision.decided_by) == ("manual", world.approver)
    case.refresh_from_db()
    assert case.state == CaseState.READY_FOR_DELIVERY and case.decided_at
    delivery = services.case_deliver(actor=world.clerk, case_id=case.pk)
    case.refresh_from_db()
    assert case.state == CaseState.DELIVERED and delivery.method == "counter"
    outputs = {o.name: o for o in CaseOutput.objects.filter(case=case)}
    assert set(outputs) == {
        "营业执照",
        "食品经营许可证",
        "消防安全检查意见书",
        "酒类经营备案登记表（回执）",
    }
    assert outputs["酒类经营备案登记表（回执）"].kind == "filing_receipt"
    assert outputs["营业执照"].number == f"{case.number}-01"
    with pytest.raises(Conflict):
        services.case_deliver(actor=world.clerk, case_id=case.pk)


def test_delivery_waits_for_every_item(world, accepted):
    with pytest.raises(Conflict) as exc:
        services.case_deliver(actor=world.clerk, case_id=accepted.pk)
    assert exc.value.code == "invalid_state"


def test_a_registered_output_issuer_makes_the_licences(world, accepted):
    def issuer(request):
        if request.case_item.name == "营业执照" or request.decision.basis == "filing":
            return None
        return hooks.IssuedOutput(number=f"EL-{request.case_item.code[-6:]}", reference="e-lic:1")

    case = accepted
    services.item_approve(
        actor=world.approver, task_id=_task(case, "市场主体设立登记", "approve").pk
    )
    services.item_approve(actor=world.approver, task_id=_through_inspection(world, case).pk)
    hooks.register_output_issuer(issuer)
    try:
        services.case_deliver(actor=world.zhangsan_user, case_id=case.pk, method="electronic")
    finally:
        hooks.unregister_output_issuer(issuer)
    food = CaseOutput.objects.get(case=case, name="食品经营许可证")
    assert food.number.startswith("EL-") and food.reference == "e-lic:1"
    filing = CaseOutput.objects.get(case=case, kind="filing_receipt")
    assert filing.reference == ""


def test_only_the_counter_delivers_at_the_counter(world, accepted):
    case = accepted
    services.item_approve(
        actor=world.approver, task_id=_task(case, "市场主体设立登记", "approve").pk
    )
    services.item_approve(actor=world.approver, task_id=_through_inspection(world, case).pk)
    with pytest.raises(PermissionDenied):
        services.case_deliver(actor=world.zhangsan_user, case_id=case.pk, method="counter")
    with pytest.raises(ValidationFailed) as exc:
        services.case_deliver(actor=world.clerk, case_id=case.pk, method="mail")
    assert exc.value.errors[0].field == "recipient"


def test_refusal_carries_the_legal_basis_and_how_to_appeal(world, accepted):
    case = accepted
    services.item_approve(
        actor=world.approver, task_id=_task(case, "市场主体设立登记", "approve").pk
    )
    review = _task(case, "食品经营许可", "review")
    with pytest.raises(ValidationFailed) as exc:
        services.item_review(actor=world.reviewer, task_id=review.pk, opinion="refuse")
    assert exc.value.errors[0].field == "comment"
    services.item_review(
        actor=world.reviewer, task_id=review.pk, opinion="refuse", comment="场所不符合要求"
    )
    inspection = services.inspection_schedule(
        actor=world.inspector,
        case_id=case.pk,
        item_ids=[_item(case, "食品经营许可").pk],
        scheduled_for=WHEN,
    )
    services.inspection_record(
        actor=world.inspector, inspection_id=inspection.pk, result="failed", findings="无洗消设施"
    )
    approve = _task(case, "食品经营许可", "approve")
    with pytest.raises(ValidationFailed) as exc:
        services.item_refuse(actor=world.approver, task_id=approve.pk, reasons="x", legal_basis="")
    assert exc.value.errors[0].field == "legal_basis"
    decision = services.item_refuse(
        actor=world.approver,
        task_id=approve.pk,
        reasons="经营场所无洗消设施",
        legal_basis="《食品经营许可管理办法》第十一条",
    )
    assert decision.outcome == "refuse" and "行政复议" in decision.appeal_info
    services.case_deliver(actor=world.clerk, case_id=case.pk)
    refusal = CaseOutput.objects.get(case=case, case_item__name="食品经营许可")
    assert refusal.kind == "refusal"


def test_the_reviewer_may_not_approve_the_same_item(world, accepted):
    case = accepted
    food = _item(case, "食品经营许可")
    services.item_review(
        actor=world.reviewer2, task_id=_task(case, "食品经营许可", "review").pk, opinion="approve"
    )
    inspection = services.inspection_schedule(
        actor=world.inspector, case_id=case.pk, item_ids=[food.pk], scheduled_for=WHEN
    )
    services.inspection_record(
        actor=world.inspector, inspection_id=inspection.pk, result="passed", findings="合格"
    )
    approve = _task(case, "食品经营许可", "approve")
    with pytest.raises(PermissionDenied) as exc:
        services.item_approve(actor=world.reviewer2, task_id=approve.pk)
    assert exc.value.code == "reviewer_cannot_approve"
    approve.refresh_from_db()
    assert approve.state == TaskState.OPEN
    services.item_approve(actor=world.approver, task_id=approve.pk)


def test_merged_review_is_one_step_by_one_person(world, accepted):
    task = _task(accepted, "市场主体设立登记", "approve")
    decision = services.item_approve(actor=world.reviewer2, task_id=task.pk)
    assert decision.basis == "merged"


@pytest.mark.parametrize("who", ["health_reviewer", "xiangyin_reviewer", "clerk", "zhangsan_user"])
def test_acting_out_of_scope_or_role_is_forbidden(world, accepted, who):
    review = _task(accepted, "食品经营许可", "review")
    with pytest.raises(PermissionDenied):
        services.task_claim(actor=getattr(world, who), task_id=review.pk)
    with pytest.raises(PermissionDenied):
        services.item_review(actor=getattr(world, who), task_id=review.pk, opinion="approve")


def test_a_forged_task_id_is_not_found(world, accepted):
    with pytest.raises(NotFound):
        services.task_claim(actor=world.reviewer, task_id=987_654)


def test_a_claimed_task_belongs_to_its_claimer(world, accepted):
    review = _task(accepted, "食品经营许可", "review")
    claimed = services.task_claim(actor=world.reviewer, task_id=review.pk)
    assert claimed.state == TaskState.CLAIMED and claimed.assignee == world.reviewer
    assert services.task_claim(actor=world.reviewer, task_id=review.pk).pk == review.pk
    with pytest.raises(Conflict) as exc:
        services.task_claim(actor=world.reviewer2, task_id=review.pk)
    assert exc.value.code == "task_claimed" and "market_reviewer" in str(exc.value)
    with pytest.raises(Conflict):
        services.item_review(actor=world.reviewer2, task_id=review.pk, opinion="approve")
    services.task_release(actor=world.reviewer, task_id=review.pk)
    services.item_review(actor=world.reviewer2, task_id=review.pk, opinion="approve")


def test_a_stale_version_is_refused(world, accepted):
    review = _task(accepted, "食品经营许可", "review")
    seen = review.version
    services.task_claim(actor=world.reviewer, task_id=review.pk)
    services.task_release(actor=world.reviewer, task_id=review.pk)
    with pytest.raises(Conflict) as exc:
        services.task_claim(actor=world.reviewer2, task_id=review.pk, version=seen)
    assert exc.value.code == "stale_version"


def test_acting_on_a_finished_task_says_what_happened(world, accepted):
    review = _task(accepted, "食品经营许可", "review")
    services.item_review(actor=world.reviewer, task_id=review.pk, opinion="approve")
    with pytest.raises(Conflict) as exc:
        services.item_review(actor=world.reviewer2, task_id=review.pk, opinion="approve")
    assert exc.value.code == "task_done" and "approve" in str(exc.value)


def test_no_decision_on_an_unaccepted_item(world):
    case = submit_restaurant(world).case
    food = _item(case, "食品经营许可")
    assert not Task.objects.filter(case=case).exists()  # nothing to decide on yet
    with pytest.raises(Conflict):
        services.suspension_start(
            actor=world.reviewer, item_id=food.pk, kind="correction", reason="x"
        )
    with pytest.raises(Conflict):
        services.extension_grant(actor=world.approver, item_id=food.pk, days=3, reason="复杂")


def test_a_task_of_one_kind_cannot_be_used_for_another(world, accepted):
    review = _task(accepted, "食品经营许可", "review")
    with pytest.raises(Conflict) as exc:  # reviewer2 is also an approver of the department
        services.item_approve(actor=world.reviewer2, task_id=review.pk)
    assert exc.value.code == "wrong_task_kind"


def test_joint_inspection_one_visit_one_notice_one_reinspection(world):
    case = submit_restaurant(world).case
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False):
        services.case_accept(actor=world.clerk, case_id=case.pk)
    food = _item(case, "食品经营许可")
    services.item_review(
        actor=world.reviewer, task_id=_task(case, "食品经营许可", "review").pk, opinion="approve"
    )
    with time_machine.travel("2026-03-03 09:00 +0800", tick=False):
        inspection = services.inspection_schedule(
            actor=world.inspector, case_id=case.pk, item_ids=[food.pk], scheduled_for=WHEN
        )
        with pytest.raises(Conflict):  # one visit per item at a time
            services.inspection_schedule(
                actor=world.inspector, case_id=case.pk, item_ids=[food.pk], scheduled_for=WHEN
            )
        inspection = services.inspection_record(
            actor=world.inspector,
            inspection_id=inspection.pk,
            result="rectification",
            findings="排烟不畅",
            rectification_notice="加装排烟设施",
            rectification_days=5,
        )
    assert inspection.state == InspectionState.RECTIFICATION
    assert inspection.rectification_due == dt.date(2026, 3, 10)
    food.refresh_from_db()
    assert food.suspended and food.state == ItemState.INSPECTING
    with pytest.raises(Conflict):  # ONE rectification notice
        services.inspection_record(
            actor=world.inspector, inspection_id=inspection.pk, result="passed", findings="x"
        )
    with time_machine.travel("2026-03-05 09:00 +0800", tick=False):
        services.inspection_reinspect(
            actor=world.inspector, inspection_id=inspection.pk, passed=True, findings="已整改"
        )
    food.refresh_from_db()
    suspension = Suspension.objects.get(case_item=food)
    assert (suspension.kind, suspension.start, suspension.end) == (
        "inspection",
        dt.date(2026, 3, 3),
        dt.date(2026, 3, 5),
    )
    assert not food.suspended and food.state == ItemState.APPROVING
    assert food.due_on == dt.date(2026, 3, 16)  # 3 suspended working days pushed 11th → 16th
    with pytest.raises(Conflict):  # ONE re-inspection
        services.inspection_reinspect(
            actor=world.inspector, inspection_id=inspection.pk, passed=True, findings="again"
        )
    assert Inspection.objects.filter(case=case).count() == 1


def test_inspections_need_the_inspector_role(world, accepted):
    food = _item(accepted, "食品经营许可")
    services.item_review(
        actor=world.reviewer,
        task_id=_task(accepted, "食品经营许可", "review").pk,
        opinion="approve",
    )
    with pytest.raises(PermissionDenied):
        services.inspection_schedule(
            actor=world.reviewer, case_id=accepted.pk, item_ids=[food.pk], scheduled_for=WHEN
        )
    with pytest.raises(ValidationFailed):
        services.inspection_schedule(
            actor=world.inspector,
            case_id=accepted.pk,
            item_ids=[food.pk],
            scheduled_for=dt.datetime(2026, 3, 4, 10),  # naive
        )


def test_post_check_of_a_commitment(world, accepted):
    breaches = []

    def record_breach(item, findings):
        breaches.append(findings)

    hooks.register_commitment_breach_handler(record_breach)
    try:
        task = _task(accepted, "公众聚集场所投入使用、营业前消防安全检查", "post_check")
        with pytest.raises(PermissionDenied):  # the fire brigade's inspector, not the market's
            services.post_check_record(
                actor=world.inspector, task_id=task.pk, compliant=True, findings="x"
            )
        services.post_check_record(
            actor=world.admin, task_id=task.pk, compliant=False, findings="疏散通道被占用"
        )
    finally:
        hooks.unregister_commitment_breach_handler(record_breach)
    task.refresh_from_db()
    assert (task.state, task.outcome) == (TaskState.DONE, "breach")
    assert breaches == ["疏散通道被占用"]


def test_suspension_and_extension_move_the_due_date(world, accepted):
    food = _item(accepted, "食品经营许可")
    assert food.due_on == dt.date(2026, 3, 11)
    with time_machine.travel("2026-03-04 09:00 +0800", tick=False):
        suspension = services.suspension_start(
            actor=world.reviewer, item_id=food.pk, kind="correction", reason="补正身份证明"
        )
        food.refresh_from_db()
        assert food.suspended
        review = _task(accepted, "食品经营许可", "review")
        assert review.suspended  # the queue sees it too
        with pytest.raises(Conflict) as exc:
            services.item_review(actor=world.reviewer, task_id=review.pk, opinion="approve")
        assert exc.value.code == "item_suspended"
        with pytest.raises(Conflict):
            services.suspension_start(
                actor=world.reviewer, item_id=food.pk, kind="hearing", reason="again"
            )
    with time_machine.travel("2026-03-05 09:00 +0800", tick=False):
        services.suspension_end(actor=world.reviewer, suspension_id=suspension.pk)
        food.refresh_from_db()
        assert not food.suspended and food.due_on == dt.date(2026, 3, 13)
        with pytest.raises(PermissionDenied):
            services.extension_grant(actor=world.reviewer, item_id=food.pk, days=5, reason="复杂")
        with pytest.raises(ValidationFailed):
            services.extension_grant(actor=world.approver, item_id=food.pk, days=0, reason="复杂")
        services.extension_grant(actor=world.approver, item_id=food.pk, days=5, reason="需专家论证")
        food.refresh_from_db()
        assert (food.extension_days, food.due_on) == (5, dt.date(2026, 3, 20))
        with pytest.raises(Conflict):
            services.extension_grant(actor=world.approver, item_id=food.pk, days=1, reason="再延")


def test_suspension_dates_are_checked(world, accepted):
    food = _item(accepted, "食品经营许可")
    with time_machine.travel("2026-03-04 09:00 +0800", tick=False):
        for start in (dt.date(2026, 3, 1), dt.date(2026, 3, 5)):
            with pytest.raises(ValidationFailed) as exc:
                services.suspension_start(
                    actor=world.reviewer,
                    item_id=food.pk,
                    kind="correction",
                    reason="x",
                    start=start,
                )
            assert exc.value.errors[0].field == "start"
        with pytest.raises(ValidationFailed):
            services.suspension_start(
                actor=world.reviewer, item_id=food.pk, kind="holiday", reason="x"
            )
