"""An API answer rendered without validating it again.

A handful of hot endpoints (licence verification, case submission) build their answer to
their declared response schema themselves; letting ninja validate those dicts again costs
more than building them. They return `api_json(...)` instead: the content type of
`yiciban.api` (ninja's default JSONRenderer), and each has a test that checks the body against
its schema. The body is written by orjson (UTF-8, not escaped — the same JSON value as
ninja's): dates and times go through ninja's encoder, and a subclass of str, int, dict or
list (Django's choices among them) is written as its plain value, as `json.dumps` writes
it. (A plain `Enum` is written by its value; these answers hold none.)"""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

_RENDERER = JSONRenderer()
_CONTENT_TYPE = f"{_RENDERER.media_type}; charset={_RENDERER.charset}"
_NINJA_DEFAULT = NinjaJSONEncoder().default
_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
)
_PLAIN = (str, int, dict, list)


def _default(value: Any) -> Any:
    for plain in _PLAIN:  # a subclass passed through: its plain value, as json.dumps writes it
        if isinstance(value, plain):
            return plain(value) if plain is not str else str.__str__(value)
    return _NINJA_DEFAULT(value)


def api_json(request: HttpRequest, data: Any, *, status: int = 200) -> HttpResponse:
    content = orjson.dumps(data, default=_default, option=_OPTIONS)
    return HttpResponse(content, status=status, content_type=_CONTENT_TYPE)
