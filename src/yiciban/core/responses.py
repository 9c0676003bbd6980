"""An API answer rendered without validating it again.

A handful of hot endpoints (licence verification, case submission) build their answer to
their declared response schema themselves; letting ninja validate those dicts again costs
more than building them. They return `api_json(...)` instead: the same renderer and content
type as `yiciban.api` (ninja's default JSONRenderer), and each has a test that checks the
body against its schema."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja.renderers import JSONRenderer

_RENDERER = JSONRenderer()
_CONTENT_TYPE = f"{_RENDERER.media_type}; charset={_RENDERER.charset}"


def api_json(request: HttpRequest, data: Any, *, status: int = 200) -> HttpResponse:
    content = _RENDERER.render(request, data, response_status=status)
    return HttpResponse(content, status=status, content_type=_CONTENT_TYPE)
