"""/api/v1/sharing over HTTP: problem details for every refusal, the read with its proof,
the applicant's "who read my data", and bearer tokens."""

import datetime as dt

from django.utils import timezone

from yiciban.cases.services import api_token_create
from yiciban.ledger.services import ledger_integrate
from yiciban.sharing import services

from .conftest import BUYER_ID


def _setup(world):
    services.record_publish(
        actor=world.tax_officer,
        category_code="tax_payment",
        producer=world.tax,
        subject=services.subject_of(person=world.buyer),
        reference="JS-1",
        payload={"amount_fen": 1350000},
    )


def _grant(client, world, **over):
    today = timezone.localdate()
    body = {
        "category": "tax_payment",
        "grantor_uscc": world.tax.uscc,
        "grantee_uscc": world.housing.uscc,
        "purpose": "核验契税",
        "valid_from": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=10)).isoformat(),
    }
    body.update(over)
    return client.post("/api/v1/sharing/grants", body, content_type="application/json")


def _read(client, grant, **over):
    body = {
        "grant_id": grant,
        "category": "tax_payment",
        "subject_kind": "person",
        "subject": BUYER_ID,
    }
    body.update(over)
    return client.post("/api/v1/sharing/reads", body, content_type="application/json")


def test_grant_read_proof_and_who_read_my_data(world, client_for):
    _setup(world)
    response = _grant(client_for(world.tax_admin), world)
    assert response.status_code == 201, response.content
    grant_id = response.json()["id"]
    housing = client_for(world.housing_officer)
    response = _read(housing, grant_id)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["records"][0]["payload"] == {"amount_fen": 1350000}
    assert body["proof"]["integrated"] is False
    ledger_integrate()
    proof = housing.get(f"/api/v1/sharing/reads/{body['read_id']}/proof").json()
    assert proof["integrated"] is True and proof["checkpoint"].count("\n") >= 4
    mine = client_for(world.buyer_user).get("/api/v1/sharing/mine/reads").json()
    assert mine["total"] == 1 and mine["items"][0]["department"] == world.housing.name
    # the buyer may see the proof of a read of their data; another department may not
    assert (
        client_for(world.buyer_user)
        .get(f"/api/v1/sharing/reads/{body['read_id']}/proof")
        .status_code
        == 200
    )
    assert (
        client_for(world.registrar)
        .get(f"/api/v1/sharing/reads/{body['read_id']}/proof")
        .status_code
        == 404
    )


def test_refusals_are_problem_details(world, client_for):
    _setup(world)
    grant_id = _grant(client_for(world.tax_admin), world).json()["id"]
    housing = client_for(world.housing_officer)
    cases = [
        (client_for(world.registrar), {}, 403, "not_department_staff"),
        (housing, {"category": "contract_filing"}, 403, "wrong_category"),
        (housing, {"grant_id": 999999}, 404, "no_grant"),
        (housing, {"grant_id": "abc"}, 422, "invalid"),
        (housing, {"subject": "123"}, 422, "invalid"),
        (housing, {"subject_kind": "robot"}, 422, "invalid"),
    ]
    for client, over, status, code in cases:
        response = _read(client, grant_id, **over)
        assert response.status_code == status, (over, response.content)
        assert response["Content-Type"].startswith("application/problem+json")
        assert response.json()["code"] == code, over
    response = client_for(world.tax_admin).post(
        f"/api/v1/sharing/grants/{grant_id}/revoke",
        {"reason": "停止"},
        content_type="application/json",
    )
    assert response.json()["state"] == "revoked"
    assert _read(housing, grant_id).json()["code"] == "grant_revoked"
    # a grant needs the owner's admin and sane dates
    response = _grant(client_for(world.housing_admin), world)
    assert response.status_code == 403
    response = _grant(client_for(world.tax_admin), world, valid_until="2020-01-01")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "valid_until"


def test_bearer_token_and_anonymous(world, client):
    _setup(world)
    _token, raw = api_token_create(actor=world.admin, name="registry", user=world.housing_officer)
    response = client.get("/api/v1/sharing/grants", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert client.get("/api/v1/sharing/grants").status_code == 401
    assert client.get("/api/v1/sharing/categories").status_code == 401
