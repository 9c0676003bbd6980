"""An API answer rendered without validating it again.

A handful of hot endpoints (licence verification, case submission) build their answer to
their declared response schema themselves; letting ninja validate those dicts again costs
more than building them. They return `api_json(...)` instead: the content type of
`yiciban.api` (ninja's default JSONRenderer), and each has a test that checks the body against
its schema. The body is written by orjson (UTF-8, not escaped — the same JSON value);
whatever orjson would write its own way (dates and times, subclasses of str, int, dict and
list — Django's choices among them —, dataclasses) goes through ninja's encoder, so it reads
as ninja writes it. (A plain `Enum` is written by its value; these answers hold none.)"""

from __future__ import annotations

from enum import Enum
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

_RENDERER = JSONRenderer()
_CONTENT_TYPE = f"{_RENDERER.media_type}; charset={_RENDERER.charset}"
_NINJA_DEFAULT = NinjaJSONEncoder().default
_OPTIONS = (
    orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _default(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):  # subclasses passed through: plain again
        return dict(value) if isinstance(value, dict) else list(value)
    if isinstance(value, str | int) and not isinstance(value, Enum | bool):
        return str(value) if isinstance(value, str) else int(value)
    return _NINJA_DEFAULT(value)


def api_json(request: HttpRequest, data: Any, *, status: int = 200) -> HttpResponse:
    content = orjson.dumps(data, default=_default, option=_OPTIONS)
    return HttpResponse(content, status=status, content_type=_CONTENT_TYPE)
