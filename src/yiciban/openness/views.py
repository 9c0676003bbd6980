"""Pages of government openness: the public portal (by level, region and column), article
pages, search, each service point's openness corner, the hall display screen, the
bulletin-board print sheet, subscriptions, disclosure requests and the suggestion box; and a
small staff workbench to draft, review, publish and withdraw, and to handle requests. As
thin as the API: parse, call a selector or service, render."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiciban.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from yiciban.org.models import RegionLevel

from . import access, forms, selectors, services
from .models import (
    BASIC_COLUMN_KINDS,
    Article,
    ArticleStatus,
    Column,
    DisclosureStatus,
    SuggestionChannel,
)

PAGE_SIZE = 20


def _http_errors(view):
    """Unknown things are 404 pages and forbidden ones 403 pages, as for any Django view."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None
        except PermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from None

    return wrapped


def _form_errors(form, error: DomainError) -> None:
    if isinstance(error, ValidationFailed) and error.errors:
        for field_error in error.errors:
            name = field_error.field.split(".")[0]
            form.add_error(name if name in form.fields else None, field_error.message)
    else:
        form.add_error(None, error.message)


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- portal ---------------------------------------------------------------------------------


@_http_errors
def portal(request):
    counties = selectors.portal_regions(level=RegionLevel.COUNTY)
    latest = selectors.articles_feed()[:10]
    return render(request, "openness/portal.html", {"counties": counties, "latest": latest})


@_http_errors
def region_portal(request, code):
    region = selectors.region_get(code)
    columns = list(selectors.columns_of(region))
    for column in columns:
        column.latest = list(selectors.column_articles(column)[:5])
    return render(
        request,
        "openness/region.html",
        {
            "region": region,
            "ancestors": selectors.region_ancestors(region),
            "columns": columns,
            "children": selectors.portal_regions(parent=region),
            "points": selectors.service_points_of(region),
            "interpretations": selectors.articles_feed(region=region, kind="interpretation")[:5],
        },
    )


@_http_errors
def column_page(request, code, kind):
    region = selectors.region_get(code)
    column = selectors.column_get(region, kind)
    return render(
        request,
        "openness/column.html",
        {
            "region": region,
            "ancestors": selectors.region_ancestors(region),
            "column": column,
            "page_obj": _page(request, selectors.column_articles(column)),
        },
    )


@_http_errors
def article_page(request, pk):
    article = selectors.article_public_get(pk)
    return render(
        request,
        "openness/article.html",
        {
            "article": article,
            "ancestors": [*selectors.region_ancestors(article.region), article.region],
            "interpretations": selectors.interpretations_of(article),
            "policy": selectors.public_articles().filter(pk=article.interprets_id).first()
            if article.interprets_id
            else None,
            "attachments": article.attachments.all(),
        },
    )


@_http_errors
def search_page(request):
    form = forms.SearchForm(request.GET or None)
    region = result = page_number = has_next = None
    status = 200
    try:
        if request.GET.get("region"):
            region = selectors.region_get(request.GET["region"])
        if form.is_valid():
            try:
                page_number = max(1, int(request.GET.get("page", "1")))
            except ValueError:
                page_number = 1
            result = selectors.search_page_rows(
                form.cleaned_data["q"],
                region=region,
                column_kind=request.GET.get("column") or None,
                limit=PAGE_SIZE,
                offset=(page_number - 1) * PAGE_SIZE,
            )
            has_next = page_number * PAGE_SIZE < result.count
    except ValidationFailed as error:  # a malformed region code or an unknown column
        form.is_valid()  # bound or not, the form shows the error
        _form_errors(form, error)
        result, status = None, 400
    return render(
        request,
        "openness/search.html",
        {
            "form": form,
            "result": result,
            "region": region,
            "page_number": page_number,
            "has_next": has_next,
            "search_cache_seconds": selectors.search_cache_seconds(),
        },
        status=status,
    )


@_http_errors
def board(request, code):
    """The bulletin-board sheet (一栏): the five columns of a place, current items, laid out
    for printing on A3 and posting."""
    region = selectors.region_get(code)
    sections = []
    for column in selectors.columns_of(region).filter(kind__in=BASIC_COLUMN_KINDS):
        sections.append((column, list(selectors.column_articles(column)[:6])))
    return render(
        request,
        "openness/board.html",
        {"region": region, "sections": sections, "printed_on": timezone.localdate()},
    )


@_http_errors
def point_page(request, code):
    point = selectors.service_point_get(code)
    region = point.region
    return render(
        request,
        "openness/point.html",
        {
            "point": point,
            "region": region,
            "columns": selectors.columns_of(region),
            "latest": selectors.articles_feed().filter(region__code__in=region.ancestor_codes)[:10],
            "answered": selectors.suggestions_published(point=point)[:5],
            "form": forms.SuggestionForm(),
        },
    )


