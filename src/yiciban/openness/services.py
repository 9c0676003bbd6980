"""Every write of the openness app: one transaction each, an audit event each, domain
errors for refusals. Permissions: access.py; allowed transitions: transitions.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core import audit
from yiciban.core.calendar import add_working_days
from yiciban.core.crypto import blind_index, encrypt
from yiciban.core.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from yiciban.core.identifiers import (
    check_resident_id,
    check_uscc,
    mask_phone,
    mask_resident_id,
    normalize_resident_id,
    normalize_uscc,
)
from yiciban.notifications.services import (
    mask_email,
    normalize_mobile_phone,
    notification_send,
)
from yiciban.org.models import Department, Region, RegionLevel, Role, ServicePoint
from yiciban.org.selectors import has_role

from . import access, search
from .models import (
    BASIC_COLUMN_KINDS,
    REASONS_BY_ANSWER,
    AnswerReason,
    AnswerType,
    Article,
    ArticleAttachment,
    ArticleKind,
    ArticleStatus,
    BodyFormat,
    Column,
    ColumnKind,
    ConsultationParty,
    DeliveryMethod,
    DisclosureChannel,
    DisclosureConsultation,
    DisclosureRequest,
    DisplayItem,
    DisplayScreen,
    PublishingMode,
    RegionPublishing,
    RequesterCategory,
    Subscription,
    SubscriptionChannel,
    SubscriptionStatus,
    Suggestion,
    SuggestionChannel,
    SuggestionStatus,
)
from .selectors import disclosure_clock, query_code_hash, query_code_matches, suggestion_clock
from .text import render_body
from .transitions import (
    ARTICLE_EDITABLE,
    ARTICLE_TRANSITIONS,
    DISCLOSURE_EXTENDABLE,
    DISCLOSURE_TRANSITIONS,
    SUGGESTION_TRANSITIONS,
    next_status,
)

TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 200_000
ATTACHMENT_EXTENSIONS = frozenset(
    {".pdf", ".ofd", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".et", ".jpg", ".jpeg", ".png"}
)
# A publication time this far in the past is a mistake, not a clock difference.
PUBLISH_AT_TOLERANCE = dt.timedelta(minutes=5)
SUBSCRIPTION_CONFIRM_HOURS = 24
SUBSCRIPTION_MAX_CODE_ATTEMPTS = 5
# Requests to one address per day: keeps the form from being used to flood a phone.
SUBSCRIPTION_MAX_REQUESTS_PER_DAY = 5
DISCLOSURE_LIMIT_DAYS = 20  # art. 33: 20 working days from receipt
DISCLOSURE_MAX_EXTENSION_DAYS = 20  # art. 33: extended by at most 20 working days
CORRECTION_NOTICE_DAYS = 7  # art. 30: correction must be asked within 7 working days
DEFAULT_CORRECTION_DAYS = 15


def _setting(name: str, default: Any) -> Any:
    return settings.YICIBAN.get(name, default)


def attachment_max_bytes() -> int:
    return int(_setting("OPENNESS_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024))


def suggestion_answer_days() -> int:
    return int(_setting("OPENNESS_SUGGESTION_ANSWER_DAYS", 10))


def _today() -> dt.date:
    return timezone.localdate()


def _masked_contact(phone: str, email: str) -> dict:
    return {
        "phone": mask_phone(phone) if phone else "",
        "email": mask_email(email) if email else "",
    }


# --- columns and publishing mode ----------------------------------------------------------


def _check_column_kind(kind: str) -> None:
    if kind not in ColumnKind.values:
        raise ValidationFailed.on_field("kind", "choice", _("未知的栏目类别：%(k)s") % {"k": kind})


def column_create(
    *, actor, region: Region, kind: str, name: str = "", position: int | None = None
) -> Column:
    _check_column_kind(kind)
    name = (name or "").strip() or str(ColumnKind(kind).label)
    if len(name) > 50:
        raise ValidationFailed.on_field("name", "max_length", _("栏目名称不能超过50个字符"))
    if not access.can_edit_or_review(actor, region):
        raise PermissionDenied(_("没有%(r)s的政务公开栏目管理权限") % {"r": region.name})
    with transaction.atomic():
        if Column.objects.filter(region=region, kind=kind).exists():
            raise Conflict(_("该区划已有此栏目"), code="column_exists")
        column = Column.objects.create(
            region=region,
            kind=kind,
            name=name,
            position=position if position is not None else ColumnKind.values.index(kind),
        )
        audit.record(
            actor=actor,
            action="openness.column_create",
            obj=column,
            changes={"region": region.code, "kind": kind, "name": name},
        )
    return column


def columns_provision(*, actor, region: Region) -> list[Column]:
    """The standard columns of a region: the five basic columns everywhere, the special
    columns at county and township level. Existing columns are kept."""
    if not access.can_edit_or_review(actor, region):
        raise PermissionDenied(_("没有%(r)s的政务公开栏目管理权限") % {"r": region.name})
    kinds = BASIC_COLUMN_KINDS if region.level == RegionLevel.VILLAGE else tuple(ColumnKind)
    with transaction.atomic():
        existing = set(Column.objects.filter(region=region).values_list("kind", flat=True))
        created = [
            Column(
                region=region,
                kind=kind,
                name=str(ColumnKind(kind).label),
                position=ColumnKind.values.index(kind),
            )
            for kind in kinds
            if kind not in existing
        ]
        Column.objects.bulk_create(created)
        if created:
            audit.record(
                actor=actor,
                action="openness.columns_provision",
                obj=region,
                changes={"kinds": [c.kind for c in created]},
            )
    return list(Column.objects.filter(region=region))


def publishing_mode_set(*, actor, region: Region, mode: str) -> RegionPublishing:
    """统一发布 or 自主公开 for a township; decided by the county (its editors or
    supervisors)."""
    if region.level != RegionLevel.TOWNSHIP:
        raise ValidationFailed.on_field(
            "region", "township_only", _("发布模式只能按乡镇（街道）设置")
        )
    if mode not in PublishingMode.values:
        raise ValidationFailed.on_field("mode", "choice", _("未知的发布模式"))
    county = access.county_of(region)
    if county is None or not (
        has_role(actor, Role.OPENNESS_EDITOR, region=county)
        or has_role(actor, Role.SUPERVISOR, region=county)
    ):
        raise PermissionDenied(_("发布模式由县级政务公开部门设置"))
    with transaction.atomic():
        setting, _created = RegionPublishing.objects.select_for_update().get_or_create(
            region=region, defaults={"mode": mode}
        )
        before = setting.mode if not _created else ""
        setting.mode = mode
        setting.save()
        audit.record(
            actor=actor,
            action="openness.publishing_mode_set",
            obj=setting,
            changes={"region": region.code, "mode": [before, mode]},
        )
    return setting


# --- articles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleFields:
    """The editable fields of an article, checked together so every problem is reported
    at once."""

    title: str
    body: str
    body_format: str
    kind: str
    summary: str
    document_number: str
    issuing_body: str
    interprets: Article | None
    show_on_screen: bool


def _clean_line(value: str) -> str:
    # Titles are plain text: control characters (including line breaks) are never wanted.
    return "".join(ch for ch in (value or "") if ch.isprintable()).strip()


def _check_article_fields(fields: ArticleFields, *, region: Region) -> ArticleFields:
    errors: list[FieldError] = []
    title = _clean_line(fields.title)
    if not title:
        errors.append(FieldError("title", "required", _("请填写标题")))
    elif len(title) > TITLE_MAX:
        errors.append(FieldError("title", "max_length", _("标题不能超过200个字符")))
    summary = _clean_line(fields.summary)
    if len(summary) > SUMMARY_MAX:
        errors.append(FieldError("summary", "max_length", _("摘要不能超过500个字符")))
    if fields.body_format not in BodyFormat.values:
        errors.append(FieldError("body_format", "choice", _("正文格式只能是markdown或html")))
    if len(fields.body or "") > BODY_MAX:
        errors.append(FieldError("body", "max_length", _("正文过长（最多20万字符）")))
    if fields.kind not in ArticleKind.values:
        errors.append(FieldError("kind", "choice", _("未知的信息类型")))
    for name in ("document_number", "issuing_body"):
        value = _clean_line(getattr(fields, name))
        if len(value) > (60 if name == "document_number" else 100):
            errors.append(FieldError(name, "max_length", _("内容过长")))
    target = fields.interprets
    if fields.kind == ArticleKind.INTERPRETATION:
        if target is None:
            errors.append(FieldError("interprets", "required", _("政策解读须关联其解读的政策文件")))
        elif target.kind != ArticleKind.POLICY:
            errors.append(FieldError("interprets", "policy_only", _("只能关联政策文件")))
        elif target.status == ArticleStatus.WITHDRAWN:
            errors.append(FieldError("interprets", "withdrawn", _("所解读的政策已撤回")))
        elif region.code not in target.region.path.split("/") and (
            target.region.code not in region.ancestor_codes
            and region.code not in target.region.ancestor_codes
        ):
            errors.append(
                FieldError("interprets", "outside_region", _("所解读的政策须属于本级或上下级"))
            )
    elif target is not None:
        errors.append(FieldError("interprets", "interpretation_only", _("只有政策解读可关联政策")))
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    return ArticleFields(
        title=title,
        body=fields.body or "",
        body_format=fields.body_format,
        kind=fields.kind,
        summary=summary,
        document_number=_clean_line(fields.document_number),
        issuing_body=_clean_line(fields.issuing_body),
        interprets=target,
        show_on_screen=bool(fields.show_on_screen),
    )


def article_create(
    *,
    actor,
    column: Column,
    title: str,
    body: str = "",
    body_format: str = BodyFormat.MARKDOWN,
    kind: str = ArticleKind.INFORMATION,
    summary: str = "",
    document_number: str = "",
    issuing_body: str = "",
    interprets: Article | None = None,
    show_on_screen: bool = False,
) -> Article:
    """A draft in a column. The publishing mode is decided by who writes it (access.py)."""
    if not column.is_active:
        raise ValidationFailed.on_field("column", "inactive", _("该栏目已停用"))
    region = column.region
    mode = access.require_editor(actor, region)
    fields = _check_article_fields(
        ArticleFields(
            title=title,
            body=body,
            body_format=body_format,
            kind=kind,
            summary=summary,
            document_number=document_number,
            issuing_body=issuing_body,
            interprets=interprets,
            show_on_screen=show_on_screen,
        ),
        region=region,
    )
    with transaction.atomic():
        article = Article.objects.create(
            column=column,
            region=region,
            kind=fields.kind,
            title=fields.title,
            summary=fields.summary,
            document_number=fields.document_number,
            issuing_body=fields.issuing_body,
            body_format=fields.body_format,
            body_source=fields.body,
            body_html=render_body(fields.body, fields.body_format),
            interprets=fields.interprets,
            show_on_screen=fields.show_on_screen,
            mode=mode,
            created_by=actor,
        )
        search.index_article(article)
        audit.record(
            actor=actor,
            action="openness.article_create",
            obj=article,
            changes={
                "column": column.pk,
                "region": region.code,
                "kind": fields.kind,
                "mode": mode,
                "title": fields.title,
            },
        )
    return article


_UNSET: Any = object()


def _lock_article(article: Article | int, expected_version: int | None = None) -> Article:
    pk = article.pk if isinstance(article, Article) else article
    try:
        locked = (
            Article.objects.select_for_update(of=("self",))
            .select_related("region", "column", "interprets")
            .get(pk=pk)
        )
    except Article.DoesNotExist:
        raise NotFound(_("公开信息不存在"), code="article_not_found") from None
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("该信息已被他人修改，请刷新后再操作"), code="stale_version")
    return locked


def _save_article(article: Article, fields: list[str] | None = None) -> None:
    article.version += 1
    if fields is None:
        article.save()
    else:
        article.save(update_fields=[*fields, "version", "updated_at"])
    search.touch()  # the search page's cached results may show it


def article_update(
    *,
    actor,
    article: Article,
    title: str = _UNSET,
    body: str = _UNSET,
    body_format: str = _UNSET,
    kind: str = _UNSET,
    summary: str = _UNSET,
    document_number: str = _UNSET,
    issuing_body: str = _UNSET,
    interprets: Article | None = _UNSET,
    show_on_screen: bool = _UNSET,
    expected_version: int | None = None,
) -> Article:
    """Change a draft (or a returned article). Only given fields change."""
    with transaction.atomic():
        locked = _lock_article(article, expected_version)
        access.require_editor(actor, locked.region)
        if locked.status not in ARTICLE_EDITABLE:
            raise Conflict(_("只有草稿或退回修改的信息可以编辑"), code="not_editable")
        given = {
            "title": title,
            "body": body,
            "body_format": body_format,
            "kind": kind,
            "summary": summary,
            "document_number": document_number,
            "issuing_body": issuing_body,
            "interprets": interprets,
            "show_on_screen": show_on_screen,
        }
        current = {
            "title": locked.title,
            "body": locked.body_source,
            "body_format": locked.body_format,
            "kind": locked.kind,
            "summary": locked.summary,
            "document_number": locked.document_number,
            "issuing_body": locked.issuing_body,
            "interprets": locked.interprets,
            "show_on_screen": locked.show_on_screen,
        }
        merged = {k: (current[k] if v is _UNSET else v) for k, v in given.items()}
        fields = _check_article_fields(ArticleFields(**merged), region=locked.region)
        before = {
            "title": locked.title,
            "kind": locked.kind,
            "summary": locked.summary,
            "interprets": locked.interprets_id,
        }
        locked.title = fields.title
        locked.body_source = fields.body
        locked.body_format = fields.body_format
        locked.body_html = render_body(fields.body, fields.body_format)
        locked.kind = fields.kind
        locked.summary = fields.summary
        locked.document_number = fields.document_number
        locked.issuing_body = fields.issuing_body
        locked.interprets = fields.interprets
        locked.show_on_screen = fields.show_on_screen
        _save_article(locked)
        search.index_article(locked)
        changes = audit.changed_fields(locked, before, ["title", "kind", "summary"])
        if before["interprets"] != locked.interprets_id:
            changes["interprets"] = [before["interprets"], locked.interprets_id]
        if given["body"] is not _UNSET:
            changes["body"] = "changed"
        audit.record(actor=actor, action="openness.article_update", obj=locked, changes=changes)
    return locked


def article_submit(*, actor, article: Article, expected_version: int | None = None) -> Article:
    with transaction.atomic():
        locked = _lock_article(article, expected_version)
        access.require_editor(actor, locked.region)
        before = locked.status
        locked.status = next_status(ARTICLE_TRANSITIONS, "submit", locked.status)
        locked.submitted_by = actor
        _save_article(locked, ["status", "submitted_by"])
        audit.record(
            actor=actor,
            action="openness.article_submit",
            obj=locked,
            changes={"status": [before, locked.status]},
        )
    return locked


def _require_not_author(actor, article: Article) -> None:
    if article.created_by_id == getattr(actor, "pk", None):
        raise PermissionDenied(_("不能审核本人起草的信息（一审一核）"), code="four_eyes")


def article_return(
    *, actor, article: Article, comment: str, expected_version: int | None = None
) -> Article:
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed.on_field("comment", "required", _("退回时请写明修改意见"))
    if len(comment) > 500:
        raise ValidationFailed.on_field("comment", "max_length", _("意见不能超过500个字符"))
    with transaction.atomic():
        locked = _lock_article(article, expected_version)
        access.require_reviewer(actor, locked.region)
        _require_not_author(actor, locked)
        before = locked.status
        locked.status = next_status(ARTICLE_TRANSITIONS, "return", locked.status)
        locked.reviewed_by = actor
        locked.review_comment = comment
        _save_article(locked, ["status", "reviewed_by", "review_comment"])
        audit.record(
            actor=actor,
            action="openness.article_return",
            obj=locked,
            changes={"status": [before, locked.status], "comment": comment},
        )
    return locked


def article_approve(
    *,
    actor,
    article: Article,
    publish_at: dt.datetime | None = None,
    comment: str = "",
    expected_version: int | None = None,
) -> Article:
    """Approve for publication at `publish_at` (now if not given). When that time has come
    the article is published at once, in this transaction, and subscribers are notified."""
    now = timezone.now()
    if publish_at is not None:
        if timezone.is_naive(publish_at):
            raise ValidationFailed.on_field(
                "publish_at", "timezone", _("发布时间须带时区（如 +08:00）")
            )
        if publish_at < now - PUBLISH_AT_TOLERANCE:
            raise ValidationFailed.on_field("publish_at", "not_past", _("发布时间不能早于当前时间"))
    comment = (comment or "").strip()[:500]
    with transaction.atomic():
        locked = _lock_article(article, expected_version)
        access.require_reviewer(actor, locked.region)
        _require_not_author(actor, locked)
        before = locked.status
        locked.status = next_status(ARTICLE_TRANSITIONS, "approve", locked.status)
        locked.reviewed_by = actor
        locked.review_comment = comment
        locked.publish_at = max(publish_at or now, now)
        _save_article(locked, ["status", "reviewed_by", "review_comment", "publish_at"])
        audit.record(
            actor=actor,
            action="openness.article_approve",
            obj=locked,
            changes={
                "status": [before, locked.status],
                "publish_at": locked.publish_at.isoformat(),
            },
        )
        if locked.publish_at <= now:
            _publish(locked, actor=actor, now=now)
    return locked


def _publish(article: Article, *, actor, now: dt.datetime) -> None:
    """scheduled → published, and the subscribers told, inside the caller's transaction."""
    before = article.status
    article.status = next_status(ARTICLE_TRANSITIONS, "publish", article.status)
    article.published_at = now
    _save_article(article, ["status", "published_at"])
    sent = _notify_subscribers(article, actor=actor)
    audit.record(
        actor=actor,
        action="openness.article_publish",
        obj=article,
        changes={"status": [before, article.status], "notified": sent},
    )


