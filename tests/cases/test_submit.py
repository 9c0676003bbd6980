"""case_submit: one application for a bundle or an item — validation named by path, materials
checked, idempotent retries, case numbers, assisted submissions, no half case on a crash."""

import re

import pytest
import time_machine
from django.db import IntegrityError

from tests.cases.helpers import (
    PDF,
    PNG,
    ZHANGSAN_ID,
    code_of,
    queued_notices,
    restaurant_form,
    restaurant_materials,
    run_case_notices,
    submit_restaurant,
    submit_single,
    upload,
)
from yiciban.cases import hooks, services
from yiciban.cases.models import (
    Case,
    CaseEvent,
    CaseItem,
    CaseMaterial,
    CaseState,
    Commitment,
    ItemState,
    MaterialStatus,
)
from yiciban.cases.services import MaterialInput
from yiciban.catalog import reuse
from yiciban.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.ledger.models import Entry as LedgerEntry
from yiciban.ledger.models import PendingSeq
from yiciban.notifications.models import Notification

NUMBER = re.compile(r"^430623-\d{8}-\d{6}$")


def _fields(exc: ValidationFailed) -> dict[str, str]:
    return {e.field: e.rule for e in exc.errors}


def test_bundle_submission_files_one_case_with_every_applicable_item(world):
    submission = submit_restaurant(world)
    case = submission.case
    assert submission.created
    assert NUMBER.match(case.number)
    assert case.state == CaseState.SUBMITTED
    assert case.applicant_person == world.zhangsan
    assert case.channel == "online"
    names = list(case.items.order_by("position").values_list("name", flat=True))
    assert names == [
        "市场主体设立登记",
        "食品经营许可",
        "公众聚集场所投入使用、营业前消防安全检查",
        "酒类经营备案",
    ]
    food = case.items.get(name="食品经营许可")
    assert food.item_version.item.implementation_code == code_of(world, "食品经营许可")
    assert food.process_template.code == "review_with_inspection"
    assert food.depends_on == [code_of(world, "市场主体设立登记")]
    assert (food.limit, food.unit, food.started_on) == (7, "working", None)
    statuses = dict(case.materials.values_list("kind_code", "status"))
    assert statuses["licence.business"] == MaterialStatus.SHARED  # fetched, never asked
    assert statuses["fire.commitment"] == MaterialStatus.SIGNED  # signed on the platform
    assert statuses["food.application"] == MaterialStatus.PROVIDED
    # id.legal_rep is asked by three items but kept once
    assert case.materials.filter(kind_code="id.legal_rep").count() == 1
    commitment = Commitment.objects.get(case=case)
    assert "消防" in commitment.text and len(commitment.text_sha256) == 64
    assert CaseEvent.objects.filter(case=case, kind="submitted").exists()
    assert (
        AuditEvent.objects.filter(action="cases.case_submit", object_id=str(case.pk)).count() == 1
    )
    # the applicant's notice is queued with the case and sent by the worker
    assert [n["kind"] for n in queued_notices()] == ["submitted"]
    assert not Notification.objects.filter(kind="cases.submitted").exists()
    assert run_case_notices() == 1
    notice = Notification.objects.get(recipient=world.zhangsan_user, kind="cases.submitted")
    assert case.number in notice.body and notice.link == f"/cases/{case.number}/"
    assert notice.outbox_messages.get().channel == "sms"  # 张三's phone is known
    assert run_case_notices() == 0  # sent once


def test_answers_decide_which_items_apply(world):
    case = submit_restaurant(world, alcohol=False, seats=10).case
    assert case.items.count() == 2
    assert not case.items.filter(name="酒类经营备案").exists()


def test_single_item_submission(world):
    document = upload(world.zhangsan_user)
    case = submit_single(
        world,
        "药品零售企业许可",
        {"enterprise_name": "华容县仁和大药房", "premises_address": "华容县章华镇"},
        materials=[MaterialInput(kind="drug.application", document_id=document.pk)],
    ).case
    assert case.item_version is not None and case.bundle_version is None
    assert case.items.get().department == world.health


def test_missing_and_invalid_fields_are_named_by_path(world):
    form = restaurant_form(world)
    del form["base"]["enterprise.name"]
    food = code_of(world, "食品经营许可")
    form[food]["premises.area_m2"] = -3
    form[food]["food.business_items"] = ["caviar"]
    with pytest.raises(ValidationFailed) as exc:
        services.case_submit(
            actor=world.zhangsan_user,
            bundle_code="test-restaurant",
            answers={"seats": 80, "sells_alcohol": True},
            form_data=form,
            materials=restaurant_materials(world.zhangsan_user),
        )
    fields = _fields(exc.value)
    assert fields["form.base.enterprise.name"] == "required"
    assert fields[f"form.{food}.premises.area_m2"] == "exclusiveMinimum"
    assert fields[f"form.{food}.food.business_items.0"] == "enum"
    assert Case.objects.count() == 0