@_http_errors
def screen(request, code):
    """The full-screen hall display. Standalone (no site header): it runs unattended on a
    screen. The first playlist is embedded, so it shows at once; screen.js refreshes it."""
    point = selectors.service_point_get(code)
    playlist = selectors.screen_playlist(point)
    return render(
        request,
        "openness/screen.html",
        {"point": point, "playlist": playlist},
    )


# --- subscriptions --------------------------------------------------------------------------


@_http_errors
@require_http_methods(["GET", "POST"])
def subscribe(request, code):
    region = selectors.region_get(code)
    columns = list(selectors.columns_of(region))
    form = forms.SubscribeForm(request.POST or None, columns=columns)
    if request.method == "POST" and form.is_valid():
        chosen = [c for c in columns if c.kind in form.cleaned_data["columns"]]
        try:
            result = services.subscription_request(
                actor=request.user if request.user.is_authenticated else None,
                region=region,
                columns=chosen,
                channel=form.cleaned_data["channel"],
                address=form.cleaned_data["address"],
            )
        except DomainError as error:
            _form_errors(form, error)
        else:
            return redirect("openness:subscription_confirm_code", pk=result.subscription.pk)
    return render(request, "openness/subscribe.html", {"region": region, "form": form})


@_http_errors
@require_http_methods(["GET", "POST"])
def subscription_confirm_code(request, pk):
    form = forms.ConfirmCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.subscription_confirm(subscription_id=pk, code=form.cleaned_data["code"])
        except DomainError as error:
            _form_errors(form, error)
        else:
            return render(request, "openness/subscription_done.html", {"confirmed": True})
    return render(request, "openness/subscription_confirm.html", {"form": form, "by_code": True})


@_http_errors
@require_http_methods(["GET", "POST"])
def subscription_confirm_link(request, token):
    # GET only shows a button: mail scanners that follow links must not confirm for people.
    if request.method == "POST":
        services.subscription_confirm(token=token)
        return render(request, "openness/subscription_done.html", {"confirmed": True})
    return render(request, "openness/subscription_confirm.html", {"by_code": False})


@_http_errors
@require_http_methods(["GET", "POST"])
def unsubscribe(request, pk, signature):
    if request.method == "POST":
        services.subscription_end(subscription_id=pk, signature=signature)
        return render(request, "openness/subscription_done.html", {"confirmed": False})
    return render(request, "openness/unsubscribe.html", {})


# --- disclosure requests ----------------------------------------------------------------------


