"""RFC 9457 problem details, shared by the API and by plain views that answer JSON."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    request: HttpRequest | None,
    status: int,
    title: str,
    detail: str,
    code: str,
    errors: list[dict] | None = None,
) -> HttpResponse:
    body = {
        "type": f"https://yiciban.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors or [],
    }
    if request is not None:
        body["instance"] = request.path
        request_id = getattr(request, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
