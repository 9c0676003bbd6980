"""/api/v1/cases over HTTP: token and session authentication, uploads, idempotent submission,
RFC 9457 problem details for every refusal, queues and the board."""

from django.test import Client

from tests.cases.helpers import (
    PDF,
    PNG,
    ZHANGSAN_ID,
    client_for,
    code_of,
    pdf_file,
    restaurant_form,
)
from yiciban.cases import services
from yiciban.cases.models import ApiToken, Case

API = "/api/v1/cases"
PROBLEM = "application/problem+json"


def _token(user, name="test") -> str:
    return services.api_token_create(actor=user, name=name)[1]


def _bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _upload(client, content=PDF, name="a.pdf", **headers):
    response = client.post(f"{API}/uploads", {"file": pdf_file(name, content)}, **headers)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _submission(world, client, **headers) -> dict:
    kinds = [
        "registration.application",
        "id.legal_rep",
        "premises.proof",
        "food.application",
        "premises.layout",
        "food.equipment_list",
        "fire.application",
        "alcohol.filing_form",
    ]
    materials = [
        {"kind": k, "document": _upload(client, PDF + k.encode(), f"{k}.pdf", **headers)}
        for k in kinds
    ]
    return {
        "bundle": "test-restaurant",
        "answers": {"seats": 80, "sells_alcohol": True},
        "form": restaurant_form(world),
        "materials": materials,
        "commitments": [code_of(world, "公众聚集场所投入使用、营业前消防安全检查")],
    }


def test_tokens_are_made_with_a_password_and_shown_once(world):
    world.zhangsan_user.set_password("Pass-word-2021")
    world.zhangsan_user.save()
    client = Client()
    response = client.post(
        f"{API}/tokens",
        {"username": "zhangsan", "password": "Pass-word-2021", "name": "我的手机"},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("ycb_") and body["prefix"] == body["token"][:10]
    stored = ApiToken.objects.get()
    assert body["token"] not in (stored.token_hash, stored.prefix)
    listed = client.get(f"{API}/tokens", **_bearer(body["token"])).json()
    assert [t["name"] for t in listed] == ["我的手机"] and "token" not in listed[0]
    assert ApiToken.objects.get().last_used_at is not None
    revoked = client.post(f"{API}/tokens/{body['id']}/revoke", **_bearer(body["token"]))
    assert revoked.status_code == 200
    again = client.get(f"{API}/tokens", **_bearer(body["token"]))
    assert again.status_code == 401 and again["Content-Type"] == PROBLEM


def test_bad_credentials_get_401(world):
    response = Client().post(
        f"{API}/tokens",
        {"username": "zhangsan", "password": "wrong", "name": "x"},
        content_type="application/json",
    )
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_anonymous_requests_are_refused(world):
    response = Client().get(API)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_submit_with_a_token_is_idempotent(world):
    client = Client()
    headers = _bearer(_token(world.zhangsan_user))
    payload = _submission(world, client, **headers)
    first = client.post(
        API, payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc-1", **headers
    )
    assert first.status_code == 201, first.content
    again = client.post(
        API, payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc-1", **headers
    )
    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1
    body = first.json()
    assert body["state"] == "submitted" and len(body["items"]) == 4
    assert body["applicant"]["id_number_masked"].startswith("4306")
    assert "430623198803120211" not in first.content.decode()
    payload["answers"]["sells_alcohol"] = False
    reused = client.post(
        API, payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc-1", **headers
    )
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"


def test_validation_errors_name_fields_in_problem_details(world):
    client = client_for(world.zhangsan_user)
    payload = _submission(world, client)
    del payload["form"]["base"]["enterprise.name"]
    response = client.post(API, payload, content_type="application/json")
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422 and problem["instance"] == API
    assert {"field": "form.base.enterprise.name", "rule": "required"}.items() <= problem["errors"][
        0
    ].items()


def test_upload_refuses_wrong_types_and_large_files(world, settings):
    client = client_for(world.zhangsan_user)
    response = client.post(f"{API}/uploads", {"file": pdf_file("x.pdf", b"MZ\x90 exe")})
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "file",
        "rule": "format",
        "message": response.json()["errors"][0]["message"],
    }
    settings.YICIBAN = {**settings.YICIBAN, "DOCUMENT_MAX_BYTES": 100}
    response = client.post(f"{API}/uploads", {"file": pdf_file("big.pdf", PDF + b"0" * 200)})
    assert response.status_code == 422 and response.json()["errors"][0]["rule"] == "max_size"
    image = client.post(f"{API}/uploads", {"file": pdf_file("photo.pdf", PNG)})
    assert image.status_code == 201 and image.json()["format"] == "png"


