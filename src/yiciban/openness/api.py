"""/api/v1/openness — government openness: the public reads (portal feed, search, screen
playlists, disclosure statistics, published suggestion answers) without signing in and may
subscribe, file disclosure requests and leave suggestions; staff writes need a session."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile
from ninja.security import django_auth
from ninja.utils import check_csrf

from yiciban.core.errors import NotFound
from yiciban.org.models import Department

from . import schemas as s
from . import selectors, services
from .models import Article, Column, Suggestion

router = Router(tags=["openness"])


def _public_actor(request: HttpRequest):
    """The signed-in user for a public write, or None. A session without a valid CSRF
    token counts as anonymous, so another site cannot act with a visitor's login."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and check_csrf(request) is None:
        return user
    return None


def _region(code: str | None, field: str = "region"):
    return selectors.region_get(code, field=field) if code else None


def _page(queryset, page: s.PageParams) -> dict:
    return {
        "count": queryset.count(),
        "items": list(queryset[page.offset : page.offset + page.limit]),
    }


def _column(pk: int) -> Column:
    column = Column.objects.select_related("region").filter(pk=pk).first()
    if column is None:
        raise NotFound(_("栏目不存在"), code="column_not_found")
    return column


def _article_ref(pk: int | None) -> Article | None:
    if pk is None:
        return None
    article = Article.objects.select_related("region").filter(pk=pk).first()
    if article is None:
        raise NotFound(_("所解读的政策不存在"), code="article_not_found")
    return article


def _department(pk: int | None) -> Department | None:
    if pk is None:
        return None
    department = Department.objects.select_related("region").filter(pk=pk).first()
    if department is None:
        raise NotFound(_("部门不存在"), code="department_not_found")
    return department


# --- public reads ----------------------------------------------------------------------------


@router.get("/columns", response=s.ColumnPage, summary="区划的公开栏目")
def list_columns(request: HttpRequest, region: str, page: Query[s.PageParams]):
    return _page(selectors.columns_of(selectors.region_get(region)), page)


@router.get("/feed", response=s.ArticlePage, summary="信息流（移动端）")
def feed(request: HttpRequest, params: Query[s.FeedParams]):
    articles = selectors.articles_feed(
        region=_region(params.region),
        level=params.level,
        column_kind=params.column,
        kind=params.kind,
        since=params.since,
    )
    return _page(articles, params)


@router.get("/articles/{int:article_id}", response=s.ArticleOut, summary="公开信息")
def get_article(request: HttpRequest, article_id: int):
    return selectors.article_public_get(article_id)


@router.get("/search", response=s.SearchPageOut, summary="中文全文检索")
def search(request: HttpRequest, params: Query[s.SearchParams]):
    result = selectors.articles_search(
        params.q,
        region=_region(params.region),
        level=params.level,
        column_kind=params.column,
        limit=params.limit,
        offset=params.offset,
    )
    return {"count": result.count, "terms": result.terms, "items": result.results}


