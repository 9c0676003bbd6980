import json

import pytest
from django.contrib.auth import get_user_model

from yiciban.accounts.models import Enterprise
from yiciban.catalog import selectors

pytestmark = pytest.mark.django_db


def test_items_list_filters_and_paginates(client, restaurant):
    response = client.get("/api/v1/items")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4 and len(body["items"]) == 4
    page = client.get("/api/v1/items", {"limit": 2, "offset": 2}).json()
    assert page["count"] == 4 and len(page["items"]) == 2
    food = restaurant["food"]
    by_department = client.get("/api/v1/items", {"department": food.department_id}).json()
    assert {i["code"] for i in by_department["items"]} == {
        food.implementation_code,
        restaurant["registration"].implementation_code,
    }
    assert client.get("/api/v1/items", {"type": "other_power"}).json()["count"] == 1
    assert client.get("/api/v1/items", {"q": "烟草"}).json()["items"][0]["code"] == (
        restaurant["tobacco"].implementation_code
    )
    assert client.get("/api/v1/items", {"q": "食品 许可"}).json()["count"] == 1
    assert client.get("/api/v1/items", {"channel": "online"}).json()["count"] == 4
    assert client.get("/api/v1/items", {"channel": "kiosk"}).json()["count"] == 0
    assert client.get("/api/v1/items", {"level": "county"}).json()["count"] == 4
    assert client.get("/api/v1/items", {"region": "430623"}).json()["count"] == 4
    assert client.get("/api/v1/items", {"region": "431127"}).json()["count"] == 0


def test_items_list_refuses_bad_filters(client, restaurant):
    response = client.get("/api/v1/items", {"type": "magic"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "query.type"
    assert client.get("/api/v1/items", {"limit": 1000}).status_code == 422


def test_item_detail_and_404(client, restaurant):
    code = restaurant["food"].implementation_code
    body = client.get(f"/api/v1/items/{code}").json()
    assert body["name"] == "食品经营许可"
    assert [m["kind"] for m in body["materials"]][:2] == ["food.application", "licence.business"]
    area = body["form_schema"]["properties"]["premises_area_m2"]
    assert area["type"] == "number" and area["minimum"] == 10  # registry merged in
    assert body["history"][0]["status"] == "published"
    missing = client.get("/api/v1/items/NOPE")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404


def test_bundles_list_and_detail(client, restaurant):
    body = client.get("/api/v1/bundles").json()
    assert body["count"] == 1
    assert body["items"][0]["member_count"] == 4
    assert client.get("/api/v1/bundles", {"audience": "person"}).json()["count"] == 0
    detail = client.get("/api/v1/bundles/restaurant").json()
    assert [q["code"] for q in detail["questionnaire"]][:2] == ["sells_tobacco", "sells_drinks"]
    assert detail["members"][2]["rule"] == {"var": "sells_tobacco"}
    assert client.get("/api/v1/bundles/none").status_code == 404


def test_guidance_endpoint(client, restaurant):
    response = client.post(
        "/api/v1/bundles/restaurant/guidance",
        {"answers": {"sells_tobacco": True}},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body["items"]) == 3
    assert body["promised_limit"]["days"] == 13
    assert body["reduction"]["materials_bundle"] == 5
    assert "base" in body["merged_schema"]["properties"]
    expected = selectors.bundle_guidance("restaurant", {"sells_tobacco": True})
    assert body == json.loads(json.dumps(expected))  # the API sends exactly the selector's result


def test_guidance_endpoint_errors(client, restaurant):
    response = client.post(
        "/api/v1/bundles/restaurant/guidance",
        {"answers": {"drinks": ["beer"]}},
        content_type="application/json",
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "answers.drinks" and error["rule"] == "choice"
    assert (
        client.post(
            "/api/v1/bundles/nope/guidance", {"answers": {}}, content_type="application/json"
        ).status_code
        == 404
    )
    # naming an enterprise needs a login, and it must be one's own
    anonymous = client.post(
        "/api/v1/bundles/restaurant/guidance",
        {"answers": {}, "enterprise_uscc": "91430623MA4L00000X"},
        content_type="application/json",
    )
    assert anonymous.status_code == 403


def test_guidance_for_someone_elses_enterprise_is_forbidden(client, restaurant, org):
    user = get_user_model().objects.create(username="stranger")
    Enterprise.objects.create(
        uscc="91430623MA4L00000X", name="某公司", registered_address="华容县", region=org["430623"]
    )
    client.force_login(user)
    response = client.post(
        "/api/v1/bundles/restaurant/guidance",
        {"answers": {}, "enterprise_uscc": "91430623MA4L00000X"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert (
        client.post(
            "/api/v1/bundles/restaurant/guidance", {"answers": {}}, content_type="application/json"
        ).status_code
        == 200
    )


def test_openapi_lists_the_catalogue_paths(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/v1/items", "/api/v1/items/{code}", "/api/v1/bundles/{code}/guidance"):
        assert path in paths
