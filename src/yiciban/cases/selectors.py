"""Reads of the case engine, already filtered by who may see what.

Who sees a case:
- the applicant side: the account that submitted it online, the applicant's own login, and
  persons who may act for the applicant enterprise today;
- counter clerks, assisted-service agents and supervisors of the case's place (or above);
- reviewers, approvers, inspectors and department admins of a department with an item in it;
- platform admins.
A case the user may not see is answered exactly like one that does not exist (404).

For the pages (web helper) and the API:
- `cases_of_applicant(user)`           "my cases", newest first
- `case_for(user, number=…)`           one case (NotFound otherwise); `case_status(case)` its
                                        status view: every item with step, deadline, what is
                                        awaited; materials, notice, inspections, outputs, history
- `counter_queue(user)`                cases awaiting acceptance in the clerk's places, green
                                        channel first, then oldest
- `task_queue(user, role=…, mine=…)`   back-office tasks, most urgent first, each annotated
                                        with `deadline_status` computed in SQL
- `supervisor_board(user)`             per department: running items normal/warning/overdue/
                                        suspended; `supervisor_alerts(user)` the warning and
                                        overdue items themselves, most urgent first
- `applicant_search(user, …)`          the counter's lookup by resident ID or USCC
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from django.db.models import Case as SqlCase
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from yiciban.accounts import selectors as account_selectors
from yiciban.accounts.models import Enterprise
from yiciban.core.errors import NotFound, PermissionDenied, ValidationFailed
from yiciban.org import selectors as org_selectors
from yiciban.org.models import DEPARTMENT_ROLES, Department, Region, Role

from . import deadlines, process, services
from .models import (
    ACTIVE_TASK_STATES,
    RUNNING_ITEM_STATES,
    ApiToken,
    Case,
    CaseItem,
    CaseState,
    ItemState,
    ProcessTemplate,
    Suspension,
    Task,
)

STAFF_REGION_ROLES = (Role.COUNTER_CLERK, Role.ASSISTED_SERVICE_AGENT, Role.SUPERVISOR)
QUEUE_ROLES = (Role.REVIEWER, Role.APPROVER, Role.INSPECTOR)
STATUS_ORDER = {"overdue": 0, "warning": 1, "normal": 2, "suspended": 3}


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


# ---------------------------------------------------------------------------------------
# visibility


def _staff_scope(user) -> Q:
    condition = Q(pk__in=[])
    department_ids: set[int] = set()
    for assignment in org_selectors.role_assignments_for(user):
        if assignment.role in DEPARTMENT_ROLES:
            department_ids.add(assignment.department_id)
        elif assignment.role in STAFF_REGION_ROLES:
            region = assignment.region or assignment.department.region
            condition |= Q(region__path__startswith=region.path)
    if department_ids:
        condition |= Exists(
            CaseItem.objects.filter(case=OuterRef("pk"), department_id__in=department_ids)
        )
    return condition


APPLICANT_CHANNELS = ("online", "kiosk")  # a case submitted here belongs to its submitter


def _applicant_scope(user) -> Q:
    condition = Q(submitted_by=user, channel__in=APPLICANT_CHANNELS)
    person = account_selectors.person_for_user(user)
    if person is not None:
        enterprises = account_selectors.authorisations_in_force(person).values("enterprise_id")
        condition |= Q(applicant_person=person) | Q(applicant_enterprise_id__in=enterprises)
    return condition


def visible_cases(user) -> QuerySet[Case]:
    if not _active(user):
        return Case.objects.none()
    if org_selectors.is_platform_admin(user):
        return Case.objects.all()
    return Case.objects.filter(_applicant_scope(user) | _staff_scope(user))


def case_for(user, *, number: str = "", case_id: int | None = None) -> Case:
    """One case the user may see, by number or id; NotFound for anything else (a forged
    or someone else's number looks exactly like an unknown one)."""
    cases = visible_cases(user).select_related(
        "region",
        "bundle_version__bundle",
        "item_version",
        "applicant_person",
        "applicant_enterprise",
        "acting_person",
        "service_point",
        "submitted_by",
        "accepted_by",
    )
    case = (
        cases.filter(number=number).first()
        if number
        else cases.filter(pk=case_id).first()
        if case_id
        else None
    )
    if case is None:
        raise NotFound(_("没有这个办件"), code="case_not_found")
    return case


def is_applicant_view(user, case: Case) -> bool:
    """Does the user see the case as the applicant (rather than as staff)?"""
    return visible_cases(user).filter(_applicant_scope(user), pk=case.pk).exists()


def cases_of_applicant(user, *, state: str = "") -> QuerySet[Case]:
    """ "My cases": submitted by me, for me, or for an enterprise I may act for."""
    if not _active(user):
        return Case.objects.none()
    cases = Case.objects.filter(_applicant_scope(user))
    if state:
        cases = cases.filter(state=state)
    return cases.select_related("applicant_person", "applicant_enterprise").order_by(
        "-submitted_at", "-id"
    )


# ---------------------------------------------------------------------------------------
# views of one case


AWAITING_ITEM = {  # msgids, translated in _awaiting_item
    ItemState.SUBMITTED: gettext_noop("等待窗口受理"),
    ItemState.REVIEWING: gettext_noop("等待%(d)s审查"),
    ItemState.INSPECTING: gettext_noop("等待%(d)s现场核查"),
    ItemState.APPROVING: gettext_noop("等待%(d)s审批"),
    ItemState.APPROVED: gettext_noop("已办结"),
    ItemState.REFUSED: gettext_noop("已办结（不予办理）"),
    ItemState.NOT_ACCEPTED: gettext_noop("不予受理"),
    ItemState.WITHDRAWN: gettext_noop("已撤回"),
}
# the deadline view's fields: a shallow copy is what dataclasses.asdict gives for these
# scalars, without its recursive deep copy
_DEADLINE_FIELDS = tuple(f.name for f in fields(deadlines.DeadlineView))


def _awaiting_item(item: CaseItem, view: deadlines.DeadlineView, open_suspension) -> str:
    if open_suspension is not None:
        return _("中止计时：%(k)s（%(r)s）") % {
            "k": _display(open_suspension, "kind"),
            "r": open_suspension.reason,
        }
    # translated here, only the one needed (a case page asks once per item)
    return _(AWAITING_ITEM[item.state]) % {"d": item.department.name}


def awaiting_case(case: Case) -> str:
    """What the case is waiting for, in one line."""
    if case.state == CaseState.SUBMITTED:
        return _("等待窗口受理")
    if case.state == CaseState.SUPPLEMENT_REQUESTED:
        notice = getattr(case, "supplement_notice", None)
        due = notice.due_on.isoformat() if notice else ""
        return _("等待申请人补正材料（期限 %(d)s）") % {"d": due}
    if case.state == CaseState.IN_PROGRESS:
        return _("各部门并联办理中")
    if case.state == CaseState.READY_FOR_DELIVERY:
        return _("全部办结，等待领取办理结果")
    return str(CaseState(case.state).label)


_choice_labels: dict[tuple[type, str], dict] = {}


def _display(obj, name: str) -> str:
    """`obj.get_<name>_display()` without its per-call cost (Django rebuilds a hashable copy
    of the choices on every call; a case page asks dozens of times)."""
    key = (type(obj), name)
    labels = _choice_labels.get(key)
    if labels is None:
        labels = _choice_labels[key] = dict(type(obj)._meta.get_field(name).flatchoices)
    value = getattr(obj, name)
    return str(labels.get(value, value))


def _user_label(user) -> str:
    if user is None:
        return _("系统")
    return getattr(user, "display_name", "") or user.get_username()


def _rows(case: Case, relation: str, query, rows: dict | None) -> list:
    """The case's rows of `relation`: those given (`rows`, as services.case_submit returns
    them for a case it has just written), else `query(manager)`."""
    if rows is not None:
        return list(rows.get(relation, ()))
    return list(query(getattr(case, relation)))


def submitted_case_status(user, case: Case, rows: dict | None = None) -> dict:
    """The status of a case `user` has just submitted (services.case_submit created it in
    this request, and gave `rows` if the case is still waiting for the counter): an online
    or kiosk submitter sees it as its applicant."""
    if _active(user) and case.submitted_by_id == user.pk and case.channel in APPLICANT_CHANNELS:
        return case_status(case, for_applicant=True, rows=rows)
    case = case_for(user, case_id=case.pk)
    return case_status(case, for_applicant=is_applicant_view(user, case))


def case_items(case: Case, *, today: dt.date | None = None, rows: dict | None = None) -> list[dict]:
    """Every item of the case with its step, deadline and what it awaits."""
    day = _today(today)
    items = _rows(
        case,
        "items",
        lambda m: (
            m.select_related("department", "process_template", "item_version", "decision")
            .prefetch_related(
                Prefetch("suspensions", queryset=Suspension.objects.order_by("start", "id")),
                Prefetch(
                    "tasks",
                    queryset=Task.objects.select_related("assignee", "completed_by").order_by("id"),
                ),
            )
            .order_by("position", "id")
        ),
        rows,
    )
    result = []
    for item in items:
        # items just submitted have no suspension, task or decision yet
        suspensions = list(item.suspensions.all()) if rows is None else []
        tasks = list(item.tasks.all()) if rows is None else []
        view = deadlines.view(item, day, suspensions)
        open_suspension = next((s for s in suspensions if s.end is None), None)
        decision = getattr(item, "decision", None) if rows is None else None
        step = process.step_definition(
            item.process_template, item.step, fallback=item.on_fallback
        ) or {"key": item.step, "label": item.step, "role": ""}
        result.append(
            {
                "id": item.pk,
                "code": item.code,
                "name": item.name,
                "role": item.role,
                "department": item.department.name,
                "department_id": item.department_id,
                "state": item.state,
                "state_label": str(ItemState(item.state).label),
                "step": step["key"],
                "step_label": step.get("label", step["key"]),
                "process_template": str(item.process_template),
                "approval_mode": item.item_version.approval_mode,
                "on_fallback": item.on_fallback,
                "fallback_reason": item.fallback_reason,
                "green_channel": item.green_channel,
                "awaiting": _awaiting_item(item, view, open_suspension),
                "deadline": {name: getattr(view, name) for name in _DEADLINE_FIELDS},
                "suspensions": [
                    {
                        "id": s.pk,
                        "kind": s.kind,
                        "kind_label": _display(s, "kind"),
                        "reason": s.reason,
                        "start": s.start,
                        "end": s.end,
                    }
                    for s in suspensions
                ],
                "tasks": [
                    {
                        "id": t.pk,
                        "kind": t.kind,
                        "kind_label": _display(t, "kind"),
                        "role": t.role,
                        "state": t.state,
                        "version": t.version,
                        "assignee": _user_label(t.assignee) if t.assignee_id else "",
                        "outcome": t.outcome,
                        "comment": t.comment,
                        "due_on": t.due_on,
                        "completed_at": t.completed_at,
                    }
                    for t in tasks
                ],
                "decision": (
                    {
                        "outcome": decision.outcome,
                        "outcome_label": _display(decision, "outcome"),
                        "basis": decision.basis,
                        "basis_label": _display(decision, "basis"),
                        "reasons": decision.reasons,
                        "legal_basis": decision.legal_basis,
                        "appeal_info": decision.appeal_info,
                        "rule_results": decision.rule_results,
                        "decided_by": _user_label(decision.decided_by)
                        if decision.decided_by_id
                        else _("系统"),
                        "decided_at": decision.decided_at,
                    }
                    if decision is not None
                    else None
                ),
            }
        )
    return result


def case_status(
    case: Case,
    *,
    today: dt.date | None = None,
    for_applicant: bool = True,
    rows: dict | None = None,
) -> dict:
    """The one status page of a case (SPEC §2): every item's progress, its deadline and
    what is awaited; the materials, the supplement notice, commitments, inspections,
    outputs and — for staff — the full history."""
    notice = getattr(case, "supplement_notice", None) if rows is None else None
    delivery = getattr(case, "delivery", None) if rows is None else None
    data = {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "state": case.state,
        "state_label": str(CaseState(case.state).label),
        "awaiting": awaiting_case(case),
        "channel": case.channel,
        "region": case.region.code,
        "bundle": case.bundle_version.bundle.code if case.bundle_version_id else None,
        "item": case.item_version.item.implementation_code if case.item_version_id else None,
        "applicant": {
            "kind": "enterprise" if case.applicant_enterprise_id else "person",
            "name": case.applicant_label,
            "uscc": case.applicant_enterprise.uscc if case.applicant_enterprise_id else None,
            "id_number_masked": case.applicant_person.id_number_masked
            if case.applicant_person_id
            else None,
            "acting_person": case.acting_person.name if case.acting_person_id else None,
        },
        "service_point": case.service_point.name if case.service_point_id else None,
        "green_channel": case.green_channel,
        "green_channel_reason": case.green_channel_reason,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "decided_at": case.decided_at,
        "delivered_at": case.delivered_at,
        "closed_reason": case.closed_reason,
        "form_data": case.form_data,
        "answers": case.answers,
        "items": case_items(case, today=today, rows=rows),
        "materials": [
            {
                "kind": m.kind_code,
                "name": m.name,
                "requirement": m.requirement,
                "deferrable": m.deferrable,
                "status": m.status,
                "status_label": _display(m, "status"),
                "document_id": m.document_id,
                "document_sha256": m.document.sha256 if m.document_id else None,
                "document_format": m.document.format if m.document_id else None,
                "reference": m.reference,
                "due_on": m.due_on,
                "items": m.items,
            }
            for m in _rows(
                case, "materials", lambda m: m.select_related("document").order_by("id"), rows
            )
        ],
        "supplement_notice": (
            {
                "message": notice.message,
                "missing": notice.missing,
                "issued_at": notice.issued_at,
                "due_on": notice.due_on,
                "resolved_at": notice.resolved_at,
            }
            if notice is not None
            else None
        ),
        "commitments": [
            {
                "item": c.case_item.code,
                "text": c.text,
                "text_sha256": c.text_sha256,
                "signer": c.signer.name if c.signer_id else None,
                "signed_at": c.signed_at,
                "method": c.method,
            }
            for c in _rows(
                case, "commitments", lambda m: m.select_related("case_item", "signer"), rows
            )
        ],
        "inspections": [
            {
                "id": i.pk,
                "state": i.state,
                "state_label": _display(i, "state"),
                "items": [ci.pk for ci in i.items.all()],
                "scheduled_for": i.scheduled_for,
                "findings": i.findings,
                "rectification_notice": i.rectification_notice,
                "rectification_due": i.rectification_due,
                "reinspection_findings": i.reinspection_findings,
                "version": i.version,
            }
            for i in _rows(
                case,
                "inspections",
                lambda m: m.prefetch_related("items").order_by("scheduled_for", "id"),
                rows,
            )
        ],
        "outputs": [
            {
                "item": o.case_item.code,
                "kind": o.kind,
                "kind_label": _display(o, "kind"),
                "name": o.name,
                "number": o.number,
                "licence_type": o.licence_type,
                "reference": o.reference,
                "issued_at": o.issued_at,
            }
            for o in _rows(
                case, "outputs", lambda m: m.select_related("case_item").order_by("id"), rows
            )
        ],
        "delivery": (
            {
                "method": delivery.method,
                "method_label": _display(delivery, "method"),
                "delivered_at": delivery.delivered_at,
                "recipient": delivery.recipient,
            }
            if delivery is not None
            else None
        ),
        "events": [
            {
                "kind": e.kind,
                "item": e.case_item.code if e.case_item_id else None,
                "actor": _user_label(e.actor) if e.actor_id else _("系统"),
                "on_behalf_of": e.on_behalf_of,
                "note": e.note,
                "data": e.data if not for_applicant else {},
                "channel": e.channel,
                "occurred_at": e.occurred_at,
            }
            for e in _rows(
                case,
                "events",
                lambda m: m.select_related("actor", "case_item").order_by("occurred_at", "id"),
                rows,
            )
        ],
    }
    return data


def case_summary(case: Case) -> dict:
    """One row of a case list."""
    return {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "state": case.state,
        "state_label": str(CaseState(case.state).label),
        "applicant": case.applicant_label,
        "channel": case.channel,
        "green_channel": case.green_channel,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "delivered_at": case.delivered_at,
    }


# ---------------------------------------------------------------------------------------
# queues


def deadline_status_expression(today: dt.date) -> SqlCase:
    """normal / warning / overdue / suspended from the stored due date, warning start and
    suspended flag — so a million-row queue is classified by the database."""
    return SqlCase(
        When(suspended=True, then=Value("suspended")),
        When(due_on__lt=today, then=Value("overdue")),
        When(warn_from__lte=today, then=Value("warning")),
        default=Value("normal"),
    )


def _region_paths(user, roles) -> list[str] | None:
    """Paths of the regions in which the user holds any of `roles` (None: everywhere)."""
    if org_selectors.is_platform_admin(user):
        return None
    paths = []
    for assignment in org_selectors.role_assignments_for(user).filter(role__in=roles):
        region = assignment.region or assignment.department.region
        paths.append(region.path)
    return paths


def _path_filter(paths: list[str], field: str) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field}__path__startswith": path})
    return condition


