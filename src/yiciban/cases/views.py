"""Pages of the case engine: the applicant's application form, "my cases" and the status
page; the counter workbench (综合受理) with applicant search, assisted submission,
acceptance, the one supplement notice and delivery (一窗出件); the department queue and a
case item's page with its actions; the supervisor's deadline board; printable receipt and
supplement notice. Thin: forms in, h9's services and selectors do the work, domain errors
come back as field errors or messages."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as PageForbidden
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiciban.core.documents import document_open, document_store
from yiciban.core.errors import (
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from yiciban.org import selectors as org_selectors
from yiciban.org.models import Role

from . import page_selectors, selectors, services
from .forms import (
    ApplicantSearchForm,
    AssistedApplicantForm,
    CommentForm,
    DeliverForm,
    ExtendForm,
    InspectionForm,
    InspectionRecordForm,
    RefuseAcceptanceForm,
    RefuseForm,
    ReviewForm,
    SchemaForm,
    SupplementNoticeForm,
    SuspendForm,
)
from .models import CaseChannel, CaseState
from .services import MaterialInput

ROWS_PER_PAGE = 25
# the case history's event kinds (services._event), as the status page names them
EVENT_LABELS = {
    "submitted": _l("提交申请"),
    "accepted": _l("受理"),
    "accepted_with_deferrals": _l("容缺受理"),
    "supplement_requested": _l("一次性告知补正"),
    "supplement_provided": _l("提交补正材料"),
    "material_provided": _l("补交容缺材料"),
    "not_accepted": _l("不予受理"),
    "withdrawn": _l("撤回申请"),
    "task_claimed": _l("认领任务"),
    "task_released": _l("退回任务"),
    "reviewed": _l("审查"),
    "decided": _l("作出决定"),
    "fallback_to_manual": _l("转人工审查"),
    "post_checked": _l("承诺事项核查"),
    "inspection_scheduled": _l("安排现场核查"),
    "inspection_recorded": _l("现场核查"),
    "reinspected": _l("整改复查"),
    "suspension_started": _l("中止计时"),
    "suspension_ended": _l("恢复计时"),
    "extended": _l("延长时限"),
    "ready_for_delivery": _l("全部办结，待出件"),
    "delivered": _l("一窗出件"),
}
INLINE_FORMATS = {"pdf", "png", "jpg", "jpeg"}


def _pages(view: Callable) -> Callable:
    """Sign-in required; a domain NotFound is a 404 page, a PermissionDenied a 403 page."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            raise PageForbidden(exc.message) from None

    return wrapper


def _error_text(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed) and exc.errors:
        return "；".join(str(e.message) for e in exc.errors)
    return str(exc.message)


def _act(request: HttpRequest, call: Callable[[], Any], done: str) -> Any:
    """Run a service for an action button: success and refusals both end in a message."""
    try:
        result = call()
    except (ValidationFailed, DomainError) as exc:
        if isinstance(exc, (NotFound, PermissionDenied)):
            raise
        messages.error(request, _error_text(exc))
        return None
    messages.success(request, done)
    return result


def _form_refused(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else error)


def _is_front_office(user) -> bool:
    return org_selectors.is_platform_admin(user) or any(
        org_selectors.has_role(user, r) for r in (Role.COUNTER_CLERK, Role.ASSISTED_SERVICE_AGENT)
    )


# --- applicant: apply ------------------------------------------------------------------


def _answers(code: str, request: HttpRequest) -> dict:
    """Guidance answers: the hidden field of a posted form, else the catalogue wizard's
    query string (the apply link carries it)."""
    if request.POST.get("answers_json"):
        try:
            answers = json.loads(request.POST["answers_json"])
        except ValueError:
            return {}
        return answers if isinstance(answers, dict) else {}
    return page_selectors.answers_from_query(code, request.GET)


