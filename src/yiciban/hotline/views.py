"""Pages of the 12345 hotline: public knowledge search, the operator console, ticket pages,
the department queue, the supervisor board, a person's own tickets, and the curators'
knowledge and synonym pages. Thin: forms in, services and selectors do the work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as PageForbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiciban.core.errors import DomainError, NotFound, ValidationFailed
from yiciban.org.models import Region, RegionLevel
from yiciban.org.selectors import departments_list, has_role

from . import selectors, services
from .forms import (
    AnswerForm,
    AnswerFromKnowledgeForm,
    CallForm,
    DispatchForm,
    FollowUpForm,
    KnowledgeEntryForm,
    OnlineForm,
    ReasonForm,
    SearchForm,
    SynonymForm,
)
from .models import KnowledgeEntry, KnowledgeStatus, SynonymGroup, TicketStatus

RESULTS_PER_PAGE = 10


def _apply(request: HttpRequest, form, call: Callable[[], Any]) -> Any:
    """Run a service; put its field errors on the form and other refusals in messages."""
    try:
        return call()
    except ValidationFailed as exc:
        for error in exc.errors or []:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        if not exc.errors:
            form.add_error(None, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    return None


# --- knowledge search (public) ------------------------------------------------------------


def _search(request: HttpRequest) -> dict:
    form = SearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "results": None, "query": ""}
    if form.is_bound and form.is_valid() and form.cleaned_data["q"].strip():
        query = form.cleaned_data["q"]
        page_number = _page_number(request)
        try:
            results = selectors.knowledge_search(
                query=query,
                limit=RESULTS_PER_PAGE,
                offset=(page_number - 1) * RESULTS_PER_PAGE,
            )
        except ValidationFailed as exc:
            form.add_error("q", exc.message)
        else:
            pages = max(1, -(-results.count // RESULTS_PER_PAGE))
            context.update(
                results=results,
                query=query,
                page=page_number,
                pages=pages,
                previous_page=page_number - 1 if page_number > 1 else None,
                next_page=page_number + 1 if page_number < pages else None,
            )
    context["ticket_number"] = request.GET.get("ticket", "")
    return context


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 1000 else 1


@require_GET
def knowledge_index(request: HttpRequest) -> HttpResponse:
    context = _search(request)
    if getattr(request, "htmx", False):
        return render(request, "hotline/_knowledge_results.html", context)
    return render(request, "hotline/knowledge_index.html", context)


@require_GET
def knowledge_results(request: HttpRequest) -> HttpResponse:
    """The results fragment, for instant search (htmx) on the portal and in the console."""
    return render(request, "hotline/_knowledge_results.html", _search(request))


@require_GET
def knowledge_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        entry = selectors.knowledge_entry_get(user=request.user, entry_id=entry_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    return render(
        request,
        "hotline/knowledge_detail.html",
        {"entry": entry, "public": selectors.is_entry_public(entry)},
    )


# --- operator console -----------------------------------------------------------------------


def _operator_regions(request: HttpRequest) -> list[Region]:
    regions = selectors.operator_regions(request.user)
    if not regions:
        raise PageForbidden(_("只有12345话务员可以使用话务台"))
    return regions


@login_required
@require_http_methods(["GET", "POST"])
def console(request: HttpRequest) -> HttpResponse:
    regions = _operator_regions(request)
    region_qs = Region.objects.filter(pk__in=[r.pk for r in regions])
    form = CallForm(
        request.POST or None, regions=region_qs, categories=selectors.ticket_categories()
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ticket = _apply(
            request,
            form,
            lambda: services.ticket_log_call(
                actor=request.user,
                region=data["region"],
                category=data["category"],
                description=data["description"],
                caller_phone=data["caller_phone"],
                caller_name=data["caller_name"],
                title=data["title"],
                address=data["address"],
            ),
        )
        if ticket is not None:
            messages.success(request, _("已登记工单%(n)s") % {"n": ticket.number})
            return redirect("hotline:ticket_detail", number=ticket.number)
    history = []
    if request.GET.get("phone"):
        history = selectors.caller_history(request.user, request.GET["phone"])
    return render(
        request,
        "hotline/console.html",
        {
            "form": form,
            "search_form": SearchForm(),
            "worklist": selectors.operator_worklist(request.user)[:50],
            "history": history,
            "history_phone": request.GET.get("phone", ""),
        },
    )


# --- tickets --------------------------------------------------------------------------------


def _ticket_or_404(request: HttpRequest, number: str):
    try:
        return selectors.ticket_get(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _dispatch_departments(ticket):
    return departments_list(region=ticket.region)


def _ticket_page(request: HttpRequest, ticket, forms: dict | None = None) -> HttpResponse:
    today = timezone.localdate()
    actions = selectors.ticket_actions(request.user, ticket, today)
    assignment = selectors.open_assignment(ticket)
    forms = forms or {}
    if "dispatch" in actions and "dispatch" not in forms:
        initial = {}
        kind = ticket.category.default_department_kind
        if kind:
            suggested = _dispatch_departments(ticket).filter(kind=kind).first()
            initial["department"] = suggested
        forms["dispatch"] = DispatchForm(initial=initial, departments=_dispatch_departments(ticket))
    defaults = {
        "answer_from_knowledge": lambda: AnswerFromKnowledgeForm(),
        "return": lambda: ReasonForm(),
        "answer": lambda: AnswerForm(),
        "follow_up": lambda: FollowUpForm(),
        "reopen": lambda: ReasonForm(),
    }
    for action, make in defaults.items():
        if action in actions and action not in forms:
            forms[action] = make()
    is_operator = has_role(request.user, "hotline_operator", region=ticket.region)
    return render(
        request,
        "hotline/ticket_detail.html",
        {
            "ticket": ticket,
            "actions": actions,
            "forms": forms,
            "assignment": assignment,
            "deadline": selectors.assignment_deadline(assignment, today) if assignment else None,
            "return_until": selectors.return_window_closes_on(assignment) if assignment else None,
            "assignments": selectors.ticket_assignments(ticket),
            "history": selectors.ticket_history(ticket),
            "search_form": SearchForm(),
            # The operator calls back through the link; the number itself stays masked on
            # screen.
            "call_back": ticket.caller_phone
            if is_operator and ticket.status == TicketStatus.ANSWERED
            else "",
        },
    )


@login_required
@require_GET
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _ticket_page(request, _ticket_or_404(request, number))


@login_required
@require_POST
def ticket_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    user = request.user
    if action == "answer_from_knowledge":
        form = AnswerFromKnowledgeForm(request.POST)

        def call():
            entry = KnowledgeEntry.objects.filter(pk=form.cleaned_data["entry_id"]).first()
            if entry is None:
                raise ValidationFailed.on_field("entry_id", "exists", _("知识库条目不存在"))
            return services.ticket_answer_from_knowledge(
                actor=user, ticket=ticket, entry=entry, note=form.cleaned_data["note"]
            )
    elif action == "dispatch":
        form = DispatchForm(request.POST, departments=_dispatch_departments(ticket))

        def call():
            return services.ticket_dispatch(
                actor=user,
                ticket=ticket,
                department=form.cleaned_data["department"],
                instructions=form.cleaned_data["instructions"],
            )
    elif action in ("return", "reopen"):
        form = ReasonForm(request.POST)
        service = services.ticket_return if action == "return" else services.ticket_reopen

        def call():
            return service(actor=user, ticket=ticket, reason=form.cleaned_data["reason"])
    elif action == "answer":
        form = AnswerForm(request.POST)

        def call():
            return services.ticket_answer(
                actor=user, ticket=ticket, answer=form.cleaned_data["answer"]
            )
    elif action == "follow_up":
        form = FollowUpForm(request.POST)

        def call():
            return services.ticket_follow_up(
                actor=user,
                ticket=ticket,
                satisfaction=form.cleaned_data["satisfaction"],
                note=form.cleaned_data["note"],
            )
    else:
        raise Http404(_("没有这个操作"))
    if form.is_valid():
        done = _apply(request, form, call)
        if done is not None:
            messages.success(request, _("已完成：%(a)s") % {"a": services.ACTION_LABELS[action]})
            return redirect("hotline:ticket_detail", number=ticket.number)
    ticket = _ticket_or_404(request, number)
    return _ticket_page(request, ticket, forms={action: form})


# --- department queue and supervisor board --------------------------------------------------


@login_required
@require_GET
def department_queue(request: HttpRequest) -> HttpResponse:
    departments = selectors.staff_departments(request.user)
    if not departments.exists():
        raise PageForbidden(_("只有部门工作人员可以查看部门工单"))
    rows = selectors.department_queue(request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/queue.html",
        {"page": page, "rows": page.object_list, "departments": departments[:20]},
    )


def _date_param(request: HttpRequest, name: str) -> dt.date | None:
    raw = request.GET.get(name, "")
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@login_required
@require_GET
def supervisor_board(request: HttpRequest) -> HttpResponse:
    regions = selectors.supervisor_regions(request.user)
    if not regions:
        raise PageForbidden(_("只有监督员可以查看监督看板"))
    chosen = next((r for r in regions if r.code == request.GET.get("region")), regions[0])
    try:
        board = selectors.supervisor_board(
            request.user,
            region=chosen,
            since=_date_param(request, "since"),
            until=_date_param(request, "until"),
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        board = selectors.supervisor_board(request.user, region=chosen)
    return render(
        request, "hotline/board.html", {"board": board, "regions": regions, "chosen": chosen}
    )


# --- a person's own tickets -----------------------------------------------------------------


def _counties():
    return Region.objects.filter(level=RegionLevel.COUNTY).order_by("code")


@login_required
@require_GET
def my_tickets(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.tickets_of_person(request.user), 20).get_page(
        request.GET.get("page")
    )
    return render(request, "hotline/my_tickets.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def my_ticket_new(request: HttpRequest) -> HttpResponse:
    form = OnlineForm(
        request.POST or None, regions=_counties(), categories=selectors.ticket_categories()
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ticket = _apply(
            request,
            form,
            lambda: services.ticket_submit_online(
                actor=request.user,
                region=data["region"],
                category=data["category"],
                description=data["description"],
                caller_phone=data["caller_phone"],
                title=data["title"],
                address=data["address"],
            ),
        )
        if ticket is not None:
            messages.success(
                request, _("已提交，工单编号%(n)s，办理进度会短信通知您") % {"n": ticket.number}
            )
            return redirect("hotline:ticket_detail", number=ticket.number)
    return render(request, "hotline/my_ticket_new.html", {"form": form})


# --- curators: knowledge entries and synonyms -----------------------------------------------


def _curator_scope(request: HttpRequest):
    regions, departments = selectors.curator_choices(request.user)
    if not regions.exists():
        raise PageForbidden(_("只有12345话务员或部门管理员可以维护知识库"))
    return regions, departments


@login_required
@require_GET
def knowledge_manage(request: HttpRequest) -> HttpResponse:
    _curator_scope(request)
    status = request.GET.get("status", "")
    if status not in KnowledgeStatus.values:
        status = ""
    text = request.GET.get("text", "")[:50]
    entries = selectors.knowledge_entries_for_curator(request.user, status=status, text=text)
    page = Paginator(entries, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/knowledge_manage.html",
        {"page": page, "status": status, "text": text, "statuses": KnowledgeStatus.choices},
    )


@login_required
@require_http_methods(["GET", "POST"])
def knowledge_edit(request: HttpRequest, entry_id: int | None = None) -> HttpResponse:
    regions, departments = _curator_scope(request)
    entry = None
    initial = {}
    if entry_id is not None:
        entry = selectors.knowledge_entries_for_curator(request.user).filter(pk=entry_id).first()
        if entry is None:
            raise Http404(_("知识库条目不存在"))
        initial = {
            "region": entry.region,
            "department": entry.department,
            "question": entry.question,
            "answer": entry.answer,
            "tags": ", ".join(entry.tags),
            "valid_from": entry.valid_from,
            "valid_until": entry.valid_until,
        }
    form = KnowledgeEntryForm(
        request.POST or None, initial=initial, regions=regions, departments=departments
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if entry is None:
            saved = _apply(
                request,
                form,
                lambda: services.knowledge_entry_create(
                    actor=request.user,
                    region=data["region"],
                    department=data["department"],
                    question=data["question"],
                    answer=data["answer"],
                    tags=form.tag_list(),
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                    publish="publish" in request.POST,
                ),
            )
        else:
            saved = _apply(
                request,
                form,
                lambda: services.knowledge_entry_update(
                    actor=request.user,
                    entry=entry,
                    department=data["department"],
                    question=data["question"],
                    answer=data["answer"],
                    tags=form.tag_list(),
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                ),
            )
        if saved is not None:
            messages.success(request, _("已保存"))
            return redirect("hotline:knowledge_edit", entry_id=saved.pk)
    return render(request, "hotline/knowledge_edit.html", {"form": form, "entry": entry})


@login_required
@require_POST
def knowledge_status(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.knowledge_entries_for_curator(request.user).filter(pk=entry_id).first()
    if entry is None:
        raise Http404(_("知识库条目不存在"))
    publish = request.POST.get("status") == KnowledgeStatus.PUBLISHED
    service = services.knowledge_entry_publish if publish else services.knowledge_entry_unpublish
    try:
        service(actor=request.user, entry=entry)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已发布") if publish else _("已撤回为草稿"))
    return redirect("hotline:knowledge_edit", entry_id=entry.pk)


@login_required
@require_http_methods(["GET", "POST"])
def synonyms(request: HttpRequest, group_id: int | None = None) -> HttpResponse:
    if not services.can_edit_synonyms(request.user):
        raise PageForbidden(_("只有12345话务员可以维护同义词"))
    group = SynonymGroup.objects.filter(pk=group_id).first() if group_id else None
    if group_id and group is None:
        raise Http404(_("同义词组不存在"))
    initial = {"name": group.name, "terms": "，".join(group.terms)} if group else {}
    form = SynonymForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if "delete" in request.POST and group is not None:
            try:
                services.synonym_group_delete(actor=request.user, group=group)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("已删除同义词组"))
            return redirect("hotline:synonyms")
        if form.is_valid():
            if group is None:
                saved = _apply(
                    request,
                    form,
                    lambda: services.synonym_group_create(
                        actor=request.user,
                        name=form.cleaned_data["name"],
                        terms=form.term_list(),
                    ),
                )
            else:
                saved = _apply(
                    request,
                    form,
                    lambda: services.synonym_group_update(
                        actor=request.user,
                        group=group,
                        name=form.cleaned_data["name"],
                        terms=form.term_list(),
                    ),
                )
            if saved is not None:
                messages.success(request, _("已保存同义词组"))
                return redirect("hotline:synonyms")
    return render(
        request,
        "hotline/synonyms.html",
        {"form": form, "group": group, "groups": selectors.synonym_groups()},
    )