def counter_queue(
    user, *, state: str = CaseState.SUBMITTED, region: Region | None = None
) -> QuerySet[Case]:
    """Cases awaiting the counter in the clerk's places (or `region` inside them): green
    channel first, then the oldest."""
    if not _active(user):
        return Case.objects.none()
    paths = _region_paths(user, (Role.COUNTER_CLERK,))
    cases = Case.objects.filter(state=state)
    if paths is not None:
        if not paths:
            raise PermissionDenied(_("只有综合受理员可以查看受理队列"), code="role_required")
        cases = cases.filter(_path_filter(paths, "region"))
    if region is not None:
        cases = cases.filter(region__path__startswith=region.path)
    return cases.select_related("applicant_person", "applicant_enterprise", "region").order_by(
        "-green_channel", "submitted_at", "id"
    )


def ready_for_delivery(user) -> QuerySet[Case]:
    return counter_queue(user, state=CaseState.READY_FOR_DELIVERY)


@dataclass(frozen=True)
class QueueScope:
    """Where a user works the queues: the queue roles held, and the task condition of their
    departments (everywhere for a platform admin)."""

    admin: bool
    roles: tuple[str, ...]
    condition: Q


def queue_scope(user, *, on: dt.date | None = None) -> QueueScope:
    """One read of the user's valid role assignments, with the meaning of
    org_selectors.departments_covered for each queue role (a department assignment covers
    that department, a region assignment every department of the places below it)."""
    if not _active(user):
        return QueueScope(False, (), Q(pk__in=[]))
    assignments = list(org_selectors.role_assignments_for(user, on=on))
    admin = user.is_superuser or any(a.role == Role.PLATFORM_ADMIN for a in assignments)
    condition = Q(pk__in=[])
    held = []
    for role in QUEUE_ROLES:
        mine = [a for a in assignments if a.role == role]
        if not mine:
            continue
        held.append(role)
        ids = sorted({a.department_id for a in mine if a.department_id})
        if ids:
            condition |= Q(role=role, department_id__in=ids)
        for path in sorted({a.region.path for a in mine if not a.department_id}):
            below = Department.objects.filter(region__path__startswith=path).values("pk")
            condition |= Q(role=role, department_id__in=below)
    return QueueScope(admin, tuple(held), condition)


