"""Two routers:

- `router` (mounted at /api/v1): the knowledge base (/knowledge …) and tickets
  (/tickets …), errors as RFC 9457 problem details like the rest of /api/v1;
- `georeport_router` (mounted at /api/georeport/v2): an Open311 GeoReport v2 compatible
  API — /services.json, /services/{code}.json, /requests.json (GET, POST),
  /requests/{id}.json — JSON only, errors in the Open311 shape
  [{"code": 400, "description": "…"}]. Its views parse the query or form themselves (the
  spec's parameter names, such as attribute[code] and long, are not Python names) and
  turn domain errors into that shape, which the central problem-details handlers cannot."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.security import django_auth

from yiciban.core.errors import (
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from yiciban.org.models import Department, Region, Role
from yiciban.org.selectors import has_role, region_by_code

from . import selectors, services
from .models import KnowledgeEntry, SynonymGroup, Ticket, TicketKind, TicketStatus

router = Router(tags=["hotline"])
georeport_router = Router(tags=["open311"])


# --- shared helpers ---------------------------------------------------------------------------


def _region(code: str | None, field_name: str = "region") -> Region | None:
    if code in (None, ""):
        return None
    return region_by_code(code, field=field_name)


def _department(department_id: int | None, field_name: str = "department_id"):
    if department_id is None:
        return None
    department = Department.objects.select_related("region").filter(pk=department_id).first()
    if department is None:
        raise ValidationFailed.on_field(field_name, "exists", _("部门不存在"))
    return department


def _local(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- knowledge ------------------------------------------------------------------------------


class KnowledgeEntryOut(Schema):
    id: int
    question: str
    answer: str
    region: str
    department_id: int | None
    department: str | None
    tags: list[str]
    source: str
    status: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    updated_at: dt.datetime

    @staticmethod
    def resolve_region(obj: KnowledgeEntry) -> str:
        return obj.region.code

    @staticmethod
    def resolve_department(obj: KnowledgeEntry) -> str | None:
        return obj.department.name if obj.department_id else None


class KnowledgeHitOut(Schema):
    score: float
    entry: KnowledgeEntryOut


class KnowledgeSearchOut(Schema):
    count: int
    items: list[KnowledgeHitOut]
    terms: list[list[str]] = Field(description="each query word with the synonyms searched")


class KnowledgeSearchQuery(Schema):
    q: str | None = Field(None, description="the question, in Chinese; 1–100 characters")
    region: str | None = Field(None, description="region code: its entries and those above")
    department_id: int | None = None
    limit: int = Field(10, ge=1, le=50)
    offset: int = Field(0, ge=0, le=10_000)


@router.get("/knowledge", response=KnowledgeSearchOut, summary="Search the knowledge base")
def knowledge_search(request: HttpRequest, filters: Query[KnowledgeSearchQuery]):
    results = selectors.knowledge_search(
        query=filters.q or "",
        limit=filters.limit,
        offset=filters.offset,
        region=_region(filters.region),
        department=_department(filters.department_id),
    )
    return {
        "count": results.count,
        "items": [{"score": hit.score, "entry": hit.entry} for hit in results.hits],
        "terms": results.terms,
    }


class SynonymGroupIn(Schema):
    name: str
    terms: list[str]


class SynonymGroupOut(Schema):
    id: int
    name: str
    terms: list[str]


class SynonymListOut(Schema):
    count: int
    items: list[SynonymGroupOut]


@router.get("/knowledge/synonyms", response=SynonymListOut, summary="List synonym groups")
def synonym_list(request: HttpRequest, limit: int = Query(100, ge=1, le=500), offset: int = 0):
    groups = selectors.synonym_groups()
    return {"count": groups.count(), "items": list(groups[offset : offset + limit])}


@router.post(
    "/knowledge/synonyms", response={201: SynonymGroupOut}, auth=django_auth, summary="Add"
)
def synonym_create(request: HttpRequest, payload: SynonymGroupIn):
    group = services.synonym_group_create(
        actor=request.user, name=payload.name, terms=payload.terms
    )
    return Status(201, group)


def _synonym_group(group_id: int) -> SynonymGroup:
    group = SynonymGroup.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound(_("同义词组不存在"), code="synonym_group_not_found")
    return group


@router.put("/knowledge/synonyms/{group_id}", response=SynonymGroupOut, auth=django_auth)
def synonym_update(request: HttpRequest, group_id: int, payload: SynonymGroupIn):
    return services.synonym_group_update(
        actor=request.user, group=_synonym_group(group_id), name=payload.name, terms=payload.terms
    )


@router.delete("/knowledge/synonyms/{group_id}", response={204: None}, auth=django_auth)
def synonym_delete(request: HttpRequest, group_id: int):
    services.synonym_group_delete(actor=request.user, group=_synonym_group(group_id))
    return Status(204, None)


@router.get("/knowledge/{entry_id}", response=KnowledgeEntryOut, summary="One entry")
def knowledge_entry_get(request: HttpRequest, entry_id: int):
    return selectors.knowledge_entry_get(user=request.user, entry_id=entry_id)


class KnowledgeEntryIn(Schema):
    region: str
    question: str
    answer: str
    department_id: int | None = None
    tags: list[str] = []
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    publish: bool = False


@router.post(
    "/knowledge", response={201: KnowledgeEntryOut}, auth=django_auth, summary="Add an entry"
)
def knowledge_entry_create(request: HttpRequest, payload: KnowledgeEntryIn):
    entry = services.knowledge_entry_create(
        actor=request.user,
        region=_region(payload.region),
        question=payload.question,
        answer=payload.answer,
        department=_department(payload.department_id),
        tags=payload.tags,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        publish=payload.publish,
    )
    return Status(201, entry)


class KnowledgeEntryPatch(Schema):
    question: str | None = None
    answer: str | None = None
    department_id: int | None = None
    tags: list[str] | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


def _curated_entry(request: HttpRequest, entry_id: int) -> KnowledgeEntry:
    return selectors.knowledge_entry_get(user=request.user, entry_id=entry_id)


@router.patch("/knowledge/{entry_id}", response=KnowledgeEntryOut, auth=django_auth)
def knowledge_entry_update(request: HttpRequest, entry_id: int, payload: KnowledgeEntryPatch):
    given = payload.model_fields_set
    return services.knowledge_entry_update(
        actor=request.user,
        entry=_curated_entry(request, entry_id),
        question=payload.question,
        answer=payload.answer,
        department=_department(payload.department_id)
        if "department_id" in given
        else services.UNSET,
        tags=payload.tags,
        valid_from=payload.valid_from if "valid_from" in given else services.UNSET,
        valid_until=payload.valid_until if "valid_until" in given else services.UNSET,
    )


@router.post("/knowledge/{entry_id}/publish", response=KnowledgeEntryOut, auth=django_auth)
def knowledge_entry_publish(request: HttpRequest, entry_id: int):
    return services.knowledge_entry_publish(
        actor=request.user, entry=_curated_entry(request, entry_id)
    )


@router.post("/knowledge/{entry_id}/unpublish", response=KnowledgeEntryOut, auth=django_auth)
def knowledge_entry_unpublish(request: HttpRequest, entry_id: int):
    return services.knowledge_entry_unpublish(
        actor=request.user, entry=_curated_entry(request, entry_id)
    )


# --- tickets --------------------------------------------------------------------------------


class DeadlineOut(Schema):
    due: dt.date
    provisional: bool
    remaining: int
    status: str


class TicketEventOut(Schema):
    action: str
    from_status: str
    to_status: str
    actor: str | None
    department: str | None
    note: str
    created_at: dt.datetime

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return str(obj.actor) if obj.actor_id else None

    @staticmethod
    def resolve_department(obj) -> str | None:
        return obj.department.name if obj.department_id else None


class TicketOut(Schema):
    number: str
    status: str
    kind: str
    category: str
    category_name: str
    channel: str
    region: str
    title: str
    description: str
    address: str
    caller_name: str
    caller_phone: str = Field(description="masked")
    department_id: int | None
    department: str | None
    knowledge_entry_id: int | None
    answer: str
    answered_at: dt.datetime | None
    satisfaction: str
    reopen_count: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_category(obj: Ticket) -> str:
        return obj.category.code

    @staticmethod
    def resolve_category_name(obj: Ticket) -> str:
        return obj.category.name

    @staticmethod
    def resolve_region(obj: Ticket) -> str:
        return obj.region.code

    @staticmethod
    def resolve_caller_phone(obj: Ticket) -> str:
        return obj.caller_phone_masked

    @staticmethod
    def resolve_department(obj: Ticket) -> str | None:
        return obj.department.name if obj.department_id else None


class TicketDetailOut(TicketOut):
    deadline: DeadlineOut | None
    return_until: dt.date | None
    actions: list[str]
    history: list[TicketEventOut]


class TicketListOut(Schema):
    count: int
    items: list[TicketOut]


class TicketIn(Schema):
    region: str = Field(description="region code of the hotline taking the matter")
    category: str = Field(description="ticket category code (= Open311 service_code)")
    description: str
    caller_phone: str
    caller_name: str = ""
    title: str = ""
    address: str = ""


def _detail(request: HttpRequest, ticket: Ticket) -> Ticket:
    """The ticket with what the detail schema adds: deadline, return window, the actions
    this user may take, history."""
    assignment = selectors.open_assignment(ticket)
    ticket.deadline = (
        selectors.assignment_deadline(assignment).__dict__ if assignment is not None else None
    )
    ticket.return_until = (
        selectors.return_window_closes_on(assignment) if assignment is not None else None
    )
    ticket.actions = sorted(selectors.ticket_actions(request.user, ticket))
    ticket.history = list(selectors.ticket_history(ticket))
    return ticket


@router.post("/tickets", response={201: TicketDetailOut}, auth=django_auth, summary="Log")
def ticket_create(request: HttpRequest, payload: TicketIn):
    """An operator logs a call; anyone else logged in submits online (their own ticket)."""
    region = _region(payload.region)
    category = selectors.ticket_category_by_code(payload.category)
    arguments = {
        "actor": request.user,
        "region": region,
        "category": category,
        "description": payload.description,
        "caller_phone": payload.caller_phone,
        "caller_name": payload.caller_name,
        "title": payload.title,
        "address": payload.address,
    }
    if has_role(request.user, Role.HOTLINE_OPERATOR, region=region):
        ticket = services.ticket_log_call(**arguments)
    else:
        ticket = services.ticket_submit_online(**arguments)
    return Status(
        201, _detail(request, selectors.ticket_get(user=request.user, number=ticket.number))
    )


class TicketListQuery(Schema):
    status: TicketStatus | None = None
    kind: TicketKind | None = None
    department_id: int | None = None
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


@router.get("/tickets", response=TicketListOut, auth=django_auth, summary="Tickets I may see")
def ticket_list(request: HttpRequest, filters: Query[TicketListQuery]):
    tickets = selectors.tickets_visible_to(request.user)
    if filters.status:
        tickets = tickets.filter(status=filters.status)
    if filters.kind:
        tickets = tickets.filter(kind=filters.kind)
    if filters.department_id:
        tickets = tickets.filter(department_id=filters.department_id)
    tickets = tickets.order_by("-created_at", "-id")
    return {
        "count": tickets.count(),
        "items": list(tickets[filters.offset : filters.offset + filters.limit]),
    }


class QueueRowOut(Schema):
    ticket: TicketOut
    department: str
    dispatched_at: dt.datetime
    deadline: DeadlineOut
    return_until: dt.date
    can_return: bool


class QueueOut(Schema):
    count: int
    items: list[QueueRowOut]


@router.get("/tickets/queue", response=QueueOut, auth=django_auth, summary="Department queue")
def ticket_queue(
    request: HttpRequest,
    department_id: int | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
):
    rows = selectors.department_queue(request.user, department=_department(department_id))
    return {
        "count": len(rows),
        "items": [
            {
                "ticket": row.ticket,
                "department": row.assignment.department.name,
                "dispatched_at": row.assignment.dispatched_at,
                "deadline": row.deadline.__dict__,
                "return_until": row.return_until,
                "can_return": row.can_return,
            }
            for row in rows[offset : offset + limit]
        ],
    }


class BoardRowOut(Schema):
    department_id: int
    department: str
    open: int
    warning: int
    overdue: int
    returned: int
    answered: int
    answered_on_time: int
    on_time_rate: float | None


class BoardTicketOut(Schema):
    number: str
    title: str
    department: str
    dispatched_on: dt.date
    due: dt.date
    remaining: int
    return_reason: str


class BoardOut(Schema):
    region: str
    since: dt.date
    until: dt.date
    today: dt.date
    count: int
    items: list[BoardRowOut]
    overdue: list[BoardTicketOut]
    returned: list[BoardTicketOut]


def _board_ticket(item) -> dict:
    return {
        "number": item.ticket.number,
        "title": item.ticket.title,
        "department": item.assignment.department.name,
        "dispatched_on": item.assignment.started_on,
        "due": item.deadline.due,
        "remaining": item.deadline.remaining,
        "return_reason": item.assignment.return_reason,
    }


@router.get("/tickets/board", response=BoardOut, auth=django_auth, summary="Supervisor board")
def ticket_board(
    request: HttpRequest,
    region: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
):
    board = selectors.supervisor_board(
        request.user, region=_region(region), since=since, until=until
    )
    return {
        "region": board.region.code,
        "since": board.since,
        "until": board.until,
        "today": board.today,
        "count": len(board.rows),
        "items": [
            {
                "department_id": row.department.pk,
                "department": row.department.name,
                "open": row.open,
                "warning": row.warning,
                "overdue": row.overdue,
                "returned": row.returned,
                "answered": row.answered,
                "answered_on_time": row.answered_on_time,
                "on_time_rate": row.on_time_rate,
            }
            for row in board.rows
        ],
        "overdue": [_board_ticket(item) for item in board.overdue],
        "returned": [_board_ticket(item) for item in board.returned],
    }


@router.get("/tickets/{number}", response=TicketDetailOut, auth=django_auth, summary="One")
def ticket_get(request: HttpRequest, number: str):
    return _detail(request, selectors.ticket_get(user=request.user, number=number))


class AnswerFromKnowledgeIn(Schema):
    entry_id: int
    note: str = ""


class DispatchIn(Schema):
    department_id: int
    instructions: str = ""


class ReasonIn(Schema):
    reason: str


class AnswerIn(Schema):
    answer: str


class FollowUpIn(Schema):
    satisfaction: str = Field(
        description="very_satisfied | satisfied | basically_satisfied | dissatisfied | "
        "very_dissatisfied (GB/T 39735)"
    )
    note: str = ""


def _after(request: HttpRequest, ticket: Ticket) -> Ticket:
    return _detail(request, selectors.ticket_get(user=request.user, number=ticket.number))


@router.post("/tickets/{number}/answer-from-knowledge", response=TicketDetailOut, auth=django_auth)
def ticket_answer_from_knowledge(request: HttpRequest, number: str, payload: AnswerFromKnowledgeIn):
    ticket = selectors.ticket_get(user=request.user, number=number)
    entry = KnowledgeEntry.objects.filter(pk=payload.entry_id).first()
    if entry is None:
        raise ValidationFailed.on_field("entry_id", "exists", _("知识库条目不存在"))
    ticket = services.ticket_answer_from_knowledge(
        actor=request.user, ticket=ticket, entry=entry, note=payload.note
    )
    return _after(request, ticket)


@router.post("/tickets/{number}/dispatch", response=TicketDetailOut, auth=django_auth)
def ticket_dispatch(request: HttpRequest, number: str, payload: DispatchIn):
    ticket = selectors.ticket_get(user=request.user, number=number)
    ticket = services.ticket_dispatch(
        actor=request.user,
        ticket=ticket,
        department=_department(payload.department_id),
        instructions=payload.instructions,
    )
    return _after(request, ticket)


@router.post("/tickets/{number}/return", response=TicketDetailOut, auth=django_auth)
def ticket_return(request: HttpRequest, number: str, payload: ReasonIn):
    ticket = selectors.ticket_get(user=request.user, number=number)
    ticket = services.ticket_return(actor=request.user, ticket=ticket, reason=payload.reason)
    return _after(request, ticket)


@router.post("/tickets/{number}/answer", response=TicketDetailOut, auth=django_auth)
def ticket_answer(request: HttpRequest, number: str, payload: AnswerIn):
    ticket = selectors.ticket_get(user=request.user, number=number)
    ticket = services.ticket_answer(actor=request.user, ticket=ticket, answer=payload.answer)
    return _after(request, ticket)


@router.post("/tickets/{number}/follow-up", response=TicketDetailOut, auth=django_auth)
def ticket_follow_up(request: HttpRequest, number: str, payload: FollowUpIn):
    ticket = selectors.ticket_get(user=request.user, number=number)
    ticket = services.ticket_follow_up(
        actor=request.user, ticket=ticket, satisfaction=payload.satisfaction, note=payload.note
    )
    return _after(request, ticket)


@router.post("/tickets/{number}/reopen", response=TicketDetailOut, auth=django_auth)
def ticket_reopen(request: HttpRequest, number: str, payload: ReasonIn):
    ticket = selectors.ticket_get(user=request.user, number=number)
    ticket = services.ticket_reopen(actor=request.user, ticket=ticket, reason=payload.reason)
    return _after(request, ticket)


# --- Open311 GeoReport v2 -------------------------------------------------------------------

OPEN311_MAX_RESULTS = 1000
OPEN311_DEFAULT_DAYS = 90
HOTLINE_AGENCY = "12345政务服务便民热线"


class Open311Error(Schema):
    code: int
    description: str


class Open311Service(Schema):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Open311AttributeValue(Schema):
    key: str
    name: str


class Open311Attribute(Schema):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[Open311AttributeValue] = []


class Open311ServiceDefinition(Schema):
    service_code: str
    attributes: list[Open311Attribute]


class Open311Created(Schema):
    service_request_id: str
    service_notice: str
    account_id: str | None = None


class Open311Request(Schema):
    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


OPEN311_ERRORS = {400: list[Open311Error], 403: list[Open311Error], 404: list[Open311Error]}


def _open311_error_response(status: int, errors: list[tuple[int, str]]) -> JsonResponse:
    return JsonResponse(
        [{"code": code, "description": text} for code, text in errors],
        status=status,
        safe=False,
        json_dumps_params={"ensure_ascii": False},
    )


def _open311(view: Callable) -> Callable:
    """Domain errors leave as Open311 errors: 422 becomes 400 (the spec's general error),
    one entry per field at fault."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            status = 400 if exc.status == 422 else exc.status
            if exc.errors:
                errors = [(status, f"{e.field}: {e.message}") for e in exc.errors]
            else:
                errors = [(status, str(exc.message))]
            return _open311_error_response(status, errors)

    return wrapper


def _jurisdiction(request: HttpRequest, params) -> Region | None:
    code = (params.get("jurisdiction_id") or "").strip()
    if not code:
        return None
    return region_by_code(code, field="jurisdiction_id")


def _service(category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": category.keywords,
        "group": category.group,
    }


@georeport_router.get(
    "/services.json",
    response={200: list[Open311Service], **OPEN311_ERRORS},
    summary="GET Service List",
)
@_open311
def open311_services(request: HttpRequest):
    _jurisdiction(request, request.GET)
    return Status(200, [_service(c) for c in selectors.ticket_categories()])


@georeport_router.get(
    "/services/{service_code}.json",
    response={200: Open311ServiceDefinition, **OPEN311_ERRORS},
    summary="GET Service Definition",
)
@_open311
def open311_service_definition(request: HttpRequest, service_code: str):
    _jurisdiction(request, request.GET)
    category = selectors.ticket_category_by_code(service_code)
    return Status(200, {"service_code": category.code, "attributes": category.attributes})


_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\]]{1,40})\](\[\])?$")


