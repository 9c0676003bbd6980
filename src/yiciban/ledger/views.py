"""The log as static-style resources (C2SP tlog-tiles) under /ledger/: the checkpoint, hash
tiles tile/<L>/<N>[.p/<W>] and entry bundles tile/entries/<N>[.p/<W>], as binary bodies."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from yiciban.core.errors import NotFound
from yiciban.core.problem import problem_response

from . import selectors, tiles

_LEVEL_RE = re.compile(r"^(0|[1-9][0-9]?)$")  # decimal, no leading zeros
IMMUTABLE = "public, max-age=31536000, immutable"
# A partial tile of a given width never changes either, but it is superseded by the full
# tile soon; a short lifetime keeps caches small.
PARTIAL = "public, max-age=300"


@require_safe
def checkpoint(request: HttpRequest) -> HttpResponse:
    try:
        text = selectors.checkpoint_note()
    except NotFound as exc:
        return problem_response(request, 404, "Not found", str(exc), exc.code)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def tile(request: HttpRequest, level: str, rest: str) -> HttpResponse:
    parsed = tiles.parse_index_path(rest)
    if parsed is None or not (level == "entries" or _LEVEL_RE.match(level)):
        return _not_found(request)
    if level != "entries" and int(level) > tiles.MAX_LEVEL:
        return _not_found(request)
    index, width = parsed
    if level == "entries":
        data = selectors.entry_bundle(index, width)
    else:
        data = selectors.tile_data(int(level), index, width)
    if data is None:
        return _not_found(request)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = IMMUTABLE if width is None else PARTIAL
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    return problem_response(request, 404, "Not found", _("该瓦片在已签署的树中不存在"), "no_tile")