# what a queue row shows (task_row); the rest of the task, case and item stays in the database
QUEUE_ROW_FIELDS = (
    "kind",
    "role",
    "state",
    "version",
    "green_channel",
    "due_on",
    "warn_from",
    "suspended",
    "created_at",
    "case__number",
    "case__title",
    "case_item__name",
    "case_item__unit",
    "department__name",
    "assignee__username",
    "assignee__display_name",
)


def task_queue(
    user,
    *,
    role: str = "",
    mine: bool = False,
    department: Department | None = None,
    status: str = "",
    today: dt.date | None = None,
    scope: QueueScope | None = None,
) -> QuerySet[Task]:
    """Active tasks of the user's roles and departments, most urgent first: overdue, then
    least time left, green channel first on the same day; suspended items last. Each row
    carries `deadline_status` and loads only what `task_row` shows. `mine` keeps the tasks
    the user has claimed. `scope` is queue_scope(user) when the caller has it already."""
    if not _active(user):
        return Task.objects.none()
    day = _today(today)
    roles = [role] if role else list(QUEUE_ROLES)
    if role and role not in QUEUE_ROLES:
        raise ValidationFailed.on_field("role", "choice", _("角色须为审查员、审批员或勘验员"))
    tasks = Task.objects.filter(state__in=ACTIVE_TASK_STATES, role__in=roles)
    scope = scope or queue_scope(user)
    if not scope.admin:
        tasks = tasks.filter(scope.condition)
    if department is not None:
        tasks = tasks.filter(department=department)
    if mine:
        tasks = tasks.filter(assignee=user)
    tasks = tasks.annotate(deadline_status=deadline_status_expression(day))
    if status:
        tasks = tasks.filter(deadline_status=status)
    return (
        tasks.select_related("case", "case_item", "department", "assignee")
        .only(*QUEUE_ROW_FIELDS)
        .order_by("suspended", "due_on", "-green_channel", "id")
    )