def _material_rows(preview: dict, commitment_codes: set[str]) -> list[dict]:
    rows = []
    for entry in preview["materials"]:
        needers = {i["code"] for i in entry.get("items", [])}
        signed = (
            services.is_commitment_material(entry["kind"])
            and bool(needers)
            and needers <= commitment_codes
        )
        rows.append(
            {
                **entry,
                "signed_on_platform": signed,
                "upload": entry.get("submit", True) and not signed,
                "needers": [i.get("name", i["code"]) for i in entry.get("items", [])],
                "errors": [],
                "document_id": None,
            }
        )
    return rows


def _store_uploads(request: HttpRequest, rows: list[dict]) -> list[MaterialInput]:
    """Stores each uploaded file (type sniffed, size checked by core.documents) and keeps
    the ids of files uploaded on an earlier try, so a form in error needs no re-upload."""
    inputs = []
    for row in rows:
        if not row["upload"]:
            continue
        upload = request.FILES.get(f"m:{row['kind']}")
        if upload is not None:
            try:
                document = document_store(
                    actor=request.user, content=upload, filename=upload.name or ""
                )
            except ValidationFailed as exc:
                row["errors"] += [str(e.message) for e in exc.errors] or [str(exc.message)]
                continue
            row["document_id"] = document.pk
        else:
            kept = request.POST.get(f"d:{row['kind']}", "")
            row["document_id"] = int(kept) if kept.isdigit() else None
        if row["document_id"] is not None:
            inputs.append(MaterialInput(kind=row["kind"], document_id=row["document_id"]))
    return inputs


def _place_material_errors(errors: list[FieldError], rows: list[dict], inputs) -> list[str]:
    """`materials[3].document` names the 4th material sent; `materials.kind` a kind."""
    rest = []
    for error in errors:
        placed = False
        for position, material in enumerate(inputs):
            if error.field.startswith(f"materials[{position}]"):
                row = next(r for r in rows if r["kind"] == material.kind)
                row["errors"].append(str(error.message))
                placed = True
        for row in rows:
            if not placed and error.field in (f"materials.{row['kind']}", row["kind"]):
                row["errors"].append(str(error.message))
                placed = True
        if not placed:
            rest.append(str(error.message))
    return rest


@_pages
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, kind: str, code: str) -> HttpResponse:
    """The application form: the (merged) form, the materials, the commitments."""
    if kind not in ("bundle", "item"):
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    answers = _answers(code, request) if kind == "bundle" else {}
    try:
        preview = selectors.case_preview(
            bundle_code=code if kind == "bundle" else "",
            item_code=code if kind == "item" else "",
            answers=answers,
        )
    except ValidationFailed as exc:
        raise Http404(_error_text(exc)) from None
    wizard_url = reverse("catalog:bundle_wizard", args=[code]) if kind == "bundle" else ""
    if not preview["complete"]:
        messages.info(request, _("请先回答导办问题，确定需要办理的事项"))
        return redirect(wizard_url)
    commitment_codes = {
        i["code"] for i in preview["items"] if i["approval_mode"] in ("commitment", "automatic")
    }
    rows = _material_rows(preview, commitment_codes)
    # counter staff file for an applicant (assisted submission), never for themselves
    assisted = _is_front_office(request.user)
    schema_form = SchemaForm(
        preview["form_schema"], request.POST if request.method == "POST" else None
    )
    applicant_form = AssistedApplicantForm(request.POST if request.method == "POST" else None)
    errors_other: list[str] = []
    signed = set(request.POST.getlist("commitments")) & commitment_codes
    if request.method == "POST":
        inputs = _store_uploads(request, rows)
        applicant_form.is_valid()
        extra = applicant_form.cleaned_data if assisted else {}
        try:
            submission = services.case_submit(
                actor=request.user,
                bundle_code=code if kind == "bundle" else "",
                item_code=code if kind == "item" else "",
                answers=answers,
                form_data=schema_form.form_data(),
                materials=inputs,
                commitments=sorted(signed),
                applicant_id_number=extra.get("applicant_id_number", ""),
                enterprise_uscc=extra.get("enterprise_uscc", "")
                or request.POST.get("enterprise_uscc", "").strip(),
                channel=CaseChannel.COUNTER if assisted else CaseChannel.ONLINE,
                green_channel=bool(extra.get("green_channel")),
                green_channel_reason=extra.get("green_channel_reason", ""),
                idempotency_key=request.POST.get("idempotency_key", ""),
            )
        except ValidationFailed as exc:
            rest = schema_form.add_errors(list(exc.errors or []))
            for error in list(rest):
                if error.field in applicant_form.fields:
                    applicant_form.add_error(error.field, error.message)
                    rest.remove(error)
            errors_other = _place_material_errors(rest, rows, inputs)
            if not exc.errors:
                errors_other.append(str(exc.message))
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            errors_other.append(str(exc.message))
        else:
            messages.success(
                request,
                _("申请已提交，办件编号 %(n)s") % {"n": submission.case.number},
            )
            return redirect("cases:detail", number=submission.case.number)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "cases/apply.html",
        {
            "kind": kind,
            "code": code,
            "preview": preview,
            "schema_form": schema_form,
            "materials": rows,
            "commitment_items": [i for i in preview["items"] if i["code"] in commitment_codes],
            "signed": signed,
            "answers_json": json.dumps(answers, ensure_ascii=False),
            "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
            "assisted": assisted,
            "applicant_form": applicant_form,
            "errors_other": errors_other,
            "wizard_url": wizard_url,
            # the catalogue wizard carries the enterprise chosen there as `_enterprise`
            "enterprise_uscc": data.get("enterprise_uscc") or request.GET.get("_enterprise", ""),
        },
        status=status,
    )