@_http_errors
@require_http_methods(["GET", "POST"])
def disclosure_form(request):
    within = selectors.region_get(request.GET["region"]) if request.GET.get("region") else None
    regions = selectors.disclosure_regions(within)
    form = forms.DisclosureForm(
        request.POST or None,
        regions=regions,
        initial={"region": within.code if within else ""},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            filed = services.disclosure_request_file(
                actor=request.user if request.user.is_authenticated else None,
                region=selectors.region_get(data["region"]),
                requester_category=data["requester_category"],
                requester_name=data["requester_name"],
                id_number=data["id_number"],
                contact_name=data["contact_name"],
                phone=data["phone"],
                email=data["email"],
                address=data["address"],
                description=data["description"],
                delivery_method=data["delivery_method"],
            )
        except DomainError as error:
            _form_errors(form, error)
        else:
            return render(
                request,
                "openness/disclosure_filed.html",
                {
                    "request_obj": filed.request,
                    "query_code": filed.query_code,
                    "deadline": selectors.disclosure_deadline(filed.request),
                },
            )
    return render(request, "openness/disclosure_form.html", {"form": form})


@_http_errors
@require_http_methods(["GET", "POST"])
def disclosure_status(request):
    data = request.POST if request.method == "POST" else request.GET
    form = forms.DisclosureLookupForm(data if data.get("number") else None)
    found = None
    correction_form = None
    if form.is_valid():
        try:
            found = selectors.disclosure_request_for_requester(
                form.cleaned_data["number"], form.cleaned_data["query_code"]
            )
        except NotFound as error:
            form.add_error(None, error.message)
    if found is not None and found.status == DisclosureStatus.CORRECTION_REQUESTED:
        correction_form = forms.RequesterCorrectionForm(
            request.POST if request.method == "POST" else None,
            initial={"description": found.description},
        )
        if request.method == "POST" and correction_form.is_valid():
            try:
                found = services.disclosure_request_correct(
                    request=found,
                    description=correction_form.cleaned_data["description"],
                    query_code=form.cleaned_data["query_code"],
                )
            except DomainError as error:
                _form_errors(correction_form, error)
            else:
                messages.success(request, _("补正已提交，答复期限自今日起重新计算。"))
                correction_form = None
    return render(
        request,
        "openness/disclosure_status.html",
        {
            "form": form,
            "found": found,
            "deadline": selectors.disclosure_deadline(found) if found else None,
            "correction_form": correction_form,
        },
    )


@_http_errors
def disclosure_statistics(request):
    year = request.GET.get("year") or str(timezone.localdate().year)
    code = request.GET.get("region") or ""
    form = forms.StatisticsForm({"year": year, "region": code} if code else None)
    table = None
    if form.is_valid():
        try:
            table = selectors.disclosure_statistics(
                year=form.cleaned_data["year"], region=selectors.region_get(code)
            )
        except ValidationFailed as error:
            _form_errors(form, error)
    return render(
        request,
        "openness/disclosure_statistics.html",
        {
            "form": form,
            "table": table,
            "rows": [
                (row, [row.values[key] if row.values else "" for key, _label in table.columns])
                for row in table.rows
            ]
            if table
            else [],
            "counties": selectors.portal_regions(level="county"),
        },
    )


# --- suggestion box ----------------------------------------------------------------------------


@_http_errors
@require_http_methods(["GET", "POST"])
def suggestions(request):
    point = selectors.service_point_get(request.GET["point"]) if request.GET.get("point") else None
    region = (
        point.region
        if point
        else selectors.region_get(request.GET["region"])
        if request.GET.get("region")
        else None
    )
    form = forms.SuggestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            suggestion = services.suggestion_submit(
                actor=request.user if request.user.is_authenticated else None,
                content=data["content"],
                region=region,
                service_point=point,
                channel=SuggestionChannel.BOX if point else SuggestionChannel.ONLINE,
                suggester_name=data["suggester_name"],
                contact=data["contact"],
                publish_consent=data["publish_consent"],
            )
        except DomainError as error:
            _form_errors(form, error)
        else:
            return render(
                request,
                "openness/suggestion_filed.html",
                {"suggestion": suggestion, "deadline": selectors.suggestion_deadline(suggestion)},
            )
    return render(
        request,
        "openness/suggestions.html",
        {
            "form": form,
            "point": point,
            "region": region,
            "page_obj": _page(request, selectors.suggestions_published(region=region, point=point)),
        },
    )


# --- staff workbench ---------------------------------------------------------------------------


@login_required
@_http_errors
def staff_index(request):
    status = request.GET.get("status") or None
    if status not in (None, *ArticleStatus.values):
        status = None
    return render(
        request,
        "openness/staff/index.html",
        {
            "status": status,
            "statuses": ArticleStatus.choices,
            "page_obj": _page(request, selectors.articles_for_staff(request.user, status=status)),
            "requests": selectors.disclosure_requests_for_staff(request.user).exclude(
                status__in=[DisclosureStatus.ANSWERED, DisclosureStatus.ABANDONED]
            )[:20],
            "suggestions": selectors.suggestions_for_staff(request.user, status="received")[:20],
        },
    )


def _editable_columns(user):
    return (
        Column.objects.filter(is_active=True)
        .filter(access.staff_region_filter(user))
        .select_related("region")
        .order_by("region__code", "position")
    )


@login_required
@_http_errors
@require_http_methods(["GET", "POST"])
def staff_article_new(request):
    columns = _editable_columns(request.user)
    if request.GET.get("region"):
        columns = columns.filter(region__code=request.GET["region"])
    columns = list(columns[:300])
    form = forms.ArticleForm(request.POST or None, columns=columns)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            article = services.article_create(
                actor=request.user,
                column=Column.objects.select_related("region").get(pk=int(data["column"])),
                title=data["title"],
                body=data["body"],
                body_format=data["body_format"],
                kind=data["kind"],
                summary=data["summary"],
                document_number=data["document_number"],
                issuing_body=data["issuing_body"],
                interprets=Article.objects.filter(pk=data["interprets"]).first()
                if data["interprets"]
                else None,
                show_on_screen=data["show_on_screen"],
            )
        except DomainError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("草稿已保存。"))
            return redirect("openness:staff_article", pk=article.pk)
    return render(request, "openness/staff/article_form.html", {"form": form})


