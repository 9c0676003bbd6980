import datetime as dt

import pytest
from django.utils import timezone

from tests.accounts.helpers import HUARONG_FOOD_USCC, WANGWU_ID, ZHANGSAN_ID, huarong_clerk
from tests.org.fixtures import UserFactory
from yiciban.accounts import services
from yiciban.accounts.models import AuthorisationKind, Person
from yiciban.core.models import AuditEvent


@pytest.fixture
def applicant(tree):
    clerk = huarong_clerk(tree)
    login = UserFactory(username="zhangsan_t", is_staff=False, display_name="张三")
    person = services.person_register(
        actor=clerk,
        name="张三",
        id_number=ZHANGSAN_ID,
        phone="13800000001",
        region=tree.zhanghua,
        user=login,
    )
    boss = services.person_register(actor=clerk, name="王五", id_number=WANGWU_ID)
    company = services.enterprise_register(
        actor=clerk,
        uscc=HUARONG_FOOD_USCC,
        name="华容县洞庭芥菜食品有限公司",
        registered_address="华容县章华镇",
        region=tree.huarong,
        legal_representative=boss,
    )
    services.authorisation_grant(
        actor=clerk,
        enterprise=company,
        person=person,
        kind=AuthorisationKind.AGENT,
        valid_until=timezone.localdate() + dt.timedelta(days=30),
    )
    return login, person, clerk


@pytest.mark.django_db
def test_me_requires_a_session(client):
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.django_db
def test_me_shows_the_masked_person_and_whom_they_act_for(client, applicant):
    login, person, _ = applicant
    client.force_login(login)
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "zhangsan_t"
    assert body["person"] == {
        "name": "张三",
        "id_number_masked": person.id_number_masked,
        "phone_masked": "138****0001",
        "region_code": "430623100000",
    }
    assert [(e["uscc"], e["kind"]) for e in body["acting_for"]] == [(HUARONG_FOOD_USCC, "agent")]
    assert ZHANGSAN_ID not in response.content.decode()
    assert "13800000001" not in response.content.decode()


@pytest.mark.django_db
def test_me_for_a_login_without_a_person(client, applicant):
    _, _, clerk = applicant
    client.force_login(clerk)
    body = client.get("/api/v1/accounts/me").json()
    assert body["person"] is None
    assert body["acting_for"] == []


@pytest.mark.django_db
def test_admin_lists_masked_values_only_and_finds_by_id_number(client, applicant):
    _, person, clerk = applicant
    client.force_login(clerk)
    listing = client.get("/admin/accounts/person/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert person.id_number_masked in html
    assert ZHANGSAN_ID not in html and "13800000001" not in html
    found = client.get("/admin/accounts/person/", {"q": ZHANGSAN_ID})
    assert list(found.context["cl"].queryset) == [person]
    detail = client.get(f"/admin/accounts/person/{person.pk}/change/")
    assert detail.status_code == 200
    assert ZHANGSAN_ID not in detail.content.decode()


@pytest.mark.django_db
def test_admin_registers_a_person_through_the_service(client, tree):
    clerk = huarong_clerk(tree)
    client.force_login(clerk)
    bad = client.post(
        "/admin/accounts/person/add/",
        {"name": "王五", "id_number": WANGWU_ID[:-1] + "0", "phone": ""},
    )
    assert bad.status_code == 200
    assert "id_number" in bad.context["adminform"].form.errors
    response = client.post(
        "/admin/accounts/person/add/", {"name": "王五", "id_number": WANGWU_ID, "phone": ""}
    )
    assert response.status_code == 302
    person = Person.objects.get()
    assert person.id_number == WANGWU_ID
    assert AuditEvent.objects.get(action="accounts.person_register").actor == clerk
    duplicate = client.post(
        "/admin/accounts/person/add/", {"name": "王五", "id_number": WANGWU_ID, "phone": ""}
    )
    assert "id_number" in duplicate.context["adminform"].form.errors


@pytest.mark.django_db
def test_admin_revoke_action(client, applicant):
    _, person, clerk = applicant
    client.force_login(clerk)
    authorisation = person.authorisations.get()
    response = client.post(
        "/admin/accounts/authorisation/",
        {"action": "revoke", "_selected_action": [authorisation.pk]},
    )
    assert response.status_code == 302
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is not None
    assert AuditEvent.objects.filter(action="accounts.authorisation_revoke").count() == 1


@pytest.mark.django_db
def test_staff_without_front_office_roles_see_no_applicants(client, tree):
    client.force_login(UserFactory())
    assert client.get("/admin/accounts/person/").status_code == 403
