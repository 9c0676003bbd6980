"""E-licences in a real browser, on the demo data (蓝山县 一照通):

1. a returning enterprise — one whose first application left its checked originals in its
   archive (一企一档) — asks guidance for a second bundle and sees those materials marked as
   reused, not to be submitted again;
2. its business licence is downloaded as the printable PDF, the page is rendered to an image
   (pdftoppm) and the QR code on it decoded with a real reader (zxing-cpp); the decoded URL
   opens the live permit list (一码涵盖), which lists the permit issued since — without
   reprinting the business licence;
3. a staff member of the issuing department revokes that permit on its page; the public
   verification page then shows it revoked, with the date, and so does the permit list."""

import io
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import zxingcpp
from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from yiciban import demo_loader
from yiciban.accounts.models import Enterprise
from yiciban.archive import services as archive_services
from yiciban.archive.models import Origin
from yiciban.cases.demo import LANSHAN_ENTERPRISE, ONE_LICENCE_ANSWERS
from yiciban.catalog.forms import answers_query
from yiciban.licences import services as licence_services
from yiciban.licences.models import Licence, LicenceType
from yiciban.org import selectors as org_selectors
from yiciban.org.models import Role
from yiciban.org.services import role_assign

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEMO_PASSWORD = "Demo@2021"
BUNDLE = "lanshan-one-licence"
# What the counter clerk saw in original at the enterprise's first application (its
# registration) and filed in its archive as checked.
FIRST_APPLICATION = [
    ("id.legal_rep", "法定代表人身份证明"),
    ("premises.proof", "经营场所使用证明"),
]


@pytest.fixture
def demo(settings, live_server):
    settings.YICIBAN_PUBLIC_URL = live_server.url  # the QR codes point at this server
    demo_loader.load()
    users = get_user_model().objects
    admin = users.get(username="admin")
    market = org_selectors.department_by_kind("431127", "market_regulation")
    approver = users.create_user(
        username="lanshan_market_approver", password=DEMO_PASSWORD, is_staff=True
    )
    role_assign(actor=admin, user=approver, role=Role.APPROVER, department=market)
    enterprise = Enterprise.objects.get(uscc=LANSHAN_ENTERPRISE)
    archive = archive_services.archive_open(enterprise=enterprise)
    for kind, title in FIRST_APPLICATION:
        archive_services.archive_document_add(
            actor=admin,
            archive=archive,
            content=b"%PDF-1.7\n% " + kind.encode() + b"\n%%EOF\n",
            filename=f"{kind}.pdf",
            title=title,
            origin=Origin.COUNTER_CHECKED,
            material_kind=kind,
        )
    # the permit its second bundle brought, signed by the county's market regulator
    permit = licence_services.licence_issue(
        actor=approver,
        licence_type=LicenceType.objects.get(code="food_business_licence"),
        issuing_department=market,
        enterprise=enterprise,
        fields={"premises": "蓝山县塔峰镇湘粤边界皮具玩具产业园3号厂房"},
    )
    business = Licence.objects.get(enterprise=enterprise, licence_type__is_business_licence=True)
    return {"permit": permit, "business": business}


def _log_in(page, base_url, username, next_path):
    page.goto(f"{base_url}/login/?{urlencode({'next': next_path})}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base_url + next_path)


def _decode_pdf_qr(pdf: bytes) -> str:
    """Render the PDF's first page at 200 dpi with poppler's pdftoppm and read its QR code."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "licence.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "200",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                source,
                Path(folder) / "page",
            ],
            check=True,
            timeout=60,
        )
        image = Image.open(io.BytesIO((Path(folder) / "page.png").read_bytes()))
    found = [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1, f"{len(found)} QR codes on the page"
    return found[0].text


def test_reuse_qr_permit_list_and_revocation(live_server, page, phone_page, demo):
    base = live_server.url
    permit, business = demo["permit"], demo["business"]

    # 1. the returning enterprise's guidance marks what its archive already holds
    query = (
        answers_query(ONE_LICENCE_ANSWERS) + "&" + urlencode({"_enterprise": LANSHAN_ENTERPRISE})
    )
    notice_path = f"/catalog/bundles/{BUNDLE}/notice/?{query}"
    _log_in(page, base, "lanshan_boss", notice_path)
    reused = page.get_by_text("您的档案中已有，直接复用")
    expect(reused.first).to_be_visible()
    assert reused.count() >= len(FIRST_APPLICATION)
    for kind, _title in FIRST_APPLICATION:
        row = page.locator(f'[data-testid="notice-materials"] li[data-kind="{kind}"]')
        expect(row).to_contain_text("您的档案中已有，直接复用")
        expect(row.get_by_test_id("no-submit")).to_have_text("无需提交")

    # 2. the business licence's PDF, its QR decoded, opened on a phone
    response = page.request.get(f"{base}/licences/{business.number}/pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    scanned = _decode_pdf_qr(response.body())
    assert urlsplit(scanned).path == f"/licences/enterprise/{LANSHAN_ENTERPRISE}"
    phone_page.goto(scanned)
    listing = phone_page.get_by_test_id("permit-list")
    expect(listing).to_contain_text("蓝山县湘南皮具玩具制品有限公司")
    expect(phone_page.get_by_test_id("token-invalid")).to_have_count(0)
    row = phone_page.get_by_test_id(f"permit-{permit.number}")
    expect(row).to_contain_text("食品经营许可证")
    expect(row).to_contain_text("有效")

    # 3. the market regulator's approver revokes the permit
    page.get_by_role("button", name="退出登录").click()
    _log_in(page, base, "lanshan_market_approver", f"/licences/{permit.number}/revoke")
    page.get_by_label("撤销原因").fill("以欺骗手段取得许可")
    page.get_by_role("button", name="确认撤销").click()
    expect(page).to_have_url(f"{base}/licences/verify/{permit.number}")
    today = timezone.localdate().isoformat()
    status = page.get_by_test_id("licence-status")
    expect(status).to_contain_text("已撤销")
    expect(status).to_contain_text(today)
    expect(status).to_contain_text("以欺骗手段取得许可")
    # the scanned business-licence QR shows the change at once
    phone_page.goto(scanned)
    row = phone_page.get_by_test_id(f"permit-{permit.number}")
    expect(row).to_contain_text("已撤销")
    expect(row).to_contain_text(today)
