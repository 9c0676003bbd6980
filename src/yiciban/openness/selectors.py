"""Reads of the openness app, already filtered by who may see what: the public sees only
articles whose publication time has come and that are not withdrawn; staff see the work of
the regions their roles cover."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiciban.core.crypto import blind_index
from yiciban.core.deadlines import Clock, DeadlineStatus, Suspension
from yiciban.core.errors import NotFound, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.org.models import Region, RegionLevel, Role, ServicePoint
from yiciban.org.selectors import (
    has_role,
    is_platform_admin,
    region_by_code,
    role_assignments_for,
)

from . import access, search
from .models import (
    PUBLIC_STATUSES,
    REASONS_BY_ANSWER,
    AnswerReason,
    AnswerType,
    Article,
    ArticleKind,
    Column,
    ColumnKind,
    DisclosureRequest,
    DisclosureStatus,
    DisplayScreen,
    RequesterCategory,
    SearchIndexStats,
    Suggestion,
    SuggestionStatus,
)
from .text import excerpt, plain_text, query_terms

# --- regions and columns ------------------------------------------------------------------


def region_get(code: str, *, field: str = "region") -> Region:
    return region_by_code(code, field=field)


def columns_of(region: Region) -> QuerySet[Column]:
    return Column.objects.filter(region=region, is_active=True).select_related("region")


def column_get(region: Region, kind: str) -> Column:
    if kind not in ColumnKind.values:
        raise NotFound(_("栏目不存在"), code="column_not_found")
    column = columns_of(region).filter(kind=kind).first()
    if column is None:
        raise NotFound(_("%(r)s没有该栏目") % {"r": region.name}, code="column_not_found")
    return column


def child_regions(region: Region) -> QuerySet[Region]:
    return Region.objects.filter(parent=region).order_by("code")


# --- public articles --------------------------------------------------------------------


def public_articles(*, now: dt.datetime | None = None) -> QuerySet[Article]:
    """Articles the public may read now. Visibility follows the scheduled times directly,
    so an article appears at its publication time and disappears at its withdrawal time
    whether or not the schedule runner has recorded the transition yet."""
    now = now or timezone.now()
    return (
        Article.objects.filter(status__in=PUBLIC_STATUSES, publish_at__lte=now)
        .filter(Q(withdraw_at__isnull=True) | Q(withdraw_at__gt=now))
        .select_related("column", "region", "interprets")
    )


def _scoped(
    articles: QuerySet[Article],
    *,
    region: Region | None = None,
    level: str | None = None,
    column_kind: str | None = None,
    kind: str | None = None,
    since: dt.datetime | None = None,
) -> QuerySet[Article]:
    if region is not None:
        articles = articles.filter(region__path__startswith=region.path)
    if level:
        if level not in RegionLevel.values:
            raise ValidationFailed.on_field(
                "level", "choice", _("未知的层级：%(l)s") % {"l": level}
            )
        articles = articles.filter(region__level=level)
    if column_kind:
        if column_kind not in ColumnKind.values:
            raise ValidationFailed.on_field("column", "choice", _("未知的栏目类别"))
        articles = articles.filter(column__kind=column_kind)
    if kind:
        if kind not in ArticleKind.values:
            raise ValidationFailed.on_field("kind", "choice", _("未知的信息类型"))
        articles = articles.filter(kind=kind)
    if since is not None:
        articles = articles.filter(publish_at__gte=since)
    return articles


def articles_feed(
    *,
    region: Region | None = None,
    level: str | None = None,
    column_kind: str | None = None,
    kind: str | None = None,
    since: dt.datetime | None = None,
) -> QuerySet[Article]:
    """Published articles, newest first: of `region` and everything inside it, of one
    level, one column kind, published at or after `since`."""
    return _scoped(
        public_articles(),
        region=region,
        level=level,
        column_kind=column_kind,
        kind=kind,
        since=since,
    ).order_by("-publish_at", "-id")


def column_articles(column: Column) -> QuerySet[Article]:
    return public_articles().filter(column=column).order_by("-publish_at", "-id")


def article_public_get(pk: int) -> Article:
    article = public_articles().filter(pk=pk).first()
    if article is None:
        raise NotFound(_("信息不存在或已撤回"), code="article_not_found")
    return article


def interpretations_of(article: Article) -> QuerySet[Article]:
    return public_articles().filter(interprets=article).order_by("-publish_at")


@dataclass(frozen=True)
class SearchResult:
    article: Article
    score: float
    excerpt: str


@dataclass(frozen=True)
class SearchPage:
    count: int
    results: list[SearchResult]
    terms: list[str]


def articles_search(
    query: str,
    *,
    region: Region | None = None,
    level: str | None = None,
    column_kind: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    query = (query or "").strip()
    if len(query) > 100:
        raise ValidationFailed.on_field("q", "max_length", _("搜索词不能超过100个字符"))
    articles = _scoped(public_articles(), region=region, level=level, column_kind=column_kind)
    ranked = search.rank(articles, query, limit=limit, offset=offset)
    return SearchPage(
        count=ranked.count,
        results=[
            SearchResult(
                article=hit.article,
                score=hit.score,
                excerpt=excerpt(
                    hit.article.summary or plain_text(hit.article.body_html), ranked.terms
                ),
            )
            for hit in ranked.hits
        ],
        terms=ranked.terms,
    )


@dataclass(frozen=True)
class SearchRow:
    """One result as the portal's search page shows it: plain values, computed once."""

    url: str
    title: str
    region: str
    column: str
    date: str  # publication day, local time, YYYY-MM-DD
    excerpt: str


