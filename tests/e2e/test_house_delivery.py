"""交房即交证 in a real browser, on the demo data of 津市市: the housing bureau registers a
small project, records the pre-sale permit, files two buyers' contracts and the completion
acceptance; the developer asks for the completion filing, which is blocked while the deed
tax of the sold units is missing; the tax bureau records the payments; the filing goes
through; the registration clerk starts the delivery — first registration and both transfer
registrations, run by the background worker while the page shows the progress — and the
buyer sees the e-certificate on a phone."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_case_journey import _log_in, _log_out
from tests.housing.conftest import run_deliveries
from yiciban import demo_loader
from yiciban.housing.models import Project, Stage
from yiciban.licences.models import Licence

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CODE = "e2e-yuanjiang"
BUYER_ID = "430781199001010014"  # 周敏, login jinshi_buyer
OTHER_ID = "430623198803120211"  # 张三


@pytest.fixture
def demo():
    return demo_loader.load()


def _project(page, base):
    page.goto(f"{base}/housing/projects/{CODE}/")


def test_house_delivery_with_title(live_server, page, phone_page, demo, save_screenshot):
    base = live_server.url
    project_path = f"/housing/projects/{CODE}/"

    # the housing bureau registers the project, the pre-sale permit, contracts, acceptance
    _log_in(page, base, "jinshi_housing", "/housing/new/")
    page.get_by_label("项目编号").fill(CODE)
    page.get_by_label("项目名称").fill("沅澧·江景苑")
    page.get_by_label("开发企业统一社会信用代码").fill("91430781MA4M6W9H0Q")
    page.get_by_label("项目坐落").fill("津市市汪家桥街道沿河路6号")
    page.get_by_label("施工许可证号").fill("430781202203010201")
    page.get_by_label("房屋（每行：楼栋,房号,建筑面积）").fill(
        "1,101,89.50\n1,102,92.30\n1,103,95.00"
    )
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".messages")).to_contain_text("项目已登记")
    expect(page).to_have_url(base + project_path)
    page.get_by_label("预售许可证号").fill("津房预售证字（2022）第011号")
    page.get_by_role("button", name="记录预售许可").click()
    expect(page.locator(".messages")).to_contain_text("预售许可已记录")
    for room, id_number, contract in (
        ("1栋101", BUYER_ID, "JSHT2022000501"),
        ("1栋102", OTHER_ID, "JSHT2022000502"),
    ):
        page.locator("form[action$='/contract'] select[name=unit]").select_option(label=room)
        page.get_by_label("购房人身份证号码").fill(id_number)
        page.get_by_label("合同备案号").fill(contract)
        page.get_by_label("成交价格（元）").fill("560000")
        page.get_by_role("button", name="合同备案").click()
        expect(page.locator(".messages")).to_contain_text("合同已备案")
    page.get_by_label("竣工验收日期").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="记录竣工验收").click()
    expect(page.locator(".messages")).to_contain_text("竣工验收已记录")
    _log_out(page)

    # the developer asks for the completion filing …
    _log_in(page, base, "jinshi_developer", project_path)
    expect(page.locator("[data-testid=reduction]")).to_contain_text("107")
    page.get_by_role("button", name="申请竣工验收备案").click()
    expect(page.locator(".messages")).to_contain_text("已申请竣工验收备案")
    _log_out(page)
    # … the housing bureau checks the deed tax under its grant: missing, so it is blocked
    _log_in(page, base, "jinshi_housing", project_path)
    page.get_by_role("button", name="核验并备案").click()
    expect(page.locator(".messages")).to_contain_text("核验未通过")
    _log_out(page)
    _log_in(page, base, "jinshi_developer", project_path)
    expect(page.locator("[data-testid=filing-check]")).to_contain_text("未缴契税 1栋101、1栋102")
    expect(page.locator("[data-testid=stage]")).to_contain_text("已竣工验收")
    expect(page.get_by_role("button", name="申请竣工验收备案")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("周敏")  # the developer sees no buyers
    _log_out(page)

    # the tax bureau records both buyers' deed tax
    _log_in(page, base, "jinshi_tax", project_path)
    for index, room in enumerate(("1栋101", "1栋102")):
        page.locator("form[action$='/tax'] select[name=unit]").select_option(index=index)
        expect(page.locator("form[action$='/tax'] select[name=unit]")).to_contain_text(room)
        page.get_by_label("契税税额（元）").fill("16800")
        page.get_by_label("完税凭证号").fill(f"JSQS2022E2E{index}")
        page.get_by_role("button", name="记录契税缴纳").click()
        expect(page.locator(".messages")).to_contain_text("契税缴纳已记录")
    _log_out(page)

    # asked again, the filing goes through
    _log_in(page, base, "jinshi_developer", project_path)
    page.get_by_role("button", name="申请竣工验收备案").click()
    expect(page.locator(".messages")).to_contain_text("已申请竣工验收备案")
    _log_out(page)
    _log_in(page, base, "jinshi_housing", project_path)
    page.get_by_role("button", name="核验并备案").click()
    expect(page.locator(".messages")).to_contain_text("核验通过")
    expect(page.locator("[data-testid=stage]")).to_contain_text("已竣工验收备案")
    _log_out(page)

    # the registration clerk starts the delivery; the worker registers the project and both
    # transfers (run here, in the test's process), and the page, which refreshes itself
    # while the worker is on it, shows the project delivered
    _log_in(page, base, "jinshi_registrar", project_path)
    page.get_by_role("button", name="交房即交证").click()
    expect(page.locator(".messages")).to_contain_text("已开始交房即交证")
    expect(page.locator("[data-testid=delivery]")).to_contain_text("已办结 0 / 3 件登记")
    save_screenshot(page, "house-delivery-started")
    assert run_deliveries() == 1
    expect(page.locator("[data-testid=stage]")).to_contain_text("已交房交证", timeout=15_000)
    save_screenshot(page, "house-delivery-registrar")
    project = Project.objects.get(code=CODE)
    assert project.stage == Stage.DELIVERED
    unit = project.units.get(room="101")
    assert Licence.objects.filter(number=unit.certificate_number, person=unit.buyer).exists()
    _log_out(page)

    # the buyer follows it on a phone and opens the e-certificate
    buyer = phone_page
    _log_in(buyer, base, "jinshi_buyer", "/housing/mine/")
    home = buyer.locator("[data-testid=home]", has_text="沅澧·江景苑")
    expect(home.locator("[data-testid=certificate]")).to_contain_text(unit.certificate_number)
    expect(home.locator(".progress li.done")).to_have_count(6)
    save_screenshot(buyer, "house-delivery-buyer-phone")
    home.get_by_role("link", name="查看电子证书").click()
    expect(buyer.locator("body")).to_contain_text(unit.certificate_number)