def test_a_forged_or_foreign_case_number_is_404(world):
    owner = client_for(world.zhangsan_user)
    number = owner.post(API, _submission(world, owner), content_type="application/json").json()[
        "number"
    ]
    assert owner.get(f"{API}/{number}").status_code == 200
    stranger = client_for(world.lisi_user)
    for path in (f"{API}/{number}", f"{API}/430623-20990101-999999"):
        response = stranger.get(path)
        assert response.status_code == 404 and response.json()["code"] == "case_not_found"


def test_the_whole_flow_over_http(world):
    applicant = client_for(world.zhangsan_user)
    created = applicant.post(API, _submission(world, applicant), content_type="application/json")
    number = created.json()["number"]
    clerk = Client()
    clerk_headers = _bearer(_token(world.clerk))
    queue = clerk.get(f"{API}/counter/queue", **clerk_headers).json()
    assert queue["count"] == 1 and queue["items"][0]["number"] == number
    # the back office cannot accept (受审分离)
    reviewer_headers = _bearer(_token(world.reviewer))
    refused = clerk.post(
        f"{API}/{number}/accept", {}, content_type="application/json", **reviewer_headers
    )
    assert refused.status_code == 403 and refused["Content-Type"] == PROBLEM
    accepted = clerk.post(
        f"{API}/{number}/accept", {}, content_type="application/json", **clerk_headers
    )
    assert accepted.status_code == 200 and accepted.json()["state"] == "in_progress"
    twice = clerk.post(
        f"{API}/{number}/accept", {}, content_type="application/json", **clerk_headers
    )
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_state"

    tasks = clerk.get(f"{API}/tasks?role=reviewer", **reviewer_headers).json()
    assert tasks["count"] == 1
    task = tasks["items"][0]
    assert task["deadline_status"] == "normal" and task["case_number"] == number
    claimed = clerk.post(
        f"{API}/tasks/{task['id']}/claim",
        {"version": task["version"]},
        content_type="application/json",
        **reviewer_headers,
    )
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "market_reviewer"
    other = _bearer(_token(world.reviewer2))
    lost = clerk.post(
        f"{API}/tasks/{task['id']}/claim", {}, content_type="application/json", **other
    )
    assert lost.status_code == 409 and "market_reviewer" in lost.json()["detail"]
    reviewed = clerk.post(
        f"{API}/tasks/{task['id']}/review",
        {"opinion": "approve", "comment": "材料齐全"},
        content_type="application/json",
        **reviewer_headers,
    )
    assert reviewed.status_code == 200
    food_item = task["item_id"]
    inspector_headers = _bearer(_token(world.inspector))
    scheduled = clerk.post(
        f"{API}/{number}/inspections",
        {"items": [food_item], "scheduled_for": "2026-12-01T10:00:00+08:00"},
        content_type="application/json",
        **inspector_headers,
    )
    assert scheduled.status_code == 201, scheduled.content
    recorded = clerk.post(
        f"{API}/inspections/{scheduled.json()['id']}/record",
        {"result": "passed", "findings": "现场符合要求"},
        content_type="application/json",
        **inspector_headers,
    )
    assert recorded.json()["state"] == "passed"
    approver_headers = _bearer(_token(world.approver))
    approvals = clerk.get(f"{API}/tasks?role=approver", **approver_headers).json()["items"]
    assert len(approvals) == 2
    for row in approvals:
        decided = clerk.post(
            f"{API}/tasks/{row['id']}/approve",
            {},
            content_type="application/json",
            **approver_headers,
        )
        assert decided.status_code == 200 and decided.json()["outcome"] == "approve"
    status = applicant.get(f"{API}/{number}").json()
    assert status["state"] == "ready_for_delivery"
    delivered = clerk.post(
        f"{API}/{number}/deliver",
        {"method": "counter"},
        content_type="application/json",
        **clerk_headers,
    )
    assert delivered.status_code == 200
    assert len(delivered.json()["outputs"]) == 4
    mine = applicant.get(API).json()
    assert mine["count"] == 1 and mine["items"][0]["state"] == "delivered"
    document = applicant.get(f"{API}/{number}/materials/food.application/file")
    assert document.status_code == 200 and document["Content-Type"] == "application/pdf"
    assert b"".join(document.streaming_content).startswith(b"%PDF")


