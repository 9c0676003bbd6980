import pytest
from django.conf import settings
from django.urls import reverse


@pytest.mark.django_db
def test_language_switch_is_a_post_form_on_every_page(client):
    html = client.get("/").content.decode()
    assert f'action="{reverse("set_language")}" method="post"' in html
    assert 'name="language" value="en"' in html
    assert 'name="language" value="zh-hans"' in html


@pytest.mark.django_db
def test_switching_to_english_and_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    html = client.get("/").content.decode()
    assert '<html lang="en"' in html
    assert "Skip to main content" in html
    assert "Working-day deadline calculator" in html

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans"' in html
    assert "办理时限计算" in html


@pytest.mark.django_db
def test_browser_language_is_honoured(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="en"' in html
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans"' in html


@pytest.mark.django_db
def test_chinese_is_the_default_without_preference(client):
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans"' in html