# --- applicant: my cases and the status page -------------------------------------------


@_pages
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    cases = selectors.cases_of_applicant(request.user, state=request.GET.get("state", ""))
    page = Paginator(cases, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/my_cases.html",
        {
            "page": page,
            "rows": [selectors.case_summary(c) for c in page.object_list],
            "states": CaseState.choices,
            "state": request.GET.get("state", ""),
        },
    )


def _status_context(request: HttpRequest, number: str) -> dict:
    case = selectors.case_for(request.user, number=number)
    applicant_view = selectors.is_applicant_view(request.user, case)
    status = selectors.case_status(case, for_applicant=applicant_view)
    for event in status["events"]:
        event["kind_label"] = EVENT_LABELS.get(event["kind"], event["kind"])
    return {"case": case, "status": status, "applicant_view": applicant_view}


@_pages
@require_GET
def detail(request: HttpRequest, number: str) -> HttpResponse:
    """The one status page: every item's progress, deadline and what it awaits; for the
    counter, the acceptance, supplement and delivery actions."""
    context = _status_context(request, number)
    status = context["status"]
    front_office = _is_front_office(request.user) and not context["applicant_view"]
    outstanding = [m for m in status["materials"] if m["status"] in ("missing", "deferred")]
    context.update(
        {
            "front_office": front_office,
            "back_office": not context["applicant_view"] and not front_office,
            "can_accept": front_office and status["state"] == CaseState.SUBMITTED,
            "can_deliver": front_office and status["state"] == CaseState.READY_FOR_DELIVERY,
            "deferrable": [m for m in status["materials"] if m["deferrable"]],
            "outstanding": outstanding,
            "notice_form": SupplementNoticeForm(materials=status["materials"]),
            "refuse_form": RefuseAcceptanceForm(),
            "deliver_form": DeliverForm(initial={"recipient": status["applicant"]["name"]}),
        }
    )
    return render(request, "cases/detail.html", context)


@_pages
@require_GET
def receipt(request: HttpRequest, number: str) -> HttpResponse:
    """The printable receipt (受理回执) of a case."""
    return render(request, "cases/receipt.html", _status_context(request, number))


