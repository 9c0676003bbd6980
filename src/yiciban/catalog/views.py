"""Public pages of the service catalogue (办事指南): browse by department, life event,
enterprise theme and service point; search; the printable item guide; bundles (一件事) with
the smart-guidance wizard (智能导办), the printable one-time notice (一次性告知单) and the
merged form (一张表单). Thin: the selectors decide, the pages show."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied as PageForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yiciban.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yiciban.org.models import PointKind
from yiciban.org.selectors import region_by_code

from . import page_selectors, selectors
from .forms import AnswersForm, SearchForm, answers_query
from .models import Audience, Channel, DayUnit, Level, MaterialSource, RiskTier

PER_PAGE = 20
MAX_PAGE = 500
ENTERPRISE_FIELD = "_enterprise"  # question codes start with a letter: never the same name


def _pages_of(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Domain refusals as pages: unknown → 404, forbidden → 403, a bundle whose base item
    is not in force → an explanation with 409."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            raise PageForbidden(exc.message) from None
        except Conflict as exc:
            return render(request, "catalog/unavailable.html", {"message": exc.message}, status=409)

    return wrapper


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_PAGE else 1


def _paged(request: HttpRequest, fetch: Callable[..., Any]) -> dict:
    """Calls a list selector for the requested page; returns the template's pager context."""
    number = _page_number(request)
    page = fetch(limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    pages = max(1, -(-page.count // PER_PAGE))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "results": page.items,
        "count": page.count,
        "page": number,
        "pages": pages,
        "previous_page": number - 1 if number > 1 else None,
        "next_page": number + 1 if number < pages else None,
        "pager_query": query.urlencode(),
    }


def _url(name: str, *args: Any, **query: str) -> str:
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


def _region_choice(request: HttpRequest) -> tuple[Any, str]:
    """The county chosen with ?region= (6 or 12 digits), or (None, "") when none is."""
    code = request.GET.get("region", "").strip()
    if not code:
        return None, ""
    try:
        return region_by_code(code), code
    except ValidationFailed:
        raise Http404(_("区划代码格式不正确：%(c)s") % {"c": code}) from None


# --- browsing ---------------------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/index.html",
        {
            "search_form": SearchForm(),
            "life_events": selectors.themes_with_counts(audience=Audience.PERSON),
            "enterprise_themes": selectors.themes_with_counts(audience=Audience.ENTERPRISE),
            "bundles": selectors.bundles_list(limit=12).items,
            "counties": page_selectors.counties_with_items(),
        },
    )


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    context: dict[str, Any] = {"search_form": form, "q": ""}
    if form.is_bound and form.is_valid():
        q = form.cleaned_data["q"]
        context["q"] = q
        context.update(_paged(request, lambda **page: selectors.items_list(q=q, **page)))
        if q:
            context["bundles"] = selectors.bundles_list(q=q, limit=10).items
    return render(request, "catalog/search.html", context)


@require_GET
@_pages_of
def departments(request: HttpRequest) -> HttpResponse:
    region, code = _region_choice(request)
    return render(
        request,
        "catalog/departments.html",
        {
            "counties": page_selectors.counties_with_items(),
            "region": region,
            "departments": selectors.departments_with_items(region=code) if region else [],
        },
    )


@require_GET
@_pages_of
def department_detail(request: HttpRequest, department_id: int) -> HttpResponse:
    department = page_selectors.department_get(department_id)
    context = _paged(request, lambda **page: selectors.items_list(department=department.pk, **page))
    context.update(
        heading=department.name,
        lead=_("%(region)s · %(n)s 项事项")
        % {"region": department.region.name, "n": context["count"]},
        crumbs=[(_("按部门"), _url("catalog:departments", region=department.region.code[:6]))],
    )
    return render(request, "catalog/item_listing.html", context)


def _themes(request: HttpRequest, audience: str) -> HttpResponse:
    return render(
        request,
        "catalog/themes.html",
        {
            "audience": audience,
            "themes": selectors.themes_with_counts(audience=audience),
        },
    )


@require_GET
def life_events(request: HttpRequest) -> HttpResponse:
    return _themes(request, Audience.PERSON)


@require_GET
def enterprise_themes(request: HttpRequest) -> HttpResponse:
    return _themes(request, Audience.ENTERPRISE)


@require_GET
@_pages_of
def theme_detail(request: HttpRequest, code: str) -> HttpResponse:
    theme = page_selectors.theme_get(code)
    context = _paged(request, lambda **page: selectors.items_list(theme=theme.code, **page))
    parent = (
        (_("按人生事件"), _url("catalog:life_events"))
        if theme.audience == Audience.PERSON
        else (_("按企业主题"), _url("catalog:enterprise_themes"))
    )
    context.update(
        heading=theme.name,
        lead=theme.description,
        crumbs=[parent],
        bundles=selectors.bundles_list(theme=theme.code, limit=50).items,
    )
    return render(request, "catalog/item_listing.html", context)


@require_GET
@_pages_of
def service_points(request: HttpRequest) -> HttpResponse:
    region, code = _region_choice(request)
    kind = request.GET.get("kind", "")
    if kind not in PointKind.values:
        kind = ""
    return render(
        request,
        "catalog/service_points.html",
        {
            "counties": page_selectors.counties_with_items(),
            "region": region,
            "kind": kind,
            "kinds": PointKind.choices,
            "points": selectors.service_points_with_items(region=code, kind=kind) if region else [],
        },
    )


@require_GET
@_pages_of
def service_point_detail(request: HttpRequest, code: str) -> HttpResponse:
    point = page_selectors.service_point_get(code)
    context = _paged(request, lambda **page: selectors.items_list(service_point=point.code, **page))
    context.update(
        heading=point.name,
        point=point,
        crumbs=[(_("按服务网点"), _url("catalog:service_points", region=point.region.code[:6]))],
    )
    return render(request, "catalog/item_listing.html", context)


# --- the item guide ---------------------------------------------------------------------


def _labels(choices: type, values: list[str]) -> list[str]:
    return [str(choices(v).label) if v in choices.values else v for v in values]


def _published(url: str) -> str:
    """`url` when it leads somewhere: a blank form or sample named as a static file that
    is not shipped would be a dead link on a printed guide."""
    if url.startswith(settings.STATIC_URL):
        return url if finders.find(url.removeprefix(settings.STATIC_URL)) else ""
    return url


@require_GET
@_pages_of
def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    version = selectors.item_detail(code)
    item = version.item
    labels = selectors.element_labels(version)
    required = set(version.form_schema.get("required", []))
    fields = [
        {
            "label": labels.get(prop.get("x-element"), prop.get("title", name)),
            "required": name in required,
        }
        for name, prop in version.form_schema.get("properties", {}).items()
    ]
    return render(
        request,
        "catalog/item_detail.html",
        {
            "version": version,
            "item": item,
            "materials": [
                (m, _published(m.kind.blank_form_url), _published(m.kind.sample_url))
                for m in version.materials.all()
            ],
            "source_labels": dict(MaterialSource.choices),
            "channels": _labels(Channel, version.channels),
            "levels": _labels(Level, version.levels),
            "legal_unit": DayUnit(version.legal_limit_unit).label,
            "promised_unit": DayUnit(version.promised_limit_unit).label,
            "risk_label": RiskTier(version.risk_tier).label,
            "steps": page_selectors.process_steps(version),
            "points": [p for p in item.service_points.all() if p.is_active],
            "fields": fields,
            "history": selectors.item_history(item),
            "crumbs": [
                (item.department.name, _url("catalog:department_detail", item.department.pk))
            ],
            "bundles": page_selectors.bundles_with_item(item),
        },
    )


# --- bundles ----------------------------------------------------------------------------


@require_GET
def bundles(request: HttpRequest) -> HttpResponse:
    audience = request.GET.get("audience", "")
    if audience not in (Audience.PERSON, Audience.ENTERPRISE):
        audience = ""
    context = _paged(request, lambda **page: selectors.bundles_list(audience=audience, **page))
    context["audience"] = audience
    return render(request, "catalog/bundles.html", context)


@require_GET
@_pages_of
def bundle_detail(request: HttpRequest, code: str) -> HttpResponse:
    version = selectors.bundle_detail(code)
    members = list(version.members.all())
    return render(
        request,
        "catalog/bundle_detail.html",
        {
            "version": version,
            "bundle": version.bundle,
            "base": [m for m in members if m.role == "base"],
            "optional": [m for m in members if m.role != "base"],
            "member_count": len(members),
            "questions": selectors.questionnaire_of(version),
        },
    )


def _subject(request: HttpRequest, data, bundle_audience: str, form: AnswersForm):
    """Whose archive guidance may use: the signed-in applicant, or an enterprise they
    represent. Returns (subject, enterprises the user may choose, the chosen USCC)."""
    if not request.user.is_authenticated:
        return None, [], ""
    enterprises = page_selectors.enterprises_represented_by(request.user)
    uscc = (data.get(ENTERPRISE_FIELD, "") if data is not None else "").strip().upper()
    if data is None and bundle_audience == Audience.ENTERPRISE and enterprises:
        uscc = enterprises[0].uscc
    try:
        return selectors.guidance_subject_for(request.user, uscc), enterprises, uscc
    except PermissionDenied as exc:
        form.errors.setdefault(ENTERPRISE_FIELD, []).append(exc.message)
        return selectors.guidance_subject_for(request.user, ""), enterprises, ""


def _guidance(request: HttpRequest, code: str, data) -> dict:
    """Everything the wizard, the notice and the merged form show for the answers in
    `data` (None: not yet answered). Answers in error are left out of the evaluation and
    their messages put next to their questions."""
    version = selectors.bundle_detail(code)
    compiled = selectors.compiled_bundle(code)
    form = AnswersForm(compiled.questions, data)
    subject, enterprises, uscc = _subject(request, data, version.bundle.audience, form)
    try:
        result = selectors.bundle_guidance(code, form.answers, subject=subject)
    except ValidationFailed as exc:
        form.add_errors(exc.errors)
        result = selectors.bundle_guidance(code, form.valid_answers(), subject=subject)
    visible = set(result["visible_questions"])
    names = {entry["code"]: entry["name"] for entry in result["items"]}
    valid = form.valid_answers()
    # what the notice and form links carry: the right answers to the questions shown
    answered = {code: valid[code] for code in result["visible_questions"] if code in valid}
    query = answers_query(answered, result["visible_questions"])
    if uscc:
        query = "&".join(filter(None, [query, urlencode({ENTERPRISE_FIELD: uscc})]))
    return {
        "version": version,
        "bundle": version.bundle,
        "form": form,
        "questions": _question_rows(compiled.questions, form, visible),
        "result": result,
        "conditions": [
            {"text": c["text"], "items": [names.get(i, i) for i in c["items"]]}
            for c in result["notice"]["conditions"]
        ],
        "materials": result["notice"]["materials"],
        "materials_to_submit": sum(
            1
            for m in result["notice"]["materials"]
            if m["submit"] and m["requirement"] == "required"
        ),
        "source_labels": dict(MaterialSource.choices),
        "reduction_rows": _reduction_rows(result["reduction"]),
        "critical_path": [names.get(c, c) for c in result["promised_limit"]["critical_path"]],
        "answers_query": query,
        "answered": _answer_lines(compiled.questions, answered),
        "enterprises": enterprises,
        "enterprise_uscc": uscc,
        "enterprise_field": ENTERPRISE_FIELD,
        "enterprise_errors": form.errors.get(ENTERPRISE_FIELD, []),
        "signed_in_as_applicant": subject is not None,
        "today": timezone.localdate(),
    }


def _reduction_rows(reduction: dict) -> list[dict]:
    """Separate vs. bundle, after archive reuse when an applicant is known."""
    rows = (
        (
            _("需提交材料（份）"),
            reduction["materials_separate"],
            reduction.get("materials_after_reuse", reduction["materials_bundle"]),
        ),
        (
            _("需填写的表单项（项）"),
            reduction["fields_separate"],
            reduction.get("fields_after_reuse", reduction["fields_bundle"]),
        ),
        (_("办理时限（工作日）"), reduction["days_separate"], reduction["days_bundle"]),
    )
    return [
        {"label": label, "separate": separate, "bundle": bundle, "saved": separate - bundle}
        for label, separate, bundle in rows
    ]


def _question_rows(questions, form: AnswersForm, visible: set[str]) -> list[dict]:
    rows = []
    for question in questions:
        raw = form.raw.get(question.code, [] if question.type == "multi_choice" else "")
        rows.append(
            {
                "q": question,
                "visible": question.code in visible,
                "value": raw,
                "errors": form.errors.get(question.code, []),
                "choices": [
                    {
                        "value": v,
                        "label": label,
                        "checked": v in raw if isinstance(raw, list) else v == raw,
                    }
                    for v, label in question.choices
                ],
            }
        )
    return rows


def _answer_lines(questions, answered: dict) -> list[tuple[str, str]]:
    return [
        (q.label, q.label_of(answered[q.code]) or _("以上都不是"))
        for q in questions
        if q.code in answered
    ]


def _guidance_status(context: dict) -> int:
    # 422 when answers break the questionnaire, as the API answers
    return 422 if context["form"].errors else 200


@require_http_methods(["GET", "POST"])
@_pages_of
def bundle_wizard(request: HttpRequest, code: str) -> HttpResponse:
    """Smart guidance. With htmx every change re-posts the form and only the wizard is
    swapped; without JavaScript the same form posts and the whole page comes back. A GET
    with answers in the query (the notice's "change answers" link) fills the form in."""
    data = request.POST if request.method == "POST" else (request.GET or None)
    context = _guidance(request, code, data)
    template = "catalog/_wizard.html" if request.htmx else "catalog/wizard.html"
    return render(request, template, context, status=_guidance_status(context))


@require_GET
@_pages_of
def bundle_notice(request: HttpRequest, code: str) -> HttpResponse:
    """The one-time notice (一次性告知单) for the answers in the query string: printable,
    and a link that can be bookmarked or sent."""
    context = _guidance(request, code, request.GET)
    return render(request, "catalog/notice.html", context, status=_guidance_status(context))


@require_GET
@_pages_of
def bundle_form(request: HttpRequest, code: str) -> HttpResponse:
    """The merged form (一张表单) for the answers in the query string, as a read-only list
    of fields: the shared fields once, then each item's own sub-section."""
    context = _guidance(request, code, request.GET)
    schema = context["result"]["merged_schema"]
    prefill = context["result"]["prefill"]
    names = {entry["code"]: entry["name"] for entry in context["result"]["items"]}
    sections = []
    for entry in schema.get("x-sections", []):
        section = schema["properties"][entry["key"]]
        required = set(section.get("required", []))
        sections.append(
            {
                "key": entry["key"],
                "title": section["title"],
                "shared": entry["key"] == "base",
                "fields": [
                    {
                        "element": element,
                        "title": prop.get("title", element),
                        "kind": page_selectors.describe_field(prop),
                        "required": element in required,
                        "items": [names.get(c, c) for c in prop.get("x-items", [])],
                        "prefill": prefill.get(element),
                    }
                    for element, prop in section["properties"].items()
                ],
            }
        )
    context["sections"] = sections
    context["schema_title"] = schema.get("title", "")
    return render(request, "catalog/merged_form.html", context, status=_guidance_status(context))
