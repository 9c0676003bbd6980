"""The general counter (综合受理): acceptance starts the clocks and routes each item by its
process template; 容缺 acceptance; the ONE supplement notice; refusal; withdrawal."""

import datetime as dt

import pytest
import time_machine

from tests.cases.helpers import restaurant_form, restaurant_materials, submit_restaurant, upload
from yiciban.cases import services
from yiciban.cases.models import (
    CaseEvent,
    CaseState,
    ItemState,
    MaterialStatus,
    SupplementNotice,
    Task,
)
from yiciban.cases.services import MaterialInput
from yiciban.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yiciban.notifications.models import Notification

MONDAY = "2026-03-02 09:00 +0800"


@pytest.fixture
def case(world):
    return submit_restaurant(world).case


def test_acceptance_starts_every_clock_and_routes_each_item(world, case):
    with time_machine.travel(MONDAY, tick=False):
        accepted = services.case_accept(actor=world.clerk, case_id=case.pk)
    assert accepted.state == CaseState.IN_PROGRESS
    assert accepted.accepted_by == world.clerk
    items = {i.name: i for i in accepted.items.all()}
    registration = items["市场主体设立登记"]
    food = items["食品经营许可"]
    fire = items["公众聚集场所投入使用、营业前消防安全检查"]
    alcohol = items["酒类经营备案"]
    for item in items.values():
        assert item.started_on == dt.date(2026, 3, 2)
    # 核验合一: one step, the approver's
    assert (registration.state, registration.step) == (ItemState.APPROVING, "review_approve")
    assert registration.due_on == dt.date(2026, 3, 3)
    assert registration.tasks.get().role == "approver"
    # standard with inspection: the reviewer first
    assert (food.state, food.due_on) == (ItemState.REVIEWING, dt.date(2026, 3, 11))
    assert food.tasks.get().role == "reviewer"
    # commitment: approved on the signed commitment, checked within 20 working days
    assert fire.state == ItemState.APPROVED and fire.decision.basis == "commitment"
    post_check = fire.tasks.get()
    assert (post_check.kind, post_check.role) == ("post_check", "inspector")
    assert post_check.due_on == dt.date(2026, 3, 30)
    # filing: done at the counter
    assert alcohol.state == ItemState.APPROVED and alcohol.decision.basis == "filing"
    assert alcohol.decision.decided_by == world.clerk
    assert Notification.objects.filter(kind="cases.accepted", recipient=world.zhangsan_user)


def test_acceptance_twice_is_a_conflict(world, case):
    services.case_accept(actor=world.clerk, case_id=case.pk)
    with pytest.raises(Conflict) as exc:
        services.case_accept(actor=world.clerk, case_id=case.pk)
    assert exc.value.code == "invalid_state"
    assert Task.objects.filter(case=case, kind="review").count() == 1


@pytest.mark.parametrize("who", ["reviewer", "approver", "xiangyin_clerk", "zhangsan_user"])
def test_only_a_counter_clerk_of_the_place_accepts(world, case, who):
    with pytest.raises(PermissionDenied):
        services.case_accept(actor=getattr(world, who), case_id=case.pk)
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED


def test_a_forged_case_id_is_not_found(world, case):
    with pytest.raises(NotFound):
        services.case_accept(actor=world.clerk, case_id=case.pk + 1000)


def test_a_missing_deferrable_material_needs_deferral_or_supplement(world):
    case = submit_restaurant(world, skip=("food.equipment_list",)).case
    with pytest.raises(ValidationFailed) as exc:
        services.case_accept(actor=world.clerk, case_id=case.pk)
    assert [(e.field, e.rule) for e in exc.value.errors] == [
        ("materials.food.equipment_list", "required")
    ]


def test_accepting_with_deferrals_sets_due_dates_and_holds_the_approval(world):
    case = submit_restaurant(world, skip=("food.equipment_list",)).case
    with time_machine.travel(MONDAY, tick=False):
        services.case_accept_with_deferrals(
            actor=world.clerk, case_id=case.pk, deferrals={"food.equipment_list": 3}
        )
    material = case.materials.get(kind_code="food.equipment_list")
    assert (material.status, material.due_on) == (MaterialStatus.DEFERRED, dt.date(2026, 3, 5))
    assert CaseEvent.objects.filter(case=case, kind="accepted_with_deferrals").exists()
    food = case.items.get(name="食品经营许可")
    review = food.tasks.get(kind="review")
    services.item_review(actor=world.reviewer, task_id=review.pk, opinion="approve")
    inspection = services.inspection_schedule(
        actor=world.inspector,
        case_id=case.pk,
        item_ids=[food.pk],
        scheduled_for=dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC),
    )
    services.inspection_record(
        actor=world.inspector, inspection_id=inspection.pk, result="passed", findings="合格"
    )
    approve = food.tasks.get(kind="approve")
    with pytest.raises(Conflict) as exc:
        services.item_approve(actor=world.approver, task_id=approve.pk)
    assert exc.value.code == "materials_deferred"
    document = upload(world.zhangsan_user, b"%PDF-1.4 equipment", "equipment.pdf")
    services.case_material_provide(
        actor=world.zhangsan_user,
        case_id=case.pk,
        kind="food.equipment_list",
        document_id=document.pk,
    )
    decision = services.item_approve(actor=world.approver, task_id=approve.pk)
    assert decision.outcome == "approve"


