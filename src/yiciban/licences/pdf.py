"""The printable licence: layout, a seal drawn by the server, the QR code, Chinese text.

fpdf2 embeds a SUBSET of the CJK font (it subsets CFF outlines through fontTools), so the
PDF shows the same glyphs in any viewer without the font installed. The font is Noto Serif
CJK SC from Debian's fonts-noto-cjk; reportlab cannot embed these CFF-based OpenType fonts."""

from __future__ import annotations

import io
import math
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from fontTools.ttLib import TTCollection
from fpdf import FPDF

from . import qr

FONT_DIR = Path("/usr/share/fonts/opentype/noto")
FONT_FILES = {"": "NotoSerifCJK-Regular.ttc", "B": "NotoSerifCJK-Bold.ttc"}
FONT_FACE = "Noto Serif CJK SC"
SEAL_RED = (200, 16, 46)


class FontMissing(RuntimeError):
    pass


def font_dir() -> Path:
    return Path(getattr(settings, "YICIBAN", {}).get("CJK_FONT_DIR", FONT_DIR))


@lru_cache(maxsize=4)
def _collection_index(path: Path) -> int:
    """Index of the Simplified Chinese face inside the Noto CJK collection."""
    collection = TTCollection(str(path), lazy=True)
    for index, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) in (FONT_FACE, f"{FONT_FACE} Bold"):
            return index
        if font["name"].getDebugName(4).startswith(FONT_FACE):
            return index
    raise FontMissing(f"{path} holds no {FONT_FACE} face")


def _fonts() -> dict[str, tuple[Path, int]]:
    found = {}
    for style, name in FONT_FILES.items():
        path = font_dir() / name
        if not path.exists():
            raise FontMissing(
                f"找不到中文字体 {path}：请安装 Debian/Ubuntu 软件包 fonts-noto-cjk "
                f"(apt-get install fonts-noto-cjk)，或在 YICIBAN['CJK_FONT_DIR'] 指定字体目录"
            )
        found[style] = (path, _collection_index(path))
    return found


def _draw_seal(pdf: FPDF, cx: float, cy: float, radius: float, text: str) -> None:
    """A round official seal: red ring, five-pointed star, the department name on the arc."""
    pdf.set_draw_color(*SEAL_RED)
    pdf.set_fill_color(*SEAL_RED)
    pdf.set_text_color(*SEAL_RED)
    pdf.set_line_width(1.1)
    pdf.circle(x=cx, y=cy, radius=radius, style="D")
    star_r = radius * 0.3
    points = []
    for i in range(10):
        r = star_r if i % 2 == 0 else star_r * 0.382
        angle = math.radians(-90 + i * 36)
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    pdf.polygon(points, style="F")
    chars = list(text)
    span = min(250.0, 24.0 * len(chars))
    size = radius * 0.8  # in points: keeps a ten-character name apart on the ring
    pdf.set_font("cjk", "B", size=size)
    char_w = size * 0.3528  # pt → mm
    for i, char in enumerate(chars):
        step = span / max(len(chars) - 1, 1)
        angle = -90 - span / 2 + i * step  # degrees, clockwise from the top
        rad = math.radians(angle)
        x = cx + (radius * 0.74) * math.cos(rad)
        y = cy + (radius * 0.74) * math.sin(rad)
        with pdf.rotation(angle=-(angle + 90), x=x, y=y):
            pdf.text(x - char_w / 2, y + char_w / 2, char)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)


def licence_pdf(licence) -> bytes:
    """A4 licence with its fields, validity, the department's seal and the QR code."""
    fonts = _fonts()
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"{licence.licence_type.name} {licence.number}")
    pdf.set_creator("yiciban")
    for style, (path, index) in fonts.items():
        pdf.add_font("cjk", style, str(path), collection_font_number=index)
    pdf.add_page()
    pdf.set_auto_page_break(False)
    # frame
    pdf.set_draw_color(150, 110, 40)
    pdf.set_line_width(1.2)
    pdf.rect(12, 12, 186, 273)
    pdf.set_line_width(0.4)
    pdf.rect(15, 15, 180, 267)
    pdf.set_draw_color(0, 0, 0)

    pdf.set_font("cjk", "B", 30)
    pdf.set_xy(15, 30)
    pdf.cell(180, 16, licence.licence_type.name, align="C")
    pdf.set_font("cjk", "", 11)
    pdf.set_xy(15, 48)
    pdf.cell(180, 8, f"编号：{licence.number}", align="C")

    rows = [("名称" if licence.holder_kind == "enterprise" else "姓名", licence.holder_name)]
    rows.append(
        (
            "统一社会信用代码" if licence.holder_kind == "enterprise" else "身份证号",
            licence.holder_identifier,
        )
    )
    labels = {f["code"]: f.get("label", f["code"]) for f in licence.licence_type.fields}
    rows += [(labels.get(code, code), value) for code, value in licence.fields.items()]
    until = licence.valid_until.strftime("%Y年%m月%d日") if licence.valid_until else "长期"
    rows.append(("有效期", f"{licence.valid_from.strftime('%Y年%m月%d日')} 至 {until}"))
    y = 68
    for label, value in rows:
        pdf.set_xy(28, y)
        pdf.set_font("cjk", "B", 12)
        pdf.cell(44, 9, label)
        pdf.set_font("cjk", "", 12)
        pdf.set_xy(72, y)
        pdf.multi_cell(110, 9, str(value))
        y = max(pdf.get_y(), y + 9) + 3

    # issuing department, date and seal, bottom right
    pdf.set_font("cjk", "", 12)
    pdf.set_xy(110, 222)
    pdf.cell(75, 8, licence.issuing_department.name, align="C")
    pdf.set_xy(110, 231)
    pdf.cell(75, 8, licence.issued_on.strftime("%Y年%m月%d日"), align="C")
    _draw_seal(pdf, cx=147.5, cy=228, radius=19, text=licence.issuing_department.name)

    # QR bottom left
    content = qr.qr_content(licence)
    pdf.image(io.BytesIO(qr.qr_png(content, scale=6)), x=26, y=205, w=48, h=48)
    pdf.set_font("cjk", "", 8)
    pdf.set_xy(20, 254)
    caption = (
        "扫码查看本企业全部许可证（一码涵盖）"
        if licence.licence_type.is_business_licence
        else "扫码核验证照真伪与状态"
    )
    pdf.cell(60, 5, caption, align="C")
    pdf.set_xy(15, 266)
    pdf.set_font("cjk", "", 8)
    pdf.set_text_color(90, 90, 90)
    printed = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    pdf.cell(
        180,
        5,
        f"电子证照 · 数字签名 Ed25519 · 密钥 {licence.key_id} · 版本 {licence.version} · "
        f"打印于 {printed}",
        align="C",
    )
    return bytes(pdf.output())