def _form_attributes(form) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in form:
        match = _ATTRIBUTE_KEY.match(key)
        if not match:
            continue
        items = form.getlist(key)
        values[match.group(1)] = items if match.group(2) or len(items) > 1 else items[0]
    return values


def _caller_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"  # Chinese order: family name first, no space
    return " ".join(part for part in (first, last) if part)


@georeport_router.post(
    "/requests.json",
    response={201: list[Open311Created], **OPEN311_ERRORS},
    summary="POST Service Request",
)
@_open311
def open311_request_create(request: HttpRequest):
    form = request.POST
    key = form.get("api_key", "")
    if not key:
        raise PermissionDenied(_("缺少 api_key"), code="api_key_missing")
    client = selectors.api_client_for_key(key)
    errors: list[FieldError] = []
    code = (form.get("service_code") or "").strip()
    if not code:
        errors.append(FieldError("service_code", "required", _("请提供 service_code")))
    if not (form.get("description") or "").strip():
        errors.append(FieldError("description", "required", _("请填写诉求内容")))
    lat, lon = form.get("lat", ""), form.get("long", "")
    address = (form.get("address_string") or "").strip()
    address_id = (form.get("address_id") or "").strip()
    if not address and address_id:
        address = f"address_id:{address_id}"[:200]
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    try:
        category = selectors.ticket_category_by_code(code)
    except NotFound as exc:
        raise ValidationFailed.on_field("service_code", "unknown", str(exc.message)) from None
    region = _jurisdiction(request, form) or client.region
    ticket = services.ticket_submit_api(
        client=client,
        region=region,
        category=category,
        description=form.get("description", ""),
        caller_name=_caller_name(form.get("first_name", ""), form.get("last_name", "")),
        caller_phone=form.get("phone", ""),
        caller_email=form.get("email", ""),
        address=address,
        latitude=lat or None,
        longitude=lon or None,
        media_url=form.get("media_url", ""),
        attributes=_form_attributes(form),
        device_id=form.get("device_id", ""),
        account_id=form.get("account_id", ""),
    )
    created = {
        "service_request_id": ticket.number,
        "service_notice": _service_notice(ticket),
        "account_id": None,
    }
    return Status(201, [created])