DEADLINE_LABELS = {
    "overdue": gettext_lazy("已超期"),
    "warning": gettext_lazy("临近到期"),
    "normal": gettext_lazy("正常"),
    "suspended": gettext_lazy("中止计时"),
}


def task_row(task: Task, today: dt.date | None = None) -> dict:
    """One queue row (task, case, item, deadline)."""
    day = _today(today)
    remaining = None
    if task.due_on is not None and not task.suspended:
        remaining = deadlines.clock_remaining(task.due_on, day, task.case_item.unit)
    status = getattr(task, "deadline_status", None) or _status_of(
        task.suspended, task.due_on, task.warn_from, day
    )
    return {
        "id": task.pk,
        "kind": task.kind,
        "kind_label": _display(task, "kind"),
        "role": task.role,
        "state": task.state,
        "version": task.version,
        "assignee": _user_label(task.assignee) if task.assignee_id else None,
        "department": task.department.name,
        "case_number": task.case.number,
        "case_title": task.case.title,
        "item_id": task.case_item_id,
        "item_name": task.case_item.name,
        "green_channel": task.green_channel,
        "due_on": task.due_on,
        "remaining": remaining,
        "deadline_status": status,
        "deadline_label": str(DEADLINE_LABELS.get(status, "")),
        "created_at": task.created_at,
    }


