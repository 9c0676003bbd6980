"""Government openness in a real browser, on the demo data of 华容县: a township editor
drafts for a village, the county reviewer approves, the village page and the village
station's hall screen show it, and the screen survives a network blip; a disclosure request
is filed online, extended once and answered."""

import re

import pytest
from playwright.sync_api import expect

from yiciban.demo_loader import LoadReport
from yiciban.openness import demo as openness_demo
from yiciban.openness import services
from yiciban.openness.models import Article
from yiciban.org import demo as org_demo
from yiciban.org.models import PointKind, ServicePoint

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "Demo@2021"
TITLE = "东街社区2021年第四季度村务财务公开"


@pytest.fixture
def demo():
    report = LoadReport()
    org_demo.load(report)
    openness_demo.load(report)
    return report


def _log_in(page, base_url, username):
    page.goto(base_url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def _log_out(page):
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("link", name="工作人员登录", exact=True)).to_be_visible()


def test_township_publishes_county_approves_village_page_and_screen_show_it(
    live_server, page, demo, save_screenshot
):
    station = (
        ServicePoint.objects.filter(
            kind=PointKind.VILLAGE_STATION, region__parent__code="430623100000"
        )
        .select_related("region")
        .order_by("code")
        .first()
    )
    village = station.region

    _log_in(page, live_server.url, "zhanghua_editor")
    page.goto(live_server.url + "/openness/staff/articles/new/")
    page.get_by_label("栏目").select_option(label=f"{village.name} · 财务公开")
    page.get_by_label("标题").fill(TITLE)
    page.get_by_label("正文", exact=True).fill("## 收入\n\n集体经营收入**3.2**万元。")
    page.get_by_label("在大厅显示屏滚动播放").check()
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_test_id("article-status")).to_have_text("草稿")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_test_id("article-status")).to_have_text("待审核")
    article_url = page.url
    _log_out(page)

    _log_in(page, live_server.url, "huarong_supervisor")
    page.goto(article_url)
    page.get_by_label("审核意见").fill("同意公开")
    page.get_by_role("button", name="审核通过").click()
    expect(page.get_by_test_id("article-status")).to_have_text("已发布")
    _log_out(page)

    page.goto(f"{live_server.url}/openness/r/{village.code}/")
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    page.get_by_role("link", name=TITLE).click()
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator(".article-body strong")).to_have_text("3.2")

    # the station's screen: the new article first, refreshing every 15 s
    article = Article.objects.get(title=TITLE)
    editor = article.created_by
    services.screen_configure(
        actor=editor,
        service_point=station,
        title=f"{station.name}信息屏",
        article_ids=[article.pk],
        slide_seconds=5,
        refresh_seconds=15,
    )
    external = []
    page.on(
        "request",
        lambda request: (
            external.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page.goto(f"{live_server.url}/openness/screen/{station.code}/")
    expect(page.locator("#screen-stage h1")).to_have_text(TITLE)
    save_screenshot(page, "openness-screen")
    # network blip: the playlist cannot be fetched — the screen keeps rolling
    page.route(re.compile(r".*/playlist$"), lambda route: route.abort())
    expect(page.locator("#screen-offline")).to_be_visible(timeout=25_000)
    expect(page.locator("#screen-stage h1")).not_to_be_empty()
    page.unroute(re.compile(r".*/playlist$"))
    expect(page.locator("#screen-offline")).to_be_hidden(timeout=25_000)
    assert external == []


def test_disclosure_request_is_extended_once_and_answered(live_server, page, demo):
    page.goto(live_server.url + "/openness/disclosure/?region=430623000000")
    page.get_by_label("申请人类别").select_option("natural_person")
    page.get_by_label("姓名或名称").fill("周八")
    page.get_by_label("身份证号码或统一社会信用代码").fill("430623199001011237")
    page.get_by_label("联系电话").fill("13807309999")
    page.get_by_label("所需信息的名称、文号或便于查询的其他特征性描述").fill(
        "华容县2021年农村人居环境整治项目资金安排"
    )
    page.get_by_label("获取信息的方式").select_option("online")
    page.get_by_role("button", name="提交申请").click()
    number = page.get_by_test_id("disclosure-number").inner_text()
    code = page.get_by_test_id("query-code").inner_text()

    _log_in(page, live_server.url, "huarong_supervisor")
    page.goto(f"{live_server.url}/openness/staff/disclosure/{number}/")
    page.get_by_label("延长工作日（最多20）").fill("20")
    page.get_by_label("延长理由").fill("涉及多个部门，需汇总核实")
    page.get_by_role("button", name="批准延期").click()
    expect(page.get_by_test_id("disclosure-extension")).to_contain_text("延长20个工作日")
    expect(page.get_by_role("button", name="批准延期")).to_have_count(0)
    _log_out(page)

    _log_in(page, live_server.url, "huarong_editor")
    page.goto(f"{live_server.url}/openness/staff/disclosure/{number}/")
    page.get_by_label("答复类型").select_option("disclosed")
    page.get_by_label("答复内容").fill("予以公开，项目资金安排表见附件。")
    page.get_by_role("button", name="答复", exact=True).click()
    expect(page.get_by_test_id("disclosure-status")).to_have_text("已答复")
    _log_out(page)

    page.goto(f"{live_server.url}/openness/disclosure/status/?number={number}&query_code={code}")
    expect(page.get_by_test_id("disclosure-status")).to_have_text("已答复")
    expect(page.get_by_text("予以公开，项目资金安排表见附件。")).to_be_visible()
