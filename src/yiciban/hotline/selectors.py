"""Reads of the hotline, already filtered by who may see what."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core import crypto
from yiciban.core.deadlines import Clock, DeadlineStatus
from yiciban.core.errors import NotFound, PermissionDenied, ValidationFailed
from yiciban.org.models import Department, Region, Role
from yiciban.org.selectors import (
    has_role,
    is_platform_admin,
    region_and_descendants,
    require_role,
    role_assignments_for,
)

from . import search
from .models import (
    DISSATISFIED_LEVELS,
    ApiClient,
    AssignmentOutcome,
    KnowledgeEntry,
    KnowledgeStatus,
    SynonymGroup,
    Ticket,
    TicketAssignment,
    TicketCategory,
    TicketEvent,
    TicketStatus,
)

API_KEY_PREFIX = "yb311_"
QUERY_MAX_LENGTH = 100
# A department that is not responsible returns the ticket within this many working days of
# dispatch; after that it must handle it.
RETURN_WINDOW_WORKING_DAYS = 1
# A caller dissatisfied at the follow-up call gets the matter handled again this many times.
MAX_REOPENS = 1


def _today() -> dt.date:
    return timezone.localdate()


# --- API clients ----------------------------------------------------------------------------


def hash_api_key(key: str) -> str:
    # Keys are 256-bit random strings: plain SHA-256 suffices (there is no dictionary to
    # guess from); the comparison below is constant-time.
    return hashlib.sha256(key.encode()).hexdigest()


def api_client_for_key(key: str) -> ApiClient:
    """The active client holding `key`; PermissionDenied otherwise."""
    key = (key or "").strip()
    parts = key.split("_", 2)
    if not key.startswith(API_KEY_PREFIX) or len(parts) < 3:
        raise PermissionDenied(_("api_key 无效"), code="api_key_invalid")
    client = ApiClient.objects.select_related("region").filter(key_prefix=parts[1]).first()
    if client is None or not hmac.compare_digest(client.key_hash, hash_api_key(key)):
        raise PermissionDenied(_("api_key 无效"), code="api_key_invalid")
    if not client.is_active:
        raise PermissionDenied(_("接口客户端已停用"), code="api_key_invalid")
    return client


# --- knowledge ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnowledgeHit:
    entry: KnowledgeEntry
    score: float


@dataclass(frozen=True)
class KnowledgeResults:
    count: int
    hits: list[KnowledgeHit]
    terms: list[list[str]]  # the query's concepts: each word with its synonyms


def check_query(query: str | None, *, field_name: str = "q") -> str:
    query = " ".join((query or "").split())
    if not query:
        raise ValidationFailed.on_field(field_name, "required", _("请输入要查询的问题"))
    if len(query) > QUERY_MAX_LENGTH:
        raise ValidationFailed.on_field(
            field_name,
            "max_length",
            _("查询内容不能超过%(n)d个字") % {"n": QUERY_MAX_LENGTH},
        )
    return query


def knowledge_search(
    *,
    query: str,
    limit: int = 10,
    offset: int = 0,
    region: Region | None = None,
    department: Department | None = None,
    today: dt.date | None = None,
) -> KnowledgeResults:
    """Published entries valid today, ranked by BM25 with synonyms. With a region: the
    entries of that region and of the regions above it (a province-wide answer applies in
    every county)."""
    query = check_query(query)
    region_ids = None
    if region is not None:
        region_ids = list(
            Region.objects.filter(code__in=region.ancestor_codes).values_list("id", flat=True)
        )
    page = search.rank(
        query,
        limit=limit,
        offset=offset,
        today=today or _today(),
        region_ids=region_ids,
        department_id=department.pk if department is not None else None,
    )
    entries = KnowledgeEntry.objects.select_related("department", "region").in_bulk(
        [entry_id for entry_id, _score in page.hits]
    )
    hits = [
        KnowledgeHit(entry=entries[entry_id], score=round(score, 4))
        for entry_id, score in page.hits
        if entry_id in entries
    ]
    return KnowledgeResults(
        count=page.count, hits=hits, terms=[list(c.terms) for c in page.concepts]
    )


def _curated_scope(user) -> Q:
    """Entries a user may curate: of the regions where they are a hotline operator, and of
    the departments where they are department admin."""
    if is_platform_admin(user):
        return Q()
    condition = Q(pk__in=[])
    for assignment in role_assignments_for(user).filter(
        role__in=[Role.HOTLINE_OPERATOR, Role.DEPARTMENT_ADMIN]
    ):
        if assignment.role == Role.DEPARTMENT_ADMIN and assignment.department_id:
            condition |= Q(department_id=assignment.department_id)
        else:
            scope = assignment.region or assignment.department.region
            condition |= Q(region__path__startswith=scope.path)
    return condition


def knowledge_entries_for_curator(
    user, *, status: str | None = None, text: str = ""
) -> QuerySet[KnowledgeEntry]:
    entries = KnowledgeEntry.objects.filter(_curated_scope(user)).select_related(
        "department", "region"
    )
    if status:
        entries = entries.filter(status=status)
    if text:
        entries = entries.filter(Q(question__icontains=text) | Q(answer__icontains=text))
    return entries.order_by("-updated_at", "-id")


def curator_choices(user) -> tuple[QuerySet[Region], QuerySet[Department]]:
    """Regions and departments a curator may give a new entry: the regions where they are
    a hotline operator (and those regions' departments), and the departments where they
    are department admin."""
    if is_platform_admin(user):
        regions = Region.objects.filter(level__in=["province", "city", "county"])
        return regions.order_by("code"), Department.objects.select_related("region")
    region_condition = Q(pk__in=[])
    department_condition = Q(pk__in=[])
    for assignment in role_assignments_for(user).filter(
        role__in=[Role.HOTLINE_OPERATOR, Role.DEPARTMENT_ADMIN]
    ):
        if assignment.role == Role.DEPARTMENT_ADMIN and assignment.department_id:
            region_condition |= Q(pk=assignment.department.region_id)
            department_condition |= Q(pk=assignment.department_id)
        else:
            scope = assignment.region or assignment.department.region
            region_condition |= Q(pk=scope.pk)
            department_condition |= Q(region__path__startswith=scope.path)
    return (
        Region.objects.filter(region_condition).order_by("code"),
        Department.objects.filter(department_condition, is_active=True)
        .select_related("region")
        .order_by("region__code", "name"),
    )


def is_entry_public(entry: KnowledgeEntry, today: dt.date | None = None) -> bool:
    today = today or _today()
    return (
        entry.status == KnowledgeStatus.PUBLISHED
        and (entry.valid_from is None or entry.valid_from <= today)
        and (entry.valid_until is None or entry.valid_until >= today)
    )


def knowledge_entry_get(*, user, entry_id: int) -> KnowledgeEntry:
    """A published, valid entry for anyone; any entry for those who curate it."""
    entry = (
        KnowledgeEntry.objects.select_related("department", "region").filter(pk=entry_id).first()
    )
    if entry is None:
        raise NotFound(_("知识库条目不存在"), code="knowledge_entry_not_found")
    if is_entry_public(entry):
        return entry
    if KnowledgeEntry.objects.filter(_curated_scope(user), pk=entry.pk).exists():
        return entry
    raise NotFound(_("知识库条目不存在"), code="knowledge_entry_not_found")


def synonym_groups() -> QuerySet[SynonymGroup]:
    return SynonymGroup.objects.order_by("name")


# --- tickets --------------------------------------------------------------------------------


def ticket_categories(*, active_only: bool = True) -> QuerySet[TicketCategory]:
    categories = TicketCategory.objects.all()
    if active_only:
        categories = categories.filter(is_active=True)
    return categories.order_by("order", "code")


def ticket_category_by_code(code: str, *, field_name: str = "service_code") -> TicketCategory:
    category = TicketCategory.objects.filter(code=(code or "").strip(), is_active=True).first()
    if category is None:
        raise NotFound(
            _("工单分类%(c)s不存在") % {"c": (code or "")[:60]}, code="service_code_not_found"
        )
    return category


def _scope_regions(user, roles: Sequence[str]) -> list[Region]:
    regions = []
    for assignment in role_assignments_for(user).filter(role__in=list(roles)):
        region = assignment.region or (
            assignment.department.region if assignment.department_id else None
        )
        if region is not None:
            regions.append(region)
    return regions


def operator_regions(user) -> list[Region]:
    """Regions where the user takes calls (platform admins: the county-level ones)."""
    if is_platform_admin(user):
        return list(Region.objects.filter(level="county").order_by("code"))
    return _scope_regions(user, [Role.HOTLINE_OPERATOR])


def supervisor_regions(user) -> list[Region]:
    if is_platform_admin(user):
        return list(Region.objects.filter(level="county").order_by("code"))
    return _scope_regions(user, [Role.SUPERVISOR])


def staff_departments(user) -> QuerySet[Department]:
    """Departments whose dispatched tickets the user handles."""
    if is_platform_admin(user):
        return Department.objects.select_related("region").order_by("region__code", "name")
    ids = role_assignments_for(user).exclude(department=None).values_list("department_id")
    return Department.objects.filter(pk__in=ids).select_related("region").order_by("name")


def tickets_visible_to(user) -> QuerySet[Ticket]:
    """Platform admins: all. Operators and supervisors: the tickets of their regions.
    Department staff: tickets ever dispatched to their departments. Everyone: their own."""
    tickets = Ticket.objects.select_related("category", "region", "department")
    if not getattr(user, "is_authenticated", False):
        return tickets.none()
    if is_platform_admin(user):
        return tickets
    condition = Q(caller_user=user)
    for region in _scope_regions(user, [Role.HOTLINE_OPERATOR, Role.SUPERVISOR]):
        condition |= Q(region__path__startswith=region.path)
    department_ids = list(
        role_assignments_for(user).exclude(department=None).values_list("department_id", flat=True)
    )
    if department_ids:
        condition |= Q(
            pk__in=TicketAssignment.objects.filter(department_id__in=department_ids).values(
                "ticket_id"
            )
        )
    return tickets.filter(condition)


def ticket_get(*, user, number: str) -> Ticket:
    ticket = tickets_visible_to(user).filter(number=(number or "").strip()).first()
    if ticket is None:
        raise NotFound(_("工单不存在或无权查看"), code="ticket_not_found")
    return ticket


def ticket_history(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor", "department").order_by("created_at", "id")


def ticket_assignments(ticket: Ticket) -> QuerySet[TicketAssignment]:
    return ticket.assignments.select_related("department").order_by("dispatched_at", "id")


def open_assignment(ticket: Ticket) -> TicketAssignment | None:
    return (
        TicketAssignment.objects.select_related("department__region")
        .filter(ticket=ticket, outcome=AssignmentOutcome.OPEN)
        .order_by("-id")
        .first()
    )


@dataclass(frozen=True)
class Deadline:
    due: dt.date
    provisional: bool
    remaining: int  # working days left; negative when overdue
    status: str  # DeadlineStatus value

    @property
    def status_label(self) -> str:
        return str(DEADLINE_LABELS.get(self.status, self.status))


DEADLINE_LABELS = {
    DeadlineStatus.NORMAL: _("正常"),
    DeadlineStatus.WARNING: _("即将到期"),
    DeadlineStatus.OVERDUE: _("已超期"),
    DeadlineStatus.SUSPENDED: _("已中止"),
}


def assignment_clock(assignment: TicketAssignment) -> Clock:
    return Clock(
        started_on=assignment.started_on,
        limit=assignment.limit_days,
        unit=assignment.unit,
        extension_days=assignment.extension_days,
    )


def assignment_deadline(assignment: TicketAssignment, today: dt.date | None = None) -> Deadline:
    today = today or _today()
    clock = assignment_clock(assignment)
    due = clock.due_on(today)
    return Deadline(
        due=due.due,
        provisional=due.provisional,
        remaining=clock.remaining(today),
        status=str(clock.status(today)),
    )


def return_window_closes_on(assignment: TicketAssignment) -> dt.date:
    """The last day the department may return the ticket: the first working day after
    the dispatch day (the same Clock every deadline uses)."""
    clock = Clock(started_on=assignment.started_on, limit=RETURN_WINDOW_WORKING_DAYS)
    return clock.due_on(assignment.started_on).due


def is_department_staff(user, department: Department) -> bool:
    """Anyone holding a role in the department itself (its admin, reviewers, approvers…)
    handles the tickets dispatched to it; platform admins may act for any department."""
    if is_platform_admin(user):
        return True
    return role_assignments_for(user).filter(department=department).exists()


def ticket_actions(user, ticket: Ticket, today: dt.date | None = None) -> set[str]:
    """The transitions this user may start on the ticket now (for buttons; the services
    check again)."""
    today = today or _today()
    actions: set[str] = set()
    if has_role(user, Role.HOTLINE_OPERATOR, region=ticket.region):
        if ticket.status in (TicketStatus.REGISTERED, TicketStatus.RETURNED):
            actions |= {"answer_from_knowledge", "dispatch"}
        elif ticket.status == TicketStatus.ANSWERED:
            actions.add("follow_up")
        elif (
            ticket.status == TicketStatus.CLOSED
            and ticket.satisfaction in DISSATISFIED_LEVELS
            and ticket.reopen_count < MAX_REOPENS
        ):
            actions.add("reopen")
    if ticket.status == TicketStatus.DISPATCHED:
        assignment = open_assignment(ticket)
        if assignment is not None and is_department_staff(user, assignment.department):
            actions.add("answer")
            if today <= return_window_closes_on(assignment):
                actions.add("return")
    return actions


def operator_worklist(user) -> QuerySet[Ticket]:
    """Tickets waiting for the hotline: to answer or dispatch, returned, or to follow up."""
    regions = operator_regions(user)
    if not regions:
        return Ticket.objects.none()
    condition = Q(pk__in=[])
    for region in regions:
        condition |= Q(region__path__startswith=region.path)
    return (
        Ticket.objects.filter(condition)
        .filter(status__in=[TicketStatus.REGISTERED, TicketStatus.RETURNED, TicketStatus.ANSWERED])
        .select_related("category", "region", "department")
        .order_by("created_at", "id")
    )


def caller_history(user, phone: str, *, limit: int = 10) -> list[Ticket]:
    """Earlier tickets from the same number, for the operator on the line (found by the
    blind index; the number itself is never searched in clear)."""
    from .services import normalize_phone

    number = normalize_phone(phone)
    if not number:
        return []
    index = crypto.blind_index(number, purpose="phone")
    return list(tickets_visible_to(user).filter(caller_phone_index=index)[:limit])


def tickets_of_person(user) -> QuerySet[Ticket]:
    if not getattr(user, "is_authenticated", False):
        return Ticket.objects.none()
    return (
        Ticket.objects.filter(caller_user=user)
        .select_related("category", "department")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class QueueRow:
    ticket: Ticket
    assignment: TicketAssignment
    deadline: Deadline
    return_until: dt.date
    can_return: bool


def department_queue(
    user, *, department: Department | None = None, today: dt.date | None = None
) -> list[QueueRow]:
    """Open dispatches to the user's departments, most urgent first."""
    today = today or _today()
    departments = staff_departments(user)
    if department is not None:
        if not departments.filter(pk=department.pk).exists():
            raise PermissionDenied(
                _("只有%(d)s的工作人员可以查看该部门的工单") % {"d": department.name},
                code="not_department_staff",
            )
        departments = departments.filter(pk=department.pk)
    assignments = TicketAssignment.objects.filter(
        outcome=AssignmentOutcome.OPEN, department__in=departments
    ).select_related("ticket__category", "department")
    rows = []
    for assignment in assignments:
        closes = return_window_closes_on(assignment)
        rows.append(
            QueueRow(
                ticket=assignment.ticket,
                assignment=assignment,
                deadline=assignment_deadline(assignment, today),
                return_until=closes,
                can_return=today <= closes,
            )
        )
    rows.sort(key=lambda r: (r.deadline.remaining, r.assignment.dispatched_at))
    return rows


# --- supervisor board -----------------------------------------------------------------------


@dataclass
class BoardRow:
    department: Department
    open: int = 0
    warning: int = 0
    overdue: int = 0
    returned: int = 0
    answered: int = 0
    answered_on_time: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return round(self.answered_on_time / self.answered, 4) if self.answered else None


@dataclass(frozen=True)
class BoardItem:
    ticket: Ticket
    assignment: TicketAssignment
    deadline: Deadline


@dataclass
class Board:
    region: Region
    since: dt.date
    until: dt.date
    today: dt.date
    rows: list[BoardRow] = field(default_factory=list)
    overdue: list[BoardItem] = field(default_factory=list)
    returned: list[BoardItem] = field(default_factory=list)

    @property
    def totals(self) -> BoardRow:
        total = BoardRow(department=None)  # type: ignore[arg-type]
        for row in self.rows:
            for name in ("open", "warning", "overdue", "returned", "answered", "answered_on_time"):
                setattr(total, name, getattr(total, name) + getattr(row, name))
        return total


def supervisor_board(
    user,
    *,
    region: Region,
    since: dt.date | None = None,
    until: dt.date | None = None,
    today: dt.date | None = None,
) -> Board:
    """Per department of the region: open, warning and overdue dispatches now; returned
    and answered (on time or not) in [since, until] by the day they were closed."""
    require_role(user, Role.SUPERVISOR, region=region)
    today = today or _today()
    until = until or today
    since = since or until - dt.timedelta(days=29)
    if since > until:
        raise ValidationFailed.on_field("since", "before_until", _("开始日期不能晚于结束日期"))
    board = Board(region=region, since=since, until=until, today=today)
    regions = region_and_descendants(region)
    assignments = (
        TicketAssignment.objects.filter(department__region__in=regions)
        .filter(Q(outcome=AssignmentOutcome.OPEN) | Q(closed_on__gte=since, closed_on__lte=until))
        .select_related("department", "ticket__category")
        .order_by("dispatched_at", "id")
    )
    rows: dict[int, BoardRow] = {}
    for assignment in assignments:
        row = rows.setdefault(assignment.department_id, BoardRow(assignment.department))
        if assignment.outcome == AssignmentOutcome.OPEN:
            deadline = assignment_deadline(assignment, today)
            row.open += 1
            if deadline.status == DeadlineStatus.OVERDUE:
                row.overdue += 1
                board.overdue.append(BoardItem(assignment.ticket, assignment, deadline))
            elif deadline.status == DeadlineStatus.WARNING:
                row.warning += 1
        elif assignment.outcome == AssignmentOutcome.RETURNED:
            row.returned += 1
            board.returned.append(
                BoardItem(assignment.ticket, assignment, assignment_deadline(assignment, today))
            )
        else:
            row.answered += 1
            due = assignment_clock(assignment).due_on(assignment.closed_on).due
            if assignment.closed_on <= due:
                row.answered_on_time += 1
    board.rows = sorted(rows.values(), key=lambda r: (-r.overdue, -r.returned, r.department.name))
    board.overdue.sort(key=lambda item: item.deadline.remaining)
    return board


# --- Open311 --------------------------------------------------------------------------------


OPEN_STATUSES = (
    TicketStatus.REGISTERED,
    TicketStatus.DISPATCHED,
    TicketStatus.RETURNED,
)
CLOSED_STATUSES = (TicketStatus.ANSWERED, TicketStatus.CLOSED)


def open311_requests(
    *,
    region: Region | None,
    ids: Sequence[str] = (),
    service_codes: Sequence[str] = (),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    statuses: Sequence[str] = (),
) -> QuerySet[Ticket]:
    """Tickets for GET requests.json: any ticket may be looked up (its public fields);
    the caller filters further and limits the count."""
    tickets = Ticket.objects.select_related("category", "department", "api_client")
    if region is not None:
        tickets = tickets.filter(region__path__startswith=region.path)
    if ids:
        tickets = tickets.filter(number__in=list(ids))
    if service_codes:
        tickets = tickets.filter(category__code__in=list(service_codes))
    if start is not None:
        tickets = tickets.filter(created_at__gte=start)
    if end is not None:
        tickets = tickets.filter(created_at__lte=end)
    wanted: list[str] = []
    if "open" in statuses:
        wanted += OPEN_STATUSES
    if "closed" in statuses:
        wanted += CLOSED_STATUSES
    if statuses:
        tickets = tickets.filter(status__in=wanted)
    return tickets.order_by("-created_at", "-id")


def open311_request_get(number: str) -> Ticket:
    ticket = (
        Ticket.objects.select_related("category", "department", "api_client")
        .filter(number=(number or "").strip())
        .first()
    )
    if ticket is None:
        raise NotFound(_("诉求%(n)s不存在") % {"n": (number or "")[:40]}, code="request_not_found")
    return ticket