def _status_of(suspended: bool, due_on, warn_from, day: dt.date) -> str:
    if suspended:
        return "suspended"
    if due_on is not None and due_on < day:
        return "overdue"
    if warn_from is not None and warn_from <= day:
        return "warning"
    return "normal"


def _supervised_departments(user, region: Region | None) -> QuerySet[Department]:
    if org_selectors.is_platform_admin(user):
        departments = Department.objects.all()
    else:
        departments = org_selectors.departments_covered(user, Role.SUPERVISOR)
        if not org_selectors.has_role(user, Role.SUPERVISOR):
            raise PermissionDenied(_("只有监督员可以查看电子监察看板"), code="role_required")
    if region is not None:
        departments = departments.filter(region__path__startswith=region.path)
    return departments


def supervisor_board(
    user, *, region: Region | None = None, today: dt.date | None = None
) -> list[dict]:
    """Electronic supervision (电子监察): per department, how many running items are
    normal, in warning, overdue or suspended — departments with overdue items first."""
    if not _active(user):
        raise PermissionDenied(_("请先登录"), code="login_required")
    day = _today(today)
    departments = _supervised_departments(user, region)
    rows = (
        CaseItem.objects.filter(state__in=RUNNING_ITEM_STATES, department__in=departments)
        .annotate(deadline_status=deadline_status_expression(day))
        .values("department_id", "department__name", "department__region__code")
        .annotate(
            total=Count("id"),
            normal=Count("id", filter=Q(deadline_status="normal")),
            warning=Count("id", filter=Q(deadline_status="warning")),
            overdue=Count("id", filter=Q(deadline_status="overdue")),
            suspended=Count("id", filter=Q(deadline_status="suspended")),
        )
    )
    board = [
        {
            "department_id": r["department_id"],
            "department": r["department__name"],
            "region": r["department__region__code"],
            "total": r["total"],
            "normal": r["normal"],
            "warning": r["warning"],
            "overdue": r["overdue"],
            "suspended": r["suspended"],
        }
        for r in rows
    ]
    board.sort(key=lambda r: (-r["overdue"], -r["warning"], r["region"], r["department"]))
    return board


