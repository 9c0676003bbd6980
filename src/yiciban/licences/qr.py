"""The licence QR code, drawn with segno (ISO/IEC 18004) at error correction level M."""

from __future__ import annotations

import io

import segno

from . import selectors, signing


def qr_content(licence) -> str:
    return selectors.qr_target(licence, signing.token_for(licence))


def qr_png(content: str, *, scale: int = 4) -> bytes:
    # error="m" with boost_error=False: exactly level M, as the documents promise
    code = segno.make(content, error="m", micro=False, boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(content: str) -> str:
    code = segno.make(content, error="m", micro=False, boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=4, xmldecl=False, svgns=True)
    return out.getvalue().decode()
