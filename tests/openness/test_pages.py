"""The public pages and the staff workbench, rendered through Django's test client."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from yiciban.openness import services
from yiciban.openness.models import ArticleStatus, DisclosureRequest

from .conftest import column, notifications, published_article


def test_portal_region_column_and_article_pages(client, place):
    article = published_article(place, title="华容县“一件事一次办”事项清单")
    village_article = published_article(
        place, region=place.village, title="东街社区2021年第三季度财务公开", column_kind="finance"
    )
    portal = client.get("/openness/")
    assert portal.status_code == 200
    assert "华容县" in portal.content.decode()
    region = client.get("/openness/r/430623000000/").content.decode()
    assert "华容县“一件事一次办”事项清单" in region
    assert "章华镇" in region  # the townships are listed for navigation
    village = client.get(f"/openness/r/{place.village.code}/").content.decode()
    assert "东街社区2021年第三季度财务公开" in village
    listing = client.get("/openness/r/430623000000/policy/")
    assert "华容县“一件事一次办”事项清单" in listing.content.decode()
    page = client.get(f"/openness/a/{article.pk}/").content.decode()
    assert "<h1>华容县“一件事一次办”事项清单</h1>" in page
    assert "openness/openness.css" in page
    assert client.get(f"/openness/a/{village_article.pk}/").status_code == 200
    assert client.get("/openness/r/430623999000/").status_code == 404
    assert client.get("/openness/r/430623000000/gossip/").status_code == 404


def test_titles_are_escaped_on_pages(client, place):
    article = published_article(place, title="<script>alert(1)</script>公告")
    page = client.get(f"/openness/a/{article.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;公告" in page


def test_draft_and_withdrawn_pages_are_404(client, place):
    draft = services.article_create(
        actor=place.people.county_editor, column=column(place.county), title="草稿"
    )
    assert client.get(f"/openness/a/{draft.pk}/").status_code == 404
    article = published_article(place)
    services.article_withdraw(actor=place.people.county_editor, article=article, reason="有误")
    assert client.get(f"/openness/a/{article.pk}/").status_code == 404


def test_search_page_in_chinese(client, place):
    published_article(place, title="华容县防汛抗旱应急预案", body="汛期值班安排。")
    page = client.get("/openness/search/", {"q": "防汛预案"}).content.decode()
    assert "华容县防汛抗旱应急预案" in page
    assert "找到 1 条信息" in page


def test_point_corner_page_shows_local_and_county_information(client, place):
    published_article(place, title="县级通知")
    published_article(place, region=place.village, title="社区公示", column_kind="finance")
    page = client.get(f"/openness/point/{place.station.code}/").content.decode()
    assert "东街社区便民服务站" in page
    assert "县级通知" in page and "社区公示" in page
    assert f"/openness/screen/{place.station.code}/" in page


def test_screen_page_is_self_contained_and_small(client, place):
    published_article(
        place,
        title="</script><script>alert(1)</script>防疫提示",
        column_kind="epidemic",
        show_on_screen=True,
    )
    response = client.get(f"/openness/screen/{place.hall.code}/")
    html = response.content.decode()
    assert response.status_code == 200
    # the embedded playlist cannot break out of its script element
    assert "<script>alert(1)</script>" not in html
    assert 'id="screen-playlist" type="application/json"' in html
    # nothing from another host: every src/href is a site path
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith("/"), url
    assert 'data-playlist-url="/api/v1/openness/screens/430623-HALL/playlist"' in html
    script = Path(finders.find("openness/screen.js"))
    style = Path(finders.find("openness/screen.css"))
    total = len(response.content) + script.stat().st_size + style.stat().st_size
    assert total < 100 * 1024
    source = script.read_text(encoding="utf-8")
    assert "innerHTML" not in source  # slides are set as text only
    assert "fetch(" in source and "backoff" in source


def test_board_print_sheet(client, place):
    published_article(
        place, region=place.village, title="东街社区低保名单公示", column_kind="public_affairs"
    )
    page = client.get(f"/openness/r/{place.village.code}/board/").content.decode()
    assert "东街社区政务公开栏" in page
    for name in ("党务公开", "事务公开", "政策公开", "财务公开", "机构公开"):
        assert name in page
    assert "东街社区低保名单公示" in page
    assert 'openness/board-print.css" media="print"' in page


def test_subscribe_pages_double_opt_in(client, place):
    form = client.get("/openness/r/430623000000/subscribe/")
    assert form.status_code == 200
    response = client.post(
        "/openness/r/430623000000/subscribe/",
        {"columns": ["policy"], "channel": "sms", "address": "13907301234"},
    )
    assert response.status_code == 302
    confirm_url = response["Location"]
    code = re.search(r"确认码(\d{6})", notifications("openness.subscription_confirm").get().body)
    wrong = client.post(confirm_url, {"code": "000000" if code.group(1) != "000000" else "1"})
    assert "确认码不正确" in wrong.content.decode()
    done = client.post(confirm_url, {"code": code.group(1)})
    assert "订阅成功" in done.content.decode()
    link = notifications("openness.subscription_confirm").get().link
    assert client.get(link).status_code == 200  # GET only shows a button


def test_disclosure_pages(client, place):
    form = client.get("/openness/disclosure/?region=430623000000")
    assert "政府信息公开申请" in form.content.decode()
    bad = client.post("/openness/disclosure/", {"region": "430623000000"})
    assert "error-summary" in bad.content.decode()
    filed = client.post(
        "/openness/disclosure/",
        {
            "region": "430623000000",
            "requester_category": "natural_person",
            "requester_name": "赵六",
            "id_number": "430623199001011237",
            "phone": "13807301234",
            "description": "章华镇2021年道路硬化项目资金使用情况",
            "delivery_method": "email",
            "email": "zhao@example.com",
        },
    ).content.decode()
    number = re.search(r'data-testid="disclosure-number">([^<]+)<', filed).group(1)
    code = re.search(r'data-testid="query-code"><strong>([^<]+)<', filed).group(1)
    status = client.get("/openness/disclosure/status/", {"number": number, "query_code": code})
    assert "办理中" in status.content.decode()
    # the lookup form posts, so the query code stays out of addresses and logs
    posted = client.post("/openness/disclosure/status/", {"number": number, "query_code": code})
    assert "办理中" in posted.content.decode()
    assert 'method="post"' in client.get("/openness/disclosure/status/").content.decode()
    wrong = client.get("/openness/disclosure/status/", {"number": number, "query_code": "XXXXXXX"})
    assert "申请编号或查询码不正确" in wrong.content.decode()
    assert DisclosureRequest.objects.get(number=number).requester_name == "赵六"


def test_statistics_page(client, place):
    page = client.get("/openness/disclosure/statistics/", {"region": "430623", "year": "2025"})
    html = page.content.decode()
    assert "华容县 2025年度" in html
    assert "一、本年新收政府信息公开申请数量" in html
    assert 'data-key="result.unable_to_provide.still_unclear"' in html


def test_suggestion_pages(client, place):
    response = client.post(
        f"/openness/suggestions/?point={place.station.code}",
        {"content": "建议增加自助打印机。", "publish_consent": "on"},
    )
    assert "意见建议已收到" in response.content.decode()
    assert client.get("/openness/suggestions/?region=430623000000").status_code == 200


def test_staff_pages_require_login(client, place):
    response = client.get("/openness/staff/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_drafts_submits_and_reviewer_approves_on_pages(client, place):
    client.force_login(place.people.township_editor)
    form = client.get("/openness/staff/articles/new/")
    assert "章华镇 · 政策公开" in form.content.decode()
    created = client.post(
        "/openness/staff/articles/new/",
        {
            "column": str(column(place.township).pk),
            "kind": "notice",
            "title": "章华镇关于冬季防火的通知",
            "body_format": "markdown",
            "body": "请各村做好冬季防火。",
            "show_on_screen": "on",
        },
    )
    assert created.status_code == 302
    url = created["Location"]
    client.post(url, {"action": "submit"})
    client.force_login(place.people.supervisor)
    client.post(url, {"action": "approve", "publish_at": "", "comment": "同意"})
    page = client.get(url).content.decode()
    assert "已发布" in page
    from yiciban.openness.models import Article

    article = Article.objects.get(title="章华镇关于冬季防火的通知")
    assert article.status == ArticleStatus.PUBLISHED
    # the village station's screen (below the township) plays it
    playlist = client.get(f"/api/v1/openness/screens/{place.station.code}/playlist").json()
    assert "章华镇关于冬季防火的通知" in [s["title"] for s in playlist["slides"]]


def test_staff_disclosure_page_extend_and_answer(client, place):
    filed = services.disclosure_request_file(
        region=place.county,
        requester_category="natural_person",
        requester_name="孙七",
        id_number="430623199001011237",
        phone="13807301234",
        description="华容县2021年度政府采购目录",
        delivery_method="online",
    )
    number = filed.request.number
    client.force_login(place.people.supervisor)
    url = f"/openness/staff/disclosure/{number}/"
    assert client.get(url).status_code == 200
    client.post(url, {"action": "extend", "days": "10", "reason": "涉及多个部门"})
    page = client.get(url).content.decode()
    assert "延长10个工作日" in page
    assert "延长答复期限（限一次" not in page  # the form is gone after the one extension
    client.force_login(place.people.county_editor)
    client.post(url, {"action": "answer", "answer_type": "disclosed", "answer_text": "予以公开。"})
    assert "已答复" in client.get(url).content.decode()
    client.force_login(place.people.other_editor)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    "path", ["/openness/staff/disclosure/NOPE/", "/openness/staff/articles/999999/"]
)
def test_staff_unknown_is_404(client, place, path):
    client.force_login(place.people.county_editor)
    assert client.get(path).status_code == 404


def test_staff_page_refuses_an_action_on_an_outdated_page(client, place):
    article = services.article_create(
        actor=place.people.county_editor, column=column(place.county), title="版本冲突测试"
    )
    services.article_submit(actor=place.people.county_editor, article=article)
    shown = article.version + 1  # the reviewer's page shows the submitted article
    services.article_withdraw(actor=place.people.county_editor, article=article, reason="撤回")
    client.force_login(place.people.supervisor)
    response = client.post(
        f"/openness/staff/articles/{article.pk}/",
        {"action": "withdraw", "version": str(shown), "reason": "再撤回"},
        follow=True,
    )
    assert "该信息已被他人修改" in response.content.decode()
