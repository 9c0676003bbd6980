"""The case pages through Django's test client: each page's status and key content,
refusals (anonymous → sign-in, wrong role or out of scope → 403/404), form errors shown by
field, and one whole 1+X case driven through the pages from application to delivery."""

import datetime as dt
from urllib.parse import urlencode

import pytest

from tests.cases.helpers import (
    PDF,
    ZHANGSAN_ID,
    client_for,
    code_of,
    pdf_file,
    restaurant_form,
    submit_restaurant,
)
from yiciban.cases import services
from yiciban.cases.forms import input_name
from yiciban.cases.models import Case, CaseState, ItemState, SupplementNotice, Task

ANSWERS = {"seats": 80, "sells_alcohol": "true"}
MATERIALS = (
    "registration.application",
    "id.legal_rep",
    "premises.proof",
    "food.application",
    "premises.layout",
    "food.equipment_list",
    "fire.application",
    "alcohol.filing_form",
)


def _apply_url(**answers) -> str:
    query = urlencode(answers or ANSWERS)
    return f"/cases/apply/bundle/test-restaurant/?{query}"


def _form_post(world, form: dict | None = None) -> dict:
    data = {}
    for section, values in (form or restaurant_form(world)).items():
        for element, value in values.items():
            name = input_name((section, element))
            data[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return data


def _files(skip=()) -> dict:
    return {
        f"m:{kind}": pdf_file(f"{kind}.pdf", PDF + f"% {kind}\n".encode())
        for kind in MATERIALS
        if kind not in skip
    }


def _submit_through_page(world, client, *, key="page-1", skip=(), form=None):
    data = {
        **_form_post(world, form),
        **_files(skip),
        "commitments": [code_of(world, "公众聚集场所投入使用、营业前消防安全检查")],
        "idempotency_key": key,
    }
    return client.post(_apply_url(), data)


def _task(case, name, kind) -> Task:
    return Task.objects.get(
        case=case, case_item__name=name, kind=kind, state__in=("open", "claimed")
    )


def _act(client, task: Task, action: str, **data):
    return client.post(
        f"/cases/items/{task.case_item_id}/{action}/",
        {"task": task.pk, "version": task.version, **data},
        follow=True,
    )


@pytest.fixture
def case(world):
    return submit_restaurant(world).case


# --- sign-in and permissions -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/cases/", "/cases/counter/", "/cases/queue/", "/cases/board/", _apply_url()],
)
def test_anonymous_visitors_are_sent_to_sign_in(client, world, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "login" in response["Location"] and "next=" in response["Location"]


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("reviewer", "/cases/counter/"),
        ("zhangsan_user", "/cases/counter/"),
        ("zhangsan_user", "/cases/queue/"),
        ("clerk", "/cases/queue/"),
        ("reviewer", "/cases/board/"),
        ("zhangsan_user", "/cases/board/"),
    ],
)
def test_pages_of_another_role_are_forbidden(world, who, url):
    assert client_for(getattr(world, who)).get(url).status_code == 403


def test_someone_elses_case_looks_like_no_case(world, case):
    lisi = client_for(world.lisi_user)
    assert lisi.get(f"/cases/{case.number}/").status_code == 404
    assert lisi.get(f"/cases/{case.number}/receipt/").status_code == 404
    assert lisi.get(f"/cases/{case.number}/materials/id.legal_rep/").status_code == 404
    # a department of another county does not see it either
    assert client_for(world.xiangyin_reviewer).get(f"/cases/{case.number}/").status_code == 404


def test_counter_actions_of_the_wrong_person_are_refused(world, case):
    response = client_for(world.xiangyin_clerk).post(f"/cases/{case.number}/accept/")
    assert response.status_code == 404
    response = client_for(world.reviewer).post(f"/cases/{case.number}/accept/", follow=True)
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED


def test_an_unknown_action_or_item_is_not_found(world, case):
    clerk = client_for(world.approver)
    item = case.items.first()
    assert clerk.post(f"/cases/items/{item.pk}/explode/").status_code == 404
    assert clerk.post("/cases/items/999999/claim/", {"task": 1}).status_code == 404


# --- applicant pages -------------------------------------------------------------------


def test_my_cases_and_the_status_page(world, case):
    client = client_for(world.zhangsan_user)
    listing = client.get("/cases/")
    assert listing.status_code == 200
    assert case.number in listing.content.decode()
    page = client.get(f"/cases/{case.number}/")
    html = page.content.decode()
    assert page.status_code == 200
    for text in (case.number, "食品经营许可", "酒类经营备案", "等待窗口受理", "申请材料"):
        assert text in html
    assert "counter-actions" not in html  # no counter actions for the applicant
    filtered = client.get("/cases/?state=delivered")
    assert case.number not in filtered.content.decode()