def _notify_subscribers(article: Article, *, actor) -> int:
    subscriptions = Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE, columns=article.column
    ).order_by("id")
    link = reverse("openness:article", args=[article.pk])
    seen: set[tuple[str, str]] = set()
    for subscription in subscriptions:
        key = (subscription.channel, subscription.address_index)
        if key in seen:
            continue
        seen.add(key)
        address = _subscription_address(subscription)
        unsubscribe = _absolute(unsubscribe_path(subscription))
        subject = _("【%(r)s·%(c)s】%(t)s") % {
            "r": article.region.name,
            "c": article.column.name,
            "t": article.title,
        }
        body = _("%(subject)s 退订：%(unsub)s") % {"subject": subject[:120], "unsub": unsubscribe}
        notification_send(
            actor=actor,
            phone=address if subscription.channel == SubscriptionChannel.SMS else "",
            email=address if subscription.channel == SubscriptionChannel.EMAIL else "",
            channels=(subscription.channel,),
            subject=subject[:200],
            body=body,
            kind="openness.publication",
            link=link,
            related=article,
        )
    return len(seen)


@dataclass(frozen=True)
class ScheduleRun:
    published: int
    withdrawn: int


def articles_run_schedule(*, now: dt.datetime | None = None) -> ScheduleRun:
    """Record the scheduled publications and withdrawals whose time has come (and notify
    subscribers of each publication). Pages already show and hide articles by their times;
    this makes the record and sends the messages. Run by `manage.py openness_run_schedule`
    (cron or a timer every minute). Each article in its own transaction, so one failure
    does not hold up the rest."""
    now = now or timezone.now()
    published = withdrawn = 0
    due_publish = Article.objects.filter(
        status=ArticleStatus.SCHEDULED, publish_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due_publish):
        with transaction.atomic():
            locked = _lock_article(pk)
            if locked.status == ArticleStatus.SCHEDULED and locked.publish_at <= now:
                _publish(locked, actor=None, now=now)
                published += 1
    due_withdraw = Article.objects.filter(
        status=ArticleStatus.WITHDRAWAL_SCHEDULED, withdraw_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due_withdraw):
        with transaction.atomic():
            locked = _lock_article(pk)
            if locked.status == ArticleStatus.WITHDRAWAL_SCHEDULED and locked.withdraw_at <= now:
                before = locked.status
                locked.status = next_status(ARTICLE_TRANSITIONS, "withdraw", locked.status)
                locked.withdrawn_at = now
                _save_article(locked, ["status", "withdrawn_at"])
                audit.record(
                    actor=None,
                    action="openness.article_withdraw",
                    obj=locked,
                    changes={"status": [before, locked.status], "scheduled": True},
                )
                withdrawn += 1
    return ScheduleRun(published=published, withdrawn=withdrawn)


