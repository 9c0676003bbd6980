"""The staff side in a real browser, on the demo data: a counter clerk logs in, sees the
workbench, and the Django admin speaks Chinese; the platform admin manages from it."""

import pytest
from playwright.sync_api import expect

from yiciban import demo_loader

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "Demo@2021"


@pytest.fixture
def demo():
    return demo_loader.load()


def _log_in(page, base_url, username):
    page.goto(base_url + "/")
    page.get_by_role("link", name="工作人员登录", exact=True).click()
    expect(page.locator("h1")).to_have_text("工作人员登录")
    expect(page.locator(".site-name")).to_contain_text("一次办")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_clerk_logs_in_sees_the_workbench_and_the_chinese_admin(
    live_server, page, demo, save_screenshot
):
    _log_in(page, live_server.url, "huarong_clerk")
    expect(page).to_have_url(live_server.url + "/workbench/")
    expect(page.locator("h1")).to_have_text("工作台")
    table = page.get_by_role("table")
    expect(table).to_contain_text("综合受理员")
    expect(table).to_contain_text("华容县")

    page.get_by_role("link", name="进入后台管理").click()
    expect(page).to_have_url(live_server.url + "/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="站点管理")).to_be_visible()
    expect(page.locator("#site-name")).to_contain_text("一次办")

    page.goto(live_server.url + "/")
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("link", name="工作人员登录", exact=True)).to_be_visible()
    page.goto(live_server.url + "/workbench/")
    expect(page).to_have_url(live_server.url + "/login/?next=/workbench/")


def test_wrong_password_is_refused_in_chinese(live_server, page, django_user_model):
    django_user_model.objects.create_user(username="clerk", password=DEMO_PASSWORD, is_staff=True)
    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill("clerk")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的")
    expect(page).to_have_url(live_server.url + "/login/")


def test_platform_admin_manages_in_chinese(live_server, page, phone_page, demo, save_screenshot):
    _log_in(page, live_server.url, "admin")
    page.goto(live_server.url + "/admin/")
    expect(page.get_by_role("heading", name="站点管理")).to_be_visible()
    expect(page.get_by_role("link", name="部门").first).to_be_visible()
    save_screenshot(page, "admin-desktop-zh")

    page.get_by_role("link", name="部门").first.click()
    expect(page.locator("h1")).to_contain_text("部门")
    expect(page.locator("#result_list")).to_contain_text("华容县市场监督管理局")

    _log_in(phone_page, live_server.url, "admin")
    phone_page.goto(live_server.url + "/admin/")
    expect(phone_page.get_by_role("heading", name="站点管理")).to_be_visible()
    save_screenshot(phone_page, "admin-phone-zh")
