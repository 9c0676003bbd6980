import pytest

from tests.licences.conftest import issue_food
from yiciban.licences.models import Licence

pytestmark = pytest.mark.django_db


def _issue(client, world, **overrides):
    body = {
        "type": "food_business_permit",
        "issuing_department_id": world.market.pk,
        "enterprise_uscc": world.enterprise.uscc,
        "fields": {"premises": "华容县章华镇工业园8号"},
        **overrides,
    }
    return client.post("/api/v1/licences", body, content_type="application/json")


def test_issue_and_transitions_over_the_api(world, client):
    client.force_login(world.approver)
    response = _issue(client, world)
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert Licence.objects.filter(number=number).exists()
    listed = client.get("/api/v1/licences").json()
    assert listed["count"] == 1 and listed["items"][0]["number"] == number
    response = client.post(
        f"/api/v1/licences/{number}/change",
        {"fields": {"premises": "新址"}, "reason": "迁址", "expected_version": 1},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["version"] == 2
    for action, status in (("suspend", "suspended"), ("reinstate", "valid"), ("revoke", "revoked")):
        response = client.post(
            f"/api/v1/licences/{number}/{action}",
            {"reason": "依法"},
            content_type="application/json",
        )
        assert response.status_code == 200 and response.json()["status"] == status
    again = client.post(
        f"/api/v1/licences/{number}/revoke", {"reason": "依法"}, content_type="application/json"
    )
    assert again.status_code == 409
    assert again["Content-Type"].startswith("application/problem+json")


def test_api_refusals(world, client):
    assert _issue(client, world).status_code in (401, 403)
    client.force_login(world.approver)
    bad = _issue(client, world, type="nothing")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "type"
    bad = _issue(client, world, fields={})
    assert bad.status_code == 422
    assert bad.json()["errors"][0] == {
        "field": "fields.premises",
        "rule": "required",
        "message": "请填写“经营场所”",
    }
    bad = _issue(client, world, enterprise_uscc="91430623MA0000000X")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "enterprise_uscc"
    client.force_login(world.health_approver)
    assert _issue(client, world).status_code == 403
    licence = issue_food(world)
    # another department's staff cannot even see it to revoke it
    response = client.post(
        f"/api/v1/licences/{licence.number}/revoke",
        {"reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert client.get("/api/v1/licences").json()["count"] == 0


def test_the_holder_lists_own_licences(world, client):
    licence = issue_food(world)
    client.force_login(world.boss_user)
    listed = client.get("/api/v1/licences").json()
    assert [i["number"] for i in listed["items"]] == [licence.number]
    response = client.post(
        f"/api/v1/licences/{licence.number}/revoke",
        {"reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
