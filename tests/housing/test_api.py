"""/api/v1/housing over HTTP: the journey's writes, problem details for refusals, and each
party's view."""

from django.utils import timezone

from .conftest import make_project
from .test_delivery import run_deliveries


def _post(client, path, body=None):
    return client.post(f"/api/v1/housing{path}", body or {}, content_type="application/json")


def test_api_journey_and_views(world, client_for):
    housing = client_for(world.housing)
    response = _post(
        housing,
        "/projects",
        {
            "code": "api-test",
            "name": "澧浦小区",
            "developer_uscc": "91430781MA4M6W9H0Q",
            "region_code": "430781",
            "address": "津市市新洲镇",
            "construction_permit_no": "P-1",
            "units": [{"building": "2", "room": "201", "area_m2": "100.5"}],
        },
    )
    assert response.status_code == 201, response.content
    unit_id = response.json()["units"][0]["id"]
    assert (
        _post(housing, "/projects/api-test/presale-permit", {"permit_no": "Y-1"}).status_code == 200
    )
    response = _post(
        housing,
        f"/projects/api-test/units/{unit_id}/contract",
        {"buyer_id_number": world.buyer_id, "contract_no": "API-1", "price_yuan": 600000},
    )
    assert response.status_code == 200, response.content
    today = timezone.localdate().isoformat()
    assert (
        _post(
            housing, "/projects/api-test/completion-acceptance", {"accepted_on": today}
        ).status_code
        == 200
    )
    developer = client_for(world.developer)
    assert _post(developer, "/projects/api-test/completion-filing-request").status_code == 200
    check = _post(housing, "/projects/api-test/completion-filing").json()
    assert check["ok"] is False and check["missing_tax"] == ["2栋201"]
    tax = client_for(world.tax)
    response = _post(
        tax,
        f"/projects/api-test/units/{unit_id}/deed-tax",
        {"amount_yuan": 18000, "receipt_no": "T-1"},
    )
    assert response.status_code == 201, response.content
    assert _post(developer, "/projects/api-test/completion-filing-request").status_code == 200
    assert _post(housing, "/projects/api-test/completion-filing").json()["ok"] is True
    registrar = client_for(world.registrar)
    response = _post(registrar, "/projects/api-test/delivery")
    assert response.status_code == 202, response.content  # started: runs in the background
    delivery = response.json()["delivery"]
    assert delivery["running"] and (delivery["done"], delivery["total"]) == (0, 2)
    again = _post(registrar, "/projects/api-test/delivery")
    assert again.status_code == 409 and again.json()["code"] == "delivery_running"
    assert run_deliveries() == 1
    read = registrar.get("/api/v1/housing/projects/api-test").json()
    assert read["stage"] == "delivered" and read["delivery"]["done"] == 2
    assert not read["delivery"]["running"] and read["delivery"]["error"] == ""
    # the developer's view has no buyers; the buyer sees their home with its certificate
    dev = developer.get("/api/v1/housing/projects/api-test").json()
    assert dev["units"][0]["buyer"] == "" and dev["units"][0]["certificate_number"] == ""
    homes = client_for(world.buyer_user).get("/api/v1/housing/mine").json()
    assert homes[0]["certificate_number"] and all(s["done"] for s in homes[0]["progress"])


def test_api_refusals(world, client_for, client):
    project = make_project(world)
    path = f"/projects/{project.code}"
    assert client.get(f"/api/v1/housing{path}").status_code == 401
    assert client_for(world.outsider).get(f"/api/v1/housing{path}").status_code == 404
    response = _post(client_for(world.developer), f"{path}/presale-permit", {"permit_no": "x"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    response = _post(client_for(world.housing), f"{path}/completion-filing")
    assert response.status_code == 409 and response.json()["code"] == "wrong_stage"
    response = _post(
        client_for(world.housing),
        f"{path}/units/999999/contract",
        {"buyer_id_number": world.buyer_id, "contract_no": "c", "price_yuan": 1},
    )
    assert response.status_code == 404
    response = _post(client_for(world.housing), f"{path}/presale-permit", {"permit_no": ""})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.permit_no"
    response = _post(client_for(world.housing), "/projects", {"code": "x"})
    assert response.status_code == 422
