import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import translation
from django.views import defaults


@pytest.mark.django_db
def test_404_page_is_chinese_with_the_layout(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    assert "返回首页" in html
    assert 'class="site-header"' in html
    assert "办理时限计算" in html  # the navigation is there to carry on


@pytest.mark.django_db
def test_404_page_in_english(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Page not found" in response.content.decode()


def test_500_page_renders_without_request_context():
    # Django renders 500.html with an empty context: no request, no context processors.
    with translation.override("zh-hans"):
        response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "服务暂时不可用" in html
    assert "12345" in html
    assert "/static/yiciban/site.css" in html


@pytest.mark.django_db
def test_403_page(rf, django_user_model):
    request = rf.get("/somewhere/")
    request.user = django_user_model(username="x")
    with translation.override("zh-hans"):
        response = defaults.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


@pytest.mark.django_db
def test_400_page(rf, django_user_model):
    request = rf.get("/somewhere/")
    request.user = django_user_model(username="x")
    with translation.override("zh-hans"):
        response = defaults.bad_request(request, Exception("bad"))
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


@pytest.mark.django_db
def test_disallowed_host_gets_the_400_page(client):
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


def test_500_page_in_english():
    with translation.override("en"):
        response = defaults.server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Service temporarily unavailable" in html
    assert "Yiciban" in html
