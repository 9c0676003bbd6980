"""Electronic materials that the platform generates from shared data for the registrations
at delivery (申请书, 电子合同, 房屋交接书 …): a one-page PDF naming the material, the
registration, and the SHA-256 of the shared record it was made from, so the reviewer can
check it against the ledger. Plain ASCII text in a core font keeps it small and fast."""

from __future__ import annotations

import textwrap

from fpdf import FPDF

# Characters per line at 10 pt Helvetica on A4 with the default margins (digits are the
# widest ASCII we write): lines are wrapped here and written with cell(), because
# multi_cell's line breaker measures every character and made a PDF cost ~10 ms.
WRAP_AT = 95


def material_pdf(*, kind: str, lines: list[str]) -> bytes:
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_creator("yiciban")
    pdf.set_title(f"yiciban e-material {kind}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, f"yiciban e-material: {kind}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in lines:
        text = line.encode("ascii", "replace").decode("ascii")
        for part in textwrap.wrap(text, WRAP_AT, break_long_words=True) or [""]:
            pdf.cell(0, 6, part, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
