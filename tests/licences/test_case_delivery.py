"""Delivery of a case issues its e-licences (一窗出件 → 电子证照): through the case engine's
output-issuer hook wired in yiciban.wiring, signed by the deciding department, with the
holder, fields from the application form and the case link — and the permits show at once
behind the enterprise's business-licence QR."""

import datetime as dt

import pytest
import time_machine

from tests.cases.helpers import build_world, submit_restaurant
from yiciban.cases import hooks
from yiciban.cases import services as case_services
from yiciban.cases.models import CaseOutput
from yiciban.catalog import selectors as catalog_selectors
from yiciban.ledger.models import Entry
from yiciban.licences import demo, selectors, signing
from yiciban.licences.models import Licence, LicenceType
from yiciban.wiring import _form_values, issue_case_licence

WHEN = dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC)
NEEDED = {"business_licence", "food_business_licence", "fire_safety_check_permit"}


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    catalog_selectors.forget_compiled_bundles()
    world = build_world()
    for entry in demo.TYPES:
        if entry["code"] in NEEDED:
            LicenceType.objects.create(**entry)
    yield world
    catalog_selectors.forget_compiled_bundles()


def _task(case, name, kind):
    return case.items.get(name=name).tasks.get(kind=kind, state__in=("open", "claimed"))


def _decide_all(world, case, *, refuse_food=False):
    case_services.item_approve(
        actor=world.approver, task_id=_task(case, "市场主体设立登记", "approve").pk
    )
    food = case.items.get(name="食品经营许可")
    case_services.item_review(
        actor=world.reviewer, task_id=_task(case, "食品经营许可", "review").pk, opinion="approve"
    )
    inspection = case_services.inspection_schedule(
        actor=world.inspector, case_id=case.pk, item_ids=[food.pk], scheduled_for=WHEN
    )
    case_services.inspection_record(
        actor=world.inspector, inspection_id=inspection.pk, result="passed", findings="布局合理"
    )
    approve = _task(case, "食品经营许可", "approve")
    if refuse_food:
        case_services.item_refuse(
            actor=world.approver,
            task_id=approve.pk,
            reasons="操作间面积不足",
            legal_basis="《食品经营许可管理办法》第十二条",
        )
    else:
        case_services.item_approve(actor=world.approver, task_id=approve.pk)


def _accepted(world, when="2026-03-02 09:00 +0800", **extra):
    case = submit_restaurant(world, **extra).case
    with time_machine.travel(when, tick=False):
        return case_services.case_accept(actor=world.clerk, case_id=case.pk)


def test_delivering_an_enterprise_case_issues_signed_licences(world, client):
    case = _accepted(world, user=world.lisi_user, enterprise_uscc=world.enterprise.uscc)
    _decide_all(world, case)
    case_services.case_deliver(actor=world.clerk, case_id=case.pk)
    licences = {
        lic.licence_type.code: lic for lic in Licence.objects.filter(enterprise=world.enterprise)
    }
    assert set(licences) == NEEDED
    business, food = licences["business_licence"], licences["food_business_licence"]
    # signed by the deciding department's key, verifiable by anyone with the JWKS
    assert business.issuing_department == world.market
    assert licences["fire_safety_check_permit"].issuing_department == world.fire
    for licence in licences.values():
        assert licence.source_reference == f"case:{case.number}"
        assert signing.signature_valid(licence)
        check = signing.verify_token(
            signing.token_for(licence), signing.jwks(), today=dt.date.today()
        )
        assert check.ok, check.reason
    # fields come from the application form by data element
    assert food.fields["premises"] == "华容县章华镇人民路1号"
    assert food.fields["legal_representative"] == "张三"
    assert food.valid_until is not None
    # the case outputs carry the licence numbers and references
    outputs = {o.licence_type: o for o in CaseOutput.objects.filter(case=case)}
    assert outputs["food_business_licence"].number == food.number
    assert outputs["food_business_licence"].reference == f"licence:{food.number}"
    filing = CaseOutput.objects.get(case=case, kind="filing_receipt")
    assert filing.reference == ""  # the test catalogue's filing has no e-licence type
    # the new permits are in the live permit list behind the business-licence QR at once
    listing = selectors.permit_list(world.enterprise.uscc)
    assert listing["business_licence"] == business.number
    assert {p["number"] for p in listing["permits"]} == {
        food.number,
        licences["fire_safety_check_permit"].number,
    }
    page = client.get(f"/licences/enterprise/{world.enterprise.uscc}")
    assert page.status_code == 200 and food.number in page.content.decode()
    # every issue is on the ledger
    logged = Entry.objects.filter(kind="licence.issue").values_list("payload", flat=True)
    assert {p["number"] for p in logged} == {lic.number for lic in licences.values()}


def test_a_refused_item_gets_no_licence_and_a_person_holds_their_own(world):
    case = _accepted(world)  # 张三 applies for himself
    _decide_all(world, case, refuse_food=True)
    case_services.case_deliver(actor=world.clerk, case_id=case.pk)
    held = Licence.objects.filter(person=world.zhangsan)
    assert set(held.values_list("licence_type__code", flat=True)) == {
        "business_licence",
        "fire_safety_check_permit",
    }
    assert all(lic.holder_identifier == "430623********0211" for lic in held)
    refusal = CaseOutput.objects.get(case=case, kind="refusal")
    assert refusal.reference == ""


def test_an_enterprise_with_a_business_licence_gets_it_changed_not_a_second_one(world):
    first = _accepted(world, user=world.lisi_user, enterprise_uscc=world.enterprise.uscc)
    _decide_all(world, first)
    case_services.case_deliver(actor=world.clerk, case_id=first.pk)
    second = _accepted(
        world,
        "2026-03-05 09:00 +0800",
        user=world.lisi_user,
        enterprise_uscc=world.enterprise.uscc,
        alcohol=False,
    )
    _decide_all(world, second)
    case_services.case_deliver(actor=world.clerk, case_id=second.pk)
    business = Licence.objects.filter(
        enterprise=world.enterprise, licence_type__code="business_licence"
    )
    assert business.count() == 1
    assert Licence.objects.filter(licence_type__code="food_business_licence").count() == 2


def test_without_a_licence_type_the_engine_keeps_its_own_number(world):
    LicenceType.objects.filter(code="food_business_licence").delete()
    case = _accepted(world)
    _decide_all(world, case)
    case_services.case_deliver(actor=world.clerk, case_id=case.pk)
    food = CaseOutput.objects.get(case=case, licence_type="food_business_licence")
    assert food.reference == "" and food.number.startswith(case.number)


def test_the_issuer_is_registered_once_by_the_wiring_layer():
    assert hooks._issuers.count(issue_case_licence) == 1


def test_form_values_take_the_items_own_section_over_shared_ones():
    form = {"top": "1", "base": {"a": "shared", "b": "base"}, "X1": {"a": "own"}, "X2": {"a": "no"}}
    assert _form_values(form, "X1") == {"top": "1", "a": "own", "b": "base"}
    assert _form_values(["garbage"], "X1") == {}
    assert _form_values({"base": "not a section"}, "X1") == {"base": "not a section"}