def article_withdraw(
    *,
    actor,
    article: Article,
    reason: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Article:
    """Withdraw now, or schedule the withdrawal of a published article for `at`. Editors
    and reviewers of the article's region may withdraw; the reason is recorded."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.on_field("reason", "required", _("请写明撤回原因"))
    if len(reason) > 300:
        raise ValidationFailed.on_field("reason", "max_length", _("撤回原因不能超过300个字符"))
    now = timezone.now()
    if at is not None and timezone.is_naive(at):
        raise ValidationFailed.on_field("at", "timezone", _("撤回时间须带时区（如 +08:00）"))
    with transaction.atomic():
        locked = _lock_article(article, expected_version)
        if not access.can_edit_or_review(actor, locked.region):
            raise PermissionDenied(_("没有撤回该信息的权限"), code="withdraw_forbidden")
        before = locked.status
        if at is not None and at > now:
            locked.status = next_status(ARTICLE_TRANSITIONS, "schedule_withdrawal", locked.status)
            locked.withdraw_at = at
            action = "openness.article_schedule_withdrawal"
        else:
            locked.status = next_status(ARTICLE_TRANSITIONS, "withdraw", locked.status)
            locked.withdraw_at = now
            locked.withdrawn_at = now
            action = "openness.article_withdraw"
        locked.withdraw_reason = reason
        _save_article(locked, ["status", "withdraw_at", "withdrawn_at", "withdraw_reason"])
        audit.record(
            actor=actor,
            action=action,
            obj=locked,
            changes={
                "status": [before, locked.status],
                "withdraw_at": locked.withdraw_at.isoformat(),
                "reason": reason,
            },
        )
    return locked


def attachment_add(*, actor, article: Article, upload: UploadedFile) -> ArticleAttachment:
    name = PurePath(upload.name or "").name[:200]
    extension = PurePath(name).suffix.lower()
    errors: list[FieldError] = []
    if not name:
        errors.append(FieldError("file", "required", _("请选择文件")))
    elif extension not in ATTACHMENT_EXTENSIONS:
        errors.append(
            FieldError(
                "file",
                "file_type",
                _("不支持的附件类型，可上传：%(t)s")
                % {"t": "、".join(sorted(ATTACHMENT_EXTENSIONS))},
            )
        )
    limit = attachment_max_bytes()
    if upload.size is not None and upload.size > limit:
        errors.append(
            FieldError(
                "file",
                "max_size",
                _("附件不能超过%(m)d MB") % {"m": limit // (1024 * 1024)},
            )
        )
    if upload.size == 0:
        errors.append(FieldError("file", "empty", _("附件是空文件")))
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        locked = _lock_article(article)
        access.require_editor(actor, locked.region)
        if locked.status not in ARTICLE_EDITABLE:
            raise Conflict(_("只有草稿或退回修改的信息可以添加附件"), code="not_editable")
        attachment = ArticleAttachment(
            article=locked,
            name=name,
            size=upload.size,
            content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        attachment.file.save(f"{digest.hexdigest()[:16]}{extension}", upload, save=False)
        attachment.save()
        audit.record(
            actor=actor,
            action="openness.attachment_add",
            obj=attachment,
            changes={"article": locked.pk, "name": name, "size": upload.size},
        )
    return attachment


# --- hall display screens -----------------------------------------------------------------


def screen_configure(
    *,
    actor,
    service_point: ServicePoint,
    title: str,
    article_ids: Sequence[int] = (),
    slide_seconds: int = 15,
    refresh_seconds: int = 120,
    auto_fill_limit: int = 10,
) -> DisplayScreen:
    """Set a hall screen's playlist: the chosen articles in order, then (auto_fill_limit)
    the newest on-screen articles of the point's region and the regions above it."""
    errors: list[FieldError] = []
    title = _clean_line(title)
    if not title or len(title) > 100:
        errors.append(FieldError("title", "length", _("屏幕标题须为1至100个字符")))
    if not 5 <= slide_seconds <= 300:
        errors.append(FieldError("slide_seconds", "range", _("每页停留5至300秒")))
    if not 15 <= refresh_seconds <= 3600:
        errors.append(FieldError("refresh_seconds", "range", _("刷新间隔15至3600秒")))
    if not 0 <= auto_fill_limit <= 50:
        errors.append(FieldError("auto_fill_limit", "range", _("自动补充0至50条")))
    articles = Article.objects.in_bulk(list(article_ids))
    for index, pk in enumerate(article_ids):
        if pk not in articles:
            errors.append(
                FieldError(
                    f"article_ids.{index}", "not_found", _("公开信息%(id)s不存在") % {"id": pk}
                )
            )
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    if not has_role(actor, Role.OPENNESS_EDITOR, region=service_point.region):
        raise PermissionDenied(_("没有该网点显示屏的管理权限"), code="editor_required")
    with transaction.atomic():
        screen, created = DisplayScreen.objects.select_for_update().get_or_create(
            service_point=service_point,
            defaults={"title": title},
        )
        screen.title = title
        screen.slide_seconds = slide_seconds
        screen.refresh_seconds = refresh_seconds
        screen.auto_fill_limit = auto_fill_limit
        screen.save()
        screen.items.all().delete()
        DisplayItem.objects.bulk_create(
            [
                DisplayItem(screen=screen, position=i, article=articles[pk])
                for i, pk in enumerate(article_ids)
            ]
        )
        audit.record(
            actor=actor,
            action="openness.screen_configure",
            obj=screen,
            changes={
                "service_point": service_point.code,
                "articles": list(article_ids),
                "slide_seconds": slide_seconds,
                "refresh_seconds": refresh_seconds,
                "auto_fill_limit": auto_fill_limit,
                "created": created,
            },
        )
    return screen


# --- subscriptions --------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _absolute(path: str) -> str:
    base = getattr(settings, "YICIBAN_PUBLIC_URL", "").rstrip("/")
    return f"{base}{path}"


def unsubscribe_signature(subscription_pk: int) -> str:
    return blind_index(str(subscription_pk), purpose="openness.unsubscribe")[:32]


def unsubscribe_path(subscription: Subscription) -> str:
    return reverse(
        "openness:unsubscribe", args=[subscription.pk, unsubscribe_signature(subscription.pk)]
    )


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _new_token() -> str:
    return secrets.token_urlsafe(24)


def _code_hash(subscription_pk: int, code: str) -> str:
    return blind_index(f"{subscription_pk}:{code}", purpose="openness.subscription_code")


def _subscription_address(subscription: Subscription) -> str:
    from yiciban.core.crypto import decrypt

    return decrypt(subscription.address_encrypted)


def _normalize_address(channel: str, address: str) -> str:
    if channel == SubscriptionChannel.SMS:
        number = normalize_mobile_phone(address)
        if not number or not number.isdigit() or len(number) != 11 or number[0] != "1":
            raise ValidationFailed.on_field(
                "address", "mobile_format", _("手机号码应为11位大陆手机号（1开头）")
            )
        return number
    if channel == SubscriptionChannel.EMAIL:
        value = (address or "").strip()
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValidationFailed.on_field(
                "address", "email_format", _("电子邮箱地址格式不正确")
            ) from None
        return value.lower()
    raise ValidationFailed.on_field("channel", "choice", _("订阅方式只能是短信或电子邮件"))


@dataclass(frozen=True)
class SubscriptionRequested:
    subscription: Subscription
    # Returned to the caller only so that the service's own tests and the confirmation
    # page can say where the message went; never stored in clear.
    masked_address: str


def subscription_request(
    *, actor=None, region: Region, columns: Sequence[Column], channel: str, address: str
) -> SubscriptionRequested:
    """Ask to subscribe: a pending subscription and a message with a 6-digit code and a
    confirmation link (double opt-in). Nothing is sent to the address until confirmed."""
    clear = _normalize_address(channel, address)
    columns = list(columns)
    if not columns:
        raise ValidationFailed.on_field("columns", "required", _("请至少选择一个栏目"))
    for index, column in enumerate(columns):
        if column.region_id != region.pk or not column.is_active:
            raise ValidationFailed.on_field(
                f"columns.{index}", "outside_region", _("所选栏目不属于该区划")
            )
    index_value = blind_index(clear, purpose=f"openness.subscription.{channel}")
    masked = mask_phone(clear) if channel == SubscriptionChannel.SMS else mask_email(clear)
    now = timezone.now()
    code, confirm_token = _new_code(), _new_token()
    with transaction.atomic():
        recent = Subscription.objects.filter(
            address_index=index_value, created_at__gte=now - dt.timedelta(days=1)
        ).count()
        if recent >= SUBSCRIPTION_MAX_REQUESTS_PER_DAY:
            raise Conflict(_("该地址今日订阅申请次数过多，请明天再试"), code="too_many_requests")
        subscription = Subscription.objects.create(
            region=region,
            channel=channel,
            address_encrypted=encrypt(clear),
            address_index=index_value,
            address_masked=masked,
            confirm_code_hash="",
            confirm_token_hash=_token_hash(confirm_token),
            confirm_expires_at=now + dt.timedelta(hours=SUBSCRIPTION_CONFIRM_HOURS),
        )
        subscription.confirm_code_hash = _code_hash(subscription.pk, code)
        subscription.save(update_fields=["confirm_code_hash"])
        subscription.columns.set(columns)
        link = reverse("openness:subscription_confirm_link", args=[confirm_token])
        names = "、".join(c.name for c in columns)
        notification_send(
            actor=actor,
            phone=clear if channel == SubscriptionChannel.SMS else "",
            email=clear if channel == SubscriptionChannel.EMAIL else "",
            channels=(channel,),
            subject=_("政务公开订阅确认"),
            body=_(
                "您申请订阅%(r)s政务公开栏目（%(c)s）。确认码%(code)s，%(h)d小时内有效；"
                "或打开链接确认。非本人操作请忽略。"
            )
            % {"r": region.name, "c": names[:60], "code": code, "h": SUBSCRIPTION_CONFIRM_HOURS},
            kind="openness.subscription_confirm",
            link=link,
            related=subscription,
        )
        audit.record(
            actor=actor,
            action="openness.subscription_request",
            obj=subscription,
            changes={
                "region": region.code,
                "channel": channel,
                "address": masked,
                "columns": [c.pk for c in columns],
            },
        )
    return SubscriptionRequested(subscription=subscription, masked_address=masked)


def subscription_confirm(
    *, token: str = "", subscription_id: int | None = None, code: str = ""
) -> Subscription:
    """Confirm by the link's token, or by the subscription id and the 6-digit code. A
    wrong code counts against 5 attempts (the count is kept even though the call fails)."""
    now = timezone.now()
    wrong_code = False
    with transaction.atomic():
        query = Subscription.objects.select_for_update()
        if token:
            subscription = query.filter(confirm_token_hash=_token_hash(token)).first()
        elif subscription_id is not None and code:
            subscription = query.filter(pk=subscription_id).first()
        else:
            raise ValidationFailed.on_field("code", "required", _("请输入确认码"))
        if subscription is None:
            raise NotFound(_("订阅申请不存在或链接无效"), code="subscription_not_found")
        if subscription.status == SubscriptionStatus.ACTIVE:
            return subscription
        if subscription.status != SubscriptionStatus.PENDING:
            raise Conflict(_("该订阅已退订"), code="subscription_ended")
        if subscription.confirm_expires_at < now:
            raise Conflict(_("确认已过期，请重新订阅"), code="confirmation_expired")
        if not token:
            if subscription.code_attempts >= SUBSCRIPTION_MAX_CODE_ATTEMPTS:
                raise Conflict(_("确认码错误次数过多，请重新订阅"), code="too_many_attempts")
            if not secrets.compare_digest(
                subscription.confirm_code_hash, _code_hash(subscription.pk, code.strip())
            ):
                subscription.code_attempts += 1
                subscription.save(update_fields=["code_attempts"])
                wrong_code = True
        if not wrong_code:
            # A newer confirmed subscription of the same address to the same region
            # replaces the older one: one message per publication, never two.
            superseded = Subscription.objects.filter(
                region=subscription.region,
                channel=subscription.channel,
                address_index=subscription.address_index,
                status=SubscriptionStatus.ACTIVE,
            ).exclude(pk=subscription.pk)
            superseded_ids = list(superseded.values_list("pk", flat=True))
            superseded.update(status=SubscriptionStatus.ENDED, ended_at=now)
            subscription.status = SubscriptionStatus.ACTIVE
            subscription.confirmed_at = now
            subscription.save(update_fields=["status", "confirmed_at"])
            audit.record(
                actor=None,
                action="openness.subscription_confirm",
                obj=subscription,
                changes={"by": "link" if token else "code", "superseded": superseded_ids},
            )
    if wrong_code:
        raise ValidationFailed.on_field("code", "mismatch", _("确认码不正确"))
    return subscription


def subscription_end(*, subscription_id: int, signature: str) -> Subscription:
    """Unsubscribe by the signed link sent with every message. Ending an ended
    subscription changes nothing."""
    if not secrets.compare_digest(unsubscribe_signature(subscription_id), signature or ""):
        raise NotFound(_("退订链接无效"), code="subscription_not_found")
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(pk=subscription_id).first()
        if subscription is None:
            raise NotFound(_("退订链接无效"), code="subscription_not_found")
        if subscription.status == SubscriptionStatus.ENDED:
            return subscription
        before = subscription.status
        subscription.status = SubscriptionStatus.ENDED
        subscription.ended_at = timezone.now()
        subscription.save(update_fields=["status", "ended_at"])
        audit.record(
            actor=None,
            action="openness.subscription_end",
            obj=subscription,
            changes={"status": [before, subscription.status]},
        )
    return subscription


# --- disclosure requests (依申请公开) -------------------------------------------------------

PHONE_RE_TEXT = r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$"
DESCRIPTION_MIN, DESCRIPTION_MAX = 5, 5000
ANSWER_TEXT_MAX = 10_000


def _lock_request(request: DisclosureRequest) -> DisclosureRequest:
    try:
        return (
            DisclosureRequest.objects.select_for_update(of=("self",))
            .select_related("region", "department", "requester_user")
            .get(pk=request.pk)
        )
    except DisclosureRequest.DoesNotExist:
        raise NotFound(_("依申请公开申请不存在"), code="disclosure_not_found") from None


def _new_query_code() -> str:
    # No 0/O/1/I: the code is read out over the phone and typed from paper.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _i in range(8))


def _decrypt_or_blank(token: str) -> str:
    from yiciban.core.crypto import decrypt

    return decrypt(token) if token else ""


def _notify_requester(
    request: DisclosureRequest, *, actor, subject: str, body: str, kind: str
) -> bool:
    """Tell the requester by every channel we have (SMS to a mobile number, e-mail, the
    inbox of their account). Returns whether any channel existed."""
    phone = normalize_mobile_phone(_decrypt_or_blank(request.phone_encrypted))
    email = _decrypt_or_blank(request.email_encrypted)
    channels = []
    if phone and phone.isdigit() and len(phone) == 11 and phone.startswith("1"):
        channels.append("sms")
    if email:
        channels.append("email")
    if request.requester_user_id:
        channels.append("in_app")
    if not channels:
        return False
    notification_send(
        actor=actor,
        recipient_user=request.requester_user,
        phone=phone if "sms" in channels else "",
        email=email,
        channels=channels,
        subject=subject,
        body=body,
        kind=kind,
        link=reverse("openness:disclosure_status") + f"?number={request.number}",
        related=request,
    )
    return True


@dataclass(frozen=True)
class DisclosureFiled:
    request: DisclosureRequest
    # Shown once to the requester (and sent to them); only its hash is stored.
    query_code: str


def disclosure_request_file(
    *,
    actor=None,
    region: Region,
    requester_category: str,
    requester_name: str,
    description: str,
    delivery_method: str,
    department: Department | None = None,
    id_number: str = "",
    contact_name: str = "",
    phone: str = "",
    email: str = "",
    address: str = "",
    channel: str = DisclosureChannel.ONLINE,
    received_on: dt.date | None = None,
) -> DisclosureFiled:
    """File a request. Online filings are acknowledged by the platform at once, so the day
    of filing is the day of receipt (art. 31(3): 双方确认之日); an on-site or mailed filing
    is recorded by staff with the day it was handed in or signed for (art. 31(1)(2))."""
    errors: list[FieldError] = []
    today = _today()
    if region.level not in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP):
        errors.append(
            FieldError("region", "level", _("依申请公开向县级或乡镇（街道）人民政府及其部门提出"))
        )
    if department is not None and department.region_id != region.pk:
        errors.append(FieldError("department", "outside_region", _("承办机关不属于该区划")))
    if requester_category not in RequesterCategory.values:
        errors.append(FieldError("requester_category", "choice", _("未知的申请人类别")))
    requester_name = _clean_line(requester_name)
    if not requester_name or len(requester_name) > 100:
        errors.append(FieldError("requester_name", "length", _("请填写申请人姓名或名称")))
    id_encrypted = id_masked = ""
    if requester_category == RequesterCategory.NATURAL_PERSON:
        normalized = normalize_resident_id(id_number or "")
        result = check_resident_id(normalized, today=today)
        if not result:
            errors.append(FieldError("id_number", result.rule, result.reason))
        else:
            id_encrypted, id_masked = encrypt(normalized), mask_resident_id(normalized)
    elif requester_category in RequesterCategory.values:
        normalized = normalize_uscc(id_number or "")
        result = check_uscc(normalized)
        if not result:
            errors.append(FieldError("id_number", result.rule, result.reason))
        else:
            id_masked = normalized  # an organisation's code is public, not personal data
    phone_clear = normalize_mobile_phone(phone or "")
    if phone_clear and not re.match(PHONE_RE_TEXT, phone_clear):
        errors.append(FieldError("phone", "phone_format", _("联系电话格式不正确")))
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors.append(FieldError("email", "email_format", _("电子邮箱地址格式不正确")))
    address = (address or "").strip()
    if len(address) > 200:
        errors.append(FieldError("address", "max_length", _("通信地址不能超过200个字符")))
    if not (phone_clear or email or address):
        errors.append(
            FieldError("phone", "contact_required", _("请至少留下联系电话、电子邮箱或通信地址之一"))
        )
    description = (description or "").strip()
    if not DESCRIPTION_MIN <= len(description) <= DESCRIPTION_MAX:
        errors.append(
            FieldError(
                "description", "length", _("请描述所需信息（5至5000字）：名称、文号或其他特征")
            )
        )
    if delivery_method not in DeliveryMethod.values:
        errors.append(FieldError("delivery_method", "choice", _("未知的获取方式")))
    if channel not in DisclosureChannel.values:
        errors.append(FieldError("channel", "choice", _("未知的提交方式")))
    if channel == DisclosureChannel.ONLINE or received_on is None:
        received_on = today
    elif received_on > today:
        errors.append(FieldError("received_on", "not_future", _("收到日期不能晚于今天")))
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    if channel != DisclosureChannel.ONLINE and not (
        has_role(actor, Role.COUNTER_CLERK, region=region)
        or has_role(actor, Role.OPENNESS_EDITOR, region=region)
    ):
        raise PermissionDenied(_("当面或信函申请由窗口工作人员登记"), code="staff_required")
    requester_user = (
        actor
        if channel == DisclosureChannel.ONLINE and getattr(actor, "is_authenticated", False)
        else None
    )
    query_code = _new_query_code()
    with transaction.atomic():
        request = DisclosureRequest.objects.create(
            number=f"pending-{secrets.token_hex(8)}",
            region=region,
            department=department,
            requester_category=requester_category,
            requester_name=requester_name,
            id_number_encrypted=id_encrypted,
            id_number_masked=id_masked,
            contact_name=_clean_line(contact_name)[:50],
            phone_encrypted=encrypt(phone_clear) if phone_clear else "",
            phone_masked=mask_phone(phone_clear) if phone_clear else "",
            email_encrypted=encrypt(email) if email else "",
            email_masked=mask_email(email) if email else "",
            address_encrypted=encrypt(address) if address else "",
            requester_user=requester_user,
            description=description,
            delivery_method=delivery_method,
            channel=channel,
            received_on=received_on,
            clock_started_on=received_on,
            limit_days=DISCLOSURE_LIMIT_DAYS,
            query_code_hash="",
        )
        request.number = f"YSQ{region.code[:6]}{received_on.year}{request.pk:06d}"
        request.query_code_hash = query_code_hash(request.number, query_code)
        request.save(update_fields=["number", "query_code_hash"])
        due = disclosure_clock(request).due_on(today).due
        _notify_requester(
            request,
            actor=actor,
            subject=_("政府信息公开申请已收到"),
            body=_(
                "您的政府信息公开申请已于%(d)s收到，编号%(n)s，查询码%(c)s。我们将在%(due)s前答复。"
            )
            % {"d": received_on.isoformat(), "n": request.number, "c": query_code, "due": due},
            kind="openness.disclosure_received",
        )
        audit.record(
            actor=actor,
            action="openness.disclosure_request_file",
            obj=request,
            changes={
                "number": request.number,
                "region": region.code,
                "category": requester_category,
                "channel": channel,
                "received_on": received_on.isoformat(),
                "id_number": id_masked,
                **_masked_contact(phone_clear, email),
            },
        )
    return DisclosureFiled(request=request, query_code=query_code)