def test_unanswered_required_question_is_named(world):
    with pytest.raises(ValidationFailed) as exc:
        services.case_submit(
            actor=world.zhangsan_user,
            bundle_code="test-restaurant",
            answers={"seats": 10},
            form_data=restaurant_form(world, alcohol=False, fire=False),
        )
    assert _fields(exc.value) == {"answers.sells_alcohol": "required"}


def test_wrong_answer_type_is_named(world):
    with pytest.raises(ValidationFailed) as exc:
        services.case_submit(
            actor=world.zhangsan_user,
            bundle_code="test-restaurant",
            answers={"seats": "many", "sells_alcohol": True},
        )
    assert _fields(exc.value)["answers.seats"] == "type"


@pytest.mark.parametrize(
    ("bundle", "item", "field", "rule"),
    [
        ("", "", "bundle", "one_of"),
        ("test-restaurant", "x", "bundle", "one_of"),
        ("no-such-bundle", "", "bundle", "unknown"),
        ("", "11430623NOSUCHITEM", "item", "unknown"),
    ],
)
def test_what_is_applied_for_must_be_one_known_thing(world, bundle, item, field, rule):
    with pytest.raises(ValidationFailed) as exc:
        services.case_submit(actor=world.zhangsan_user, bundle_code=bundle, item_code=item)
    assert _fields(exc.value) == {field: rule}


def test_a_missing_key_material_is_named(world):
    with pytest.raises(ValidationFailed) as exc:
        submit_restaurant(world, skip=("food.application",))
    assert _fields(exc.value) == {"materials.food.application": "required"}


def test_a_missing_deferrable_material_waits_for_the_counter(world):
    case = submit_restaurant(world, skip=("food.equipment_list",)).case
    material = case.materials.get(kind_code="food.equipment_list")
    assert (material.status, material.deferrable) == (MaterialStatus.MISSING, True)


def test_a_material_of_the_wrong_type_is_refused_by_content(world):
    materials = restaurant_materials(world.zhangsan_user)
    # a PNG named .pdf: the format comes from the bytes, and food.application takes PDF only
    image = upload(world.zhangsan_user, PNG, "application.pdf")
    materials = [
        MaterialInput(kind=m.kind, document_id=image.pk) if m.kind == "food.application" else m
        for m in materials
    ]
    index = [m.kind for m in materials].index("food.application")
    with pytest.raises(ValidationFailed) as exc:
        services.case_submit(
            actor=world.zhangsan_user,
            bundle_code="test-restaurant",
            answers={"seats": 80, "sells_alcohol": True},
            form_data=restaurant_form(world),
            materials=materials,
            commitments=[code_of(world, "公众聚集场所投入使用、营业前消防安全检查")],
        )
    assert _fields(exc.value) == {f"materials[{index}].document": "format"}


def test_a_material_larger_than_its_kind_allows_is_refused(world):
    big = upload(world.zhangsan_user, PDF + b"0" * (1024 * 1024 + 10), "layout.pdf")
    materials = [
        MaterialInput(kind=m.kind, document_id=big.pk) if m.kind == "premises.layout" else m
        for m in restaurant_materials(world.zhangsan_user)
    ]
    index = [m.kind for m in materials].index("premises.layout")
    with pytest.raises(ValidationFailed) as exc:
        services.case_submit(
            actor=world.zhangsan_user,
            bundle_code="test-restaurant",
            answers={"seats": 80, "sells_alcohol": True},
            form_data=restaurant_form(world),
            materials=materials,
            commitments=[code_of(world, "公众聚集场所投入使用、营业前消防安全检查")],
        )
    assert _fields(exc.value) == {f"materials[{index}].document": "max_size"}


def test_a_forged_document_id_is_refused(world):
    someone_elses = upload(world.lisi_user)
    materials = [
        MaterialInput(kind=m.kind, document_id=someone_elses.pk)
        if m.kind == "food.application"
        else m
        for m in restaurant_materials(world.zhangsan_user)
    ]
    materials.append(MaterialInput(kind="no.such.kind", document_id=999_999))
    with pytest.raises(ValidationFailed) as exc:
        services.case_submit(
            actor=world.zhangsan_user,
            bundle_code="test-restaurant",
            answers={"seats": 80, "sells_alcohol": True},
            form_data=restaurant_form(world),
            materials=materials,
            commitments=[code_of(world, "公众聚集场所投入使用、营业前消防安全检查")],
        )
    rules = set(_fields(exc.value).values())
    assert rules == {"unknown_document", "unknown"}


