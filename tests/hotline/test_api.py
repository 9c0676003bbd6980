"""/api/v1/knowledge and /api/v1/tickets: problem details on errors, paginated lists."""

import pytest

from yiciban.hotline import services
from yiciban.hotline.models import TicketStatus

from .conftest import CALLER_PHONE

PROBLEM = "application/problem+json"


@pytest.fixture
def published(operator, huarong, market):
    services.synonym_group_create(
        actor=operator, name="营业执照", terms=["营业执照", "执照", "营业证"]
    )
    for n in range(12):
        services.knowledge_entry_create(
            actor=operator,
            region=huarong,
            department=market,
            question=f"营业执照问题{n}：个体户变更经营范围",
            answer="到市场监管窗口办理变更登记。",
            publish=True,
        )
    services.knowledge_entry_create(
        actor=operator, region=huarong, question="公积金提取", answer="到公积金中心。", publish=True
    )


def test_knowledge_search_is_public_ranked_and_paginated(client, published):
    response = client.get("/api/v1/knowledge", {"q": "营业证", "limit": 5, "offset": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 12 and len(body["items"]) == 5
    first = body["items"][0]
    assert first["entry"]["question"].startswith("营业执照问题")
    assert first["entry"]["department"] == "华容县市场监督管理局"
    assert first["score"] > 0
    assert ["营业证", "执照", "营业执照"] in body["terms"]


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({}, "q", "required"),
        ({"q": "  "}, "q", "required"),
        ({"q": "营" * 101}, "q", "max_length"),
        ({"q": "营业执照", "limit": 0}, "query.limit", "greater_than_equal"),
        ({"q": "营业执照", "region": "12"}, "region", None),
    ],
)
def test_knowledge_search_errors_are_problem_details(client, published, params, field, rule):
    response = client.get("/api/v1/knowledge", params)
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    error = response.json()["errors"][0]
    assert error["field"] == field
    if rule:
        assert error["rule"] == rule


def test_unknown_entry_is_404(client, db):
    response = client.get("/api/v1/knowledge/999999")
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM


def test_curating_needs_login_and_role(client, market_staff, operator, huarong):
    payload = {"region": "430623", "question": "新问题", "answer": "新答复", "publish": True}
    assert (
        client.post("/api/v1/knowledge", payload, content_type="application/json").status_code
        == 401
    )
    client.force_login(market_staff)
    assert (
        client.post("/api/v1/knowledge", payload, content_type="application/json").status_code
        == 403
    )
    client.force_login(operator)
    created = client.post("/api/v1/knowledge", payload, content_type="application/json")
    assert created.status_code == 201
    entry_id = created.json()["id"]
    patched = client.patch(
        f"/api/v1/knowledge/{entry_id}", {"answer": "改过的答复"}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["answer"] == "改过的答复"
    assert client.post(f"/api/v1/knowledge/{entry_id}/publish").status_code == 409
    assert client.post(f"/api/v1/knowledge/{entry_id}/unpublish").json()["status"] == "draft"


def test_synonym_api(client, operator, db):
    client.force_login(operator)
    created = client.post(
        "/api/v1/knowledge/synonyms",
        {"name": "医保", "terms": ["医保", "医疗保险"]},
        content_type="application/json",
    )
    assert created.status_code == 201
    group_id = created.json()["id"]
    listed = client.get("/api/v1/knowledge/synonyms").json()
    assert listed["count"] == 1 and listed["items"][0]["terms"] == ["医保", "医疗保险"]
    clash = client.post(
        "/api/v1/knowledge/synonyms",
        {"name": "医保2", "terms": ["医保", "医保卡"]},
        content_type="application/json",
    )
    assert clash.status_code == 422 and clash.json()["errors"][0]["rule"] == "unique"
    assert client.delete(f"/api/v1/knowledge/synonyms/{group_id}").status_code == 204


def test_ticket_lifecycle_over_the_api(
    client, operator, market, market_staff, categories, huarong, published
):
    client.force_login(operator)
    created = client.post(
        "/api/v1/tickets",
        {
            "region": "430623",
            "category": "consultation.general",
            "description": "咨询营业证怎么办",
            "caller_phone": CALLER_PHONE,
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    number = body["number"]
    assert body["channel"] == "phone" and body["caller_phone"] == "138****5678"
    assert CALLER_PHONE not in created.content.decode()
    assert body["actions"] == ["answer_from_knowledge", "dispatch"]

    dispatched = client.post(
        f"/api/v1/tickets/{number}/dispatch",
        {"department_id": market.pk},
        content_type="application/json",
    )
    assert dispatched.status_code == 200
    assert dispatched.json()["deadline"]["status"] in ("normal", "warning")
    again = client.post(
        f"/api/v1/tickets/{number}/dispatch",
        {"department_id": market.pk},
        content_type="application/json",
    )
    assert again.status_code == 409 and again["Content-Type"] == PROBLEM

    client.force_login(market_staff)
    queue = client.get("/api/v1/tickets/queue").json()
    assert queue["count"] == 1 and queue["items"][0]["ticket"]["number"] == number
    answered = client.post(
        f"/api/v1/tickets/{number}/answer",
        {"answer": "按指南办理即可"},
        content_type="application/json",
    )
    assert answered.json()["status"] == TicketStatus.ANSWERED

    client.force_login(operator)
    bad = client.post(
        f"/api/v1/tickets/{number}/follow-up",
        {"satisfaction": "ok"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "satisfaction"
    closed = client.post(
        f"/api/v1/tickets/{number}/follow-up",
        {"satisfaction": "very_satisfied"},
        content_type="application/json",
    )
    assert closed.json()["status"] == TicketStatus.CLOSED
    events = [e["action"] for e in client.get(f"/api/v1/tickets/{number}").json()["history"]]
    assert events == ["register", "dispatch", "answer", "follow_up"]


def test_ticket_list_and_visibility(client, logged_call, person, operator, supervisor, huarong):
    logged_call()
    logged_call(description="第二个来电")
    client.force_login(operator)
    listed = client.get("/api/v1/tickets", {"limit": 1})
    assert listed.json()["count"] == 2 and len(listed.json()["items"]) == 1
    number = listed.json()["items"][0]["number"]
    client.force_login(person)
    assert client.get("/api/v1/tickets").json()["count"] == 0
    missing = client.get(f"/api/v1/tickets/{number}")
    assert missing.status_code == 404 and missing["Content-Type"] == PROBLEM


def test_person_submits_online(client, person, categories, huarong):
    client.force_login(person)
    created = client.post(
        "/api/v1/tickets",
        {
            "region": "430623",
            "category": "suggestion.general",
            "description": "建议政务大厅增加周六服务",
            "caller_phone": "13900001111",
        },
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["channel"] == "online"
    assert created.json()["actions"] == []
    bad = client.post(
        "/api/v1/tickets",
        {"region": "430623", "category": "nope", "description": "x", "caller_phone": "1"},
        content_type="application/json",
    )
    assert bad.status_code == 404


def test_board_api(client, supervisor, operator, logged_call, market, huarong):
    services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    client.force_login(supervisor)
    board = client.get("/api/v1/tickets/board", {"region": "430623"}).json()
    assert board["count"] == 1 and board["items"][0]["open"] == 1
    client.force_login(operator)
    assert client.get("/api/v1/tickets/board", {"region": "430623"}).status_code == 403