def disclosure_request_ask_correction(
    *,
    actor,
    request: DisclosureRequest,
    items: Sequence[str],
    correction_days: int = DEFAULT_CORRECTION_DAYS,
) -> DisclosureRequest:
    """Return the request once for correction, listing everything to correct (art. 30:
    within 7 working days of receipt, once, with a reasonable period). The answer deadline
    then runs from the day the corrected request is received."""
    cleaned = [_clean_line(item) for item in items or ()]
    errors: list[FieldError] = []
    if not cleaned or any(not item for item in cleaned):
        errors.append(FieldError("items", "required", _("请逐条列明需要补正的全部事项")))
    elif len(cleaned) > 20 or any(len(item) > 300 for item in cleaned):
        errors.append(FieldError("items", "max_length", _("补正事项最多20条，每条300字以内")))
    if not 1 <= correction_days <= 30:
        errors.append(FieldError("correction_days", "range", _("补正期限为1至30个工作日")))
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    today = _today()
    with transaction.atomic():
        locked = _lock_request(request)
        access.require_disclosure_staff(actor, locked.region, locked.department)
        before = locked.status
        locked.status = next_status(DISCLOSURE_TRANSITIONS, "request_correction", locked.status)
        if locked.correction_requested_on is not None:
            raise Conflict(_("补正只能告知一次，且应一次性告知全部事项"), code="correction_used")
        window = add_working_days(locked.received_on, CORRECTION_NOTICE_DAYS).due
        if today > window:
            raise Conflict(
                _("补正应在收到申请之日起7个工作日内告知（已过%(d)s）") % {"d": window},
                code="correction_window_closed",
            )
        locked.correction_items = cleaned
        locked.correction_requested_on = today
        locked.correction_due_on = add_working_days(today, correction_days).due
        locked.save()
        _notify_requester(
            locked,
            actor=actor,
            subject=_("政府信息公开申请补正告知"),
            body=_("您的申请%(n)s需要补正：%(items)s。请于%(due)s前补正，逾期视为放弃申请。")
            % {
                "n": locked.number,
                "items": "；".join(cleaned)[:300],
                "due": locked.correction_due_on,
            },
            kind="openness.disclosure_correction",
        )
        audit.record(
            actor=actor,
            action="openness.disclosure_request_ask_correction",
            obj=locked,
            changes={
                "status": [before, locked.status],
                "items": cleaned,
                "correction_due_on": locked.correction_due_on.isoformat(),
            },
        )
    return locked