@_pages
@require_GET
def notice_print(request: HttpRequest, number: str) -> HttpResponse:
    """The printable one-time supplement notice (一次性告知单)."""
    context = _status_context(request, number)
    if context["status"]["supplement_notice"] is None:
        raise Http404(_("该办件没有补正告知"))
    return render(request, "cases/notice_print.html", context)


@_pages
@require_GET
def material_file(request: HttpRequest, number: str, kind: str) -> FileResponse:
    """Opens a stored material of a case the user may see (applicant or staff)."""
    case = selectors.case_for(request.user, number=number)
    material = page_selectors.case_material(case, kind)
    if material is None or material.document is None:
        raise Http404(_("该材料没有文件"))
    document = material.document
    response = FileResponse(document_open(document), content_type=document.media_type)
    disposition = "inline" if document.format in INLINE_FORMATS else "attachment"
    response["Content-Disposition"] = (
        f'{disposition}; filename="{document.sha256}.{document.format}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- counter workbench -----------------------------------------------------------------


@_pages
@require_http_methods(["GET", "POST"])
def counter(request: HttpRequest) -> HttpResponse:
    """综合受理: the cases awaiting acceptance and delivery, and the applicant search (by
    POST, so a resident ID never appears in a URL or a log)."""
    queue = selectors.counter_queue(request.user)
    ready = selectors.ready_for_delivery(request.user)
    supplement = selectors.counter_queue(request.user, state=CaseState.SUPPLEMENT_REQUESTED)
    search_form = ApplicantSearchForm(request.POST or None)
    found = None
    if request.method == "POST" and search_form.is_valid():
        try:
            found = selectors.applicant_search(
                request.user,
                id_number=search_form.cleaned_data["id_number"],
                uscc=search_form.cleaned_data["uscc"],
            )
        except ValidationFailed as exc:
            search_form.add_error(None, _error_text(exc))
    search_errors = search_form.non_field_errors() if search_form.is_bound else []
    # the resident ID is not echoed back into the page (it would sit in the browser's form
    # history and in screenshots); the USCC is public
    shown_form = ApplicantSearchForm(initial={"uscc": request.POST.get("uscc", "")})
    return render(
        request,
        "cases/counter.html",
        {
            "queue": [selectors.case_summary(c) for c in queue[:50]],
            "queue_count": queue.count(),
            "ready": [selectors.case_summary(c) for c in ready[:50]],
            "supplement": [selectors.case_summary(c) for c in supplement[:50]],
            "search_form": shown_form,
            "search_errors": search_errors,
            "found": found,
            "searched": request.method == "POST" and search_form.is_valid(),
            "bundles": page_selectors.bundles_for_counter(request.user),
        },
    )


@_pages
@require_POST
def accept(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for(request.user, number=number)
    deferred = request.POST.getlist("deferred")
    if deferred:
        _act(
            request,
            lambda: services.case_accept_with_deferrals(
                actor=request.user, case_id=case.pk, deferrals=deferred
            ),
            _("已受理（容缺后补 %(n)d 份材料），各事项开始计时") % {"n": len(deferred)},
        )
    else:
        _act(
            request,
            lambda: services.case_accept(actor=request.user, case_id=case.pk),
            _("已受理，各事项开始计时"),
        )
    return redirect("cases:detail", number=number)


@_pages
@require_POST
def supplement_notice(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for(request.user, number=number)
    status = selectors.case_status(case, for_applicant=False)
    form = SupplementNoticeForm(request.POST, materials=status["materials"])
    if form.is_valid():
        _act(
            request,
            lambda: services.case_request_supplement(
                actor=request.user,
                case_id=case.pk,
                missing=form.missing(),
                message=form.cleaned_data["message"],
            ),
            _("已出具一次性告知单"),
        )
    else:
        _form_refused(request, form)
    return redirect("cases:detail", number=number)


@_pages
@require_POST
def refuse_acceptance(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for(request.user, number=number)
    form = RefuseAcceptanceForm(request.POST)
    if form.is_valid():
        _act(
            request,
            lambda: services.case_refuse_acceptance(
                actor=request.user, case_id=case.pk, **form.cleaned_data
            ),
            _("已作出不予受理决定"),
        )
    else:
        _form_refused(request, form)
    return redirect("cases:detail", number=number)


@_pages
@require_POST
def deliver(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for(request.user, number=number)
    form = DeliverForm(request.POST)
    if form.is_valid():
        _act(
            request,
            lambda: services.case_deliver(actor=request.user, case_id=case.pk, **form.cleaned_data),
            _("已一窗出件"),
        )
    else:
        _form_refused(request, form)
    return redirect("cases:detail", number=number)


# --- back office -----------------------------------------------------------------------


@_pages
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The department queue, most urgent first (overdue, then least time left)."""
    user = request.user
    # one query for the user's queue roles and departments: the queue is the busiest page
    scope = selectors.queue_scope(user)
    roles = list(scope.roles)
    if not roles and not scope.admin:
        raise PageForbidden(_("只有审查员、审批员或勘验员可以查看部门队列"))
    role = request.GET.get("role", "")
    role = role if role in selectors.QUEUE_ROLES else ""
    status = request.GET.get("status", "")
    status = status if status in selectors.STATUS_ORDER else ""
    mine = request.GET.get("mine") == "1"
    tasks = selectors.task_queue(user, role=role, mine=mine, status=status, scope=scope)
    page = Paginator(tasks, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/queue.html",
        {
            "page": page,
            "rows": [selectors.task_row(t) for t in page.object_list],
            "roles": [(r, Role(r).label) for r in roles],
            "role": role,
            "status": status,
            "mine": mine,
        },
    )


def _item_context(request: HttpRequest, item_id: int) -> dict:
    item = selectors.item_for(request.user, item_id)
    context = _status_context(request, item.case.number)
    status = context["status"]
    row = next(i for i in status["items"] if i["id"] == item.pk)
    active = [t for t in row["tasks"] if t["state"] in ("open", "claimed")]
    inspections = [i for i in status["inspections"] if item.pk in i["items"]]
    context.update(
        {
            "item": item,
            "row": row,
            "active_tasks": active,
            "inspections": inspections,
            "open_suspension": next((s for s in row["suspensions"] if s["end"] is None), None),
            "review_form": ReviewForm(),
            "comment_form": CommentForm(),
            "refuse_form": RefuseForm(),
            "suspend_form": SuspendForm(),
            "extend_form": ExtendForm(),
            "inspection_form": InspectionForm(
                items=[i for i in status["items"] if i["state"] not in ("approved", "refused")]
            ),
            "record_form": InspectionRecordForm(),
            "running": row["state"] in ("reviewing", "inspecting", "approving"),
        }
    )
    return context


@_pages
@require_GET
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    """One case item for the back office: its materials, form, history and actions."""
    context = _item_context(request, item_id)
    if context["applicant_view"]:
        return redirect("cases:detail", number=context["case"].number)
    return render(request, "cases/item.html", context)


def _task_action(request: HttpRequest, action: str) -> tuple[Callable[[], Any], str] | None:
    task_id = int(request.POST.get("task", "0") or 0)
    version = request.POST.get("version", "")
    version = int(version) if version.isdigit() else None
    user = request.user
    if action == "claim":
        return lambda: services.task_claim(actor=user, task_id=task_id, version=version), _(
            "已认领"
        )
    if action == "release":
        return lambda: services.task_release(actor=user, task_id=task_id), _("已退回队列")
    if action == "review":
        form = ReviewForm(request.POST)
        if not form.is_valid():
            _form_refused(request, form)
            return None
        return lambda: services.item_review(
            actor=user, task_id=task_id, version=version, **form.cleaned_data
        ), _("审查意见已提交")
    if action == "approve":
        form = CommentForm(request.POST)
        form.is_valid()
        return lambda: services.item_approve(
            actor=user, task_id=task_id, version=version, comment=form.cleaned_data["comment"]
        ), _("已准予办理")
    if action == "refuse":
        form = RefuseForm(request.POST)
        if not form.is_valid():
            _form_refused(request, form)
            return None
        return lambda: services.item_refuse(
            actor=user, task_id=task_id, version=version, **form.cleaned_data
        ), _("已作出不予办理决定")
    if action == "post_check":
        return lambda: services.post_check_record(
            actor=user,
            task_id=task_id,
            version=version,
            compliant=request.POST.get("compliant") == "1",
            findings=request.POST.get("findings", ""),
        ), _("核查结果已记录")
    return None


def _item_action(request, action: str, item_id: int, case_id: int):
    user = request.user
    if action == "suspend":
        form = SuspendForm(request.POST)
        if not form.is_valid():
            _form_refused(request, form)
            return None
        return lambda: services.suspension_start(
            actor=user, item_id=item_id, **form.cleaned_data
        ), _("已中止计时")
    if action == "resume":
        suspension_id = int(request.POST.get("suspension", "0") or 0)
        return lambda: services.suspension_end(actor=user, suspension_id=suspension_id), _(
            "已恢复计时"
        )
    if action == "extend":
        form = ExtendForm(request.POST)
        if not form.is_valid():
            _form_refused(request, form)
            return None
        return lambda: services.extension_grant(
            actor=user, item_id=item_id, **form.cleaned_data
        ), _("已延长办理时限")
    if action == "inspect":
        form = InspectionForm(request.POST, items=[{"id": i, "name": ""} for i in _ids(request)])
        if not form.is_valid():
            _form_refused(request, form)
            return None
        return lambda: services.inspection_schedule(
            actor=user,
            case_id=case_id,
            item_ids=[int(i) for i in form.cleaned_data["items"]],
            scheduled_for=form.cleaned_data["scheduled_for"],
            note=form.cleaned_data["note"],
        ), _("已安排联合现场核查")
    if action in ("record", "reinspect"):
        inspection_id = int(request.POST.get("inspection", "0") or 0)
        if action == "reinspect":
            return lambda: services.inspection_reinspect(
                actor=user,
                inspection_id=inspection_id,
                passed=request.POST.get("result") == "passed",
                findings=request.POST.get("findings", ""),
            ), _("复查结果已记录")
        form = InspectionRecordForm(request.POST)
        if not form.is_valid():
            _form_refused(request, form)
            return None
        return lambda: services.inspection_record(
            actor=user, inspection_id=inspection_id, **form.cleaned_data
        ), _("核查结果已记录")
    return None


def _ids(request: HttpRequest) -> list[str]:
    return [i for i in request.POST.getlist("items") if i.isdigit()]


ITEM_ACTIONS = {
    "claim",
    "release",
    "review",
    "approve",
    "refuse",
    "post_check",
    "suspend",
    "resume",
    "extend",
    "inspect",
    "record",
    "reinspect",
}


@_pages
@require_POST
def item_action(request: HttpRequest, item_id: int, action: str) -> HttpResponse:
    if action not in ITEM_ACTIONS:
        raise Http404
    item = selectors.item_for(request.user, item_id)
    planned = _task_action(request, action) or _item_action(request, action, item.pk, item.case_id)
    if planned is not None:
        call, done = planned
        _act(request, call, done)
    return redirect("cases:item", item_id=item.pk)


# --- supervisor ------------------------------------------------------------------------


@_pages
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """电子监察: warnings and overdue items by department."""
    rows = selectors.supervisor_board(request.user)
    alerts = selectors.supervisor_alerts(request.user)
    page = Paginator(alerts, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/board.html",
        {
            "rows": rows,
            "page": page,
            "alerts": [selectors.alert_row(i) for i in page.object_list],
        },
    )
