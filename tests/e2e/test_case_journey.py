"""One 1+X case in a real browser, on the demo data: 蓝山县 一照通 (the business licence
with three permits). The applicant fills the merged form, uploads the materials and signs
the commitments; the counter clerk accepts; the approval bureau decides the registration
and the tobacco bureau's reviewer and approver decide the tobacco permit (the food and
public-venue permits are approved on the signed commitments); the clerk delivers
everything at one window; the applicant sees the delivery on a phone."""

from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from yiciban import demo_loader
from yiciban.cases import selectors
from yiciban.cases.demo import LANSHAN_ENTERPRISE, ONE_LICENCE_ANSWERS, PDF, _fill
from yiciban.cases.forms import SchemaForm
from yiciban.catalog.forms import answers_query
from yiciban.org import selectors as org_selectors
from yiciban.org.models import Region, Role
from yiciban.org.services import role_assign

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEMO_PASSWORD = "Demo@2021"
LANSHAN = "431127"
BUNDLE = "lanshan-one-licence"


@pytest.fixture
def demo():
    report = demo_loader.load()
    # the demo has no 蓝山县 staff: the test gives the roles it needs through org services
    users = get_user_model().objects
    admin = users.get(username="admin")
    county = Region.objects.get(code=LANSHAN + "000000")
    approval = org_selectors.department_by_kind(LANSHAN, "administrative_approval")
    tobacco = org_selectors.department_by_kind(LANSHAN, "tobacco")
    for username, role, scope in (
        ("lanshan_clerk", Role.COUNTER_CLERK, {"region": county}),
        ("lanshan_approval_approver", Role.APPROVER, {"department": approval}),
        ("lanshan_tobacco_reviewer", Role.REVIEWER, {"department": tobacco}),
        ("lanshan_tobacco_inspector", Role.INSPECTOR, {"department": tobacco}),
        ("lanshan_tobacco_approver", Role.APPROVER, {"department": tobacco}),
    ):
        user = users.create_user(username=username, password=DEMO_PASSWORD, is_staff=True)
        role_assign(actor=admin, user=user, role=role, **scope)
    return report


def _log_in(page, base_url, username, next_path):
    page.goto(f"{base_url}/login/?{urlencode({'next': next_path})}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base_url + next_path)


def _log_out(page):
    page.get_by_role("button", name="退出登录").click()


def _fill_application(page, schema: dict) -> None:
    """Fills every input of the merged form with a valid value, by the input's kind."""
    values = _fill(schema, {"enterprise.name": "蓝山县湘粤美食城（浏览器）"})
    form = SchemaForm(schema, initial=values)
    for field in form.fields:
        if field.value is None:
            continue
        if field.widget == "multi":
            for value in field.value:
                page.locator(f'input[name="{field.name}"][value="{value}"]').check()
        elif field.widget == "boolean":
            page.locator(f'input[name="{field.name}"][value="{field.shown_value}"]').check()
        elif field.widget == "select":
            page.locator(f'select[name="{field.name}"]').select_option(field.shown_value)
        else:
            page.locator(f'input[name="{field.name}"]').fill(field.shown_value)


def _open_item(page, base_url, number, username, item_name):
    """From the user's queue, the row of this case's item (the demo has other cases)."""
    _log_in(page, base_url, username, "/cases/queue/")
    row = page.locator(".task-list > li").filter(has_text=number)
    row.get_by_role("link", name=item_name).click()


def _decide(page, base_url, number, username, item_name, steps):
    _open_item(page, base_url, number, username, item_name)
    expect(page.locator("h1")).to_have_text(item_name)
    for button in steps:
        page.get_by_role("button", name=button).click()
        expect(page.locator(".messages")).not_to_contain_text("不能")
    _log_out(page)


def _inspect(page, base_url, number, username, item_name):
    """The tobacco permit's template holds a site inspection between review and approval."""
    _open_item(page, base_url, number, username, item_name)
    page.get_by_text("安排联合现场核查", exact=True).click()
    page.get_by_label(item_name).check()
    page.get_by_label("核查时间").fill("2030-01-07T10:00")
    page.get_by_role("button", name="安排核查").click()
    expect(page.locator(".messages")).to_contain_text("已安排联合现场核查")
    page.get_by_label("核查情况").fill("经营场所与申报一致，距离符合规定")
    page.get_by_role("button", name="记录核查结果").click()
    expect(page.locator(".messages")).to_contain_text("核查结果已记录")
    _log_out(page)


def test_a_one_licence_case_from_application_to_delivery(
    live_server, page, phone_page, demo, save_screenshot
):
    base = live_server.url
    preview = selectors.case_preview(bundle_code=BUNDLE, answers=ONE_LICENCE_ANSWERS)
    query = (
        answers_query(ONE_LICENCE_ANSWERS) + "&" + urlencode({"_enterprise": LANSHAN_ENTERPRISE})
    )
    apply_path = f"/cases/apply/bundle/{BUNDLE}/?{query}"

    # the applicant, on a phone
    applicant = phone_page
    _log_in(applicant, base, "lanshan_boss", apply_path)
    expect(applicant.locator("h1")).to_have_text("在线申请")
    _fill_application(applicant, preview["form_schema"])
    uploads = applicant.locator('input[type="file"]')
    for index in range(uploads.count()):
        uploads.nth(index).set_input_files(
            {"name": f"m{index}.pdf", "mimeType": "application/pdf", "buffer": PDF + bytes([index])}
        )
    boxes = applicant.locator('input[name="commitments"]')
    for index in range(boxes.count()):
        boxes.nth(index).check()
    applicant.get_by_role("button", name="提交申请").click()
    expect(applicant.locator(".messages")).to_contain_text("申请已提交")
    number = applicant.locator(".case-number strong").inner_text()
    assert number.startswith(LANSHAN)
    expect(applicant.locator(".case-head")).to_contain_text("待受理")

    # the counter clerk accepts
    _log_in(page, base, "lanshan_clerk", "/cases/counter/")
    page.get_by_role("link", name=number).first.click()
    page.get_by_role("button", name="受理", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已受理")
    _log_out(page)

    # two departments decide their items in parallel
    _decide(
        page, base, number, "lanshan_approval_approver", "市场主体设立登记", ["认领", "准予办理"]
    )
    tobacco = "烟草专卖零售许可证核发"
    _decide(page, base, number, "lanshan_tobacco_reviewer", tobacco, ["认领", "提交审查意见"])
    _inspect(page, base, number, "lanshan_tobacco_inspector", tobacco)
    _decide(page, base, number, "lanshan_tobacco_approver", tobacco, ["认领", "准予办理"])

    # one window hands over everything
    _log_in(page, base, "lanshan_clerk", "/cases/counter/")
    page.locator("section", has_text="待出件").get_by_role("link", name=number).click()
    expect(page.locator(".case-head")).to_contain_text("待出件")
    page.get_by_role("button", name="一窗出件").click()
    expect(page.locator(".messages")).to_contain_text("已一窗出件")

    # the applicant sees the delivery
    applicant.goto(f"{base}/cases/{number}/")
    expect(applicant.locator(".case-head")).to_contain_text("已出件")
    expect(applicant.locator(".delivered")).to_contain_text("窗口领取")
    for name in ("市场主体设立登记", "食品经营许可", "烟草专卖零售许可证核发", "公共场所卫生许可"):
        expect(applicant.locator(".case-items")).to_contain_text(name)
    expect(applicant.locator(".case-items")).not_to_contain_text("等待")
    save_screenshot(applicant, "cases-status-phone")
