import pytest
from django.urls import reverse

from yiciban.web.context_processors import LARGE_TYPE_COOKIE

TOGGLE = reverse("web:large_type")


@pytest.mark.django_db
def test_large_type_is_off_by_default(client):
    html = client.get("/").content.decode()
    assert 'class="large-type"' not in html
    assert 'name="large_type" value="on"' in html


@pytest.mark.django_db
def test_turning_large_type_on_sets_a_lasting_cookie_and_returns(client):
    response = client.post(TOGGLE, {"large_type": "on", "next": "/tools/deadline/"})
    assert response.status_code == 302
    assert response["Location"] == "/tools/deadline/"
    cookie = response.cookies[LARGE_TYPE_COOKIE]
    assert cookie.value == "1"
    assert int(cookie["max-age"]) >= 180 * 24 * 3600
    assert cookie["samesite"] == "Lax"

    page = client.get("/tools/deadline/")
    html = page.content.decode()
    assert 'class="large-type"' in html
    assert "已开启适老化模式" in html  # the confirmation message
    assert 'name="large_type" value="off"' in html
    # remembered: the next page is large too, and the message is shown once
    html = client.get("/").content.decode()
    assert 'class="large-type"' in html
    assert "已开启适老化模式" not in html


@pytest.mark.django_db
def test_turning_large_type_off_clears_the_cookie(client):
    client.cookies[LARGE_TYPE_COOKIE] = "1"
    response = client.post(TOGGLE, {"large_type": "off", "next": "/"})
    assert response.cookies[LARGE_TYPE_COOKIE].value == ""
    html = client.get("/").content.decode()
    assert 'class="large-type"' not in html
    assert "已恢复标准显示" in html


@pytest.mark.django_db
def test_large_type_refuses_other_values_and_get(client):
    assert client.post(TOGGLE, {"large_type": "huge"}).status_code == 400
    assert client.get(TOGGLE).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", ""])
def test_large_type_never_redirects_off_site(client, target):
    response = client.post(TOGGLE, {"large_type": "on", "next": target})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_large_type_works_on_error_pages_too(client):
    client.cookies[LARGE_TYPE_COOKIE] = "1"
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'class="large-type"' in response.content.decode()
