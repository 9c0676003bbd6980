"""The sharing pages: the grants admin (create, refuse garbage, revoke), the staff read log
and the applicant's "who read my data"."""

import datetime as dt

import pytest
from django.test import Client

from yiciban.sharing import services
from yiciban.sharing.models import Grant


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(world, **changes):
    today = dt.date.today()
    form = {
        "grantor": str(world.tax.pk),
        "grantee": str(world.housing.pk),
        "category": "tax_payment",
        "purpose": "竣工验收备案核验契税",
        "valid_from": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=30)).isoformat(),
    }
    form.update(changes)
    return form


def test_an_owner_grants_and_revokes_on_the_page(world):
    client = _client(world.tax_admin)
    page = client.get("/sharing/grants/")
    assert page.status_code == 200 and "契税等税款缴纳信息" in page.content.decode()
    response = client.post("/sharing/grants/", _form(world), follow=True)
    assert response.status_code == 200
    grant = Grant.objects.get()
    assert (grant.grantor, grant.grantee, grant.purpose) == (
        world.tax,
        world.housing,
        "竣工验收备案核验契税",
    )
    client.post(f"/sharing/grants/{grant.pk}/revoke", {"reason": "项目已交付"})
    grant.refresh_from_db()
    assert grant.revoked_at is not None


@pytest.mark.parametrize(
    "changes",
    [
        {"grantor": "abc"},
        {"grantee": "1; DROP TABLE"},
        {"grantee": "-4"},
        {"grantor": ""},
        {"grantee": "99999999"},
    ],
)
def test_garbage_department_ids_are_refused_with_a_message(world, changes):
    response = _client(world.tax_admin).post("/sharing/grants/", _form(world, **changes))
    assert response.status_code == 200
    assert "请选择授权部门和被授权部门" in response.content.decode()
    assert not Grant.objects.exists()


def test_a_department_not_administered_cannot_be_the_grantor(world):
    response = _client(world.tax_admin).post(
        "/sharing/grants/", _form(world, grantor=str(world.housing.pk), category="contract_filing")
    )
    assert "请选择授权部门和被授权部门" in response.content.decode()
    assert not Grant.objects.exists()


def test_a_service_refusal_is_shown_and_nothing_is_written(world):
    response = _client(world.tax_admin).post(
        "/sharing/grants/", _form(world, valid_until="not a date")
    )
    assert response.status_code == 200
    assert not Grant.objects.exists()
    assert response.context["messages"] and list(response.context["messages"])


def test_revoking_a_grant_of_another_department_is_refused(world):
    grant = services.grant_create(
        actor=world.tax_admin,
        category_code="tax_payment",
        grantor=world.tax,
        grantee=world.housing,
        purpose="核验",
        valid_from=dt.date.today(),
        valid_until=dt.date.today() + dt.timedelta(days=5),
    )
    _client(world.housing_admin).post(f"/sharing/grants/{grant.pk}/revoke", {"reason": "x"})
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_read_log_and_who_read_my_data_need_a_login(world):
    for url in ("/sharing/grants/", "/sharing/reads/", "/sharing/mine/"):
        assert Client().get(url).status_code == 302
    assert _client(world.tax_officer).get("/sharing/reads/").status_code == 200
    assert _client(world.buyer_user).get("/sharing/mine/").status_code == 200