def supervisor_alerts(
    user,
    *,
    region: Region | None = None,
    department: Department | None = None,
    today: dt.date | None = None,
) -> QuerySet[CaseItem]:
    """Running items in warning or overdue, most urgent first (for the board's list)."""
    if not _active(user):
        raise PermissionDenied(_("请先登录"), code="login_required")
    day = _today(today)
    departments = _supervised_departments(user, region)
    items = CaseItem.objects.filter(
        state__in=RUNNING_ITEM_STATES, department__in=departments, suspended=False
    ).filter(Q(due_on__lt=day) | Q(warn_from__lte=day))
    if department is not None:
        items = items.filter(department=department)
    return (
        items.annotate(deadline_status=deadline_status_expression(day))
        .select_related("case", "department")
        .order_by("due_on", "-green_channel", "id")
    )


def alert_row(item: CaseItem, today: dt.date | None = None) -> dict:
    day = _today(today)
    return {
        "item_id": item.pk,
        "case_number": item.case.number,
        "case_title": item.case.title,
        "item_name": item.name,
        "department": item.department.name,
        "state": item.state,
        "state_label": str(ItemState(item.state).label),
        "due_on": item.due_on,
        "remaining": deadlines.clock_remaining(item.due_on, day, item.unit),
        "deadline_status": getattr(item, "deadline_status", None)
        or _status_of(item.suspended, item.due_on, item.warn_from, day),
        "green_channel": item.green_channel,
    }