def test_labels_and_values_are_joined_in_the_page_language(world, case):
    client = client_for(world.zhangsan_user)
    chinese = client.get(f"/cases/{case.number}/").content.decode()
    assert "申请人：" in chinese
    client.cookies["django_language"] = "en"
    english = client.get(f"/cases/{case.number}/").content.decode()
    assert "Applicant: " in english
    head = english[english.index('class="card case-head"') :][:600]
    assert "：" not in head and "（" not in head  # no Chinese punctuation after English labels
    receipt = client.get(f"/cases/{case.number}/receipt/").content.decode()
    sheet = receipt[receipt.index('class="print-sheet"') :]
    materials = sheet[sheet.index("<ul>") : sheet.index("</ul>")]
    assert ": " in materials and "：" not in materials
    applicant_row = sheet[sheet.index("<th>Applicant</th>") :].split("</tr>", 1)[0]
    assert " (" in applicant_row and "（" not in applicant_row  # name (masked id number)


def test_the_receipt_prints(world, case):
    html = client_for(world.zhangsan_user).get(f"/cases/{case.number}/receipt/").content.decode()
    assert "办件受理回执" in html and case.number in html and "尚未受理" in html


def test_a_stored_material_opens_for_the_applicant_and_the_staff(world, case):
    for user in (world.zhangsan_user, world.reviewer):
        response = client_for(user).get(f"/cases/{case.number}/materials/id.legal_rep/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("inline;")
        assert response["X-Content-Type-Options"] == "nosniff"
    missing = client_for(world.zhangsan_user).get(f"/cases/{case.number}/materials/nothing/")
    assert missing.status_code == 404


def test_the_apply_page_renders_the_merged_form_and_materials(world):
    response = client_for(world.zhangsan_user).get(_apply_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="{input_name(("base", "enterprise.name"))}"' in html
    food = code_of(world, "食品经营许可")
    assert f'name="{input_name((food, "food.business_items"))}"' in html
    assert 'type="checkbox"' in html and 'name="m:id.legal_rep"' in html
    assert "告知承诺" in html and 'name="commitments"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_apply_page_sends_unanswered_guidance_back_to_the_wizard(world):
    response = client_for(world.zhangsan_user).get("/cases/apply/bundle/test-restaurant/")
    assert response.status_code == 302
    assert response["Location"] == "/catalog/bundles/test-restaurant/guide/"
    assert client_for(world.zhangsan_user).get("/cases/apply/bundle/nope/").status_code == 404


def test_form_errors_are_shown_by_field_and_uploads_are_kept(world):
    client = client_for(world.zhangsan_user)
    form = restaurant_form(world)
    del form["base"]["enterprise.name"]
    food = code_of(world, "食品经营许可")
    form[food]["premises.area_m2"] = "很大"
    response = _submit_through_page(world, client, form=form)
    html = response.content.decode()
    assert response.status_code == 422
    assert "请填写" in html  # the missing name, next to its input
    assert "类型不正确" in html  # area is not a number
    assert 'name="d:id.legal_rep"' in html  # stored once, not asked again
    assert Case.objects.count() == 0


def test_a_material_of_the_wrong_type_is_named(world):
    client = client_for(world.zhangsan_user)
    data = {
        **_form_post(world),
        **_files(skip=("id.legal_rep",)),
        "m:id.legal_rep": pdf_file("id.pdf", b"MZ\x90\x00 not a pdf at all"),
        "commitments": [code_of(world, "公众聚集场所投入使用、营业前消防安全检查")],
        "idempotency_key": "wrong-type",
    }
    response = client.post(_apply_url(), data)
    assert response.status_code == 422
    assert Case.objects.count() == 0
    assert "errorlist" in response.content.decode()


def test_a_double_submit_makes_one_case(world):
    client = client_for(world.zhangsan_user)
    first = _submit_through_page(world, client, key="same")
    second = _submit_through_page(world, client, key="same")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1


# --- counter ---------------------------------------------------------------------------


def test_the_counter_workbench_lists_the_queue(world, case):
    response = client_for(world.clerk).get("/cases/counter/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "综合受理工作台" in html and case.number in html


def test_the_applicant_search_is_by_post_and_masks_the_id(world, case):
    client = client_for(world.clerk)
    response = client.post("/cases/counter/", {"id_number": ZHANGSAN_ID})
    html = response.content.decode()
    assert response.status_code == 200
    assert "张三" in html and case.number in html
    assert ZHANGSAN_ID not in html and "4306" in html  # masked
    both = client.post("/cases/counter/", {"id_number": ZHANGSAN_ID, "uscc": "x"})
    assert "二选一" in both.content.decode()
    by_uscc = client.post("/cases/counter/", {"uscc": world.enterprise.uscc})
    assert world.enterprise.name in by_uscc.content.decode()


def test_assisted_submission_at_the_counter(world):
    client = client_for(world.clerk)
    page = client.get(_apply_url())
    assert "窗口代为申请" in page.content.decode()
    data = {
        **_form_post(world),
        **_files(),
        "applicant_id_number": ZHANGSAN_ID,
        "commitments": [code_of(world, "公众聚集场所投入使用、营业前消防安全检查")],
        "idempotency_key": "counter-1",
    }
    response = client.post(_apply_url(), data)
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.channel, case.applicant_person, case.assisted_by) == (
        "counter",
        world.zhangsan,
        world.clerk,
    )
    # the applicant sees the case the clerk filed
    assert case.number in client_for(world.zhangsan_user).get("/cases/").content.decode()


def test_accept_with_deferred_materials_and_twice(world, case):
    client = client_for(world.clerk)
    detail = client.get(f"/cases/{case.number}/").content.decode()
    assert "counter-actions" in detail and 'name="deferred"' in detail
    response = client.post(f"/cases/{case.number}/accept/", follow=True)
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    assert "已受理" in response.content.decode()
    again = client.post(f"/cases/{case.number}/accept/", follow=True)
    assert again.status_code == 200
    assert "不能执行" in again.content.decode()


def test_one_supplement_notice_and_its_print(world, case):
    client = client_for(world.clerk)
    empty = client.post(f"/cases/{case.number}/supplement-notice/", {"reason": ""}, follow=True)
    assert "补正要求" in empty.content.decode()
    assert not SupplementNotice.objects.exists()
    response = client.post(
        f"/cases/{case.number}/supplement-notice/",
        {"kinds": ["premises.layout", "food.equipment_list"], "reason": "须加盖公章"},
        follow=True,
    )
    assert "已出具一次性告知单" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.SUPPLEMENT_REQUESTED
    printed = client_for(world.zhangsan_user).get(f"/cases/{case.number}/notice/")
    html = printed.content.decode()
    assert printed.status_code == 200
    assert "一次性告知单" in html and "须加盖公章" in html
    second = client.post(
        f"/cases/{case.number}/supplement-notice/",
        {"kinds": ["premises.proof"], "reason": "再补"},
        follow=True,
    )
    assert "已出具一次性告知单" not in second.content.decode()
    assert SupplementNotice.objects.count() == 1


def test_the_notice_print_needs_a_notice(world, case):
    assert client_for(world.clerk).get(f"/cases/{case.number}/notice/").status_code == 404


def test_refusing_acceptance_needs_a_reason(world, case):
    client = client_for(world.clerk)
    client.post(f"/cases/{case.number}/refuse-acceptance/", {"reason": ""}, follow=True)
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    client.post(
        f"/cases/{case.number}/refuse-acceptance/",
        {"reason": "不属于本机关职权范围", "legal_basis": "《行政许可法》第三十二条"},
    )
    case.refresh_from_db()
    assert case.state == CaseState.NOT_ACCEPTED


# --- back office and supervisor --------------------------------------------------------


@pytest.fixture
def accepted(world, case):
    return services.case_accept(actor=world.clerk, case_id=case.pk)


def test_the_department_queue_sorts_by_urgency(world, accepted):
    overdue = _task(accepted, "食品经营许可", "review")
    Task.objects.filter(pk=overdue.pk).update(due_on=dt.date(2020, 1, 2))
    response = client_for(world.reviewer).get("/cases/queue/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "已超期" in html and accepted.number in html
    only = client_for(world.reviewer).get("/cases/queue/?status=overdue&role=reviewer")
    assert "食品经营许可" in only.content.decode()
    mine = client_for(world.reviewer).get("/cases/queue/?mine=1")
    assert "队列中没有任务" in mine.content.decode()


def test_the_item_page_claims_reviews_and_keeps_review_apart_from_approval(world, accepted):
    review = _task(accepted, "食品经营许可", "review")
    reviewer = client_for(world.reviewer2)  # a reviewer who is also an approver
    page = reviewer.get(f"/cases/items/{review.case_item_id}/")
    assert page.status_code == 200 and "认领" in page.content.decode()
    assert "打开文件" in page.content.decode()
    _act(reviewer, review, "claim")
    review.refresh_from_db()
    response = _act(reviewer, review, "review", opinion="approve", comment="材料齐全")
    assert "审查意见已提交" in response.content.decode()
    item = review.case_item
    item.refresh_from_db()
    assert item.state != ItemState.REVIEWING
    # after the joint inspection, the same person may not approve what they reviewed (一审一核)
    inspection = services.inspection_schedule(
        actor=world.inspector,
        case_id=accepted.pk,
        item_ids=[item.pk],
        scheduled_for=dt.datetime(2030, 1, 7, 2, tzinfo=dt.UTC),
    )
    services.inspection_record(
        actor=world.inspector, inspection_id=inspection.pk, result="passed", findings="合格"
    )
    approve = _task(accepted, "食品经营许可", "approve")
    refused = _act(reviewer, approve, "approve")
    assert refused.status_code == 403
    item.refresh_from_db()
    assert item.state == ItemState.APPROVING


def test_a_stale_claim_is_a_conflict_message(world, accepted):
    review = _task(accepted, "食品经营许可", "review")
    services.task_claim(actor=world.reviewer, task_id=review.pk)
    response = _act(client_for(world.reviewer2), review, "claim")
    assert response.status_code == 200
    assert "该任务已由" in response.content.decode()  # who was faster, as a message
    review.refresh_from_db()
    assert review.assignee == world.reviewer


def test_suspend_resume_and_extend_from_the_item_page(world, accepted):
    item = accepted.items.get(name="食品经营许可")
    approver = client_for(world.approver)
    approver.post(
        f"/cases/items/{item.pk}/suspend/",
        {"kind": "expert_review", "reason": "组织专家评审"},
    )
    item.refresh_from_db()
    assert item.suspended
    suspension = item.suspensions.get(end__isnull=True)
    page = approver.get(f"/cases/items/{item.pk}/").content.decode()
    assert "恢复计时" in page
    approver.post(f"/cases/items/{item.pk}/resume/", {"suspension": suspension.pk})
    item.refresh_from_db()
    assert not item.suspended
    before = item.extension_days
    bad = approver.post(f"/cases/items/{item.pk}/extend/", {"days": 0, "reason": ""}, follow=True)
    assert "延长工作日" in bad.content.decode()
    approver.post(f"/cases/items/{item.pk}/extend/", {"days": 5, "reason": "情况复杂"})
    item.refresh_from_db()
    assert item.extension_days == before + 5


def test_the_supervisor_board(world, accepted):
    item = accepted.items.get(name="食品经营许可")
    type(item).objects.filter(pk=item.pk).update(due_on=dt.date(2020, 1, 2))
    response = client_for(world.supervisor).get("/cases/board/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "电子监察看板" in html and world.market.name in html
    assert accepted.number in html and "已超期" in html


# --- the whole case through the pages --------------------------------------------------


def test_a_whole_case_through_the_pages(world):
    applicant = client_for(world.zhangsan_user)
    response = _submit_through_page(world, applicant)
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.number}/"
    clerk = client_for(world.clerk)
    clerk.post(f"/cases/{case.number}/accept/")
    approver = client_for(world.approver)
    _act(approver, _task(case, "市场主体设立登记", "approve"), "approve", comment="符合规定")
    reviewer = client_for(world.reviewer)
    review = _task(case, "食品经营许可", "review")
    _act(reviewer, review, "claim")
    review.refresh_from_db()
    _act(reviewer, review, "review", opinion="approve")
    food = case.items.get(name="食品经营许可")
    inspector = client_for(world.inspector)
    inspector.post(
        f"/cases/items/{food.pk}/inspect/",
        {"items": [str(food.pk)], "scheduled_for": "2030-01-07T10:00"},
    )
    inspection = food.inspections.get()
    inspector.post(
        f"/cases/items/{food.pk}/record/",
        {"inspection": inspection.pk, "result": "passed", "findings": "布局合理"},
    )
    _act(approver, _task(case, "食品经营许可", "approve"), "approve")
    case.refresh_from_db()
    assert case.state == CaseState.READY_FOR_DELIVERY
    assert case.number in clerk.get("/cases/counter/").content.decode()
    delivered = clerk.post(
        f"/cases/{case.number}/deliver/", {"method": "counter", "recipient": "张三"}, follow=True
    )
    assert "已一窗出件" in delivered.content.decode()
    html = applicant.get(f"/cases/{case.number}/").content.decode()
    assert "已出件" in html and "营业执照" in html and "食品经营许可证" in html