def test_counter_assisted_submission_and_applicant_search(world):
    clerk = client_for(world.clerk)
    found = clerk.get(f"{API}/counter/applicants", {"id_number": ZHANGSAN_ID}).json()
    assert found["person"]["name"] == "张三"
    assert found["person"]["id_number_masked"] != ZHANGSAN_ID
    payload = _submission(world, clerk)
    payload.update(channel="counter", applicant_id_number=ZHANGSAN_ID)
    created = clerk.post(API, payload, content_type="application/json")
    assert created.status_code == 201 and created.json()["channel"] == "counter"
    again = clerk.get(f"{API}/counter/applicants", {"id_number": ZHANGSAN_ID}).json()
    assert [c["number"] for c in again["cases"]] == [created.json()["number"]]
    assert (
        client_for(world.reviewer)
        .get(f"{API}/counter/applicants", {"id_number": ZHANGSAN_ID})
        .status_code
        == 403
    )
    bad = clerk.get(f"{API}/counter/applicants").json()
    assert bad["errors"][0]["rule"] == "one_of"


def test_supplement_notice_and_answer_over_http(world):
    applicant = client_for(world.zhangsan_user)
    number = applicant.post(
        API, _submission(world, applicant), content_type="application/json"
    ).json()["number"]
    clerk = client_for(world.clerk)
    notice = clerk.post(
        f"{API}/{number}/supplement-notice",
        {"missing": [{"kind": "food.application", "reason": "未签字"}], "message": "请补正"},
        content_type="application/json",
    )
    assert notice.status_code == 201 and notice.json()["missing"][0]["name"] == "食品经营许可申请书"
    new = _upload(applicant, PDF + b"signed", "signed.pdf")
    answered = applicant.post(
        f"{API}/{number}/supplement",
        {"materials": [{"kind": "food.application", "document": new}]},
        content_type="application/json",
    )
    assert answered.status_code == 200 and answered.json()["state"] == "submitted"


def test_suspension_extension_and_board_over_http(world):
    applicant = client_for(world.zhangsan_user)
    number = applicant.post(
        API, _submission(world, applicant), content_type="application/json"
    ).json()["number"]
    clerk = client_for(world.clerk)
    items = clerk.post(f"{API}/{number}/accept", {}, content_type="application/json").json()[
        "items"
    ]
    food = next(i for i in items if i["name"] == "食品经营许可")
    reviewer = client_for(world.reviewer)
    suspension = reviewer.post(
        f"{API}/items/{food['id']}/suspensions",
        {"kind": "correction", "reason": "补正场所证明"},
        content_type="application/json",
    )
    assert suspension.status_code == 201
    ended = reviewer.post(
        f"{API}/suspensions/{suspension.json()['id']}/end", {}, content_type="application/json"
    )
    assert ended.status_code == 200 and ended.json()["end"] is not None
    approver = client_for(world.approver)
    extension = approver.post(
        f"{API}/items/{food['id']}/extensions",
        {"days": 3, "reason": "需组织专家论证"},
        content_type="application/json",
    )
    assert extension.status_code == 201
    foreign = client_for(world.xiangyin_reviewer).post(
        f"{API}/items/{food['id']}/suspensions",
        {"kind": "correction", "reason": "x"},
        content_type="application/json",
    )
    assert foreign.status_code == 404  # not their case: it does not exist for them
    board = client_for(world.supervisor).get(f"{API}/board").json()
    market = next(d for d in board["departments"] if d["department"] == world.market.name)
    assert market["total"] == 2
    alerts = client_for(world.supervisor).get(f"{API}/board/alerts").json()
    # the registration promised in 1 working day is due tomorrow: a warning already
    assert [(a["item_name"], a["deadline_status"]) for a in alerts["items"]] == [
        ("市场主体设立登记", "warning")
    ]
    assert client_for(world.reviewer).get(f"{API}/board").status_code == 403


def test_preview_names_the_sections_and_materials(world):
    client = client_for(world.zhangsan_user)
    preview = client.post(
        f"{API}/preview",
        {"bundle": "test-restaurant", "answers": {"seats": 10, "sells_alcohol": False}},
        content_type="application/json",
    ).json()
    assert [i["name"] for i in preview["items"]] == ["市场主体设立登记", "食品经营许可"]
    assert code_of(world, "食品经营许可") in preview["form_schema"]["properties"]
    assert "food.application" in {m["kind"] for m in preview["materials"]}


def test_process_templates_are_listed(world):
    templates = client_for(world.reviewer).get(f"{API}/process-templates").json()
    codes = {t["code"] for t in templates}
    assert {"standard_review", "merged_review", "commitment_review", "automatic_approval"} <= codes


def test_the_openapi_description_includes_the_case_endpoints(db):
    schema = Client().get("/api/openapi.json").json()
    assert "/api/v1/cases/{number}/accept" in schema["paths"]
    assert "/api/v1/cases/tasks/{task_id}/approve" in schema["paths"]
