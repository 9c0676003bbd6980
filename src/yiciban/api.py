"""The assembled HTTP API (layer 7): one NinjaAPI, each app contributing its Router.
OpenAPI 3 at /api/openapi.json, interactive docs at /api/docs.

Every error leaves as RFC 9457 problem details (application/problem+json) with a list of
field errors, so clients handle one shape whatever failed."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from yiciban.core.errors import DomainError
from yiciban.core.problem import problem_response

api = NinjaAPI(
    title="yiciban 一次办 API",
    version="1",
    description=(
        "One-stop government service platform. Errors are RFC 9457 problem details; "
        "lists are paginated with limit/offset and a total count."
    ),
    urls_namespace="api",
)


# Pydantic's messages are English; these say the same in the user's language (Chinese
# msgids, English from the catalogue). Keys are pydantic error types.
_VALIDATION_MESSAGES = {
    "missing": _("缺少必填项"),
    "int_parsing": _("应为整数"),
    "int_type": _("应为整数"),
    "int_from_float": _("应为整数"),
    "float_parsing": _("应为数字"),
    "float_type": _("应为数字"),
    "bool_parsing": _("应为是或否（true/false）"),
    "bool_type": _("应为是或否（true/false）"),
    "date_parsing": _("应为日期，格式为 YYYY-MM-DD"),
    "date_from_datetime_parsing": _("应为日期，格式为 YYYY-MM-DD"),
    "date_type": _("应为日期，格式为 YYYY-MM-DD"),
    "datetime_parsing": _("应为日期时间（ISO 8601）"),
    "datetime_from_date_parsing": _("应为日期时间（ISO 8601）"),
    "greater_than_equal": _("不能小于 %(ge)s"),
    "greater_than": _("应大于 %(gt)s"),
    "less_than_equal": _("不能大于 %(le)s"),
    "less_than": _("应小于 %(lt)s"),
    "string_too_long": _("长度不能超过 %(max_length)s 个字符"),
    "string_too_short": _("长度不能少于 %(min_length)s 个字符"),
    "string_type": _("应为文本"),
    "string_pattern_mismatch": _("格式不正确"),
    "literal_error": _("应为以下值之一：%(expected)s"),
    "enum": _("应为以下值之一：%(expected)s"),
    "list_type": _("应为列表"),
    "dict_type": _("应为对象"),
    "model_attributes_type": _("应为对象"),
    "json_invalid": _("JSON 格式错误"),
    "too_long": _("最多 %(max_length)s 项"),
    "too_short": _("至少 %(min_length)s 项"),
    "uuid_parsing": _("应为 UUID"),
}


def _message(error: dict) -> str:
    template = _VALIDATION_MESSAGES.get(error.get("type", ""))
    if template is None:
        return str(error.get("msg", ""))
    try:
        return str(template) % {k: v for k, v in (error.get("ctx") or {}).items()}
    except (KeyError, TypeError, ValueError):
        return str(error.get("msg", ""))


def _location(loc: list | tuple) -> str:
    # ninja reports ("query", "start") or ("body", "payload", "name"); drop the wrapper name
    parts = [str(p) for p in loc if p not in ("payload",)]
    return ".".join(parts)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {
            "field": _location(e.get("loc", ())),
            "rule": e.get("type", "invalid"),
            "message": _message(e),
        }
        for e in exc.errors
    ]
    first = errors[0] if errors else None
    detail = f"{first['field']}: {first['message']}" if first else str(_("请求格式不正确"))
    return problem_response(request, 422, "Validation failed", detail, "invalid", errors)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem_response(
        request,
        exc.status,
        exc.title,
        str(exc.message),
        exc.code,
        [e.as_dict() for e in exc.errors],
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(request, 404, "Not found", str(exc) or "Not found", "not_found")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        request, 401, "Unauthorized", "Authentication required", "unauthenticated"
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(request, exc.status_code, "Error", str(exc), "http_error")


def _register_routers() -> None:
    from yiciban.accounts.api import router as accounts_router
    from yiciban.archive.api import router as archive_router
    from yiciban.cases import api as cases_api
    from yiciban.cases.api import router as cases_router
    from yiciban.catalog.api import router as catalog_router
    from yiciban.core.api import router as reference_router
    from yiciban.hotline.api import georeport_router
    from yiciban.hotline.api import router as hotline_router
    from yiciban.housing.api import router as housing_router
    from yiciban.ledger.api import router as ledger_router
    from yiciban.licences.api import router as licences_router
    from yiciban.notifications.api import router as notifications_router
    from yiciban.openness.api import router as openness_router
    from yiciban.org.api import router as org_router
    from yiciban.sharing.api import router as sharing_router

    api.add_router("/v1/reference", reference_router)
    api.add_router("/v1/org", org_router)
    api.add_router("/v1/accounts", accounts_router)
    api.add_router("/v1", catalog_router)  # /v1/items, /v1/bundles
    api.add_router("/v1/cases", cases_router)
    api.add_router("/v1/licences", licences_router)
    api.add_router("/v1/archive", archive_router)
    api.add_router("/v1/ledger", ledger_router)
    api.add_router("/v1/notifications", notifications_router)
    api.add_router("/v1/openness", openness_router)
    # sharing and housing use the case engine's API tokens: attached here, not imported there
    api.add_router("/v1/sharing", sharing_router, auth=cases_api.AUTH)
    api.add_router("/v1/housing", housing_router, auth=cases_api.AUTH)
    api.add_router("/v1", hotline_router)  # /v1/knowledge, /v1/tickets
    api.add_router("/georeport/v2", georeport_router)  # Open311 GeoReport v2


_register_routers()