def disclosure_request_correct(
    *,
    actor=None,
    request: DisclosureRequest,
    description: str,
    corrected_on: dt.date | None = None,
    query_code: str = "",
) -> DisclosureRequest:
    """The corrected request arrives: by the requester online (with the query code, within
    the period) or recorded by staff (who may accept a late correction with good reason).
    The 20 working days start again from this day."""
    description = (description or "").strip()
    if not DESCRIPTION_MIN <= len(description) <= DESCRIPTION_MAX:
        raise ValidationFailed.on_field(
            "description", "length", _("请描述所需信息（5至5000字）：名称、文号或其他特征")
        )
    today = _today()
    with transaction.atomic():
        locked = _lock_request(request)
        is_staff = access.can_handle_disclosure(actor, locked.region, locked.department)
        if not is_staff and not query_code_matches(locked, query_code):
            raise PermissionDenied(_("查询码不正确"), code="query_code_mismatch")
        day = corrected_on if (is_staff and corrected_on) else today
        if day > today or (locked.correction_requested_on and day < locked.correction_requested_on):
            raise ValidationFailed.on_field(
                "corrected_on", "range", _("收到补正日期须在告知补正之后、不晚于今天")
            )
        before = locked.status
        locked.status = next_status(DISCLOSURE_TRANSITIONS, "correct", locked.status)
        if not is_staff and locked.correction_due_on and today > locked.correction_due_on:
            raise Conflict(_("补正期限已过"), code="correction_overdue")
        locked.description = description
        locked.corrected_on = day
        locked.clock_started_on = day
        locked.save()
        audit.record(
            actor=actor,
            action="openness.disclosure_request_correct",
            obj=locked,
            changes={
                "status": [before, locked.status],
                "corrected_on": day.isoformat(),
                "by": "staff" if is_staff else "requester",
            },
        )
    return locked


