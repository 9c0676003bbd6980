import datetime as dt

import pytest
from django.urls import reverse

from yiciban.org.models import Role, RoleAssignment

from .conftest import PASSWORD

LOGIN = reverse("web:login")
WORKBENCH = reverse("web:workbench")


@pytest.mark.django_db
def test_login_page_is_in_chinese(client):
    html = client.get(LOGIN).content.decode()
    assert "<h1>工作人员登录</h1>" in html
    assert "用户名" in html and "密码" in html


@pytest.mark.django_db
def test_login_page_header_shows_the_platform_not_the_host(client, settings):
    # LoginView puts its own `site_name` (the host) into the context.
    html = client.get(LOGIN).content.decode()
    assert f"</span>{settings.YICIBAN['SITE_NAME']}</a>" in html
    assert "testserver" not in html


@pytest.mark.django_db
def test_login_leads_to_the_workbench(client, clerk):
    response = client.post(LOGIN, {"username": "clerk", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == WORKBENCH


@pytest.mark.django_db
def test_login_honours_a_safe_next_and_ignores_an_outside_one(client, clerk):
    response = client.post(
        f"{LOGIN}?next=/tools/deadline/", {"username": "clerk", "password": PASSWORD}
    )
    assert response["Location"] == "/tools/deadline/"
    client.logout()
    response = client.post(
        f"{LOGIN}?next=https://evil.example/", {"username": "clerk", "password": PASSWORD}
    )
    assert response["Location"] == WORKBENCH


@pytest.mark.django_db
def test_wrong_password_gets_a_chinese_error_and_no_session(client, clerk):
    response = client.post(LOGIN, {"username": "clerk", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "登录未成功" in html
    assert "请输入一个正确的" in html
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_workbench_requires_login(client):
    response = client.get(WORKBENCH)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={WORKBENCH}"


@pytest.mark.django_db
def test_workbench_lists_roles_and_scopes(client, clerk, market_bureau):
    RoleAssignment.objects.create(
        user=clerk,
        role=Role.REVIEWER,
        department=market_bureau,
        valid_until=dt.date(2099, 12, 31),
    )
    client.force_login(clerk)
    html = client.get(WORKBENCH).content.decode()
    assert "李四，您好" in html
    assert "综合受理员" in html
    assert "华容县" in html
    assert "审查员" in html
    assert "华容县市场监督管理局" in html
    assert "2099-12-31" in html
    assert f'href="{reverse("admin:index")}"' in html


@pytest.mark.django_db
def test_workbench_without_roles_says_so_and_hides_admin(client, applicant):
    client.force_login(applicant)
    html = client.get(WORKBENCH).content.decode()
    assert "您当前没有有效的角色授权" in html
    assert f'href="{reverse("admin:index")}"' not in html


@pytest.mark.django_db
def test_logout_is_a_post(client, clerk):
    client.force_login(clerk)
    assert client.get(reverse("web:logout")).status_code == 405
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_header_shows_login_or_logout(client, clerk):
    html = client.get("/").content.decode()
    assert "工作人员登录" in html and "退出登录" not in html
    client.force_login(clerk)
    html = client.get("/").content.decode()
    assert "退出登录" in html and "李四" in html


@pytest.mark.django_db
def test_admin_is_in_chinese_with_the_platform_name(client, django_user_model, settings):
    admin_user = django_user_model.objects.create_superuser(
        username="root", password=PASSWORD, email="root@example.org"
    )
    client.force_login(admin_user)
    html = client.get(reverse("admin:index")).content.decode()
    assert "站点管理" in html  # Django's own Chinese
    assert settings.YICIBAN["SITE_NAME"] in html
    assert "Django 管理" not in html


@pytest.mark.django_db
def test_admin_refuses_anonymous(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