@router.get(
    "/screens/{code}/playlist",
    response={200: s.PlaylistOut, 304: None},
    summary="大厅显示屏播放列表",
    description="带 ETag；以 If-None-Match 重新请求时，播放列表未变则返回 304（无正文）。",
    url_name="openness_screen_playlist",
)
def screen_playlist(request: HttpRequest, response: HttpResponse, code: str):
    playlist = selectors.screen_playlist(selectors.service_point_get(code))
    # A screen asks every couple of minutes all day: an unchanged playlist costs headers only.
    etag = f'"{playlist["version"]}"'
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        return HttpResponse(status=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return playlist


@router.get("/disclosure-statistics", response=s.StatisticsOut, summary="依申请公开情况统计")
def disclosure_statistics(request: HttpRequest, params: Query[s.StatisticsParams]):
    table = selectors.disclosure_statistics(
        year=params.year, region=selectors.region_get(params.region)
    )
    return {
        "year": table.year,
        "region": table.region,
        "columns": [{"key": key, "label": label} for key, label in table.columns],
        "rows": table.rows,
    }


@router.get("/suggestions/published", response=s.SuggestionPage, summary="已公开的意见答复")
def published_suggestions(
    request: HttpRequest,
    page: Query[s.PageParams],
    region: str | None = None,
    point: str | None = None,
):
    suggestions = selectors.suggestions_published(
        region=_region(region),
        point=selectors.service_point_get(point) if point else None,
    )
    return _page(suggestions, page)


# --- public writes ---------------------------------------------------------------------------


@router.post("/subscriptions", response={201: s.SubscriptionOut}, summary="订阅栏目（待确认）")
def subscribe(request: HttpRequest, payload: s.SubscriptionIn):
    region = selectors.region_get(payload.region)
    columns = [selectors.column_get(region, kind) for kind in payload.columns]
    result = services.subscription_request(
        actor=_public_actor(request),
        region=region,
        columns=columns,
        channel=payload.channel,
        address=payload.address,
    )
    return Status(201, result.subscription)


@router.post(
    "/subscriptions/{int:subscription_id}/confirm",
    response=s.SubscriptionOut,
    summary="以确认码确认订阅",
)
def confirm_subscription(request: HttpRequest, subscription_id: int, payload: s.ConfirmCodeIn):
    return services.subscription_confirm(subscription_id=subscription_id, code=payload.code)


@router.post("/subscriptions/confirm-link", response=s.SubscriptionOut, summary="以链接确认订阅")
def confirm_subscription_link(request: HttpRequest, payload: s.ConfirmLinkIn):
    return services.subscription_confirm(token=payload.token)


@router.post(
    "/subscriptions/{int:subscription_id}/unsubscribe",
    response=s.SubscriptionOut,
    summary="退订",
)
def unsubscribe(request: HttpRequest, subscription_id: int, payload: s.UnsubscribeIn):
    return services.subscription_end(subscription_id=subscription_id, signature=payload.signature)


@router.post(
    "/disclosure-requests", response={201: s.DisclosureFiledOut}, summary="提交政府信息公开申请"
)
def file_disclosure_request(request: HttpRequest, payload: s.DisclosureIn):
    region = selectors.region_get(payload.region)
    filed = services.disclosure_request_file(
        actor=_public_actor(request),
        region=region,
        department=_department(payload.department_id),
        requester_category=payload.requester_category,
        requester_name=payload.requester_name,
        id_number=payload.id_number,
        contact_name=payload.contact_name,
        phone=payload.phone,
        email=payload.email,
        address=payload.address,
        description=payload.description,
        delivery_method=payload.delivery_method,
        channel=payload.channel,
        received_on=payload.received_on,
    )
    return Status(
        201,
        {
            "number": filed.request.number,
            "query_code": filed.query_code,
            "status": filed.request.status,
            "received_on": filed.request.received_on,
            "deadline": selectors.disclosure_deadline(filed.request).__dict__,
        },
    )


@router.get(
    "/disclosure-requests/{number}/status",
    response=s.DisclosurePublicOut,
    summary="申请人查询办理情况",
)
def disclosure_status(request: HttpRequest, number: str, params: Query[s.RequesterQuery]):
    return selectors.disclosure_request_for_requester(number, params.query_code)


@router.post(
    "/disclosure-requests/{number}/correction-reply",
    response=s.DisclosurePublicOut,
    summary="申请人提交补正",
)
def requester_correction(request: HttpRequest, number: str, payload: s.RequesterCorrectionIn):
    disclosure = selectors.disclosure_request_for_requester(number, payload.query_code)
    return services.disclosure_request_correct(
        actor=_public_actor(request),
        request=disclosure,
        description=payload.description,
        query_code=payload.query_code,
    )


@router.post("/suggestions", response={201: s.SuggestionFiledOut}, summary="提交意见建议")
def submit_suggestion(request: HttpRequest, payload: s.SuggestionIn):
    suggestion = services.suggestion_submit(
        actor=_public_actor(request),
        content=payload.content,
        region=_region(payload.region),
        service_point=selectors.service_point_get(payload.service_point)
        if payload.service_point
        else None,
        department=_department(payload.department_id),
        channel=payload.channel,
        suggester_name=payload.suggester_name,
        contact=payload.contact,
        publish_consent=payload.publish_consent,
    )
    return Status(
        201,
        {
            "number": suggestion.number,
            "status": suggestion.status,
            "received_on": suggestion.received_on,
            "due_on": selectors.suggestion_deadline(suggestion).due,
        },
    )


# --- staff: publishing ---------------------------------------------------------------------


@router.get(
    "/staff/articles", response=s.StaffArticlePage, auth=django_auth, summary="工作台：公开信息"
)
def staff_articles(request: HttpRequest, page: Query[s.StatusParams], region: str | None = None):
    return _page(
        selectors.articles_for_staff(request.auth, status=page.status, region=_region(region)),
        page,
    )


@router.get(
    "/staff/articles/{int:article_id}",
    response=s.StaffArticleOut,
    auth=django_auth,
    summary="工作台：公开信息详情",
)
def staff_article(request: HttpRequest, article_id: int):
    return selectors.article_for_staff(request.auth, article_id)


@router.post(
    "/articles", response={201: s.StaffArticleOut}, auth=django_auth, summary="起草公开信息"
)
def create_article(request: HttpRequest, payload: s.ArticleIn):
    article = services.article_create(
        actor=request.auth,
        column=_column(payload.column_id),
        title=payload.title,
        body=payload.body,
        body_format=payload.body_format,
        kind=payload.kind,
        summary=payload.summary,
        document_number=payload.document_number,
        issuing_body=payload.issuing_body,
        interprets=_article_ref(payload.interprets_id),
        show_on_screen=payload.show_on_screen,
    )
    return Status(201, article)


@router.patch(
    "/articles/{int:article_id}",
    response=s.StaffArticleOut,
    auth=django_auth,
    summary="修改草稿",
)
def update_article(request: HttpRequest, article_id: int, payload: s.ArticlePatch):
    article = selectors.article_for_staff(request.auth, article_id)
    given = payload.dict(exclude_unset=True)
    expected_version = given.pop("version", None)
    if "interprets_id" in given:
        given["interprets"] = _article_ref(given.pop("interprets_id"))
    given = {k: v for k, v in given.items() if v is not None or k == "interprets"}
    return services.article_update(
        actor=request.auth, article=article, expected_version=expected_version, **given
    )


@router.post(
    "/articles/{int:article_id}/submit",
    response=s.StaffArticleOut,
    auth=django_auth,
    summary="提交审核",
)
def submit_article(request: HttpRequest, article_id: int, version: int | None = None):
    article = selectors.article_for_staff(request.auth, article_id)
    return services.article_submit(actor=request.auth, article=article, expected_version=version)


@router.post(
    "/articles/{int:article_id}/approve",
    response=s.StaffArticleOut,
    auth=django_auth,
    summary="审核通过（定时发布）",
)
def approve_article(request: HttpRequest, article_id: int, payload: s.ApproveIn):
    article = selectors.article_for_staff(request.auth, article_id)
    return services.article_approve(
        actor=request.auth,
        article=article,
        publish_at=payload.publish_at,
        comment=payload.comment,
        expected_version=payload.version,
    )


@router.post(
    "/articles/{int:article_id}/return",
    response=s.StaffArticleOut,
    auth=django_auth,
    summary="退回修改",
)
def return_article(request: HttpRequest, article_id: int, payload: s.ReturnIn):
    article = selectors.article_for_staff(request.auth, article_id)
    return services.article_return(
        actor=request.auth,
        article=article,
        comment=payload.comment,
        expected_version=payload.version,
    )


@router.post(
    "/articles/{int:article_id}/withdraw",
    response=s.StaffArticleOut,
    auth=django_auth,
    summary="撤回（可定时）",
)
def withdraw_article(request: HttpRequest, article_id: int, payload: s.WithdrawIn):
    article = selectors.article_for_staff(request.auth, article_id)
    return services.article_withdraw(
        actor=request.auth,
        article=article,
        reason=payload.reason,
        at=payload.at,
        expected_version=payload.version,
    )


@router.post(
    "/articles/{int:article_id}/attachments",
    response={201: s.AttachmentOut},
    auth=django_auth,
    summary="上传附件",
)
def add_attachment(request: HttpRequest, article_id: int, file: File[UploadedFile]):
    article = selectors.article_for_staff(request.auth, article_id)
    return Status(201, services.attachment_add(actor=request.auth, article=article, upload=file))


@router.post("/columns", response={201: s.ColumnOut}, auth=django_auth, summary="新建栏目")
def create_column(request: HttpRequest, payload: s.ColumnIn):
    region = selectors.region_get(payload.region)
    return Status(
        201,
        services.column_create(
            actor=request.auth, region=region, kind=payload.kind, name=payload.name
        ),
    )


@router.put(
    "/publishing-modes/{region_code}",
    response=s.PublishingModeOut,
    auth=django_auth,
    summary="设置乡镇发布模式",
)
def set_publishing_mode(request: HttpRequest, region_code: str, payload: s.PublishingModeIn):
    region = selectors.region_get(region_code)
    return services.publishing_mode_set(actor=request.auth, region=region, mode=payload.mode)


@router.put("/screens/{code}", response=s.PlaylistOut, auth=django_auth, summary="配置大厅显示屏")
def configure_screen(request: HttpRequest, code: str, payload: s.ScreenIn):
    point = selectors.service_point_get(code)
    services.screen_configure(
        actor=request.auth,
        service_point=point,
        title=payload.title,
        article_ids=payload.article_ids,
        slide_seconds=payload.slide_seconds,
        refresh_seconds=payload.refresh_seconds,
        auto_fill_limit=payload.auto_fill_limit,
    )
    return selectors.screen_playlist(point)


# --- staff: disclosure requests ------------------------------------------------------------


@router.get(
    "/staff/disclosure-requests",
    response=s.DisclosureStaffPage,
    auth=django_auth,
    summary="工作台：依申请公开",
)
def staff_disclosure_requests(request: HttpRequest, page: Query[s.StatusParams]):
    return _page(selectors.disclosure_requests_for_staff(request.auth, status=page.status), page)


@router.get(
    "/staff/disclosure-requests/{number}",
    response=s.DisclosureStaffOut,
    auth=django_auth,
    summary="工作台：申请详情",
)
def staff_disclosure_request(request: HttpRequest, number: str):
    return selectors.disclosure_request_for_staff(request.auth, number)


def _staff_request(request: HttpRequest, number: str):
    return selectors.disclosure_request_for_staff(request.auth, number)


@router.post(
    "/disclosure-requests/{number}/correction",
    response=s.DisclosureStaffOut,
    auth=django_auth,
    summary="一次性告知补正",
)
def ask_correction(request: HttpRequest, number: str, payload: s.CorrectionIn):
    return services.disclosure_request_ask_correction(
        actor=request.auth,
        request=_staff_request(request, number),
        items=payload.items,
        correction_days=payload.correction_days,
    )


@router.post(
    "/disclosure-requests/{number}/corrected",
    response=s.DisclosureStaffOut,
    auth=django_auth,
    summary="登记收到补正",
)
def record_correction(request: HttpRequest, number: str, payload: s.StaffCorrectedIn):
    return services.disclosure_request_correct(
        actor=request.auth,
        request=_staff_request(request, number),
        description=payload.description,
        corrected_on=payload.corrected_on,
    )


@router.post(
    "/disclosure-requests/{number}/abandon",
    response=s.DisclosureStaffOut,
    auth=django_auth,
    summary="逾期未补正，视为放弃",
)
def abandon(request: HttpRequest, number: str):
    return services.disclosure_request_abandon(
        actor=request.auth, request=_staff_request(request, number)
    )


@router.post(
    "/disclosure-requests/{number}/consultations",
    response=s.DisclosureStaffOut,
    auth=django_auth,
    summary="征求第三方意见（期限中止）",
)
def start_consultation(request: HttpRequest, number: str, payload: s.ConsultationIn):
    disclosure = _staff_request(request, number)
    services.disclosure_consultation_start(
        actor=request.auth,
        request=disclosure,
        party_kind=payload.party_kind,
        party_name=payload.party_name,
        started_on=payload.started_on,
        note=payload.note,
    )
    return _staff_request(request, number)


@router.post(
    "/disclosure-requests/{number}/consultations/end",
    response=s.DisclosureStaffOut,
    auth=django_auth,
    summary="征求意见结束（期限恢复）",
)
def end_consultation(request: HttpRequest, number: str, payload: s.ConsultationEndIn):
    services.disclosure_consultation_end(
        actor=request.auth, request=_staff_request(request, number), ended_on=payload.ended_on
    )
    return _staff_request(request, number)


@router.post(
    "/disclosure-requests/{number}/extension",
    response=s.DisclosureStaffOut,
    auth=django_auth,
    summary="延长答复期限（一次，机构负责人同意）",
)
def extend(request: HttpRequest, number: str, payload: s.ExtensionIn):
    services.disclosure_request_extend(
        actor=request.auth,
        request=_staff_request(request, number),
        days=payload.days,
        reason=payload.reason,
    )
    return _staff_request(request, number)


@router.post(
    "/disclosure-requests/{number}/answer",
    response=s.DisclosureStaffOut,
    auth=django_auth,
    summary="答复",
)
def answer(request: HttpRequest, number: str, payload: s.AnswerIn):
    services.disclosure_request_answer(
        actor=request.auth,
        request=_staff_request(request, number),
        answer_type=payload.answer_type,
        answer_reason=payload.answer_reason,
        answer_text=payload.answer_text,
        answered_on=payload.answered_on,
    )
    return _staff_request(request, number)


# --- staff: suggestions --------------------------------------------------------------------


@router.get(
    "/staff/suggestions",
    response=s.SuggestionStaffPage,
    auth=django_auth,
    summary="工作台：意见建议",
)
def staff_suggestions(request: HttpRequest, page: Query[s.StatusParams]):
    return _page(selectors.suggestions_for_staff(request.auth, status=page.status), page)


def _staff_suggestion(request: HttpRequest, number: str) -> Suggestion:
    return selectors.suggestion_for_staff(request.auth, number)


@router.post(
    "/suggestions/{number}/assign",
    response=s.SuggestionStaffOut,
    auth=django_auth,
    summary="分派责任单位",
)
def assign_suggestion(request: HttpRequest, number: str, payload: s.AssignIn):
    department = _department(payload.department_id)
    return services.suggestion_assign(
        actor=request.auth, suggestion=_staff_suggestion(request, number), department=department
    )


@router.post(
    "/suggestions/{number}/answer",
    response=s.SuggestionStaffOut,
    auth=django_auth,
    summary="答复意见建议",
)
def answer_suggestion(request: HttpRequest, number: str, payload: s.SuggestionAnswerIn):
    return services.suggestion_answer(
        actor=request.auth,
        suggestion=_staff_suggestion(request, number),
        answer_text=payload.answer_text,
    )