def disclosure_request_abandon(*, actor, request: DisclosureRequest) -> DisclosureRequest:
    """No correction by the end of the period: treated as abandoned (art. 30), counted in
    the statistics under 其他处理."""
    today = _today()
    with transaction.atomic():
        locked = _lock_request(request)
        access.require_disclosure_staff(actor, locked.region, locked.department)
        before = locked.status
        locked.status = next_status(DISCLOSURE_TRANSITIONS, "abandon", locked.status)
        if locked.correction_due_on is None or today <= locked.correction_due_on:
            raise Conflict(_("补正期限尚未届满"), code="correction_not_overdue")
        locked.answer_type = AnswerType.OTHER
        locked.answer_reason = AnswerReason.OVERDUE_CORRECTION
        locked.answer_text = str(_("申请人无正当理由逾期不补正，视为放弃申请，本机关不再处理。"))
        locked.answered_on = today
        locked.answered_by = actor
        locked.save()
        _notify_requester(
            locked,
            actor=actor,
            subject=_("政府信息公开申请不再处理"),
            body=_("您的申请%(n)s逾期未补正，视为放弃申请。") % {"n": locked.number},
            kind="openness.disclosure_answered",
        )
        audit.record(
            actor=actor,
            action="openness.disclosure_request_abandon",
            obj=locked,
            changes={"status": [before, locked.status]},
        )
    return locked