@dataclass(frozen=True)
class SearchRows:
    count: int
    rows: list[SearchRow]
    # Names this computation of the page ("" when not cached): the template keeps its
    # rendered list under it, so a recomputed page (expired or evicted) is rendered afresh.
    stamp: str = ""


# An article id no database will reach: reversed once, then replaced by each result's id.
_URL_MARK = 987654321987


def search_page_rows(
    query: str,
    *,
    region: Region | None = None,
    column_kind: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchRows:
    """The page of the portal's search (what articles_search ranks, the same order, count
    and excerpts), as display rows, from a result cache when this page was asked for since
    the index last changed. The cache key is the query's terms (queries with the same terms
    rank the same), the scope and the page, and the index revision (search.touch: any
    article written, published or withdrawn); entries live OPENNESS_SEARCH_CACHE_SECONDS
    (30 s by default), because scheduled publication and withdrawal times pass without a
    write. Rows hold stored names only, no translated text, so they serve every language."""
    query = (query or "").strip()
    if len(query) > 100:
        raise ValidationFailed.on_field("q", "max_length", _("搜索词不能超过100个字符"))
    terms = query_terms(query)
    if not terms:
        _scoped(public_articles(), region=region, column_kind=column_kind)  # checks the scope
        return SearchRows(count=0, rows=[])
    stats = _index_stats()
    key = ""
    if stats is not None:
        scope = [region.path if region else "", column_kind or ""]
        place = [get_script_prefix(), timezone.get_current_timezone_name()]
        raw = json.dumps([stats.revision, terms, scope, limit, offset, place])
        key = "openness:search:" + hashlib.sha256(raw.encode()).hexdigest()
        cached = cache.get(key)
        if cached is not None:
            return cached  # a bad scope is never cached: it raises below
    articles = _scoped(public_articles(), region=region, column_kind=column_kind)
    page = search.rank_ids(articles, terms, limit=limit, offset=offset, stats=stats)
    ids = [article_id for article_id, _score in page.hits]
    found = _display_columns(ids)
    pattern = reverse("openness:article", args=[_URL_MARK])
    mark = str(_URL_MARK)
    result = SearchRows(
        stamp=f"{key}:{secrets.token_hex(8)}" if key else "",
        count=page.count,
        rows=[
            SearchRow(
                url=pattern.replace(mark, str(article_id)),
                title=row["title"],
                region=row["region__name"],
                column=row["column__name"],
                date=timezone.localtime(row["publish_at"]).strftime("%Y-%m-%d"),
                excerpt=excerpt(row["summary"] or plain_text(row["body_html"]), terms),
            )
            for article_id in ids
            if (row := found.get(article_id)) is not None
        ],
    )
    if key:
        cache.set(key, result, search_cache_seconds())
    return result


def _display_columns(ids: list[int]) -> dict[int, dict]:
    """What a result row shows, for the ranked page's ids, in one plain statement (the ORM's
    query building and row conversion cost as much CPU as the ranking itself). The body is
    read only for articles without a summary, the only ones whose excerpt comes from it."""
    if not ids:
        return {}
    q = connection.ops.quote_name
    meta = Article._meta
    region_meta = meta.get_field("region").related_model._meta
    column_meta = meta.get_field("column").related_model._meta
    sql = (
        f"SELECT a.{q(meta.pk.column)}, a.{q('title')}, a.{q('summary')}, "
        f"CASE WHEN a.{q('summary')} = '' THEN a.{q('body_html')} ELSE '' END, "
        f"a.{q(meta.get_field('publish_at').column)}, r.{q('name')}, c.{q('name')} "
        f"FROM {q(meta.db_table)} a "
        f"JOIN {q(region_meta.db_table)} r ON r.{q(region_meta.pk.column)} = "
        f"a.{q(meta.get_field('region').column)} "
        f"JOIN {q(column_meta.db_table)} c ON c.{q(column_meta.pk.column)} = "
        f"a.{q(meta.get_field('column').column)} "
        f"WHERE a.{q(meta.pk.column)} IN ({', '.join(['%s'] * len(ids))})"
    )
    # the backend's own conversion of a stored datetime (SQLite keeps text)
    publish_col = meta.get_field("publish_at").get_col(meta.db_table)
    converters = connection.ops.get_db_converters(publish_col)
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        rows = cursor.fetchall()
    found = {}
    for article_id, title, summary, body_html, publish_at, region_name, column_name in rows:
        for converter in converters:
            publish_at = converter(publish_at, publish_col, connection)
        found[article_id] = {
            "title": title,
            "summary": summary,
            "body_html": body_html,
            "publish_at": publish_at,
            "region__name": region_name,
            "column__name": column_name,
        }
    return found


def _index_stats() -> SearchIndexStats | None:
    """search.index.stats() without the ORM's query building: every search page reads this
    row (its revision keys the result cache), so a cached page's cost is mostly this."""
    table = connection.ops.quote_name(SearchIndexStats._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT document_count, total_length, revision FROM {table} WHERE id = 1")
        row = cursor.fetchone()
    if row is None:
        return None
    stats = SearchIndexStats(id=1, document_count=row[0], total_length=row[1], revision=row[2])
    stats._state.adding = False
    stats._state.db = connection.alias
    return stats


def search_cache_seconds() -> int:
    return settings.YICIBAN.get("OPENNESS_SEARCH_CACHE_SECONDS", 30)


# --- staff articles ---------------------------------------------------------------------


def articles_for_staff(
    user, *, status: str | None = None, region: Region | None = None
) -> QuerySet[Article]:
    """Articles of the regions where the user edits or reviews."""
    articles = Article.objects.filter(access.staff_region_filter(user)).select_related(
        "column", "region", "created_by", "reviewed_by"
    )
    if status:
        articles = articles.filter(status=status)
    if region is not None:
        articles = articles.filter(region__path__startswith=region.path)
    return articles.order_by("-updated_at", "-id")


def article_for_staff(user, pk: int) -> Article:
    article = (
        Article.objects.select_related("column", "region", "interprets", "created_by")
        .filter(pk=pk)
        .first()
    )
    if article is None:
        raise NotFound(_("公开信息不存在"), code="article_not_found")
    if not access.can_edit_or_review(user, article.region):
        raise PermissionDenied(_("没有查看该信息的权限"))
    return article


def article_history(article: Article) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(object_type=article._meta.label_lower, object_id=str(article.pk))
        .select_related("actor")
        .order_by("occurred_at", "id")
    )


# --- hall display screens -----------------------------------------------------------------

SCREEN_TEXT_LIMIT = 600


def service_point_get(code: str) -> ServicePoint:
    point = ServicePoint.objects.select_related("region").filter(code=code, is_active=True).first()
    if point is None:
        raise NotFound(_("服务网点%(c)s不存在") % {"c": code}, code="service_point_not_found")
    return point


def _slide(article: Article, seconds: int | None) -> dict:
    text = article.summary or plain_text(article.body_html)
    if len(text) > SCREEN_TEXT_LIMIT:
        text = text[:SCREEN_TEXT_LIMIT] + "…"
    return {
        "id": article.pk,
        "kind": article.kind,
        "kind_label": str(ArticleKind(article.kind).label),
        "column": article.column.name,
        "region": article.region.name,
        "title": article.title,
        "text": text,
        "date": timezone.localtime(article.publish_at).date().isoformat(),
        "seconds": seconds,
    }


def screen_playlist(point: ServicePoint) -> dict:
    """The rolling playlist of a point's hall screen: the chosen articles that are public
    now, then the newest on-screen articles of the point's region and the regions above
    it, then the point's own service information. Any point has one: without a configured
    screen the defaults apply."""
    screen = DisplayScreen.objects.filter(service_point=point).first()
    title = screen.title if screen else point.name
    slide_seconds = screen.slide_seconds if screen else 15
    refresh_seconds = screen.refresh_seconds if screen else 120
    auto_fill = screen.auto_fill_limit if screen else 10
    visible = public_articles()
    slides: list[dict] = []
    chosen_ids: list[int] = []
    if screen is not None:
        items = list(screen.items.order_by("position", "id").values_list("article_id", "seconds"))
        found = visible.in_bulk([article_id for article_id, _s in items])
        for article_id, seconds in items:
            if article_id in found:
                slides.append(_slide(found[article_id], seconds))
                chosen_ids.append(article_id)
    if auto_fill:
        extra = (
            visible.filter(show_on_screen=True, region__code__in=point.region.ancestor_codes)
            .exclude(pk__in=chosen_ids)
            .order_by("-publish_at", "-id")[:auto_fill]
        )
        slides.extend(_slide(article, None) for article in extra)
    lines = [
        _("地址：%(a)s") % {"a": point.address},
        _("办公时间：%(h)s") % {"h": point.opening_hours},
    ]
    if point.phone:
        lines.append(_("咨询电话：%(p)s") % {"p": point.phone})
    lines.append(_("政务公开专窗提供政府信息查询、依申请公开受理和帮办代办服务。"))
    slides.append(
        {
            "id": None,
            "kind": "service_info",
            "kind_label": str(_("办事服务")),
            "column": str(_("办事服务")),
            "region": point.region.name,
            "title": point.name,
            "text": "\n".join(lines),
            "date": timezone.localdate().isoformat(),
            "seconds": None,
        }
    )
    content = {
        "screen": point.code,
        "title": title,
        "slide_seconds": slide_seconds,
        "refresh_seconds": refresh_seconds,
        "slides": slides,
    }
    # The version lets a screen skip re-rendering an unchanged playlist.
    version = hashlib.sha256(
        json.dumps(content, ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()[:16]
    return {**content, "version": version, "generated_at": timezone.now().isoformat()}


# --- disclosure requests --------------------------------------------------------------------


def query_code_hash(number: str, code: str) -> str:
    return blind_index(f"{number}:{code.strip().upper()}", purpose="openness.disclosure_query")


def query_code_matches(request: DisclosureRequest, code: str) -> bool:
    return bool(code) and secrets.compare_digest(
        request.query_code_hash, query_code_hash(request.number, code)
    )


def disclosure_clock(request: DisclosureRequest) -> Clock:
    return Clock(
        started_on=request.clock_started_on,
        limit=request.limit_days,
        suspensions=[
            Suspension(start=c.started_on, end=c.ended_on) for c in request.consultations.all()
        ],
        extension_days=request.extension_days,
    )


@dataclass(frozen=True)
class Deadline:
    due: dt.date | None
    provisional: bool
    status: str  # normal | warning | overdue | suspended | waiting | done
    remaining: int | None


def disclosure_deadline(request: DisclosureRequest, today: dt.date | None = None) -> Deadline:
    """Where the request stands against its deadline. Waiting for a correction the clock
    does not run (it restarts on the corrected request); once answered it stops."""
    today = today or timezone.localdate()
    if request.status == DisclosureStatus.CORRECTION_REQUESTED:
        return Deadline(due=None, provisional=False, status="waiting", remaining=None)
    clock = disclosure_clock(request)
    if request.status in (DisclosureStatus.ANSWERED, DisclosureStatus.ABANDONED):
        due = clock.due_on(request.answered_on or today)
        return Deadline(due=due.due, provisional=due.provisional, status="done", remaining=None)
    due = clock.due_on(today)
    status = clock.status(today, warning_days=3)
    remaining = None if status == DeadlineStatus.SUSPENDED else clock.remaining(today)
    return Deadline(
        due=due.due, provisional=due.provisional, status=str(status), remaining=remaining
    )


def _disclosure_queryset() -> QuerySet[DisclosureRequest]:
    return DisclosureRequest.objects.select_related(
        "region", "department", "extension_approved_by", "answered_by"
    ).prefetch_related("consultations")


def disclosure_requests_for_staff(
    user, *, status: str | None = None
) -> QuerySet[DisclosureRequest]:
    if is_platform_admin(user):
        requests = _disclosure_queryset()
    else:
        condition = access.covered_region_filter(user, (Role.OPENNESS_EDITOR, Role.SUPERVISOR))
        condition |= Q(
            department__in=[
                a.department_id
                for a in role_assignments_for(user).filter(role=Role.DEPARTMENT_ADMIN)
            ]
        )
        requests = _disclosure_queryset().filter(condition)
    if status:
        if status not in DisclosureStatus.values:
            raise ValidationFailed.on_field("status", "choice", _("未知的状态"))
        requests = requests.filter(status=status)
    return requests.order_by("-received_on", "-id")


def disclosure_request_for_staff(user, number: str) -> DisclosureRequest:
    request = _disclosure_queryset().filter(number=number).first()
    if request is None:
        raise NotFound(_("依申请公开申请不存在"), code="disclosure_not_found")
    if not (
        access.can_handle_disclosure(user, request.region, request.department)
        or has_role(user, Role.SUPERVISOR, region=request.region)
    ):
        raise PermissionDenied(_("没有查看该申请的权限"))
    return request


def disclosure_request_for_requester(number: str, query_code: str) -> DisclosureRequest:
    """The requester's view by number and query code. A wrong code answers exactly like an
    unknown number, so numbers cannot be probed."""
    request = _disclosure_queryset().filter(number=(number or "").strip()).first()
    if request is None or not query_code_matches(request, query_code or ""):
        raise NotFound(_("申请编号或查询码不正确"), code="disclosure_not_found")
    return request


# The annual report table "收到和处理政府信息公开申请情况" (国办公开办函〔2021〕30号 format).
STATISTICS_COLUMNS = [*RequesterCategory.values, "total"]
RESULT_GROUPS = [
    (AnswerType.NOT_DISCLOSED, gettext_lazy("（三）不予公开")),
    (AnswerType.UNABLE_TO_PROVIDE, gettext_lazy("（四）无法提供")),
    (AnswerType.NOT_PROCESSED, gettext_lazy("（五）不予处理")),
    (AnswerType.OTHER, gettext_lazy("（六）其他处理")),
]


@dataclass(frozen=True)
class StatisticsRow:
    key: str
    label: str
    depth: int
    values: dict[str, int] | None  # None: a heading row without figures


@dataclass(frozen=True)
class StatisticsTable:
    year: int
    region: Region
    columns: list[tuple[str, str]]
    rows: list[StatisticsRow]

    def value(self, key: str, column: str = "total") -> int:
        for row in self.rows:
            if row.key == key and row.values is not None:
                return row.values[column]
        raise KeyError(key)


def disclosure_statistics(*, year: int, region: Region) -> StatisticsTable:
    """Requests received, carried over and concluded in `year` within `region` (and the
    places inside it), by requester category and result, as the annual report counts
    them. A request counts as received on its first receipt (a correction does not make it
    new) and as concluded on its answer (or abandonment) date."""
    if not 2008 <= year <= 2100:  # the first Regulations took effect on 2008-05-01
        raise ValidationFailed.on_field("year", "range", _("年份应在2008至2100之间"))
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    rows = (
        DisclosureRequest.objects.filter(
            region__path__startswith=region.path, received_on__lte=last
        )
        .filter(Q(answered_on__isnull=True) | Q(answered_on__gte=first))
        .values_list(
            "requester_category", "received_on", "answered_on", "answer_type", "answer_reason"
        )
    )

    def empty() -> dict[str, int]:
        return dict.fromkeys(STATISTICS_COLUMNS, 0)

    counters: dict[str, dict[str, int]] = {}

    def add(key: str, category: str) -> None:
        bucket = counters.setdefault(key, empty())
        bucket[category] += 1
        bucket["total"] += 1

    for category, received_on, answered_on, answer_type, answer_reason in rows:
        if received_on >= first:
            add("new", category)
        else:
            add("carried_over", category)
        if answered_on is not None and answered_on <= last:
            add(f"result.{answer_type}", category)
            if answer_reason:
                add(f"result.{answer_type}.{answer_reason}", category)
            add("result.total", category)
        else:
            add("carried_forward", category)

    def row(key: str, label: str, depth: int) -> StatisticsRow:
        return StatisticsRow(key=key, label=label, depth=depth, values=counters.get(key, empty()))

    table = [
        row("new", _("一、本年新收政府信息公开申请数量"), 0),
        row("carried_over", _("二、上年结转政府信息公开申请数量"), 0),
        StatisticsRow(key="results", label=_("三、本年度办理结果"), depth=0, values=None),
        row(f"result.{AnswerType.DISCLOSED}", _("（一）予以公开"), 1),
        row(
            f"result.{AnswerType.PARTLY_DISCLOSED}",
            _("（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
            1,
        ),
    ]
    for answer_type, label in RESULT_GROUPS:
        table.append(
            StatisticsRow(key=f"result.{answer_type}", label=str(label), depth=1, values=None)
        )
        for number, reason in enumerate(REASONS_BY_ANSWER[AnswerType(answer_type)], start=1):
            table.append(
                row(
                    f"result.{answer_type}.{reason}",
                    f"{number}.{AnswerReason(reason).label}",
                    2,
                )
            )
    table.append(row("result.total", _("（七）总计"), 1))
    table.append(row("carried_forward", _("四、结转下年度继续办理"), 0))
    columns = [(c, str(RequesterCategory(c).label)) for c in RequesterCategory.values]
    columns.append(("total", str(_("总计"))))
    return StatisticsTable(year=year, region=region, columns=columns, rows=table)


# --- suggestions --------------------------------------------------------------------------


def suggestion_clock(suggestion: Suggestion) -> Clock:
    return Clock(started_on=suggestion.received_on, limit=suggestion.answer_limit_days)


def suggestions_published(
    *, region: Region | None = None, point: ServicePoint | None = None
) -> QuerySet[Suggestion]:
    """Answered suggestions whose authors agreed to publication."""
    suggestions = Suggestion.objects.filter(
        status=SuggestionStatus.ANSWERED, publish_consent=True
    ).select_related("region", "service_point", "department")
    if point is not None:
        suggestions = suggestions.filter(service_point=point)
    elif region is not None:
        suggestions = suggestions.filter(region__path__startswith=region.path)
    return suggestions.order_by("-answered_on", "-id")


def suggestions_for_staff(user, *, status: str | None = None) -> QuerySet[Suggestion]:
    suggestions = Suggestion.objects.select_related("region", "service_point", "department")
    if not is_platform_admin(user):
        condition = access.covered_region_filter(user, (Role.OPENNESS_EDITOR, Role.SUPERVISOR))
        condition |= Q(
            department__in=[
                a.department_id
                for a in role_assignments_for(user).filter(role=Role.DEPARTMENT_ADMIN)
            ]
        )
        suggestions = suggestions.filter(condition)
    if status:
        if status not in SuggestionStatus.values:
            raise ValidationFailed.on_field("status", "choice", _("未知的状态"))
        suggestions = suggestions.filter(status=status)
    return suggestions.order_by("-received_on", "-id")


def suggestion_for_staff(user, number: str) -> Suggestion:
    suggestion = suggestions_for_staff(user).filter(number=number).first()
    if suggestion is None:
        if Suggestion.objects.filter(number=number).exists():
            raise PermissionDenied(_("没有查看该意见建议的权限"))
        raise NotFound(_("意见建议不存在"), code="suggestion_not_found")
    return suggestion


def suggestion_deadline(suggestion: Suggestion, today: dt.date | None = None) -> Deadline:
    today = today or timezone.localdate()
    clock = suggestion_clock(suggestion)
    if suggestion.status == SuggestionStatus.ANSWERED:
        due = clock.due_on(suggestion.answered_on)
        return Deadline(due=due.due, provisional=due.provisional, status="done", remaining=None)
    due = clock.due_on(today)
    return Deadline(
        due=due.due,
        provisional=due.provisional,
        status=str(clock.status(today)),
        remaining=clock.remaining(today),
    )


# --- portal navigation ----------------------------------------------------------------------


def portal_regions(*, level: str | None = None, parent: Region | None = None) -> QuerySet[Region]:
    """Regions that have an openness portal (at least one active column)."""
    regions = Region.objects.filter(
        pk__in=Column.objects.filter(is_active=True).values("region")
    ).order_by("code")
    if level:
        regions = regions.filter(level=level)
    if parent is not None:
        regions = regions.filter(parent=parent)
    return regions


def region_ancestors(region: Region) -> QuerySet[Region]:
    return Region.objects.filter(code__in=region.ancestor_codes[:-1]).order_by("code")


def disclosure_regions(within: Region | None = None) -> QuerySet[Region]:
    """Where a disclosure request can be filed: counties and townships with a portal."""
    regions = portal_regions().filter(level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP])
    if within is not None:
        regions = regions.filter(path__startswith=within.path)
    return regions


def service_points_of(region: Region) -> QuerySet[ServicePoint]:
    return ServicePoint.objects.filter(region=region, is_active=True).order_by("kind", "code")
