"""The public side in a real browser: home page in Chinese, the switch to English, the
适老化 display and the deadline tool across the National Day holidays."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SITE_NAME_ZH = "一次办 · 湖南县域政务服务平台"
SITE_NAME_EN = "Yiciban · Hunan County Government Services Platform"


def test_home_page_is_chinese_and_switches_to_english(live_server, page, save_screenshot):
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text(SITE_NAME_ZH)
    expect(page.get_by_role("link", name="办理时限计算").first).to_be_visible()
    save_screenshot(page, "home-desktop-zh")

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text(SITE_NAME_EN)
    expect(page.get_by_role("link", name="Working-day deadline calculator").first).to_be_visible()

    # the choice is remembered on the next page
    page.goto(live_server.url + "/tools/identifiers/")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_home_page_on_a_phone(live_server, phone_page, save_screenshot):
    phone_page.goto(live_server.url + "/")
    expect(phone_page.locator("h1")).to_have_text(SITE_NAME_ZH)
    # nothing wider than the screen: no sideways scrolling of the page itself
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    save_screenshot(phone_page, "home-phone-zh")


def test_large_type_mode_works_and_is_remembered(live_server, phone_page, save_screenshot):
    phone_page.goto(live_server.url + "/")
    normal_size = phone_page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    phone_page.get_by_role("button", name="适老化模式").click()
    expect(phone_page.locator("html")).to_have_class(re.compile(r"\blarge-type\b"))
    expect(phone_page.get_by_role("status")).to_contain_text("已开启适老化模式")
    large_size = phone_page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert large_size >= normal_size * 1.25

    phone_page.goto(live_server.url + "/tools/deadline/")
    expect(phone_page.locator("html")).to_have_class(re.compile(r"\blarge-type\b"))
    save_screenshot(phone_page, "deadline-phone-large-type")
    phone_page.get_by_role("button", name="标准显示").click()
    expect(phone_page.locator("html")).not_to_have_class(re.compile(r"\blarge-type\b"))


def test_keyboard_user_can_skip_to_the_content(live_server, page):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要内容")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_deadline_tool_computes_a_due_date_across_national_day(live_server, page):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="办理时限计算").first.click()
    expect(page.locator("h1")).to_have_text("办理时限计算")

    page.get_by_label("起算日期", exact=True).fill("2024-09-30")
    page.get_by_label("工作日数", exact=True).fill("1")
    page.get_by_role("button", name="计算").click()

    expect(page.get_by_test_id("due-date")).to_contain_text("2024-10-08（星期二）")
    expect(page.get_by_test_id("due-date")).not_to_contain_text("暂定")
    assert "start=2024-09-30" in page.url and "working_days=1" in page.url


def test_deadline_tool_shows_errors_and_the_provisional_mark(live_server, page):
    page.goto(live_server.url + "/tools/deadline/?start=2024-09-30&working_days=-3")
    expect(page.get_by_role("alert")).to_contain_text("工作日数不能小于 0。")

    page.goto(live_server.url + "/tools/deadline/?start=2031-09-30&working_days=5")
    expect(page.get_by_test_id("due-date")).to_contain_text("暂定")
    expect(page.get_by_role("note")).to_contain_text("尚未公布节假日安排")


def test_resident_id_check_shows_only_a_masked_number(live_server, page):
    from yiciban.core.identifiers import resident_id_check_char

    number = "43062319900101123" + resident_id_check_char("43062319900101123")
    page.goto(live_server.url + "/tools/identifiers/")
    page.get_by_role("textbox", name="公民身份号码").fill(number)
    page.get_by_role("button", name="校验号码").click()
    expect(page.get_by_test_id("resident-result")).to_contain_text("校验通过")
    expect(page.get_by_test_id("resident-result")).to_contain_text("430623********")
    assert number not in page.content()
    assert number not in page.url