def disclosure_consultation_start(
    *,
    actor,
    request: DisclosureRequest,
    party_kind: str,
    party_name: str,
    started_on: dt.date | None = None,
    note: str = "",
) -> DisclosureConsultation:
    """Start consulting a third party or another agency (art. 32): the clock stops from
    this day until the consultation ends."""
    today = _today()
    started_on = started_on or today
    party_name = _clean_line(party_name)
    errors: list[FieldError] = []
    if party_kind not in ConsultationParty.values:
        errors.append(FieldError("party_kind", "choice", _("未知的征求对象类别")))
    if not party_name or len(party_name) > 100:
        errors.append(FieldError("party_name", "length", _("请填写征求意见对象名称")))
    if started_on > today:
        errors.append(FieldError("started_on", "not_future", _("开始日期不能晚于今天")))
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    with transaction.atomic():
        locked = _lock_request(request)
        access.require_disclosure_staff(actor, locked.region, locked.department)
        if started_on < locked.clock_started_on:
            raise ValidationFailed.on_field(
                "started_on", "range", _("开始日期不能早于答复期限起算日")
            )
        before = locked.status
        locked.status = next_status(DISCLOSURE_TRANSITIONS, "consult", locked.status)
        locked.save(update_fields=["status", "updated_at"])
        consultation = DisclosureConsultation.objects.create(
            request=locked,
            party_kind=party_kind,
            party_name=party_name,
            started_on=started_on,
            note=_clean_line(note)[:300],
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="openness.disclosure_consultation_start",
            obj=locked,
            changes={
                "status": [before, locked.status],
                "party_kind": party_kind,
                "started_on": started_on.isoformat(),
            },
        )
    return consultation


def disclosure_consultation_end(
    *, actor, request: DisclosureRequest, ended_on: dt.date | None = None
) -> DisclosureRequest:
    today = _today()
    ended_on = ended_on or today
    with transaction.atomic():
        locked = _lock_request(request)
        access.require_disclosure_staff(actor, locked.region, locked.department)
        before = locked.status
        locked.status = next_status(DISCLOSURE_TRANSITIONS, "end_consultation", locked.status)
        open_consultation = locked.consultations.filter(ended_on__isnull=True).first()
        if open_consultation is None:
            raise Conflict(_("没有进行中的征求意见"), code="no_consultation")
        if not open_consultation.started_on <= ended_on <= today:
            raise ValidationFailed.on_field(
                "ended_on", "range", _("结束日期须在开始日期之后、不晚于今天")
            )
        open_consultation.ended_on = ended_on
        open_consultation.save(update_fields=["ended_on"])
        locked.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action="openness.disclosure_consultation_end",
            obj=locked,
            changes={"status": [before, locked.status], "ended_on": ended_on.isoformat()},
        )
    return locked


def disclosure_request_extend(
    *, actor, request: DisclosureRequest, days: int, reason: str
) -> DisclosureRequest:
    """Extend the answer period once, by at most 20 working days, with the approval of the
    head of the openness office, before the period runs out; the requester is told."""
    reason = (reason or "").strip()
    errors: list[FieldError] = []
    if not 1 <= days <= DISCLOSURE_MAX_EXTENSION_DAYS:
        errors.append(FieldError("days", "range", _("延长期限最长不得超过20个工作日")))
    if not reason or len(reason) > 500:
        errors.append(FieldError("reason", "required", _("请写明延长理由（500字以内）")))
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    today = _today()
    with transaction.atomic():
        locked = _lock_request(request)
        access.require_office_head(actor, locked.region, locked.department)
        if locked.status not in DISCLOSURE_EXTENDABLE:
            raise Conflict(_("该申请当前状态不能延长答复期限"), code="invalid_transition")
        if locked.extension_days:
            raise Conflict(_("答复期限只能延长一次"), code="extension_used")
        clock = disclosure_clock(locked)
        due_before = clock.due_on(today).due
        if today > due_before:
            raise Conflict(_("答复期限已过，不能再延长"), code="deadline_passed")
        locked.extension_days = days
        locked.extension_reason = reason
        locked.extension_approved_by = actor
        locked.extension_approved_on = today
        locked.save()
        due_after = disclosure_clock(locked).due_on(today).due
        notified = _notify_requester(
            locked,
            actor=actor,
            subject=_("政府信息公开申请延期答复告知"),
            body=_("您的申请%(n)s因%(r)s，答复期限延长%(d)d个工作日，至%(due)s。")
            % {"n": locked.number, "r": reason[:100], "d": days, "due": due_after},
            kind="openness.disclosure_extended",
        )
        audit.record(
            actor=actor,
            action="openness.disclosure_request_extend",
            obj=locked,
            changes={
                "extension_days": days,
                "reason": reason,
                "due": [due_before.isoformat(), due_after.isoformat()],
                "requester_notified": notified,
            },
        )
    return locked