def _service_notice(ticket: Ticket) -> str:
    return _("12345热线已受理，承办部门将在派单后%(n)d个工作日内答复") % {
        "n": services.time_limit_for(ticket.kind)
    }


def _status_notes(ticket: Ticket, owner: bool) -> str:
    if ticket.status == TicketStatus.REGISTERED:
        return _("已登记，等待12345热线处理")
    if ticket.status == TicketStatus.DISPATCHED:
        return _("已转%(d)s办理") % {"d": ticket.department.name if ticket.department_id else ""}
    if ticket.status == TicketStatus.RETURNED:
        return _("承办部门已退回，12345热线正在重新派单")
    if owner and ticket.answer:
        return ticket.answer
    return _("已答复") if ticket.status == TicketStatus.ANSWERED else _("已办结")


def _expected(ticket: Ticket) -> str | None:
    if ticket.status != TicketStatus.DISPATCHED:
        return None
    assignment = selectors.open_assignment(ticket)
    if assignment is None:
        return None
    due = selectors.assignment_deadline(assignment).due
    end_of_day = timezone.make_aware(dt.datetime.combine(due, dt.time(23, 59, 59)))
    return _local(end_of_day)


def _request_out(ticket: Ticket, client) -> dict:
    # Tickets carry residents' matters: the description and place are shown only to the
    # client that submitted them; everyone else sees the status.
    owner = client is not None and ticket.api_client_id == client.pk
    closed = not ticket.is_open
    return {
        "service_request_id": ticket.number,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(ticket, owner),
        "service_name": ticket.category.name,
        "service_code": ticket.category.code,
        "description": ticket.description if owner else None,
        "agency_responsible": ticket.department.name
        if ticket.department_id
        else (HOTLINE_AGENCY if ticket.knowledge_entry_id else None),
        "service_notice": _service_notice(ticket),
        "requested_datetime": _local(ticket.created_at),
        "updated_datetime": _local(ticket.updated_at),
        "expected_datetime": _expected(ticket),
        "address": (ticket.address or None) if owner else None,
        "address_id": None,
        "zipcode": None,
        "lat": float(ticket.latitude) if owner and ticket.latitude is not None else None,
        "long": float(ticket.longitude) if owner and ticket.longitude is not None else None,
        "media_url": (ticket.media_url or None) if owner else None,
    }


