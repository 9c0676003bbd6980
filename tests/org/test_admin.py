"""The org admin writes through the services (audited) and shows their refusals on the
form; who sees what follows the roles."""

import pytest

from tests.org.fixtures import UserFactory, assign
from yiciban.core.models import AuditEvent
from yiciban.org.models import Region, Role, RoleAssignment


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client


@pytest.mark.django_db
def test_adding_a_region_goes_through_the_service(admin_client, tree):
    response = admin_client.post(
        "/admin/org/region/add/",
        {
            "code": "430623102000",
            "name": "北景港镇",
            "level": "township",
            "parent": tree.huarong.pk,
        },
    )
    assert response.status_code == 302
    region = Region.objects.get(code="430623102000")
    assert region.path.endswith("430623000000/430623102000")
    assert AuditEvent.objects.filter(action="org.region_create", object_id=str(region.pk)).exists()


@pytest.mark.django_db
def test_region_form_shows_the_services_refusal_beside_the_field(admin_client, tree):
    response = admin_client.post(
        "/admin/org/region/add/",
        {"code": "430624102000", "name": "错镇", "level": "township", "parent": tree.huarong.pk},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "code" in errors and "430623" in errors["code"][0]
    assert not Region.objects.filter(code="430624102000").exists()


@pytest.mark.django_db
def test_department_admin_sees_and_edits_only_own_department(client, tree):
    market_admin = UserFactory()
    assign(market_admin, Role.DEPARTMENT_ADMIN, department=tree.huarong_market)
    client.force_login(market_admin)
    listing = client.get("/admin/org/department/")
    assert listing.status_code == 200
    assert list(listing.context["cl"].queryset) == [tree.huarong_market]
    own = client.post(
        f"/admin/org/department/{tree.huarong_market.pk}/change/",
        {
            "name": tree.huarong_market.name,
            "short_name": "华容市监局",
            "uscc": tree.huarong_market.uscc,
        },
    )
    assert own.status_code == 302
    tree.huarong_market.refresh_from_db()
    assert tree.huarong_market.short_name == "华容市监局"
    assert AuditEvent.objects.get(action="org.department_update").actor == market_admin
    other = client.get(f"/admin/org/department/{tree.huarong_health.pk}/change/")
    assert other.status_code == 302  # "does not exist" for this user, back to the index
    assert client.get("/admin/org/region/add/").status_code == 403


@pytest.mark.django_db
def test_role_assignment_add_and_delete_are_assign_and_revoke(admin_client, tree):
    reviewer = UserFactory()
    response = admin_client.post(
        "/admin/org/roleassignment/add/",
        {"user": reviewer.pk, "role": "reviewer", "department": tree.huarong_health.pk},
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=reviewer)
    assert AuditEvent.objects.filter(action="org.role_assign").count() == 1
    deleted = admin_client.post(
        f"/admin/org/roleassignment/{assignment.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEvent.objects.filter(action="org.role_revoke").count() == 1


@pytest.mark.django_db
def test_role_form_names_the_scope_rule(admin_client, tree):
    response = admin_client.post(
        "/admin/org/roleassignment/add/", {"user": UserFactory().pk, "role": "reviewer"}
    )
    assert response.status_code == 200
    assert "department" in response.context["adminform"].form.errors
    assert not RoleAssignment.objects.filter(role="reviewer").exists()


@pytest.mark.django_db
def test_department_admin_cannot_assign_in_another_department(client, tree):
    market_admin = UserFactory()
    assign(market_admin, Role.DEPARTMENT_ADMIN, department=tree.huarong_market)
    client.force_login(market_admin)
    response = client.post(
        "/admin/org/roleassignment/add/",
        {"user": UserFactory().pk, "role": "reviewer", "department": tree.huarong_health.pk},
    )
    assert response.status_code == 200  # the form refuses: not a choice for this user
    assert not RoleAssignment.objects.filter(department=tree.huarong_health).exists()


@pytest.mark.django_db
def test_roles_inline_on_the_user_page(admin_client, tree):
    clerk = UserFactory(username="new_clerk")
    page = admin_client.get(f"/admin/core/user/{clerk.pk}/change/")
    assert page.status_code == 200
    assert "角色与范围" in page.content.decode()
    prefix = "role_assignments"
    data = {
        "username": clerk.username,
        "display_name": "",
        "is_active": "on",
        "is_staff": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "08:00:00",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-role": "counter_clerk",
        f"{prefix}-0-region": tree.huarong.pk,
    }
    response = admin_client.post(f"/admin/core/user/{clerk.pk}/change/", data)
    assert response.status_code == 302, response.context and response.context.get("errors")
    assignment = RoleAssignment.objects.get(user=clerk)
    assert assignment.region == tree.huarong
    assert AuditEvent.objects.filter(action="org.role_assign").exists()


@pytest.mark.django_db
def test_plain_staff_see_no_org_admin(client, tree):
    clerk = UserFactory()
    assign(clerk, Role.COUNTER_CLERK, region=tree.huarong)
    client.force_login(clerk)
    assert client.get("/admin/org/roleassignment/").status_code == 403
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "/admin/org/roleassignment/" not in index.content.decode()


@pytest.mark.django_db
def test_government_service_admin_adds_a_point_in_own_county_only(client, tree):
    hall_admin = UserFactory()
    assign(hall_admin, Role.DEPARTMENT_ADMIN, department=tree.huarong_gov)
    client.force_login(hall_admin)
    point = {
        "code": "430623100000-TC1",
        "name": "章华镇便民服务中心",
        "kind": "township_centre",
        "address": "华容县章华镇人民政府一楼",
        "opening_hours": "周一至周五",
        "phone": "12345",
    }
    elsewhere = client.post("/admin/org/servicepoint/add/", {**point, "region": tree.wenxing.pk})
    assert elsewhere.status_code == 200
    assert "region" in elsewhere.context["adminform"].form.errors
    response = client.post("/admin/org/servicepoint/add/", {**point, "region": tree.zhanghua.pk})
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="org.service_point_create").actor == hall_admin
    listing = client.get("/admin/org/servicepoint/")
    assert {p.code for p in listing.context["cl"].queryset} == {
        "430623000000-CH1",
        "430623100000-TC1",
    }
