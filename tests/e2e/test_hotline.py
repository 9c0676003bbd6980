"""The 12345 hotline in a real browser, on the whole demo of 华容县: the operator logs a
consultation call and answers it from the knowledge base, logs a complaint and dispatches it
to the market regulator, whose reviewer answers it; the operator then sees it answered."""

import re

import pytest
from playwright.sync_api import expect

from yiciban import demo_loader

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "Demo@2021"
MARKET_REGULATOR = "华容县市场监督管理局"
COMPLAINT_TITLE = "超市出售过期牛奶"


@pytest.fixture
def demo():
    return demo_loader.load()


def _log_in(page, base_url, username):
    page.goto(base_url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def _log_out(page):
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("link", name="工作人员登录", exact=True)).to_be_visible()


def _log_call(page, base_url, *, category, phone, title, description, address=""):
    page.goto(base_url + "/hotline/console/")
    call = page.get_by_role("region", name="登记来电")
    call.get_by_label("诉求分类").select_option(label=category)
    call.get_by_label("来电人").fill("李女士")
    call.get_by_label("来电号码").fill(phone)
    call.get_by_label("标题").fill(title)
    call.get_by_label("诉求内容").fill(description)
    if address:
        call.get_by_label("地点").fill(address)
    call.get_by_role("button", name="登记工单").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("工单")
    return page.url


def test_operator_answers_from_knowledge_and_dispatches_a_complaint_the_department_answers(
    live_server, phone_page, demo, save_screenshot
):
    page = phone_page
    base = live_server.url
    _log_in(page, base, "huarong_hotline")

    # a consultation, answered at once from the knowledge base
    _log_call(
        page,
        base,
        category="办事咨询",
        phone="13807301234",
        title="营业执照遗失",
        description="来电人的营业执照弄丢了，问怎么重新办。",
    )
    expect(page.get_by_test_id("ticket-status")).to_have_text("已登记")
    kb = page.get_by_role("region", name="用知识库直接答复")
    kb.get_by_label("您想咨询什么？").fill("执照弄丢了怎么重新办")
    answer_entry = kb.locator("li.result").filter(
        has=page.get_by_role("link", name="营业执照丢了怎么补办？")
    )
    expect(answer_entry).to_be_visible()
    answer_entry.get_by_role("button", name="用此条答复来电人").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("已答复")
    expect(page.get_by_test_id("ticket-answer")).to_contain_text("国家企业信用信息公示系统")

    # a complaint, dispatched to the market regulator of 华容县
    complaint_url = _log_call(
        page,
        base,
        category="市场监管投诉（食品安全、消费维权）",
        phone="13907305678",
        title=COMPLAINT_TITLE,
        description="在城关一家超市买到过期三天的牛奶，要求处理。",
        address="华容县章华镇东正街",
    )
    number = re.search(r"/hotline/tickets/([^/]+)/", complaint_url).group(1)
    dispatch = page.get_by_role("region", name="派单给责任部门")
    dispatch.get_by_label("承办部门").select_option(label=MARKET_REGULATOR)
    dispatch.get_by_label("派单意见").fill("请核查该超市并答复来电人。")
    dispatch.get_by_role("button", name="派单").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("已派单")
    _log_out(page)

    # the market regulator's reviewer finds it in the department queue and answers
    _log_in(page, base, "huarong_market_reviewer")
    page.goto(base + "/hotline/queue/")
    page.get_by_role("link", name=number).click()
    answer = page.get_by_role("region", name="部门答复")
    answer.get_by_label("答复内容").fill("已到现场核查，责令下架过期牛奶，并为来电人办理退货。")
    answer.get_by_role("button", name="提交答复").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("已答复")
    _log_out(page)

    # the operator sees it answered, ready for the follow-up call
    _log_in(page, base, "huarong_hotline")
    page.goto(complaint_url)
    expect(page.get_by_test_id("ticket-status")).to_have_text("已答复")
    expect(page.get_by_test_id("ticket-answer")).to_contain_text("责令下架过期牛奶")
    expect(page.get_by_role("region", name="回访并记录满意度")).to_be_visible()
    save_screenshot(page, "hotline-operator-answered-phone")