def test_a_retried_submit_returns_the_same_case(world):
    first = submit_restaurant(world, key="retry-1")
    again = submit_restaurant(world, key="retry-1")
    assert first.created and not again.created
    assert again.case.pk == first.case.pk
    assert Case.objects.count() == 1


def test_a_retry_answers_with_its_case_even_when_a_check_now_fails(world, monkeypatch):
    """The key is not looked up before the checks: a retry that a check would now refuse
    (the catalogue changed, say) still answers with the case the first call made."""
    first = submit_restaurant(world, key="retry-2")
    monkeypatch.setattr(
        services, "form_errors", lambda *a: [FieldError("form", "changed", "now invalid")]
    )
    again = submit_restaurant(world, key="retry-2")
    assert not again.created and again.case.pk == first.case.pk
    with pytest.raises(ValidationFailed):  # without the key the check refuses it
        submit_restaurant(world)
    assert Case.objects.count() == 1


def test_the_same_key_for_another_request_is_refused(world):
    submit_restaurant(world, key="k-2")
    with pytest.raises(Conflict) as exc:
        submit_restaurant(world, key="k-2", alcohol=False)
    assert exc.value.code == "idempotency_key_reused"


def test_keys_belong_to_their_user(world):
    mine = submit_restaurant(world, key="same").case
    theirs = submit_restaurant(world, user=world.lisi_user, key="same").case
    assert mine.pk != theirs.pk


def test_case_numbers_run_per_county_and_day_and_never_repeat(world):
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False):
        a = submit_restaurant(world).case
        b = submit_restaurant(world).case
    with time_machine.travel("2026-03-03 09:00 +0800", tick=False):
        c = submit_restaurant(world).case
    assert a.number == "430623-20260302-000001"
    assert b.number == "430623-20260302-000002"
    assert c.number == "430623-20260303-000001"


@pytest.mark.parametrize("where", ["ledger", "notices", "write"])
def test_a_crash_between_two_steps_leaves_no_half_case(world, monkeypatch, where):
    """The ledger entries and the queued notices are the last rows of a submission, and
    its rows are written together: failing there — or the database refusing the last row
    of the write — must undo the case, its items, materials, commitment, events and
    audit."""

    def crash(*args, **kwargs):
        raise RuntimeError("ledger exploded")

    if where == "ledger":
        monkeypatch.setattr(services, "ledger_unsaved", crash)
    elif where == "notices":
        monkeypatch.setattr(services, "task_row", crash)  # queueing the notices
    else:
        write = services.insert_together

        def refused_last(groups, **kwargs):
            # one queue row twice: the primary key refuses the write's last rows
            return write([*groups, [PendingSeq(seq=-1), PendingSeq(seq=-1)]], **kwargs)

        monkeypatch.setattr(services, "insert_together", refused_last)
    entries = LedgerEntry.objects.count()
    with pytest.raises(RuntimeError if where != "write" else IntegrityError):
        submit_restaurant(world)
    assert Case.objects.count() == 0
    assert CaseItem.objects.count() == 0
    assert CaseMaterial.objects.count() == 0
    assert Commitment.objects.count() == 0
    assert CaseEvent.objects.count() == 0
    assert not AuditEvent.objects.filter(action="cases.case_submit").exists()
    assert LedgerEntry.objects.count() == entries
    assert queued_notices() == []
    monkeypatch.undo()
    case = submit_restaurant(world).case  # the number may skip, never repeat
    assert case.number.startswith("430623-")


def test_an_enterprise_applies_through_a_person_who_may_act_for_it(world):
    case = submit_restaurant(
        world, user=world.lisi_user, enterprise_uscc=world.enterprise.uscc
    ).case
    assert case.applicant_enterprise == world.enterprise
    assert case.applicant_person is None
    assert case.acting_person == world.lisi
    assert case.acting_authorisation.kind == "legal_representative"
    assert case.on_behalf_of == f"enterprise:{world.enterprise.uscc}"


def test_nobody_applies_for_an_enterprise_without_authorisation(world):
    with pytest.raises(PermissionDenied) as exc:
        submit_restaurant(world, enterprise_uscc=world.enterprise.uscc)
    assert exc.value.code == "not_authorised"


def test_an_account_without_a_registered_person_cannot_apply(world):
    with pytest.raises(PermissionDenied) as exc:
        services.case_submit(actor=world.reviewer, bundle_code="test-restaurant")
    assert exc.value.code == "person_required"


def test_counter_clerk_submits_for_a_registered_applicant(world):
    case = submit_restaurant(
        world, user=world.clerk, channel="counter", applicant_id_number=ZHANGSAN_ID
    ).case
    assert case.channel == "counter"
    assert case.assisted_by == world.clerk
    assert case.applicant_person == world.zhangsan
    assert case.service_point == world.hall  # the clerk's own hall