# ---------------------------------------------------------------------------------------
# the counter's applicant search


def applicant_search(user, *, id_number: str = "", uscc: str = "") -> dict:
    """Find an applicant at the counter: a person by resident ID (exact, through the blind
    index) with the enterprises they may act for, or an enterprise by USCC; with their
    cases the clerk may see. Personal data is masked."""
    if not _active(user) or not any(
        org_selectors.has_role(user, r) for r in (Role.COUNTER_CLERK, Role.ASSISTED_SERVICE_AGENT)
    ):
        raise PermissionDenied(_("只有窗口人员可以查询申请人"), code="role_required")
    if bool(id_number) == bool(uscc):
        raise ValidationFailed.on_field(
            "id_number", "one_of", _("请输入身份证号或统一社会信用代码（二选一）")
        )
    cases = visible_cases(user)
    if id_number:
        person = account_selectors.person_find_by_id_number(id_number)
        if person is None:
            return {"person": None, "enterprise": None, "acting_for": [], "cases": []}
        acting_for = [
            {
                "uscc": a.enterprise.uscc,
                "name": a.enterprise.name,
                "kind": a.kind,
                "kind_label": _display(a, "kind"),
                "valid_until": a.valid_until,
            }
            for a in account_selectors.authorisations_in_force(person)
        ]
        cases = cases.filter(Q(applicant_person=person) | Q(acting_person=person))
        return {
            "person": {
                "name": person.name,
                "id_number_masked": person.id_number_masked,
                "phone_masked": person.phone_masked,
            },
            "enterprise": None,
            "acting_for": acting_for,
            "cases": [case_summary(c) for c in cases.order_by("-submitted_at")[:20]],
        }
    enterprise = Enterprise.objects.filter(uscc=uscc.strip().upper()).first()
    if enterprise is None:
        return {"person": None, "enterprise": None, "acting_for": [], "cases": []}
    cases = cases.filter(applicant_enterprise=enterprise)
    return {
        "person": None,
        "enterprise": {"uscc": enterprise.uscc, "name": enterprise.name},
        "acting_for": [],
        "cases": [case_summary(c) for c in cases.order_by("-submitted_at")[:20]],
    }