def disclosure_request_answer(
    *,
    actor,
    request: DisclosureRequest,
    answer_type: str,
    answer_text: str,
    answer_reason: str = "",
    answered_on: dt.date | None = None,
) -> DisclosureRequest:
    today = _today()
    answered_on = answered_on or today
    answer_text = (answer_text or "").strip()
    errors: list[FieldError] = []
    if answer_type not in AnswerType.values:
        errors.append(FieldError("answer_type", "choice", _("未知的答复类型")))
    else:
        allowed = REASONS_BY_ANSWER[AnswerType(answer_type)]
        if allowed and answer_reason not in allowed:
            errors.append(FieldError("answer_reason", "choice", _("请选择该答复类型对应的理由")))
        elif not allowed and answer_reason:
            errors.append(FieldError("answer_reason", "not_allowed", _("该答复类型无需理由")))
        elif answer_reason == AnswerReason.OVERDUE_CORRECTION:
            errors.append(
                FieldError("answer_reason", "use_abandon", _("逾期不补正请用“视为放弃申请”办理"))
            )
    if not answer_text or len(answer_text) > ANSWER_TEXT_MAX:
        errors.append(FieldError("answer_text", "length", _("请填写答复内容（1万字以内）")))
    if answered_on > today:
        errors.append(FieldError("answered_on", "not_future", _("答复日期不能晚于今天")))
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    with transaction.atomic():
        locked = _lock_request(request)
        access.require_disclosure_staff(actor, locked.region, locked.department)
        before = locked.status
        locked.status = next_status(DISCLOSURE_TRANSITIONS, "answer", locked.status)
        if answered_on < locked.received_on:
            raise ValidationFailed.on_field(
                "answered_on", "range", _("答复日期不能早于收到申请日期")
            )
        if answer_reason == AnswerReason.STILL_UNCLEAR and locked.corrected_on is None:
            raise ValidationFailed.on_field(
                "answer_reason", "not_corrected", _("未经补正的申请不能以“补正后仍不明确”答复")
            )
        locked.consultations.filter(ended_on__isnull=True).update(
            ended_on=max(answered_on, locked.clock_started_on)
        )
        due = disclosure_clock(locked).due_on(answered_on).due
        locked.answer_type = answer_type
        locked.answer_reason = answer_reason
        locked.answer_text = answer_text
        locked.answered_on = answered_on
        locked.answered_by = actor
        locked.answered_late = answered_on > due
        locked.save()
        _notify_requester(
            locked,
            actor=actor,
            subject=_("政府信息公开申请答复"),
            body=_("您的申请%(n)s已答复（%(t)s），请登录或凭查询码查看答复内容。")
            % {"n": locked.number, "t": AnswerType(answer_type).label},
            kind="openness.disclosure_answered",
        )
        audit.record(
            actor=actor,
            action="openness.disclosure_request_answer",
            obj=locked,
            changes={
                "status": [before, locked.status],
                "answer_type": answer_type,
                "answer_reason": answer_reason,
                "answered_on": answered_on.isoformat(),
                "due": due.isoformat(),
                "late": locked.answered_late,
            },
        )
    return locked


# --- suggestion box (意见箱) ----------------------------------------------------------------


def _lock_suggestion(suggestion: Suggestion) -> Suggestion:
    try:
        return (
            Suggestion.objects.select_for_update(of=("self",))
            .select_related("region", "department")
            .get(pk=suggestion.pk)
        )
    except Suggestion.DoesNotExist:
        raise NotFound(_("意见建议不存在"), code="suggestion_not_found") from None


def _department_in_reach(department: Department, region: Region) -> bool:
    """A department of the region or of a region above it (a village's suggestion may go
    to the township or the county)."""
    return department.region.code in region.ancestor_codes


def suggestion_submit(
    *,
    actor=None,
    content: str,
    region: Region | None = None,
    service_point: ServicePoint | None = None,
    department: Department | None = None,
    channel: str = SuggestionChannel.ONLINE,
    suggester_name: str = "",
    contact: str = "",
    publish_consent: bool = False,
) -> Suggestion:
    errors: list[FieldError] = []
    content = (content or "").strip()
    if not 5 <= len(content) <= 2000:
        errors.append(FieldError("content", "length", _("请填写意见建议（5至2000字）")))
    if channel not in SuggestionChannel.values:
        errors.append(FieldError("channel", "choice", _("未知的来源")))
    elif channel == SuggestionChannel.BOX and service_point is None:
        errors.append(FieldError("service_point", "required", _("意见箱意见须注明所在网点")))
    if service_point is not None:
        region = service_point.region
    if region is None:
        errors.append(FieldError("region", "required", _("请选择区划或网点")))
    elif department is not None and not _department_in_reach(department, region):
        errors.append(FieldError("department", "outside_region", _("责任单位不在该区划范围内")))
    contact = (contact or "").strip()
    contact_masked = ""
    if contact:
        if "@" in contact:
            try:
                validate_email(contact)
                contact_masked = mask_email(contact)
            except DjangoValidationError:
                errors.append(FieldError("contact", "email_format", _("电子邮箱地址格式不正确")))
        else:
            contact = normalize_mobile_phone(contact)
            if not re.match(PHONE_RE_TEXT, contact):
                errors.append(FieldError("contact", "phone_format", _("联系电话格式不正确")))
            contact_masked = mask_phone(contact)
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    today = _today()
    with transaction.atomic():
        suggestion = Suggestion.objects.create(
            number=f"pending-{secrets.token_hex(8)}",
            channel=channel,
            service_point=service_point,
            region=region,
            department=department,
            suggester_name=_clean_line(suggester_name)[:50],
            contact_encrypted=encrypt(contact) if contact else "",
            contact_masked=contact_masked,
            content=content,
            publish_consent=bool(publish_consent),
            received_on=today,
            answer_limit_days=suggestion_answer_days(),
        )
        suggestion.number = f"YJ{region.code[:6]}{today.year}{suggestion.pk:06d}"
        suggestion.save(update_fields=["number"])
        audit.record(
            actor=actor,
            action="openness.suggestion_submit",
            obj=suggestion,
            changes={
                "number": suggestion.number,
                "region": region.code,
                "service_point": service_point.code if service_point else "",
                "channel": channel,
                "contact": contact_masked,
                "publish_consent": suggestion.publish_consent,
            },
        )
    return suggestion


def suggestion_assign(*, actor, suggestion: Suggestion, department: Department) -> Suggestion:
    with transaction.atomic():
        locked = _lock_suggestion(suggestion)
        if not has_role(actor, Role.OPENNESS_EDITOR, region=locked.region):
            raise PermissionDenied(_("没有分派该意见建议的权限"), code="editor_required")
        if locked.status != SuggestionStatus.RECEIVED:
            raise Conflict(_("已答复的意见建议不能再分派"), code="invalid_transition")
        if not _department_in_reach(department, locked.region):
            raise ValidationFailed.on_field(
                "department", "outside_region", _("责任单位不在该区划范围内")
            )
        before = locked.department_id
        locked.department = department
        locked.save(update_fields=["department"])
        audit.record(
            actor=actor,
            action="openness.suggestion_assign",
            obj=locked,
            changes={"department": [before, department.pk]},
        )
    return locked


def suggestion_answer(*, actor, suggestion: Suggestion, answer_text: str) -> Suggestion:
    """The responsible office answers; the answer is published only if the suggester
    agreed (Suggestion.is_published)."""
    answer_text = (answer_text or "").strip()
    if not 2 <= len(answer_text) <= 5000:
        raise ValidationFailed.on_field("answer_text", "length", _("请填写答复（5000字以内）"))
    today = _today()
    with transaction.atomic():
        locked = _lock_suggestion(suggestion)
        access.require_suggestion_answerer(actor, locked.region, locked.department)
        before = locked.status
        locked.status = next_status(SUGGESTION_TRANSITIONS, "answer", locked.status)
        due = suggestion_clock(locked).due_on(today).due
        locked.answer_text = answer_text
        locked.answered_on = today
        locked.answered_by = actor
        locked.answered_late = today > due
        locked.save()
        contact = _decrypt_or_blank(locked.contact_encrypted)
        if contact:
            is_email = "@" in contact
            is_mobile = contact.isdigit() and len(contact) == 11
            if is_email or is_mobile:
                notification_send(
                    actor=actor,
                    phone="" if is_email else contact,
                    email=contact if is_email else "",
                    channels=("email",) if is_email else ("sms",),
                    subject=_("您的意见建议已答复"),
                    body=_("您提交的意见建议（编号%(n)s）已答复：%(a)s")
                    % {"n": locked.number, "a": answer_text[:200]},
                    kind="openness.suggestion_answered",
                    related=locked,
                )
        audit.record(
            actor=actor,
            action="openness.suggestion_answer",
            obj=locked,
            changes={
                "status": [before, locked.status],
                "due": due.isoformat(),
                "late": locked.answered_late,
                "published": locked.is_published,
            },
        )
    return locked
