"""/api/v1/openness: public reads, session-authenticated staff writes, and every refusal as
RFC 9457 problem details (401/403/404/409/422)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from yiciban.openness.models import ArticleStatus, DisclosureRequest

from .conftest import column, notifications, published_article

API = "/api/v1/openness"


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


@pytest.fixture
def editor_client(client, place):
    client.force_login(place.people.county_editor)
    return client


def _create(client, place, **fields):
    payload = {"column_id": column(place.county).pk, "title": "关于印发华容县稳岗返还办法的通知"}
    payload.update(fields)
    return client.post(f"{API}/articles", payload, content_type="application/json")


def test_staff_writes_need_a_session(client, place):
    body = _problem(_create(client, place), 401)
    assert body["code"] == "unauthenticated"


def test_create_submit_approve_over_the_api(client, place):
    client.force_login(place.people.county_editor)
    created = _create(client, place, body="**稳岗返还**比例为90%。")
    assert created.status_code == 201
    article = created.json()
    assert article["status"] == ArticleStatus.DRAFT
    assert "<strong>稳岗返还</strong>" in article["body_html"]
    assert client.post(f"{API}/articles/{article['id']}/submit").json()["status"] == "submitted"
    body = _problem(
        client.post(f"{API}/articles/{article['id']}/approve", {}, content_type="application/json"),
        403,
    )
    assert body["code"] == "reviewer_required"
    client.force_login(place.people.supervisor)
    approved = client.post(
        f"{API}/articles/{article['id']}/approve", {}, content_type="application/json"
    )
    assert approved.json()["status"] == ArticleStatus.PUBLISHED
    again = client.post(
        f"{API}/articles/{article['id']}/approve", {}, content_type="application/json"
    )
    assert _problem(again, 409)["code"] == "invalid_transition"
    public = client.get(f"{API}/articles/{article['id']}").json()
    assert public["title"] == "关于印发华容县稳岗返还办法的通知"
    assert "status" not in public


def test_validation_errors_name_field_and_rule(editor_client, place):
    body = _problem(_create(editor_client, place, title=""), 422)
    assert body["errors"][0]["field"] == "title"
    assert body["errors"][0]["rule"] == "required"
    body = _problem(_create(editor_client, place, column_id="abc"), 422)
    assert body["errors"][0]["field"].endswith("column_id")


def test_unknown_things_are_404(editor_client, place):
    assert _problem(_create(editor_client, place, column_id=999999), 404)["code"] == (
        "column_not_found"
    )
    assert _problem(editor_client.get(f"{API}/articles/999999"), 404)
    assert _problem(editor_client.get(f"{API}/screens/NO-SUCH/playlist"), 404)
    assert _problem(editor_client.get(f"{API}/columns?region=430623999000"), 404)


def test_draft_is_not_public_but_visible_to_staff(editor_client, place):
    article = _create(editor_client, place).json()
    assert editor_client.get(f"{API}/articles/{article['id']}").status_code == 404
    assert editor_client.get(f"{API}/staff/articles/{article['id']}").status_code == 200
    listing = editor_client.get(f"{API}/staff/articles?status=draft").json()
    assert listing["count"] == 1


def test_withdraw_schedule_over_the_api(editor_client, place):
    article = published_article(place)
    at = (timezone.now() + dt.timedelta(days=3)).isoformat()
    response = editor_client.post(
        f"{API}/articles/{article.pk}/withdraw",
        {"reason": "公示期满", "at": at},
        content_type="application/json",
    )
    assert response.json()["status"] == ArticleStatus.WITHDRAWAL_SCHEDULED


def test_feed_is_paginated_and_filtered(client, place):
    for n in range(3):
        published_article(place, title=f"县级政策{n}")
    published_article(place, region=place.township, title="乡镇事务", column_kind="public_affairs")
    page = client.get(f"{API}/feed?region=430623&limit=2").json()
    assert page["count"] == 4 and len(page["items"]) == 2
    assert page["items"][0]["url"].startswith("/openness/a/")
    townships = client.get(f"{API}/feed?region=430623&level=township").json()
    assert [i["title"] for i in townships["items"]] == ["乡镇事务"]
    assert client.get(f"{API}/feed?column=public_affairs").json()["count"] == 1
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    assert client.get(f"{API}/feed", {"since": future}).json()["count"] == 0
    assert _problem(client.get(f"{API}/feed?level=galaxy"), 422)["errors"][0]["field"] == "level"
    assert _problem(client.get(f"{API}/feed?limit=1000"), 422)


def test_search_api(client, place):
    published_article(
        place, title="华容县城乡居民医保缴费通知", body="2022年度城乡居民医保开始缴费。"
    )
    result = client.get(f"{API}/search", {"q": "医保缴费"}).json()
    assert result["count"] == 1
    assert result["items"][0]["article"]["title"] == "华容县城乡居民医保缴费通知"
    assert "医保" in result["terms"]
    assert _problem(client.get(f"{API}/search"), 422)


def test_screen_playlist_and_configuration(client, place):
    policy = published_article(place, title="春耕生产政策要点", show_on_screen=False)
    auto = published_article(
        place, title="疫情防控提示", column_kind="epidemic", show_on_screen=True
    )
    village_only = published_article(
        place,
        region=place.village,
        title="东街社区公示",
        column_kind="finance",
        show_on_screen=True,
    )
    response = client.put(
        f"{API}/screens/{place.hall.code}",
        {"title": "华容县政务服务中心信息屏", "article_ids": [policy.pk], "slide_seconds": 20},
        content_type="application/json",
    )
    assert response.status_code == 401
    client.force_login(place.people.township_editor)
    assert _problem(
        client.put(
            f"{API}/screens/{place.hall.code}",
            {"title": "x", "article_ids": []},
            content_type="application/json",
        ),
        403,
    )
    client.force_login(place.people.county_editor)
    bad = client.put(
        f"{API}/screens/{place.hall.code}",
        {"title": "信息屏", "article_ids": [999999]},
        content_type="application/json",
    )
    assert _problem(bad, 422)["errors"][0]["field"] == "article_ids.0"
    ok = client.put(
        f"{API}/screens/{place.hall.code}",
        {"title": "华容县政务服务中心信息屏", "article_ids": [policy.pk], "slide_seconds": 20},
        content_type="application/json",
    )
    assert ok.status_code == 200
    client.logout()
    playlist = client.get(f"{API}/screens/{place.hall.code}/playlist").json()
    titles = [slide["title"] for slide in playlist["slides"]]
    assert titles[0] == "春耕生产政策要点"
    assert "疫情防控提示" in titles
    assert "东街社区公示" not in titles  # a village's notice is not on the county hall screen
    assert titles[-1] == "华容县政务服务中心"  # the point's own service information
    assert playlist["slide_seconds"] == 20
    station = client.get(f"{API}/screens/{place.station.code}/playlist").json()
    assert "东街社区公示" in [s["title"] for s in station["slides"]]
    assert village_only.pk and auto.pk


def test_an_unchanged_playlist_is_answered_with_304(client, place):
    url = f"{API}/screens/{place.hall.code}/playlist"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag == f'"{first.json()["version"]}"'
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert client.get(url, HTTP_IF_NONE_MATCH='"stale", W/"other"').status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH="garbage").status_code == 200
    published_article(place, title="新的公告", column_kind="epidemic", show_on_screen=True)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "新的公告" in [slide["title"] for slide in changed.json()["slides"]]


def test_subscription_double_opt_in_over_the_api(client, place):
    response = client.post(
        f"{API}/subscriptions",
        {
            "region": "430623000000",
            "columns": ["policy"],
            "channel": "sms",
            "address": "13907301234",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    subscription = response.json()
    assert subscription["status"] == "pending" and subscription["address"] == "139****1234"
    code = re.search(r"确认码(\d{6})", notifications("openness.subscription_confirm").get().body)
    wrong = client.post(
        f"{API}/subscriptions/{subscription['id']}/confirm",
        {"code": "x"},
        content_type="application/json",
    )
    assert _problem(wrong, 422)["errors"][0]["rule"] == "mismatch"
    confirmed = client.post(
        f"{API}/subscriptions/{subscription['id']}/confirm",
        {"code": code.group(1)},
        content_type="application/json",
    )
    assert confirmed.json()["status"] == "active"
    bad_column = client.post(
        f"{API}/subscriptions",
        {
            "region": "430623000000",
            "columns": ["gossip"],
            "channel": "sms",
            "address": "13907301234",
        },
        content_type="application/json",
    )
    assert _problem(bad_column, 422)


def test_disclosure_request_over_the_api(client, place):
    filed = client.post(
        f"{API}/disclosure-requests",
        {
            "region": "430623",
            "requester_category": "natural_person",
            "requester_name": "王五",
            "id_number": "430623199001011237",
            "phone": "13807301234",
            "description": "2021年华容县农村危房改造补助名单",
            "delivery_method": "online",
        },
        content_type="application/json",
    )
    assert filed.status_code == 201, filed.content
    data = filed.json()
    number, code = data["number"], data["query_code"]
    assert data["deadline"]["due"]
    status = client.get(f"{API}/disclosure-requests/{number}/status", {"query_code": code}).json()
    assert status["status"] == "received"
    assert "id_number" not in status
    assert _problem(
        client.get(f"{API}/disclosure-requests/{number}/status", {"query_code": "WRONGCODE"}), 404
    )
    # staff side
    assert _problem(
        client.post(
            f"{API}/disclosure-requests/{number}/extension",
            {"days": 5, "reason": "x"},
            content_type="application/json",
        ),
        401,
    )
    client.force_login(place.people.county_editor)
    assert (
        _problem(
            client.post(
                f"{API}/disclosure-requests/{number}/extension",
                {"days": 5, "reason": "需调档"},
                content_type="application/json",
            ),
            403,
        )["code"]
        == "office_head_required"
    )
    staff_view = client.get(f"{API}/staff/disclosure-requests/{number}").json()
    assert staff_view["id_number"] == "430623********1237"
    client.force_login(place.people.supervisor)
    extended = client.post(
        f"{API}/disclosure-requests/{number}/extension",
        {"days": 20, "reason": "需调取历年档案"},
        content_type="application/json",
    ).json()
    assert extended["extension_days"] == 20
    assert extended["extension_approved_by"] == "county_supervisor"
    twice = client.post(
        f"{API}/disclosure-requests/{number}/extension",
        {"days": 1, "reason": "再延"},
        content_type="application/json",
    )
    assert _problem(twice, 409)["code"] == "extension_used"
    too_long = client.post(
        f"{API}/disclosure-requests/{number}/extension",
        {"days": 21, "reason": "太长"},
        content_type="application/json",
    )
    assert _problem(too_long, 422)["errors"][0]["field"] == "days"
    client.force_login(place.people.county_editor)
    answered = client.post(
        f"{API}/disclosure-requests/{number}/answer",
        {"answer_type": "disclosed", "answer_text": "予以公开，名单见附件。"},
        content_type="application/json",
    ).json()
    assert answered["status"] == "answered"
    client.force_login(place.people.other_editor)
    assert _problem(client.get(f"{API}/staff/disclosure-requests/{number}"), 403)
    assert DisclosureRequest.objects.get(number=number).answer_type == "disclosed"


def test_statistics_api(client, place):
    response = client.get(f"{API}/disclosure-statistics", {"year": 2025, "region": "430623"})
    body = response.json()
    assert body["region"]["code"] == "430623000000"
    assert body["rows"][0]["key"] == "new"
    assert body["columns"][-1]["key"] == "total"
    assert _problem(
        client.get(f"{API}/disclosure-statistics", {"year": 1990, "region": "430623"}), 422
    )
    assert _problem(client.get(f"{API}/disclosure-statistics", {"region": "430623"}), 422)


def test_suggestion_api(client, place):
    filed = client.post(
        f"{API}/suggestions",
        {
            "content": "建议大厅增加老年人助办窗口。",
            "service_point": place.hall.code,
            "channel": "box",
            "publish_consent": True,
        },
        content_type="application/json",
    )
    assert filed.status_code == 201
    number = filed.json()["number"]
    assert client.get(f"{API}/suggestions/published").json()["count"] == 0
    assert _problem(
        client.post(
            f"{API}/suggestions/{number}/answer",
            {"answer_text": "好"},
            content_type="application/json",
        ),
        401,
    )
    client.force_login(place.people.other_editor)
    assert _problem(
        client.post(
            f"{API}/suggestions/{number}/answer",
            {"answer_text": "已设立"},
            content_type="application/json",
        ),
        403,
    )
    client.force_login(place.people.county_editor)
    answered = client.post(
        f"{API}/suggestions/{number}/answer",
        {"answer_text": "已设立老年人助办窗口。"},
        content_type="application/json",
    )
    assert answered.json()["status"] == "answered"
    published = client.get(f"{API}/suggestions/published", {"point": place.hall.code}).json()
    assert published["items"][0]["answer_text"] == "已设立老年人助办窗口。"
    assert "contact" not in published["items"][0]