def _w3c_datetime(value: str, field_name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed.on_field(
            field_name,
            "w3c_datetime",
            _("须为带时区的W3C日期时间，如 2025-10-09T08:00:00+08:00 或 2025-10-09T00:00:00Z"),
        )
    return parsed


def _list_param(params, name: str) -> list[str]:
    return [part.strip() for part in (params.get(name) or "").split(",") if part.strip()]


def _optional_client(params):
    key = (params.get("api_key") or "").strip()
    return selectors.api_client_for_key(key) if key else None


def _positive_int(params, name: str, default: int, maximum: int) -> int:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ValidationFailed.on_field(
            name, "range", _("%(p)s须为1至%(m)d的整数") % {"p": name, "m": maximum}
        )
    return int(raw)


@georeport_router.get(
    "/requests.json",
    response={200: list[Open311Request], **OPEN311_ERRORS},
    summary="GET Service Requests",
)
@_open311
def open311_requests(request: HttpRequest):
    params = request.GET
    region = _jurisdiction(request, params)
    client = _optional_client(params)
    ids = _list_param(params, "service_request_id")
    statuses = _list_param(params, "status")
    bad = [s for s in statuses if s not in ("open", "closed")]
    if bad:
        raise ValidationFailed.on_field("status", "choice", _("status 只能是 open 或 closed"))
    start = _w3c_datetime(params["start_date"], "start_date") if params.get("start_date") else None
    end = _w3c_datetime(params["end_date"], "end_date") if params.get("end_date") else None
    if start and end and start > end:
        raise ValidationFailed.on_field("start_date", "before_end", _("start_date 晚于 end_date"))
    if not ids and start is None and end is None:
        # The spec's default window: the last 90 days.
        start = timezone.now() - dt.timedelta(days=OPEN311_DEFAULT_DAYS)
    page_size = _positive_int(params, "page_size", OPEN311_MAX_RESULTS, OPEN311_MAX_RESULTS)
    page = _positive_int(params, "page", 1, 100_000)
    tickets = selectors.open311_requests(
        region=region,
        ids=ids,
        service_codes=_list_param(params, "service_code"),
        start=start,
        end=end,
        statuses=statuses,
    )
    window = tickets[(page - 1) * page_size : page * page_size]
    return Status(200, [_request_out(t, client) for t in window])


@georeport_router.get(
    "/requests/{service_request_id}.json",
    response={200: list[Open311Request], **OPEN311_ERRORS},
    summary="GET Service Request",
)
@_open311
def open311_request_get(request: HttpRequest, service_request_id: str):
    _jurisdiction(request, request.GET)
    client = _optional_client(request.GET)
    ticket = selectors.open311_request_get(service_request_id)
    return Status(200, [_request_out(ticket, client)])