# Each action's form and service; the page sends the version it showed, so a reviewer who
# approves what another has just withdrawn gets a conflict, not a surprise.
STAFF_ACTIONS = {
    "submit": (
        None,
        lambda user, article, data, version: services.article_submit(
            actor=user, article=article, expected_version=version
        ),
    ),
    "approve": (
        forms.ApproveForm,
        lambda user, article, data, version: services.article_approve(
            actor=user,
            article=article,
            publish_at=data["publish_at"],
            comment=data["comment"],
            expected_version=version,
        ),
    ),
    "return": (
        forms.ReturnForm,
        lambda user, article, data, version: services.article_return(
            actor=user, article=article, comment=data["comment"], expected_version=version
        ),
    ),
    "withdraw": (
        forms.WithdrawForm,
        lambda user, article, data, version: services.article_withdraw(
            actor=user,
            article=article,
            reason=data["reason"],
            at=data["at"],
            expected_version=version,
        ),
    ),
}


@login_required
@_http_errors
@require_http_methods(["GET", "POST"])
def staff_article(request, pk):
    article = selectors.article_for_staff(request.user, pk)
    bound = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in STAFF_ACTIONS:
            raise Http404
        form_class, run = STAFF_ACTIONS[action]
        form = form_class(request.POST) if form_class else None
        if form is None or form.is_valid():
            version = request.POST.get("version", "")
            try:
                run(
                    request.user,
                    article,
                    form.cleaned_data if form else {},
                    int(version) if version.isdigit() else None,
                )
            except DomainError as error:
                messages.error(request, error.message)
                if form is not None:
                    _form_errors(form, error)
                    bound[action] = form
            else:
                messages.success(request, _("操作成功。"))
                return redirect("openness:staff_article", pk=pk)
        else:
            bound[action] = form
    return render(
        request,
        "openness/staff/article.html",
        {
            "article": article,
            "history": selectors.article_history(article),
            "approve_form": bound.get("approve", forms.ApproveForm()),
            "return_form": bound.get("return", forms.ReturnForm()),
            "withdraw_form": bound.get("withdraw", forms.WithdrawForm()),
        },
    )


DISCLOSURE_ACTIONS = {
    "correction": (
        forms.CorrectionForm,
        lambda user, req, data: services.disclosure_request_ask_correction(
            actor=user,
            request=req,
            items=[line for line in data["items"].splitlines() if line.strip()],
            correction_days=data["correction_days"],
        ),
    ),
    "consult": (
        forms.ConsultationForm,
        lambda user, req, data: services.disclosure_consultation_start(
            actor=user, request=req, party_kind=data["party_kind"], party_name=data["party_name"]
        ),
    ),
    "end_consultation": (
        None,
        lambda user, req, data: services.disclosure_consultation_end(actor=user, request=req),
    ),
    "extend": (
        forms.ExtensionForm,
        lambda user, req, data: services.disclosure_request_extend(
            actor=user, request=req, days=data["days"], reason=data["reason"]
        ),
    ),
    "answer": (
        forms.AnswerForm,
        lambda user, req, data: services.disclosure_request_answer(
            actor=user,
            request=req,
            answer_type=data["answer_type"],
            answer_reason=data["answer_reason"],
            answer_text=data["answer_text"],
        ),
    ),
    "abandon": (
        None,
        lambda user, req, data: services.disclosure_request_abandon(actor=user, request=req),
    ),
}


@login_required
@_http_errors
@require_http_methods(["GET", "POST"])
def staff_disclosure(request, number):
    found = selectors.disclosure_request_for_staff(request.user, number)
    bound = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in DISCLOSURE_ACTIONS:
            raise Http404
        form_class, run = DISCLOSURE_ACTIONS[action]
        form = form_class(request.POST) if form_class else None
        if form is None or form.is_valid():
            try:
                run(request.user, found, form.cleaned_data if form else {})
            except DomainError as error:
                messages.error(request, error.message)
                if form is not None:
                    _form_errors(form, error)
                    bound[action] = form
            else:
                messages.success(request, _("操作成功。"))
                return redirect("openness:staff_disclosure", number=number)
        else:
            bound[action] = form
    return render(
        request,
        "openness/staff/disclosure.html",
        {
            "found": found,
            "deadline": selectors.disclosure_deadline(found),
            "forms": {
                name: bound.get(name, form_class())
                for name, (form_class, _run) in DISCLOSURE_ACTIONS.items()
                if form_class
            },
        },
    )


@login_required
@_http_errors
@require_http_methods(["GET", "POST"])
def staff_suggestion(request, number):
    suggestion = selectors.suggestion_for_staff(request.user, number)
    form = forms.SuggestionAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.suggestion_answer(
                actor=request.user,
                suggestion=suggestion,
                answer_text=form.cleaned_data["answer_text"],
            )
        except DomainError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("已答复。"))
            return redirect("openness:staff_suggestion", number=number)
    return render(
        request,
        "openness/staff/suggestion.html",
        {
            "suggestion": suggestion,
            "deadline": selectors.suggestion_deadline(suggestion),
            "form": form,
        },
    )
