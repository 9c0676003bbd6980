"""The Lanshan 一照通 1+X guidance wizard in a real browser on the demo data: answers change
the permits shown (htmx), the one-time notice lists them and prints; without JavaScript the
same form posts and the page comes back with the result."""

import pytest
from playwright.sync_api import expect

from yiciban import demo_loader
from yiciban.catalog import selectors

from .conftest import PHONE, RESULTS_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BUNDLE = "蓝山县涉企经营“一照通”（1+X）"
ALCOHOL = "酒类经营备案"
TOBACCO = "烟草专卖零售许可证核发"
FOOD = "食品经营许可"


@pytest.fixture
def demo():
    # Compiled bundles are cached per process by catalogue revision number; each test's
    # database starts again from the same numbers, so the cache must start empty too.
    selectors.forget_compiled_bundles()
    yield demo_loader.load()
    selectors.forget_compiled_bundles()


def _answer(page, question: str, option: str):
    page.locator(f"#q-{question}").get_by_label(option, exact=True).check()


def test_answers_change_the_permits_and_the_notice_prints(
    live_server, phone_page, demo, save_screenshot
):
    page = phone_page
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="一件事一次办").first.click()
    page.get_by_role("link", name=BUNDLE).click()
    expect(page.locator("h1")).to_have_text(BUNDLE)
    page.get_by_role("link", name="开始智能导办").first.click()
    expect(page.locator("h1")).to_contain_text("智能导办")

    items = page.get_by_test_id("applicable-items")
    expect(items.locator(".item-name")).to_have_text(["市场主体设立登记"])
    expect(page.locator("#q-food_activities")).to_be_hidden()

    _answer(page, "entity_type", "有限责任公司")
    _answer(page, "sells_alcohol", "是")
    expect(items).to_contain_text(ALCOHOL)
    expect(items).not_to_contain_text(TOBACCO)

    _answer(page, "sells_tobacco", "是")
    expect(items).to_contain_text(TOBACCO)
    expect(items.locator(".item-name")).to_have_text(["市场主体设立登记", TOBACCO, ALCOHOL])

    # a rule shows the follow-up question only when food is sold
    _answer(page, "sells_food", "是")
    expect(page.locator("#q-food_activities")).to_be_visible()
    _answer(page, "food_activities", "餐饮服务（堂食或外卖）")
    expect(items).to_contain_text(FOOD)
    expect(page.locator(".wizard-bar")).to_contain_text("需办 4 项")

    # changing an answer back takes the permit away again
    _answer(page, "sells_alcohol", "否")
    expect(items).not_to_contain_text(ALCOHOL)
    _answer(page, "sells_alcohol", "是")
    expect(items).to_contain_text(ALCOHOL)
    expect(page.get_by_test_id("reduction")).to_be_visible()

    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0  # nothing wider than the phone
    save_screenshot(page, "catalog-wizard-phone")
    # what the phone shows on the screen once the answers are given: the results
    page.get_by_test_id("summary").scroll_into_view_if_needed()
    RESULTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS_DIR / "catalog-wizard-phone-results.png"))

    page.get_by_test_id("notice-link").click()
    expect(page.locator("h1")).to_have_text("一次性告知单")
    listed = page.get_by_test_id("notice-items")
    for name in ("市场主体设立登记", FOOD, TOBACCO, ALCOHOL):
        expect(listed).to_contain_text(name)
    expect(page.get_by_test_id("notice-materials")).to_contain_text("无需提交")
    assert "sells_tobacco=true" in page.url  # the answers travel in the link
    save_screenshot(page, "catalog-notice-phone")

    # printed: the sheet only, no navigation or buttons
    page.emulate_media(media="print")
    expect(page.locator(".site-nav")).to_be_hidden()
    expect(page.locator(".breadcrumbs")).to_be_hidden()
    expect(page.get_by_role("link", name="返回修改回答")).to_be_hidden()
    expect(page.get_by_test_id("notice-sheet")).to_be_visible()
    expect(page.get_by_text("申请人（签字）")).to_be_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_without_javascript_the_form_posts_and_the_page_comes_back(live_server, browser, demo):
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(live_server.url + "/catalog/bundles/lanshan-one-licence/guide/")
        _answer(page, "sells_tobacco", "是")
        _answer(page, "sells_food", "是")
        page.get_by_role("button", name="按以上回答更新结果").click()
        items = page.get_by_test_id("applicable-items")
        expect(items).to_contain_text(TOBACCO)
        # the follow-up question appears after the round trip
        expect(page.locator("#q-food_activities")).to_be_visible()
        _answer(page, "food_activities", "食品销售（含散装、预包装）")
        page.get_by_role("button", name="按以上回答更新结果").click()
        expect(items).to_contain_text(FOOD)
        expect(page.locator("#q-sells_tobacco input[value=true]")).to_be_checked()
    finally:
        context.close()


def test_a_wrong_answer_is_shown_next_to_its_question(live_server, phone_page, demo):
    page = phone_page
    page.goto(live_server.url + "/catalog/bundles/lanshan-one-licence/guide/")
    _answer(page, "crowded_place", "是")
    area = page.locator("#q-floor_area_m2")
    expect(area).to_be_visible()
    area.locator("input").fill("-3")
    area.locator("input").press("Tab")  # change event: htmx posts, a 422 is swapped in
    expect(page.locator("#q-floor_area_m2 .errorlist")).to_contain_text("不能小于 0")
    expect(page.get_by_test_id("error-summary")).to_be_visible()
    area = page.locator("#q-floor_area_m2")
    area.locator("input").fill("260")
    area.locator("input").press("Tab")
    expect(page.locator("#q-floor_area_m2 .errorlist")).to_have_count(0)
    expect(page.get_by_test_id("applicable-items")).to_contain_text("消防安全检查")
