"""/api/v1/cases — the case engine over HTTP (walk-through: docs/api.md).

Authentication: `Authorization: Bearer <token>` (tokens from POST /api/v1/cases/tokens, or
`yiciban cases_token_create`), or the Django session (with its CSRF token for writes).
Applicants use either; staff tools use tokens. Every error is RFC 9457 problem details.

Applicant: POST /uploads, POST "" (submit, `Idempotency-Key` header), GET "" (my cases),
GET /{number}, POST /{number}/supplement, POST /{number}/materials, POST /{number}/withdraw.
Counter: GET /counter/queue, GET /counter/applicants, POST "" with channel "counter",
POST /{number}/accept, /supplement-notice, /refuse-acceptance, /deliver.
Back office: GET /tasks, POST /tasks/{id}/claim|release|review|approve|refuse|post-check,
POST /items/{id}/suspensions, POST /suspensions/{id}/end, POST /items/{id}/extensions,
POST /{number}/inspections, POST /inspections/{id}/record|reinspect.
Supervisor: GET /board, GET /board/alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import authenticate
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Header, Query, Router, Schema, Status
from ninja.errors import AuthenticationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer, django_auth
from pydantic import Field

from yiciban.core.documents import document_open, document_store
from yiciban.core.errors import NotFound
from yiciban.core.responses import api_json
from yiciban.org import selectors as org_selectors

from . import selectors, services
from .services import MaterialInput


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = services.api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


AUTH = [TokenAuth(), django_auth]
router = Router(tags=["cases"], auth=AUTH)


# --- schemas ---------------------------------------------------------------------------


class PageParams(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class TokenIn(Schema):
    username: str
    password: str
    name: str = Field(..., min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewTokenOut(TokenOut):
    token: str


class DocumentOut(Schema):
    id: int
    sha256: str
    size: int
    format: str
    media_type: str
    original_name: str
    uploaded_at: dt.datetime


class MaterialIn(Schema):
    kind: str
    document: int | None = None
    reuse: str = ""


class SubmitIn(Schema):
    bundle: str = ""
    item: str = ""
    answers: dict[str, Any] = Field(default_factory=dict)
    form: dict[str, Any] = Field(default_factory=dict)
    materials: list[MaterialIn] = Field(default_factory=list)
    commitments: list[str] = Field(default_factory=list)
    channel: str = "online"
    # counter submissions: who applies
    applicant_id_number: str = ""
    enterprise_uscc: str = ""
    service_point: str = ""
    green_channel: bool = False
    green_channel_reason: str = ""


class DeadlineOut(Schema):
    due_on: dt.date | None
    remaining: int | None
    status: str
    provisional: bool
    limit: int
    unit: str
    extension_days: int
    on_time: bool | None


class TaskBrief(Schema):
    id: int
    kind: str
    kind_label: str
    role: str
    state: str
    version: int
    assignee: str
    outcome: str
    comment: str
    due_on: dt.date | None
    completed_at: dt.datetime | None


class SuspensionOut(Schema):
    id: int
    kind: str
    kind_label: str
    reason: str
    start: dt.date
    end: dt.date | None


class DecisionOut(Schema):
    outcome: str
    outcome_label: str
    basis: str
    basis_label: str
    reasons: str
    legal_basis: str
    appeal_info: str
    rule_results: list[dict]
    decided_by: str
    decided_at: dt.datetime


class ItemOut(Schema):
    id: int
    code: str
    name: str
    role: str
    department: str
    department_id: int
    state: str
    state_label: str
    step: str
    step_label: str
    process_template: str
    approval_mode: str
    on_fallback: bool
    fallback_reason: str
    green_channel: bool
    awaiting: str
    deadline: DeadlineOut
    suspensions: list[SuspensionOut]
    tasks: list[TaskBrief]
    decision: DecisionOut | None


class ApplicantOut(Schema):
    kind: str
    name: str
    uscc: str | None
    id_number_masked: str | None
    acting_person: str | None


class CaseMaterialOut(Schema):
    kind: str
    name: str
    requirement: str
    deferrable: bool
    status: str
    status_label: str
    document_id: int | None
    document_sha256: str | None
    document_format: str | None
    reference: str
    due_on: dt.date | None
    items: list[str]


class NoticeOut(Schema):
    message: str
    missing: list[dict]
    issued_at: dt.datetime
    due_on: dt.date
    resolved_at: dt.datetime | None


class CommitmentOut(Schema):
    item: str
    text: str
    text_sha256: str
    signer: str | None
    signed_at: dt.datetime
    method: str


class InspectionOut(Schema):
    id: int
    state: str
    state_label: str
    items: list[int]
    scheduled_for: dt.datetime
    findings: str
    rectification_notice: str
    rectification_due: dt.date | None
    reinspection_findings: str
    version: int


class OutputOut(Schema):
    item: str
    kind: str
    kind_label: str
    name: str
    number: str
    licence_type: str
    reference: str
    issued_at: dt.datetime


class DeliveryOut(Schema):
    method: str
    method_label: str
    delivered_at: dt.datetime
    recipient: str


class EventOut(Schema):
    kind: str
    item: str | None
    actor: str
    on_behalf_of: str
    note: str
    data: dict
    channel: str
    occurred_at: dt.datetime


class CaseOut(Schema):
    id: int
    number: str
    title: str
    state: str
    state_label: str
    awaiting: str
    channel: str
    region: str
    bundle: str | None
    item: str | None
    applicant: ApplicantOut
    service_point: str | None
    green_channel: bool
    green_channel_reason: str
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    delivered_at: dt.datetime | None
    closed_reason: str
    form_data: dict
    answers: dict
    items: list[ItemOut]
    materials: list[CaseMaterialOut]
    supplement_notice: NoticeOut | None
    commitments: list[CommitmentOut]
    inspections: list[InspectionOut]
    outputs: list[OutputOut]
    delivery: DeliveryOut | None
    events: list[EventOut]


class CaseSummaryOut(Schema):
    id: int
    number: str
    title: str
    state: str
    state_label: str
    applicant: str
    channel: str
    green_channel: bool
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None
    delivered_at: dt.datetime | None


class CasePage(Schema):
    count: int
    items: list[CaseSummaryOut]


class TaskRowOut(Schema):
    id: int
    kind: str
    kind_label: str
    role: str
    state: str
    version: int
    assignee: str | None
    department: str
    case_number: str
    case_title: str
    item_id: int
    item_name: str
    green_channel: bool
    due_on: dt.date | None
    remaining: int | None
    deadline_status: str
    created_at: dt.datetime


class TaskPage(Schema):
    count: int
    items: list[TaskRowOut]


class TaskOut(Schema):
    id: int
    kind: str
    state: str
    version: int
    assignee: str | None
    outcome: str

    @staticmethod
    def resolve_assignee(obj) -> str | None:
        return obj.assignee.get_username() if obj.assignee_id else None


class QueueParams(PageParams):
    role: str = ""
    mine: bool = False
    status: str = ""


class AcceptIn(Schema):
    # material kind -> working days to hand it in (null: the default)
    deferrals: dict[str, int | None] = Field(default_factory=dict)


class MissingIn(Schema):
    kind: str | None = None
    field: str | None = None
    reason: str = ""


class SupplementNoticeIn(Schema):
    missing: list[MissingIn]
    message: str = ""


class SupplementIn(Schema):
    materials: list[MaterialIn] = Field(default_factory=list)
    form: dict[str, Any] | None = None


class MaterialProvideIn(Schema):
    kind: str
    document: int


class ReasonIn(Schema):
    reason: str = ""


class RefuseAcceptanceIn(Schema):
    reason: str
    legal_basis: str = ""


class DeliverIn(Schema):
    method: str = "counter"
    recipient: str = ""
    service_point: str = ""


class VersionIn(Schema):
    version: int | None = None


class ReviewIn(VersionIn):
    opinion: str
    comment: str = ""


class ApproveIn(VersionIn):
    comment: str = ""


class RefuseIn(VersionIn):
    reasons: str
    legal_basis: str
    appeal_info: str = ""


class PostCheckIn(VersionIn):
    compliant: bool
    findings: str


class SuspensionIn(Schema):
    kind: str
    reason: str
    start: dt.date | None = None


class SuspensionEndIn(Schema):
    end: dt.date | None = None


class ExtensionIn(Schema):
    days: int
    reason: str


class ExtensionOut(Schema):
    id: int
    days: int
    reason: str
    approved_at: dt.datetime


class SuspensionRecordOut(Schema):
    id: int
    kind: str
    reason: str
    start: dt.date
    end: dt.date | None


class InspectionIn(Schema):
    items: list[int]
    scheduled_for: dt.datetime
    note: str = ""


class InspectionRecordIn(Schema):
    result: str
    findings: str
    rectification_notice: str = ""
    rectification_days: int | None = None


class ReinspectIn(Schema):
    passed: bool
    findings: str


class BoardRowOut(Schema):
    department_id: int
    department: str
    region: str
    total: int
    normal: int
    warning: int
    overdue: int
    suspended: int


class BoardOut(Schema):
    today: dt.date
    departments: list[BoardRowOut]


class AlertOut(Schema):
    item_id: int
    case_number: str
    case_title: str
    item_name: str
    department: str
    state: str
    state_label: str
    due_on: dt.date | None
    remaining: int | None
    deadline_status: str
    green_channel: bool


class AlertPage(Schema):
    count: int
    items: list[AlertOut]


class ApplicantSearchOut(Schema):
    person: dict | None
    enterprise: dict | None
    acting_for: list[dict]
    cases: list[CaseSummaryOut]


class PreviewIn(Schema):
    bundle: str = ""
    item: str = ""
    answers: dict[str, Any] = Field(default_factory=dict)


class PreviewItemOut(Schema):
    code: str
    name: str
    department: str
    approval_mode: str
    promised_limit: int
    promised_limit_unit: str
    reason: str


class PreviewOut(Schema):
    bundle: str | None
    item: str | None
    complete: bool
    unanswered: list[str]
    items: list[PreviewItemOut]
    form_schema: dict
    materials: list[dict]
    promised_limit: dict


class TemplateOut(Schema):
    code: str
    version: int
    name: str
    flow: str
    definition: dict


# --- helpers ----------------------------------------------------------------------------


def _status(request: HttpRequest, case) -> dict:
    case = selectors.case_for(request.auth, case_id=case.pk)
    applicant_view = selectors.is_applicant_view(request.auth, case)
    return selectors.case_status(case, for_applicant=applicant_view)


def _case(request: HttpRequest, number: str):
    return selectors.case_for(request.auth, number=number)


def _materials(items: list[MaterialIn]) -> list[MaterialInput]:
    return [MaterialInput(kind=m.kind, document_id=m.document, reuse=m.reuse) for m in items]


def _region(code: str):
    return org_selectors.region_by_code(code, field="region") if code else None


# --- tokens and uploads ----------------------------------------------------------------


@router.post("/tokens", response={201: NewTokenOut}, auth=None, summary="创建 API 令牌")
def token_create(request: HttpRequest, payload: TokenIn):
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        raise AuthenticationError()
    token, raw = services.api_token_create(actor=user, name=payload.name)
    return Status(
        201,
        {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at,
            "token": raw,
        },
    )


@router.get("/tokens", response=list[TokenOut], summary="我的 API 令牌")
def token_list(request: HttpRequest):
    return list(selectors.tokens_of(request.auth))


@router.post("/tokens/{int:token_id}/revoke", response=TokenOut, summary="撤销 API 令牌")
def token_revoke(request: HttpRequest, token_id: int):
    return services.api_token_revoke(actor=request.auth, token_id=token_id)


@router.post("/uploads", response={201: DocumentOut}, summary="上传材料文件")
def upload(request: HttpRequest, file: File[UploadedFile]):
    return Status(201, document_store(actor=request.auth, content=file, filename=file.name or ""))


# --- counter ---------------------------------------------------------------------------


@router.get("/counter/queue", response=CasePage, summary="综合窗口待受理队列")
def counter_queue(
    request: HttpRequest, page: Query[PageParams], state: str = "submitted", region: str = ""
):
    cases = selectors.counter_queue(request.auth, state=state, region=_region(region))
    return {
        "count": cases.count(),
        "items": [selectors.case_summary(c) for c in cases[page.offset : page.offset + page.limit]],
    }


@router.get("/counter/applicants", response=ApplicantSearchOut, summary="查询申请人")
def applicant_search(request: HttpRequest, id_number: str = "", uscc: str = ""):
    return selectors.applicant_search(request.auth, id_number=id_number, uscc=uscc)


# --- back office -----------------------------------------------------------------------


@router.get("/tasks", response=TaskPage, summary="我的待办队列（按紧急程度）")
def task_queue(request: HttpRequest, params: Query[QueueParams]):
    tasks = selectors.task_queue(
        request.auth, role=params.role, mine=params.mine, status=params.status
    )
    today = timezone.localdate()
    return {
        "count": tasks.count(),
        "items": [
            selectors.task_row(t, today)
            for t in tasks[params.offset : params.offset + params.limit]
        ],
    }


@router.post("/tasks/{int:task_id}/claim", response=TaskOut, summary="认领任务")
def task_claim(request: HttpRequest, task_id: int, payload: VersionIn | None = None):
    version = payload.version if payload else None
    return services.task_claim(actor=request.auth, task_id=task_id, version=version)


@router.post("/tasks/{int:task_id}/release", response=TaskOut, summary="退回任务")
def task_release(request: HttpRequest, task_id: int):
    return services.task_release(actor=request.auth, task_id=task_id)


@router.post("/tasks/{int:task_id}/review", response=TaskOut, summary="审查")
def task_review(request: HttpRequest, task_id: int, payload: ReviewIn):
    return services.item_review(
        actor=request.auth,
        task_id=task_id,
        opinion=payload.opinion,
        comment=payload.comment,
        version=payload.version,
    )


@router.post("/tasks/{int:task_id}/approve", response=DecisionOut, summary="准予")
def task_approve(request: HttpRequest, task_id: int, payload: ApproveIn):
    decision = services.item_approve(
        actor=request.auth, task_id=task_id, comment=payload.comment, version=payload.version
    )
    return _decision(decision)


@router.post("/tasks/{int:task_id}/refuse", response=DecisionOut, summary="不予")
def task_refuse(request: HttpRequest, task_id: int, payload: RefuseIn):
    decision = services.item_refuse(
        actor=request.auth,
        task_id=task_id,
        reasons=payload.reasons,
        legal_basis=payload.legal_basis,
        appeal_info=payload.appeal_info,
        version=payload.version,
    )
    return _decision(decision)


def _decision(decision) -> dict:
    return {
        "outcome": decision.outcome,
        "outcome_label": decision.get_outcome_display(),
        "basis": decision.basis,
        "basis_label": decision.get_basis_display(),
        "reasons": decision.reasons,
        "legal_basis": decision.legal_basis,
        "appeal_info": decision.appeal_info,
        "rule_results": decision.rule_results,
        "decided_by": decision.decided_by.get_username() if decision.decided_by_id else "",
        "decided_at": decision.decided_at,
    }


@router.post("/tasks/{int:task_id}/post-check", response=TaskOut, summary="承诺事项核查")
def task_post_check(request: HttpRequest, task_id: int, payload: PostCheckIn):
    return services.post_check_record(
        actor=request.auth,
        task_id=task_id,
        compliant=payload.compliant,
        findings=payload.findings,
        version=payload.version,
    )


@router.post(
    "/items/{int:item_id}/suspensions", response={201: SuspensionRecordOut}, summary="中止计时"
)
def suspension_start(request: HttpRequest, item_id: int, payload: SuspensionIn):
    selectors.item_for(request.auth, item_id)
    return Status(
        201,
        services.suspension_start(
            actor=request.auth,
            item_id=item_id,
            kind=payload.kind,
            reason=payload.reason,
            start=payload.start,
        ),
    )


@router.post(
    "/suspensions/{int:suspension_id}/end", response=SuspensionRecordOut, summary="恢复计时"
)
def suspension_end(request: HttpRequest, suspension_id: int, payload: SuspensionEndIn):
    return services.suspension_end(actor=request.auth, suspension_id=suspension_id, end=payload.end)


@router.post("/items/{int:item_id}/extensions", response={201: ExtensionOut}, summary="延长期限")
def extension_grant(request: HttpRequest, item_id: int, payload: ExtensionIn):
    selectors.item_for(request.auth, item_id)
    return Status(
        201,
        services.extension_grant(
            actor=request.auth, item_id=item_id, days=payload.days, reason=payload.reason
        ),
    )


@router.post(
    "/inspections/{int:inspection_id}/record", response=InspectionOut, summary="记录现场核查"
)
def inspection_record(request: HttpRequest, inspection_id: int, payload: InspectionRecordIn):
    inspection = services.inspection_record(
        actor=request.auth,
        inspection_id=inspection_id,
        result=payload.result,
        findings=payload.findings,
        rectification_notice=payload.rectification_notice,
        rectification_days=payload.rectification_days,
    )
    return _inspection(inspection)


@router.post(
    "/inspections/{int:inspection_id}/reinspect", response=InspectionOut, summary="整改复查"
)
def inspection_reinspect(request: HttpRequest, inspection_id: int, payload: ReinspectIn):
    inspection = services.inspection_reinspect(
        actor=request.auth,
        inspection_id=inspection_id,
        passed=payload.passed,
        findings=payload.findings,
    )
    return _inspection(inspection)


def _inspection(inspection) -> dict:
    return {
        "id": inspection.pk,
        "state": inspection.state,
        "state_label": inspection.get_state_display(),
        "items": list(inspection.items.values_list("pk", flat=True)),
        "scheduled_for": inspection.scheduled_for,
        "findings": inspection.findings,
        "rectification_notice": inspection.rectification_notice,
        "rectification_due": inspection.rectification_due,
        "reinspection_findings": inspection.reinspection_findings,
        "version": inspection.version,
    }


# --- supervisor ------------------------------------------------------------------------


@router.get("/board", response=BoardOut, summary="电子监察：各部门时限看板")
def board(request: HttpRequest, region: str = ""):
    today = timezone.localdate()
    return {
        "today": today,
        "departments": selectors.supervisor_board(
            request.auth, region=_region(region), today=today
        ),
    }


@router.get("/board/alerts", response=AlertPage, summary="电子监察：预警与超期事项")
def board_alerts(request: HttpRequest, page: Query[PageParams], region: str = ""):
    today = timezone.localdate()
    items = selectors.supervisor_alerts(request.auth, region=_region(region), today=today)
    return {
        "count": items.count(),
        "items": [
            selectors.alert_row(i, today) for i in items[page.offset : page.offset + page.limit]
        ],
    }


@router.get("/process-templates", response=list[TemplateOut], summary="流程模板")
def process_templates(request: HttpRequest):
    return selectors.process_templates()


# --- applicant and case ----------------------------------------------------------------


@router.post("/preview", response=PreviewOut, summary="申请预览：事项、表单与材料")
def preview(request: HttpRequest, payload: PreviewIn):
    return selectors.case_preview(
        bundle_code=payload.bundle, item_code=payload.item, answers=payload.answers
    )


@router.post("", response={200: CaseOut, 201: CaseOut}, summary="提交申请（可重试）")
def submit(
    request: HttpRequest,
    payload: SubmitIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
):
    submission = services.case_submit(
        actor=request.auth,
        bundle_code=payload.bundle,
        item_code=payload.item,
        answers=payload.answers,
        form_data=payload.form,
        materials=_materials(payload.materials),
        commitments=payload.commitments,
        applicant_id_number=payload.applicant_id_number,
        enterprise_uscc=payload.enterprise_uscc,
        channel=payload.channel,
        service_point_code=payload.service_point,
        green_channel=payload.green_channel,
        green_channel_reason=payload.green_channel_reason,
        idempotency_key=idempotency_key or "",
    )
    if submission.created:
        # Encoded as is, without ninja validating the ~40 nested objects against CaseOut
        # (≈ 2 ms a submission): case_status builds exactly CaseOut's fields and types, and
        # a test checks the body validates and equals GET of the case.
        return api_json(
            request,
            selectors.submitted_case_status(request.auth, submission.case, submission.rows),
            status=201,
        )
    return Status(200, _status(request, submission.case))


@router.get("", response=CasePage, summary="我的办件")
def my_cases(request: HttpRequest, page: Query[PageParams], state: str = ""):
    cases = selectors.cases_of_applicant(request.auth, state=state)
    return {
        "count": cases.count(),
        "items": [selectors.case_summary(c) for c in cases[page.offset : page.offset + page.limit]],
    }


@router.get("/{number}", response=CaseOut, summary="办件进度")
def case_detail(request: HttpRequest, number: str):
    return _status(request, _case(request, number))


@router.get("/{number}/materials/{kind}/file", summary="查看材料文件")
def material_file(request: HttpRequest, number: str, kind: str):
    case = _case(request, number)
    material = case.materials.select_related("document").filter(kind_code=kind).first()
    if material is None or material.document is None:
        raise NotFound(_("该材料没有文件"), code="document_not_found")
    response = FileResponse(
        document_open(material.document), content_type=material.document.media_type
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{material.document.sha256}.{material.document.format}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post("/{number}/accept", response=CaseOut, summary="受理（可容缺）")
def accept(request: HttpRequest, number: str, payload: AcceptIn | None = None):
    case = _case(request, number)
    if payload and payload.deferrals:
        case = services.case_accept_with_deferrals(
            actor=request.auth, case_id=case.pk, deferrals=payload.deferrals
        )
    else:
        case = services.case_accept(actor=request.auth, case_id=case.pk)
    return _status(request, case)


@router.post("/{number}/supplement-notice", response={201: NoticeOut}, summary="一次性告知补正")
def supplement_notice(request: HttpRequest, number: str, payload: SupplementNoticeIn):
    case = _case(request, number)
    notice = services.case_request_supplement(
        actor=request.auth,
        case_id=case.pk,
        missing=[m.dict(exclude_none=True) for m in payload.missing],
        message=payload.message,
    )
    return Status(201, notice)


@router.post("/{number}/supplement", response=CaseOut, summary="提交补正材料")
def supplement(request: HttpRequest, number: str, payload: SupplementIn):
    case = _case(request, number)
    case = services.case_supplement_provide(
        actor=request.auth,
        case_id=case.pk,
        materials=_materials(payload.materials),
        form_data=payload.form,
    )
    return _status(request, case)


@router.post("/{number}/materials", response=CaseMaterialOut, summary="补交容缺材料")
def material_provide(request: HttpRequest, number: str, payload: MaterialProvideIn):
    case = _case(request, number)
    services.case_material_provide(
        actor=request.auth, case_id=case.pk, kind=payload.kind, document_id=payload.document
    )
    status = _status(request, case)
    return next(m for m in status["materials"] if m["kind"] == payload.kind)


@router.post("/{number}/refuse-acceptance", response=CaseOut, summary="不予受理")
def refuse_acceptance(request: HttpRequest, number: str, payload: RefuseAcceptanceIn):
    case = _case(request, number)
    case = services.case_refuse_acceptance(
        actor=request.auth, case_id=case.pk, reason=payload.reason, legal_basis=payload.legal_basis
    )
    return _status(request, case)


@router.post("/{number}/withdraw", response=CaseOut, summary="撤回申请")
def withdraw(request: HttpRequest, number: str, payload: ReasonIn | None = None):
    case = _case(request, number)
    case = services.case_withdraw(
        actor=request.auth, case_id=case.pk, reason=payload.reason if payload else ""
    )
    return _status(request, case)


@router.post("/{number}/inspections", response={201: InspectionOut}, summary="安排联合现场核查")
def inspection_schedule(request: HttpRequest, number: str, payload: InspectionIn):
    case = _case(request, number)
    inspection = services.inspection_schedule(
        actor=request.auth,
        case_id=case.pk,
        item_ids=payload.items,
        scheduled_for=payload.scheduled_for,
        note=payload.note,
    )
    return Status(201, _inspection(inspection))


@router.post("/{number}/deliver", response=CaseOut, summary="一窗出件")
def deliver(request: HttpRequest, number: str, payload: DeliverIn):
    case = _case(request, number)
    services.case_deliver(
        actor=request.auth,
        case_id=case.pk,
        method=payload.method,
        recipient=payload.recipient,
        service_point_code=payload.service_point,
    )
    return _status(request, case)
