"""The printable licence: Chinese text with the font subset embedded, the seal, and a QR
code that a reader decodes from the PDF itself."""

import datetime as dt
import io
import re
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from tests.licences.conftest import issue_business, issue_food
from yiciban.licences import pdf, services, signing

pytestmark = pytest.mark.django_db


def fonts_of(reader: PdfReader) -> list[tuple[str, bool]]:
    """(BaseFont, has an embedded font program) of every font on the first page."""
    found = []
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptor = (
            font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            if "/DescendantFonts" in font
            else font.get("/FontDescriptor", {})
        )
        embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        found.append((str(font["/BaseFont"]), embedded))
    return found


def page_text(reader: PdfReader) -> str:
    # pypdf reads fpdf2's two-byte codes as NUL + character although the ToUnicode map is
    # right; drop the NULs and the layout spaces before looking for words
    return re.sub(r"[\s\x00]+", "", reader.pages[0].extract_text())


def test_pdf_embeds_a_cjk_subset_and_shows_the_text(world):
    licence = issue_business(world)
    document = pdf.licence_pdf(licence)
    reader = PdfReader(io.BytesIO(document))
    fonts = fonts_of(reader)
    assert fonts and all(embedded for _, embedded in fonts)
    # a subset font's name starts with six capital letters and "+" (ISO 32000-1, 9.6.4)
    assert all(re.match(r"^/[A-Z]{6}\+NotoSerifCJK", name) for name, _ in fonts)
    text = page_text(reader)
    for expected in (
        "营业执照",
        world.enterprise.name,
        world.enterprise.uscc,
        "长期",
        world.market.name,
    ):
        assert expected in text
    if shutil.which("pdffonts"):
        listing = subprocess.run(
            ["pdffonts", "-"], input=document, capture_output=True, check=True
        ).stdout.decode()
        rows = listing.splitlines()[2:]
        assert rows and all(" yes yes " in row for row in rows)  # embedded, subset


def test_the_qr_in_the_pdf_decodes_to_the_permit_list_and_verifies(world):
    business = issue_business(world)
    issue_food(world)
    reader = PdfReader(io.BytesIO(pdf.licence_pdf(business)))
    images = reader.pages[0].images
    assert len(images) == 1
    image = Image.open(io.BytesIO(images[0].data))
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    url = results[0].text
    assert f"/licences/enterprise/{world.enterprise.uscc}?t=" in url
    check = signing.verify_token(url.split("?t=")[1], signing.jwks(), today=dt.date.today())
    assert check.ok and check.claims["no"] == business.number


def test_pdf_of_a_permit_and_its_download(world, client):
    permit = issue_food(world)
    client.force_login(world.boss_user)  # the holder's legal representative
    response = client.get(f"/licences/{permit.number}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "食品经营许可证" in page_text(PdfReader(io.BytesIO(response.content)))
    client.force_login(world.health_approver)  # another department, not the holder
    assert client.get(f"/licences/{permit.number}/pdf").status_code == 404
    client.logout()
    assert client.get(f"/licences/{permit.number}/pdf").status_code == 302


def test_missing_font_names_the_debian_package(world, settings, tmp_path):
    settings.YICIBAN = {**settings.YICIBAN, "CJK_FONT_DIR": str(tmp_path / "nowhere")}
    licence = services.licence_issue(
        actor=world.approver,
        licence_type=world.food,
        issuing_department=world.market,
        enterprise=world.enterprise,
        fields={"premises": "x"},
    )
    with pytest.raises(pdf.FontMissing, match="fonts-noto-cjk"):
        pdf.licence_pdf(licence)
