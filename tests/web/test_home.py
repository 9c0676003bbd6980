import re

import pytest
from django.urls import reverse

from yiciban.web import sections


@pytest.mark.django_db
def test_home_shows_site_name_and_public_sections(client, settings):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert settings.YICIBAN["SITE_NAME"] in html
    assert '<html lang="zh-hans"' in html
    for title, url_name in [
        ("办理时限计算", "web:deadline_tool"),
        ("证照号码校验", "web:identifier_tool"),
        ("开放接口文档", "api:openapi-view"),
        ("工作台", "web:workbench"),
    ]:
        assert title in html
        assert f'href="{reverse(url_name)}"' in html
    assert "公众服务" in html
    assert "工作人员" in html


@pytest.mark.django_db
def test_home_hides_admin_from_anonymous_and_shows_it_to_staff(client, clerk):
    admin_href = f'href="{reverse("admin:index")}"'
    assert admin_href not in client.get("/").content.decode()
    client.force_login(clerk)
    assert admin_href in client.get("/").content.decode()


@pytest.mark.django_db
def test_every_link_on_the_home_page_leads_somewhere(client, clerk):
    client.force_login(clerk)
    html = client.get("/").content.decode()
    hrefs = set(re.findall(r'<a [^>]*href="(/[^"]*)"', html))
    assert hrefs, "the home page should link to its sections"
    for href in hrefs:
        status = client.get(href).status_code
        # 403 is a page that exists but needs a role this user lacks; never 404 or 5xx
        assert status in (200, 302, 403), f"{href} answered {status}"


@pytest.mark.django_db
def test_a_section_whose_url_does_not_resolve_is_not_shown(client):
    sections.register(
        key="test_unrouted",
        title="未上线的栏目",
        description="它的网址还没有配置",
        url_name="nowhere:index",
    )
    try:
        assert "未上线的栏目" not in client.get("/").content.decode()
    finally:
        sections.unregister("test_unrouted")


@pytest.mark.django_db
def test_header_marks_the_current_section(client):
    html = client.get(reverse("web:deadline_tool")).content.decode()
    assert f'<a href="{reverse("web:deadline_tool")}" aria-current="page">' in html
    assert f'<a href="{reverse("web:identifier_tool")}" aria-current="page">' not in html


@pytest.mark.django_db
def test_layout_has_skip_link_htmx_without_cdn_and_print_stylesheet(client):
    html = client.get("/").content.decode()
    assert '<a class="skip-link" href="#main">跳到主要内容</a>' in html
    assert '<main id="main"' in html
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert 'media="print"' in html
    # nothing loaded from another origin: every script and stylesheet is our own
    external = re.findall(r'(?:src|href)="(https?:)?//', html)
    assert external == []


def test_home_rejects_post(client):
    assert client.post("/").status_code == 405
