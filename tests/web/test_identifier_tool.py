import pytest
from django.urls import reverse

from yiciban.core.identifiers import make_uscc, resident_id_check_char

URL = reverse("web:identifier_tool")


def _resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


VALID_ID = _resident_id("43062319900101123")


@pytest.fixture
def valid_uscc():
    return make_uscc(authority="9", category="1", region="430623", org_body="MA4L1234")


@pytest.mark.django_db
def test_page_offers_both_checks(client):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "统一社会信用代码" in html
    assert "公民身份号码" in html
    assert 'name="uscc"' in html and 'name="resident_id"' in html


@pytest.mark.django_db
def test_valid_uscc_passes_and_the_link_carries_it(client, valid_uscc):
    response = client.get(URL, {"uscc": valid_uscc.lower()})
    html = response.content.decode()
    assert "校验通过" in html
    assert valid_uscc in html  # public data: shown, normalised to upper case


@pytest.mark.django_db
def test_wrong_check_character_is_explained(client, valid_uscc):
    wrong = valid_uscc[:17] + ("0" if valid_uscc[17] != "0" else "1")
    html = client.get(URL, {"uscc": wrong}).content.decode()
    assert "校验未通过" in html
    assert f"第18位校验码应为“{valid_uscc[17]}”" in html


@pytest.mark.django_db
def test_empty_uscc_is_a_form_error(client):
    html = client.get(URL, {"uscc": ""}).content.decode()
    assert "请填写统一社会信用代码。" in html
    assert 'data-testid="uscc-result"' not in html


@pytest.mark.django_db
def test_valid_resident_id_is_shown_masked_only(client):
    response = client.post(URL, {"resident_id": VALID_ID})
    html = response.content.decode()
    assert response.status_code == 200
    assert "校验通过" in html
    assert "430623********" + VALID_ID[-4:] in html
    assert VALID_ID not in html
    assert "19900101" not in html
    # the result is personal: not kept by browsers or proxies
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_wrong_check_digit_is_explained_without_the_number(client):
    wrong = VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1")
    html = client.post(URL, {"resident_id": wrong}).content.decode()
    assert "校验未通过" in html
    assert "第18位校验码应为" in html
    assert wrong not in html


@pytest.mark.django_db
def test_bad_birth_date_reason_does_not_reveal_the_hidden_digits(client):
    bad = _resident_id("43062319901301123")  # month 13
    html = client.post(URL, {"resident_id": bad}).content.decode()
    assert "第7至14位出生日期不是有效日期或不在合理范围内。" in html
    assert "19901301" not in html
    assert bad not in html


@pytest.mark.django_db
def test_short_number_gets_the_length_rule(client):
    html = client.post(URL, {"resident_id": "4306231990"}).content.decode()
    assert "公民身份号码应为18位，实际为10位" in html
    assert "4306231990" not in html


@pytest.mark.django_db
def test_empty_resident_id_is_a_form_error(client):
    html = client.post(URL, {"resident_id": ""}).content.decode()
    assert "请填写公民身份号码。" in html


@pytest.mark.django_db
def test_resident_id_check_needs_the_csrf_token():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(URL, {"resident_id": VALID_ID})
    assert response.status_code == 403
    html = response.content.decode()
    assert "页面已过期" in html
    assert VALID_ID not in html