# ---------------------------------------------------------------------------------------
# templates and tokens


def process_templates() -> list[ProcessTemplate]:
    """The newest version of every template (built-in ones included)."""
    for code in process.BUILTIN_TEMPLATES:
        process.current_template(code)
    newest: dict[str, ProcessTemplate] = {}
    for template in ProcessTemplate.objects.order_by("code", "-version"):
        newest.setdefault(template.code, template)
    return list(newest.values())


def tokens_of(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def item_for(user, item_id: int) -> CaseItem:
    """A case item the user may see (NotFound otherwise)."""
    item = (
        CaseItem.objects.select_related("case", "department")
        .filter(pk=item_id, case__in=visible_cases(user))
        .first()
    )
    if item is None:
        raise NotFound(_("没有这个办件事项"), code="item_not_found")
    return item


# ---------------------------------------------------------------------------------------
# before submitting


def case_preview(*, bundle_code: str = "", item_code: str = "", answers: dict | None = None):
    """What an application for a bundle (with these guidance answers) or a single item will
    contain: its items (with the code each form section is keyed by), the form schema to
    fill, and the materials to provide — the same data case_submit validates against."""
    from yiciban.catalog import selectors as catalog_selectors

    if bool(bundle_code) == bool(item_code):
        raise ValidationFailed.on_field(
            "bundle", "one_of", _("请选择一件事（bundle）或单个事项（item），二者只能选其一")
        )
    if bundle_code:
        try:
            guidance = catalog_selectors.bundle_guidance(bundle_code, answers or {})
        except NotFound as exc:
            raise ValidationFailed.on_field("bundle", "unknown", str(exc.message)) from None
        return {
            "bundle": bundle_code,
            "item": None,
            "complete": guidance["complete"],
            "unanswered": guidance["unanswered"],
            "items": [
                {
                    "code": i["code"],
                    "name": i["name"],
                    "department": i["department"],
                    "approval_mode": i["approval_mode"],
                    "promised_limit": i["promised_limit"],
                    "promised_limit_unit": i["promised_limit_unit"],
                    "reason": i["reason"],
                }
                for i in guidance["items"]
            ],
            "form_schema": guidance["merged_schema"],
            "materials": guidance["notice"]["materials"],
            "promised_limit": guidance["promised_limit"],
        }
    try:
        version = catalog_selectors.item_detail(item_code)
    except NotFound as exc:
        raise ValidationFailed.on_field("item", "unknown", str(exc.message)) from None
    return {
        "bundle": None,
        "item": item_code,
        "complete": True,
        "unanswered": [],
        "items": [
            {
                "code": version.item.implementation_code,
                "name": version.name,
                "department": version.item.department.name,
                "approval_mode": version.approval_mode,
                "promised_limit": version.promised_limit,
                "promised_limit_unit": version.promised_limit_unit,
                "reason": "",
            }
        ],
        "form_schema": services.item_form_schema(version),
        "materials": [
            {
                "kind": m.kind.code,
                "name": m.kind.name,
                "source": m.kind.source,
                "fetchable": m.kind.fetchable,
                "formats": list(m.kind.formats),
                "max_size_mb": m.kind.max_size_mb,
                "requirement": m.requirement,
                "deferrable": m.deferrable,
                "submit": not m.kind.fetchable,
                "items": [{"code": version.item.implementation_code}],
            }
            for m in version.materials.all()
        ],
        "promised_limit": {
            "days": version.promised_limit,
            "unit": version.promised_limit_unit,
        },
    }