def test_a_key_material_cannot_be_deferred(world, case):
    services.case_request_supplement(
        actor=world.clerk, case_id=case.pk, missing=[{"kind": "food.application", "reason": "模糊"}]
    )
    document = upload(world.zhangsan_user, b"%PDF-1.4 clear copy", "clear.pdf")
    services.case_supplement_provide(
        actor=world.zhangsan_user,
        case_id=case.pk,
        materials=[MaterialInput(kind="food.application", document_id=document.pk)],
    )
    case.materials.filter(kind_code="id.legal_rep").update(status=MaterialStatus.MISSING)
    with pytest.raises(ValidationFailed) as exc:
        services.case_accept_with_deferrals(
            actor=world.clerk, case_id=case.pk, deferrals=["id.legal_rep"]
        )
    assert exc.value.errors[0].rule == "not_deferrable"


def test_one_supplement_notice_lists_everything_and_is_sent_once(world, case):
    notice = services.case_request_supplement(
        actor=world.clerk,
        case_id=case.pk,
        missing=[
            {"kind": "food.application", "reason": "未签名"},
            {"kind": "premises.layout", "reason": "缺少比例尺"},
            {"field": "form.base.premises.address", "reason": "地址不完整"},
        ],
        message="请一次补齐以下三项",
    )
    case.refresh_from_db()
    assert case.state == CaseState.SUPPLEMENT_REQUESTED
    assert [m.get("kind") or m.get("field") for m in notice.missing] == [
        "food.application",
        "premises.layout",
        "form.base.premises.address",
    ]
    assert case.materials.get(kind_code="premises.layout").status == MaterialStatus.MISSING
    sms = Notification.objects.get(kind="cases.supplement_requested")
    assert "食品经营许可申请书" in sms.body and "经营场所平面布局图" in sms.body
    with pytest.raises(Conflict):
        services.case_request_supplement(
            actor=world.clerk, case_id=case.pk, missing=[{"kind": "id.legal_rep"}]
        )
    assert SupplementNotice.objects.filter(case=case).count() == 1


def test_supplement_notice_entries_are_checked(world, case):
    with pytest.raises(ValidationFailed) as exc:
        services.case_request_supplement(
            actor=world.clerk,
            case_id=case.pk,
            missing=[{"kind": "no.such"}, {"field": "enterprise"}],
        )
    assert [(e.field, e.rule) for e in exc.value.errors] == [
        ("missing[0].kind", "unknown"),
        ("missing[1]", "shape"),
    ]


def test_the_supplement_must_answer_every_listed_material(world, case):
    services.case_request_supplement(
        actor=world.clerk,
        case_id=case.pk,
        missing=[{"kind": "food.application"}, {"kind": "premises.layout"}],
    )
    document = upload(world.zhangsan_user, b"%PDF-1.4 new application", "a.pdf")
    with pytest.raises(ValidationFailed) as exc:
        services.case_supplement_provide(
            actor=world.zhangsan_user,
            case_id=case.pk,
            materials=[MaterialInput(kind="food.application", document_id=document.pk)],
        )
    assert [(e.field, e.rule) for e in exc.value.errors] == [
        ("materials.premises.layout", "required")
    ]
    layout = upload(world.zhangsan_user, b"%PDF-1.4 new layout", "b.pdf")
    services.case_supplement_provide(
        actor=world.zhangsan_user,
        case_id=case.pk,
        materials=[
            MaterialInput(kind="food.application", document_id=document.pk),
            MaterialInput(kind="premises.layout", document_id=layout.pk),
        ],
    )
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert case.supplement_notice.resolved_at is not None
    services.case_accept(actor=world.clerk, case_id=case.pk)


def test_someone_else_cannot_answer_the_supplement(world, case):
    services.case_request_supplement(
        actor=world.clerk, case_id=case.pk, missing=[{"kind": "food.application"}]
    )
    with pytest.raises(PermissionDenied):
        services.case_supplement_provide(actor=world.lisi_user, case_id=case.pk, materials=[])