def test_counter_submission_names_an_unknown_applicant(world):
    with pytest.raises(ValidationFailed) as exc:
        submit_restaurant(
            world, user=world.clerk, channel="counter", applicant_id_number="110101199003070011"
        )
    assert _fields(exc.value) == {"applicant.id_number": "unknown"}


def test_counter_submission_out_of_the_clerks_place_is_forbidden(world):
    with pytest.raises(PermissionDenied):
        submit_restaurant(
            world, user=world.xiangyin_clerk, channel="counter", applicant_id_number=ZHANGSAN_ID
        )


def test_green_channel_cuts_limits_by_the_configured_share(world):
    case = submit_restaurant(
        world,
        user=world.agent,
        channel="counter",
        applicant_id_number=ZHANGSAN_ID,
        green_channel=True,
        green_channel_reason="县重点招商项目",
    ).case
    food = case.items.get(name="食品经营许可")
    assert case.green_channel and food.green_channel
    assert food.limit == 2  # 7 working days cut by 60% (rounded down)


def test_applicants_cannot_put_themselves_in_the_green_channel(world):
    with pytest.raises(PermissionDenied):
        submit_restaurant(world, green_channel=True, green_channel_reason="我很急")


def test_applicant_records_flag_the_green_channel(world):
    def key_project(subject):
        return {"green_channel": True, "green_channel_reason": "重点项目"}

    hooks.register_applicant_record(key_project)
    try:
        case = submit_restaurant(world).case
    finally:
        hooks.unregister_applicant_record(key_project)
    assert case.green_channel and case.green_channel_reason == "重点项目"


def test_materials_are_reused_from_the_archive_only_when_it_holds_them(world):
    def archive(subject, kinds, elements):
        return reuse.ArchiveHits(materials={"premises.proof": "archive:doc:77"})

    reuse.register_archive_lookup(archive)
    try:
        materials = [
            MaterialInput(kind="premises.proof", reuse="archive:doc:77")
            if m.kind == "premises.proof"
            else m
            for m in restaurant_materials(world.zhangsan_user, fire=False)
        ]
        case = services.case_submit(
            actor=world.zhangsan_user,
            bundle_code="test-restaurant",
            answers={"seats": 10, "sells_alcohol": True},
            form_data=restaurant_form(world, fire=False),
            materials=materials,
        ).case
        proof = case.materials.get(kind_code="premises.proof")
        assert (proof.status, proof.reference) == (MaterialStatus.REUSED, "archive:doc:77")
        forged = [
            MaterialInput(kind="premises.proof", reuse="archive:doc:1")
            if m.kind == "premises.proof"
            else m
            for m in materials
        ]
        with pytest.raises(ValidationFailed) as exc:
            services.case_submit(
                actor=world.zhangsan_user,
                bundle_code="test-restaurant",
                answers={"seats": 10, "sells_alcohol": True},
                form_data=restaurant_form(world, fire=False),
                materials=forged,
            )
        assert "not_reusable" in _fields(exc.value).values()
    finally:
        reuse.unregister_archive_lookup(archive)


def _hygiene(world, *, staff: int, user=None):
    return submit_single(
        world,
        "公共场所卫生许可（秒批）",
        {"enterprise_name": "华容县清风理发店", "venue_staff_with_health_certificate": staff},
        commitments=[code_of(world, "公共场所卫生许可（秒批）")],
        channel="kiosk",
        user=user,
    ).case


def test_automatic_item_is_decided_at_submission(world):
    case = _hygiene(world, staff=3)
    item = case.items.get()
    assert case.state == CaseState.READY_FOR_DELIVERY
    assert case.accepted_at is not None and case.accepted_by is None  # no person in the loop
    assert item.state == ItemState.APPROVED
    assert item.decision.basis == "automatic" and item.decision.decided_by is None
    assert all(r["passed"] for r in item.decision.rule_results)
    assert item.on_time is True


def test_a_failing_rule_falls_back_to_manual_review_with_the_reasons(world):
    case = _hygiene(world, staff=0)
    item = case.items.get()
    assert case.state == CaseState.IN_PROGRESS
    assert item.state == ItemState.REVIEWING and item.on_fallback
    assert item.fallback_reason == "从业人员须持有有效健康合格证明"
    task = item.tasks.get()
    assert (task.kind, task.role, task.department) == ("review", "reviewer", world.health)
    assert CaseEvent.objects.filter(case=case, kind="fallback_to_manual").exists()


def test_blacklisted_applicants_get_no_automatic_approval(world):
    def blacklist(subject):
        return {"blacklisted": True, "green_channel": True}

    hooks.register_applicant_record(blacklist)
    try:
        case = _hygiene(world, staff=3)
    finally:
        hooks.unregister_applicant_record(blacklist)
    item = case.items.get()
    assert item.on_fallback and "失信" in item.fallback_reason
    assert not case.green_channel