def test_refusing_acceptance_closes_every_item(world, case):
    refused = services.case_refuse_acceptance(
        actor=world.clerk, case_id=case.pk, reason="申请事项不属于本机关职权范围"
    )
    assert refused.state == CaseState.NOT_ACCEPTED
    assert set(refused.items.values_list("state", flat=True)) == {ItemState.NOT_ACCEPTED}
    with pytest.raises(ValidationFailed):
        services.case_refuse_acceptance(actor=world.clerk, case_id=case.pk, reason="")


def test_the_applicant_withdraws_before_any_decision(world):
    case = submit_restaurant(world, alcohol=False, seats=10).case
    services.case_accept(actor=world.clerk, case_id=case.pk)
    with pytest.raises(PermissionDenied):
        services.case_withdraw(actor=world.lisi_user, case_id=case.pk)
    withdrawn = services.case_withdraw(actor=world.zhangsan_user, case_id=case.pk, reason="不开了")
    assert withdrawn.state == CaseState.WITHDRAWN
    assert not Task.objects.filter(case=case, state__in=("open", "claimed")).exists()


def test_no_withdrawal_after_a_decision(world, case):
    services.case_accept(actor=world.clerk, case_id=case.pk)  # the filing is decided at once
    with pytest.raises(Conflict) as exc:
        services.case_withdraw(actor=world.zhangsan_user, case_id=case.pk)
    assert exc.value.code == "already_decided"


def test_commitment_not_signed_on_the_platform_falls_back_to_review(world):
    paper = upload(world.zhangsan_user, b"%PDF-1.4 paper commitment", "commitment.pdf")
    case = services.case_submit(
        actor=world.zhangsan_user,
        bundle_code="test-restaurant",
        answers={"seats": 80, "sells_alcohol": False},
        form_data=restaurant_form(world, alcohol=False),
        materials=[
            *restaurant_materials(world.zhangsan_user, alcohol=False),
            MaterialInput(kind="fire.commitment", document_id=paper.pk),
        ],
    ).case
    services.case_accept(actor=world.clerk, case_id=case.pk)
    fire = case.items.get(name="公众聚集场所投入使用、营业前消防安全检查")
    assert (fire.state, fire.on_fallback) == (ItemState.REVIEWING, True)
    assert fire.fallback_reason == "申请人未签署告知承诺书"
    assert fire.tasks.get().kind == "review"


def test_a_crash_during_acceptance_leaves_the_case_as_it_was(world, case, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("gateway down")

    monkeypatch.setattr(services, "notification_send", crash)
    with pytest.raises(RuntimeError):
        services.case_accept(actor=world.clerk, case_id=case.pk)
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED and case.accepted_at is None
    assert not Task.objects.filter(case=case).exists()
    assert not case.items.exclude(state=ItemState.SUBMITTED).exists()
    assert not case.items.filter(started_on__isnull=False).exists()
    assert not CaseEvent.objects.filter(case=case, kind="accepted").exists()


def test_acceptance_files_the_checked_uploads_into_the_applicants_archive(world, case):
    from yiciban.archive.models import Archive, ArchiveDocument
    from yiciban.catalog import reuse

    services.case_accept(actor=world.clerk, case_id=case.pk)
    archive = Archive.objects.get(person=world.zhangsan)
    filed = ArchiveDocument.objects.filter(archive=archive)
    uploaded = {m.kind_code: m.document.sha256 for m in case.materials.exclude(document=None)}
    assert {d.material_kind: d.sha256 for d in filed} == uploaded
    assert {(d.origin, d.checked_by_id) for d in filed} == {("counter_checked", world.clerk.pk)}
    # 一企一档: the next application finds them reusable instead of asking again
    subject = reuse.ArchiveSubject("person", world.zhangsan.id_number)
    hits = reuse.lookup_archive(subject, frozenset(uploaded), frozenset())
    assert set(hits.materials) == set(uploaded)


def test_a_second_case_with_the_same_scans_files_nothing_twice(world, case):
    from yiciban.archive.models import ArchiveDocument

    services.case_accept(actor=world.clerk, case_id=case.pk)
    before = ArchiveDocument.objects.count()
    second = submit_restaurant(world).case  # same bytes: the same stored documents
    services.case_accept(actor=world.clerk, case_id=second.pk)
    assert ArchiveDocument.objects.count() == before


def test_a_clerk_of_another_place_accepts_without_filing(world, case, monkeypatch):
    from yiciban.archive import services as archive_services
    from yiciban.archive.models import ArchiveDocument

    def refuse(**_kwargs):
        raise PermissionDenied("not here", code="archive_document_forbidden")

    monkeypatch.setattr(archive_services, "archive_document_add", refuse)
    accepted = services.case_accept(actor=world.clerk, case_id=case.pk)
    assert accepted.state == CaseState.IN_PROGRESS
    assert not ArchiveDocument.objects.exists()
