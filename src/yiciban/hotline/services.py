"""Every write of the hotline: knowledge entries and synonyms (keeping the search index in
step), tickets and their transitions, categories and time limits, Open311 API clients.

Ticket transitions are listed in TRANSITIONS; each transition service locks the ticket row
(select_for_update), checks the table, and so of two concurrent actions exactly one wins and
the other gets Conflict (409)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core import audit, crypto
from yiciban.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from yiciban.core.identifiers import mask_phone
from yiciban.notifications.services import notification_send
from yiciban.org.models import Department, Region, Role
from yiciban.org.selectors import has_role, is_platform_admin, require_role

from . import search
from .models import (
    DISSATISFIED_LEVELS,
    ApiClient,
    AssignmentOutcome,
    KnowledgeEntry,
    KnowledgeIndexStats,
    KnowledgeSource,
    KnowledgeStatus,
    Satisfaction,
    SynonymGroup,
    SynonymTerm,
    Ticket,
    TicketAction,
    TicketAssignment,
    TicketCategory,
    TicketChannel,
    TicketEvent,
    TicketKind,
    TicketStatus,
    TicketTimeLimit,
)
from .selectors import (
    API_KEY_PREFIX,
    MAX_REOPENS,
    RETURN_WINDOW_WORKING_DAYS,
    assignment_clock,
    hash_api_key,
    is_department_staff,
    return_window_closes_on,
)

# Working days a department has to answer, per ticket kind, unless TicketTimeLimit says
# otherwise (consultations are quick; suggestions need the office to weigh them).
DEFAULT_TIME_LIMITS = {
    TicketKind.CONSULTATION: 3,
    TicketKind.REQUEST: 5,
    TicketKind.COMPLAINT: 10,
    TicketKind.SUGGESTION: 15,
}

QUESTION_MAX = 300
ANSWER_MAX = 5000
TITLE_MAX = 100
DESCRIPTION_MAX = 5000
REASON_MAX = 500
TAG_MAX = 30
TAGS_MAX = 20
SYNONYM_MAX = 30
SYNONYMS_PER_GROUP_MAX = 20

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}\d{7,8}$")
SERVICE_CODE_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,59}$")


class _Unset:
    """Marks an optional update argument that was not given (None is a real value)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors[0].message, errors)


def _text(
    value: str | None,
    field: str,
    errors: list[FieldError],
    *,
    max_length: int,
    required: bool = True,
    label: str,
) -> str:
    value = "" if value is None else str(value).strip()
    if required and not value:
        errors.append(FieldError(field, "required", _("请填写%(f)s") % {"f": label}))
    elif len(value) > max_length:
        errors.append(
            FieldError(
                field,
                "max_length",
                _("%(f)s不能超过%(n)d个字符") % {"f": label, "n": max_length},
            )
        )
    return value


def _today() -> dt.date:
    return timezone.localdate()


# --- knowledge base -------------------------------------------------------------------------


def can_curate(actor, *, region: Region, department: Department | None) -> bool:
    """Hotline operators curate the knowledge of their region; a department admin curates
    the entries of their own department."""
    if has_role(actor, Role.HOTLINE_OPERATOR, region=region):
        return True
    return department is not None and has_role(actor, Role.DEPARTMENT_ADMIN, department=department)


def _require_curator(actor, *, region: Region, department: Department | None) -> None:
    if not can_curate(actor, region=region, department=department):
        raise PermissionDenied(
            _("只有本区域的12345话务员或责任部门的部门管理员可以维护知识库"),
            code="not_curator",
        )


def _clean_tags(tags: Sequence[str] | None, errors: list[FieldError]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags or []:
        tag = str(tag).strip()
        if not tag:
            continue
        if len(tag) > TAG_MAX:
            errors.append(
                FieldError("tags", "max_length", _("标签不能超过%(n)d个字符") % {"n": TAG_MAX})
            )
            continue
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > TAGS_MAX:
        errors.append(FieldError("tags", "max_items", _("标签不能超过%(n)d个") % {"n": TAGS_MAX}))
    return cleaned


def _check_entry(
    *,
    question: str,
    answer: str,
    tags: Sequence[str] | None,
    valid_from: dt.date | None,
    valid_until: dt.date | None,
    region: Region,
    department: Department | None,
) -> tuple[str, str, list[str]]:
    errors: list[FieldError] = []
    question = _text(question, "question", errors, max_length=QUESTION_MAX, label=_("问题"))
    answer = _text(answer, "answer", errors, max_length=ANSWER_MAX, label=_("答复口径"))
    cleaned_tags = _clean_tags(tags, errors)
    if valid_from and valid_until and valid_until < valid_from:
        errors.append(FieldError("valid_until", "after_valid_from", _("失效日期不能早于生效日期")))
    if department is not None and not department.region.path.startswith(region.path):
        errors.append(FieldError("department", "out_of_region", _("责任部门不在条目的适用区划内")))
    _raise_if(errors)
    return question, answer, cleaned_tags


def _entry_snapshot(entry: KnowledgeEntry) -> dict:
    return {
        "question": entry.question,
        "department": entry.department_id,
        "region": entry.region_id,
        "source": entry.source,
        "source_ref": entry.source_ref,
        "status": entry.status,
        "tags": entry.tags,
        "valid_from": entry.valid_from and entry.valid_from.isoformat(),
        "valid_until": entry.valid_until and entry.valid_until.isoformat(),
    }


def knowledge_entry_create(
    *,
    actor,
    region: Region,
    question: str,
    answer: str,
    department: Department | None = None,
    tags: Sequence[str] = (),
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    publish: bool = False,
) -> KnowledgeEntry:
    """A curated entry (source 人工编写), as a draft unless `publish`."""
    _require_curator(actor, region=region, department=department)
    question, answer, tags = _check_entry(
        question=question,
        answer=answer,
        tags=tags,
        valid_from=valid_from,
        valid_until=valid_until,
        region=region,
        department=department,
    )
    with transaction.atomic():
        entry = KnowledgeEntry.objects.create(
            region=region,
            question=question,
            answer=answer,
            department=department,
            tags=tags,
            source=KnowledgeSource.CURATED,
            valid_from=valid_from,
            valid_until=valid_until,
            status=KnowledgeStatus.PUBLISHED if publish else KnowledgeStatus.DRAFT,
            published_at=timezone.now() if publish else None,
            created_by=actor if getattr(actor, "pk", None) else None,
            updated_by=actor if getattr(actor, "pk", None) else None,
        )
        search.index_entry(entry)
        audit.record(
            actor=actor,
            action="hotline.knowledge_entry_create",
            obj=entry,
            changes=_entry_snapshot(entry),
        )
    return entry


def _locked_entry(entry: KnowledgeEntry) -> KnowledgeEntry:
    try:
        return (
            KnowledgeEntry.objects.select_for_update(of=("self",))
            .select_related("region", "department__region")
            .get(pk=entry.pk)
        )
    except KnowledgeEntry.DoesNotExist:
        raise NotFound(_("知识库条目不存在"), code="knowledge_entry_not_found") from None


def knowledge_entry_update(
    *,
    actor,
    entry: KnowledgeEntry,
    question: str | None = None,
    answer: str | None = None,
    department: Department | None = UNSET,
    tags: Sequence[str] | None = None,
    valid_from: dt.date | None = UNSET,
    valid_until: dt.date | None = UNSET,
) -> KnowledgeEntry:
    """Change what is given; a published entry is reindexed at once."""
    with transaction.atomic():
        entry = _locked_entry(entry)
        _require_curator(actor, region=entry.region, department=entry.department)
        new_department = entry.department if department is UNSET else department
        if new_department != entry.department:
            _require_curator(actor, region=entry.region, department=new_department)
        before = {
            f: getattr(entry, f)
            for f in ("question", "answer", "department", "tags", "valid_from", "valid_until")
        }
        new_question, new_answer, new_tags = _check_entry(
            question=entry.question if question is None else question,
            answer=entry.answer if answer is None else answer,
            tags=entry.tags if tags is None else tags,
            valid_from=entry.valid_from if valid_from is UNSET else valid_from,
            valid_until=entry.valid_until if valid_until is UNSET else valid_until,
            region=entry.region,
            department=new_department,
        )
        entry.question, entry.answer, entry.tags = new_question, new_answer, new_tags
        entry.department = new_department
        if valid_from is not UNSET:
            entry.valid_from = valid_from
        if valid_until is not UNSET:
            entry.valid_until = valid_until
        entry.updated_by = actor if getattr(actor, "pk", None) else None
        entry.save()
        search.index_entry(entry)
        changes = audit.changed_fields(entry, before, list(before))
        changes.pop("answer", None)
        if before["answer"] != entry.answer:
            changes["answer"] = "changed"
        audit.record(
            actor=actor, action="hotline.knowledge_entry_update", obj=entry, changes=changes
        )
    return entry


def _set_entry_status(*, actor, entry: KnowledgeEntry, status: str, action: str) -> KnowledgeEntry:
    with transaction.atomic():
        entry = _locked_entry(entry)
        _require_curator(actor, region=entry.region, department=entry.department)
        if entry.status == status:
            raise Conflict(
                _("条目已是“%(s)s”状态") % {"s": KnowledgeStatus(status).label},
                code="knowledge_entry_state",
            )
        old = entry.status
        entry.status = status
        if status == KnowledgeStatus.PUBLISHED:
            entry.published_at = timezone.now()
        entry.updated_by = actor if getattr(actor, "pk", None) else None
        entry.save()
        search.index_entry(entry)
        audit.record(actor=actor, action=action, obj=entry, changes={"status": [old, entry.status]})
    return entry


def knowledge_entry_publish(*, actor, entry: KnowledgeEntry) -> KnowledgeEntry:
    return _set_entry_status(
        actor=actor,
        entry=entry,
        status=KnowledgeStatus.PUBLISHED,
        action="hotline.knowledge_entry_publish",
    )


def knowledge_entry_unpublish(*, actor, entry: KnowledgeEntry) -> KnowledgeEntry:
    """Back to draft: out of search at once, kept for editing."""
    return _set_entry_status(
        actor=actor,
        entry=entry,
        status=KnowledgeStatus.DRAFT,
        action="hotline.knowledge_entry_unpublish",
    )


def knowledge_entry_upsert_from_source(
    *,
    actor,
    source_kind: str,
    source_id: str | int,
    question: str,
    answer: str,
    department: Department | None,
    region: Region | None = None,
    tags: Sequence[str] = (),
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    publish: bool = True,
) -> KnowledgeEntry:
    """Create or refresh the entry fed by an item guide (source_kind "item_guide") or a
    published policy ("policy"), keyed by (source_kind, source_id).

    For the catalogue and openness apps: they have already checked that `actor` may publish
    the guide or policy, so no hotline role is asked for here. The region defaults to the
    department's; `publish=False` keeps (or puts) the entry out of search."""
    if source_kind not in (KnowledgeSource.ITEM_GUIDE, KnowledgeSource.POLICY):
        raise ValidationFailed.on_field(
            "source_kind", "choice", _("来源类型只能是办事指南（item_guide）或政策文件（policy）")
        )
    source_ref = str(source_id).strip()
    if not source_ref or len(source_ref) > 100:
        raise ValidationFailed.on_field(
            "source_id", "required", _("来源编号不能为空且不能超过100个字符")
        )
    region = region or (department.region if department is not None else None)
    if region is None:
        raise ValidationFailed.on_field("region", "required", _("请指定适用区划或责任部门"))
    question, answer, tags = _check_entry(
        question=question,
        answer=answer,
        tags=tags,
        valid_from=valid_from,
        valid_until=valid_until,
        region=region,
        department=department,
    )
    status = KnowledgeStatus.PUBLISHED if publish else KnowledgeStatus.DRAFT
    values = {
        "region": region,
        "question": question,
        "answer": answer,
        "department": department,
        "tags": tags,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "status": status,
        "updated_by": actor if getattr(actor, "pk", None) else None,
    }
    with transaction.atomic():
        entry = (
            KnowledgeEntry.objects.select_for_update(of=("self",))
            .filter(source=source_kind, source_ref=source_ref)
            .first()
        )
        created = entry is None
        if created:
            try:
                with transaction.atomic():
                    entry = KnowledgeEntry.objects.create(
                        source=source_kind,
                        source_ref=source_ref,
                        created_by=values["updated_by"],
                        published_at=timezone.now() if publish else None,
                        **values,
                    )
            except IntegrityError:
                # Fed twice at once: the other call created it; update that one.
                entry = KnowledgeEntry.objects.select_for_update(of=("self",)).get(
                    source=source_kind, source_ref=source_ref
                )
                created = False
        if not created:
            if publish and entry.status != KnowledgeStatus.PUBLISHED:
                entry.published_at = timezone.now()
            for name, value in values.items():
                setattr(entry, name, value)
            entry.save()
        search.index_entry(entry)
        audit.record(
            actor=actor,
            action="hotline.knowledge_entry_upsert_from_source",
            obj=entry,
            changes={"created": created, **_entry_snapshot(entry)},
        )
    return entry


def knowledge_entry_withdraw_from_source(
    *, actor, source_kind: str, source_id: str | int
) -> KnowledgeEntry | None:
    """The guide or policy was withdrawn: its entry leaves search (kept as a draft).
    Returns None when no entry was fed from that source."""
    with transaction.atomic():
        entry = (
            KnowledgeEntry.objects.select_for_update(of=("self",))
            .filter(source=source_kind, source_ref=str(source_id).strip())
            .first()
        )
        if entry is None or entry.status == KnowledgeStatus.DRAFT:
            return entry
        entry.status = KnowledgeStatus.DRAFT
        entry.save()
        search.index_entry(entry)
        audit.record(
            actor=actor,
            action="hotline.knowledge_entry_withdraw_from_source",
            obj=entry,
            changes={"status": [KnowledgeStatus.PUBLISHED, KnowledgeStatus.DRAFT]},
        )
    return entry


def knowledge_index_rebuild(*, actor) -> int:
    """Rewrite the whole search index (after a bulk import or a restore)."""
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以重建知识库索引"), code="forbidden")
    with transaction.atomic():
        count = search.rebuild_index()
        audit.record(
            actor=actor,
            action="hotline.knowledge_index_rebuild",
            object_type="hotline.knowledgeindexstats",
            object_id=1,
            changes={"entries": count},
        )
    return count


# --- synonyms -------------------------------------------------------------------------------


def can_edit_synonyms(actor) -> bool:
    return has_role(actor, Role.HOTLINE_OPERATOR)


def _require_synonym_editor(actor) -> None:
    if not can_edit_synonyms(actor):
        raise PermissionDenied(_("只有12345话务员可以维护同义词"), code="not_curator")


def _clean_synonyms(
    name: str, terms: Sequence[str], *, group: SynonymGroup | None
) -> tuple[str, list[str]]:
    errors: list[FieldError] = []
    name = _text(name, "name", errors, max_length=50, label=_("名称"))
    cleaned: list[str] = []
    for term in terms or []:
        term = str(term).strip().lower()
        if not term or term in cleaned:
            continue
        if len(term) > SYNONYM_MAX or re.search(r"\s", term):
            errors.append(
                FieldError(
                    "terms",
                    "format",
                    _("同义词“%(t)s”不能含空格且不能超过%(n)d个字符")
                    % {"t": term[:40], "n": SYNONYM_MAX},
                )
            )
            continue
        cleaned.append(term)
    if len(cleaned) < 2:
        errors.append(FieldError("terms", "min_items", _("同义词组至少需要两个不同的词")))
    if len(cleaned) > SYNONYMS_PER_GROUP_MAX:
        errors.append(
            FieldError(
                "terms", "max_items", _("同义词组不能超过%(n)d个词") % {"n": SYNONYMS_PER_GROUP_MAX}
            )
        )
    taken = SynonymTerm.objects.filter(term__in=cleaned)
    if group is not None:
        taken = taken.exclude(group=group)
    for row in taken.select_related("group"):
        errors.append(
            FieldError(
                "terms",
                "unique",
                _("“%(t)s”已属于同义词组“%(g)s”") % {"t": row.term, "g": row.group.name},
            )
        )
    name_taken = SynonymGroup.objects.filter(name=name)
    if group is not None:
        name_taken = name_taken.exclude(pk=group.pk)
    if name and name_taken.exists():
        errors.append(FieldError("name", "unique", _("同名的同义词组已存在")))
    _raise_if(errors)
    return name, cleaned


def _synonyms_changed(changed_words: set[str]) -> None:
    """New stamp, reload this process's tokenizer, reindex the entries the words occur in
    (their segmentation may change because the tokenizer now knows — or forgets — them)."""
    stamp = secrets.randbelow(2**31 - 2) + 1
    KnowledgeIndexStats.objects.get_or_create(pk=1)
    KnowledgeIndexStats.objects.filter(pk=1).update(synonyms_stamp=stamp)
    # Should this transaction roll back, the database stamp differs from the one loaded
    # here, so the next search in this process reloads what is really stored.
    search.reload_synonyms(stamp)
    words = [w for w in changed_words if len(w) > 1]
    if not words:
        return
    condition = Q()
    for word in words:
        condition |= Q(question__icontains=word) | Q(answer__icontains=word)
    for entry in KnowledgeEntry.objects.filter(condition, status=KnowledgeStatus.PUBLISHED):
        search.index_entry(entry)


def synonym_group_create(*, actor, name: str, terms: Sequence[str]) -> SynonymGroup:
    _require_synonym_editor(actor)
    name, cleaned = _clean_synonyms(name, terms, group=None)
    try:
        with transaction.atomic():
            group = SynonymGroup.objects.create(name=name, terms=cleaned)
            SynonymTerm.objects.bulk_create(SynonymTerm(group=group, term=t) for t in cleaned)
            _synonyms_changed(set(cleaned))
            audit.record(
                actor=actor,
                action="hotline.synonym_group_create",
                obj=group,
                changes={"name": name, "terms": cleaned},
            )
    except IntegrityError:
        search.forget_loaded_synonyms()
        raise Conflict(_("同义词已被其他同义词组占用"), code="synonym_taken") from None
    except Exception:
        search.forget_loaded_synonyms()
        raise
    return group


def synonym_group_update(
    *, actor, group: SynonymGroup, name: str, terms: Sequence[str]
) -> SynonymGroup:
    _require_synonym_editor(actor)
    try:
        with transaction.atomic():
            group = SynonymGroup.objects.select_for_update(of=("self",)).get(pk=group.pk)
            name, cleaned = _clean_synonyms(name, terms, group=group)
            old_terms = list(group.terms)
            group.name, group.terms = name, cleaned
            group.save()
            SynonymTerm.objects.filter(group=group).delete()
            SynonymTerm.objects.bulk_create(SynonymTerm(group=group, term=t) for t in cleaned)
            _synonyms_changed(set(old_terms) ^ set(cleaned))
            audit.record(
                actor=actor,
                action="hotline.synonym_group_update",
                obj=group,
                changes={"name": name, "terms": [old_terms, cleaned]},
            )
    except SynonymGroup.DoesNotExist:
        raise NotFound(_("同义词组不存在"), code="synonym_group_not_found") from None
    except IntegrityError:
        search.forget_loaded_synonyms()
        raise Conflict(_("同义词已被其他同义词组占用"), code="synonym_taken") from None
    except Exception:
        search.forget_loaded_synonyms()
        raise
    return group


def synonym_group_delete(*, actor, group: SynonymGroup) -> None:
    _require_synonym_editor(actor)
    try:
        with transaction.atomic():
            group = SynonymGroup.objects.select_for_update(of=("self",)).get(pk=group.pk)
            terms = list(group.terms)
            audit.record(
                actor=actor,
                action="hotline.synonym_group_delete",
                obj=group,
                changes={"name": group.name, "terms": terms},
            )
            group.delete()
            _synonyms_changed(set(terms))
    except SynonymGroup.DoesNotExist:
        raise NotFound(_("同义词组不存在"), code="synonym_group_not_found") from None
    except Exception:
        search.forget_loaded_synonyms()
        raise


# --- categories and time limits -------------------------------------------------------------


ATTRIBUTE_DATATYPES = frozenset(
    {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
)


def _check_attribute_definitions(attributes: Sequence[dict], errors: list[FieldError]) -> list:
    """Open311 attribute definitions: code, datatype, required, description, order, and
    values [{key, name}] for the list types."""
    cleaned = []
    codes: set[str] = set()
    for index, raw in enumerate(attributes or []):
        where = f"attributes.{index}"
        if not isinstance(raw, dict):
            errors.append(FieldError(where, "type", _("补充信息项格式不正确")))
            continue
        code = str(raw.get("code", "")).strip()
        datatype = str(raw.get("datatype", "")).strip()
        if not re.match(r"^[a-z][a-z0-9_]{0,39}$", code) or code in codes:
            errors.append(
                FieldError(f"{where}.code", "format", _("补充信息项编码须为唯一的小写英文代码"))
            )
        if datatype not in ATTRIBUTE_DATATYPES:
            errors.append(FieldError(f"{where}.datatype", "choice", _("补充信息项类型不正确")))
        values = raw.get("values") or []
        if datatype in ("singlevaluelist", "multivaluelist") and not values:
            errors.append(FieldError(f"{where}.values", "required", _("列表类型须给出可选值")))
        codes.add(code)
        cleaned.append(
            {
                "variable": True,
                "code": code,
                "datatype": datatype,
                "required": bool(raw.get("required", False)),
                "datatype_description": str(raw.get("datatype_description", "")),
                "order": int(raw.get("order", index + 1)),
                "description": str(raw.get("description", "")),
                "values": [{"key": str(v["key"]), "name": str(v["name"])} for v in values],
            }
        )
    return cleaned


def ticket_category_save(
    *,
    actor,
    code: str,
    name: str,
    kind: str,
    group: str = "",
    description: str = "",
    keywords: str = "",
    default_department_kind: str = "",
    location_required: bool = False,
    attributes: Sequence[dict] = (),
    is_active: bool = True,
    order: int = 100,
) -> TicketCategory:
    """Create or update the category with this code (an Open311 service_code)."""
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以维护工单分类"), code="forbidden")
    errors: list[FieldError] = []
    code = (code or "").strip()
    if not SERVICE_CODE_RE.match(code):
        errors.append(
            FieldError("code", "format", _("编码须为小写英文字母开头的代码（可含数字 . _ -）"))
        )
    name = _text(name, "name", errors, max_length=60, label=_("名称"))
    if kind not in TicketKind.values:
        errors.append(FieldError("kind", "choice", _("工单类型不正确")))
    cleaned_attributes = _check_attribute_definitions(attributes, errors)
    _raise_if(errors)
    with transaction.atomic():
        category, created = TicketCategory.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "group": group.strip(),
                "description": description.strip(),
                "keywords": keywords.strip(),
                "default_department_kind": default_department_kind,
                "location_required": location_required,
                "attributes": cleaned_attributes,
                "is_active": is_active,
                "order": order,
            },
        )
        audit.record(
            actor=actor,
            action="hotline.ticket_category_save",
            obj=category,
            changes={"created": created, "code": code, "name": name, "kind": kind},
        )
    return category


def ticket_time_limit_set(*, actor, kind: str, working_days: int) -> TicketTimeLimit:
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以设置办理时限"), code="forbidden")
    if kind not in TicketKind.values:
        raise ValidationFailed.on_field("kind", "choice", _("工单类型不正确"))
    if not isinstance(working_days, int) or not 1 <= working_days <= 60:
        raise ValidationFailed.on_field("working_days", "range", _("办理时限须为1至60个工作日"))
    with transaction.atomic():
        limit, _created = TicketTimeLimit.objects.update_or_create(
            kind=kind, defaults={"working_days": working_days}
        )
        audit.record(
            actor=actor,
            action="hotline.ticket_time_limit_set",
            obj=limit,
            changes={"kind": kind, "working_days": working_days},
        )
    return limit


def time_limit_for(kind: str) -> int:
    row = TicketTimeLimit.objects.filter(kind=kind).first()
    return row.working_days if row else DEFAULT_TIME_LIMITS[TicketKind(kind)]


# --- tickets: registration ------------------------------------------------------------------


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def _check_phone(value: str, errors: list[FieldError], *, required: bool) -> str:
    phone = normalize_phone(value)
    if not phone:
        if required:
            errors.append(FieldError("caller_phone", "required", _("请填写联系电话")))
        return ""
    if not (MOBILE_RE.match(phone) or LANDLINE_RE.match(phone)):
        errors.append(
            FieldError(
                "caller_phone",
                "phone_format",
                _("联系电话应为11位手机号码或带区号的固定电话"),
            )
        )
    return phone


def _check_coordinate(value, field: str, low: int, high: int, errors) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        errors.append(FieldError(field, "number", _("坐标须为数字")))
        return None
    if not low <= number <= high:
        errors.append(FieldError(field, "range", _("坐标超出范围")))
        return None
    return number


def check_attribute_values(
    category: TicketCategory,
    values: dict[str, Any],
    errors: list[FieldError],
    *,
    enforce_required: bool = True,
) -> dict[str, Any]:
    """Values for the category's Open311 attributes: required ones present, list values
    among the allowed keys, numbers numeric, datetimes ISO 8601. Unknown codes refused."""
    definitions = {a["code"]: a for a in category.attributes}
    cleaned: dict[str, Any] = {}
    for code in values:
        if code not in definitions:
            errors.append(
                FieldError(
                    f"attribute[{code}]",
                    "unknown",
                    _("该分类没有补充信息项%(c)s") % {"c": code},
                )
            )
    for code, definition in definitions.items():
        value = values.get(code)
        field = f"attribute[{code}]"
        if value in (None, "", []):
            if definition.get("required") and enforce_required:
                errors.append(
                    FieldError(
                        field,
                        "required",
                        _("请填写%(d)s") % {"d": definition.get("description") or code},
                    )
                )
            continue
        datatype = definition["datatype"]
        keys = {v["key"] for v in definition.get("values", [])}
        if datatype == "multivaluelist":
            items = value if isinstance(value, list) else [value]
            if any(str(v) not in keys for v in items):
                errors.append(FieldError(field, "choice", _("选项不在可选范围内")))
                continue
            cleaned[code] = [str(v) for v in items]
            continue
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else value
            if isinstance(value, list):
                errors.append(FieldError(field, "single", _("该项只能填一个值")))
                continue
        value = str(value).strip()
        if len(value) > 1000:
            errors.append(FieldError(field, "max_length", _("内容过长")))
        elif datatype == "singlevaluelist" and value not in keys:
            errors.append(FieldError(field, "choice", _("选项不在可选范围内")))
        elif datatype == "number":
            try:
                Decimal(value)
            except InvalidOperation:
                errors.append(FieldError(field, "number", _("须为数字")))
            else:
                cleaned[code] = value
        elif datatype == "datetime":
            try:
                dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                errors.append(FieldError(field, "datetime", _("须为ISO 8601日期时间")))
            else:
                cleaned[code] = value
        else:
            cleaned[code] = value
    return cleaned


def _register(
    *,
    actor,
    region: Region,
    category: TicketCategory,
    channel: str,
    title: str,
    description: str,
    caller_name: str,
    caller_phone: str,
    phone_required: bool,
    caller_email: str = "",
    address: str = "",
    latitude=None,
    longitude=None,
    media_url: str = "",
    attributes: dict[str, Any] | None = None,
    caller_user=None,
    operator=None,
    api_client: ApiClient | None = None,
    audit_extra: dict | None = None,
) -> Ticket:
    errors: list[FieldError] = []
    if not category.is_active:
        errors.append(FieldError("category", "inactive", _("该工单分类已停用")))
    description = _text(
        description, "description", errors, max_length=DESCRIPTION_MAX, label=_("诉求内容")
    )
    title = (title or "").strip() or description[:30]
    title = _text(title, "title", errors, max_length=TITLE_MAX, label=_("标题"))
    caller_name = _text(
        caller_name, "caller_name", errors, max_length=50, required=False, label=_("来电人")
    )
    phone = _check_phone(caller_phone, errors, required=phone_required)
    email = (caller_email or "").strip()
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors.append(FieldError("email", "email_format", _("电子邮箱地址格式不正确")))
    address = _text(address, "address", errors, max_length=200, required=False, label=_("地点"))
    lat = _check_coordinate(latitude, "lat", -90, 90, errors)
    lon = _check_coordinate(longitude, "long", -180, 180, errors)
    if (lat is None) != (lon is None):
        errors.append(FieldError("lat", "pair", _("经纬度须同时提供")))
    if category.location_required and not address and lat is None:
        errors.append(FieldError("address", "location_required", _("该分类须填写地点或经纬度")))
    media_url = (media_url or "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except DjangoValidationError:
            errors.append(FieldError("media_url", "url", _("附件链接须为http(s)网址")))
        if len(media_url) > 500:
            errors.append(FieldError("media_url", "max_length", _("附件链接过长")))
    # Machine clients fill the category's structured fields; on the phone and online the
    # operator or person writes the matter in the description, so there they are optional.
    cleaned_attributes = check_attribute_values(
        category, attributes or {}, errors, enforce_required=channel == TicketChannel.API
    )
    _raise_if(errors)
    with transaction.atomic():
        ticket = Ticket.objects.create(
            number=secrets.token_hex(10),  # replaced below once the id is known
            region=region,
            category=category,
            kind=category.kind,
            channel=channel,
            title=title,
            description=description,
            address=address,
            latitude=lat,
            longitude=lon,
            media_url=media_url,
            attributes=cleaned_attributes,
            caller_name=caller_name,
            caller_phone_encrypted=crypto.encrypt(phone) if phone else "",
            caller_phone_index=crypto.blind_index(phone, purpose="phone") if phone else "",
            caller_phone_masked=mask_phone(phone) if phone else "",
            caller_email_encrypted=crypto.encrypt(email) if email else "",
            caller_user=caller_user,
            operator=operator,
            api_client=api_client,
        )
        ticket.number = f"{_today():%Y%m%d}{ticket.pk:06d}"
        Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
        _event(ticket, action="register", from_status="", actor=actor, note="")
        audit.record(
            actor=actor,
            action="hotline.ticket_register",
            obj=ticket,
            changes={
                "number": ticket.number,
                "channel": channel,
                "category": category.code,
                "region": region.code,
                "caller_phone": ticket.caller_phone_masked,
                **(audit_extra or {}),
            },
        )
    return ticket


def ticket_log_call(
    *,
    actor,
    region: Region,
    category: TicketCategory,
    description: str,
    caller_phone: str,
    caller_name: str = "",
    title: str = "",
    address: str = "",
    latitude=None,
    longitude=None,
    attributes: dict[str, Any] | None = None,
) -> Ticket:
    """An operator logs a call (渠道：电话)."""
    require_role(actor, Role.HOTLINE_OPERATOR, region=region)
    return _register(
        actor=actor,
        region=region,
        category=category,
        channel=TicketChannel.PHONE,
        title=title,
        description=description,
        caller_name=caller_name,
        caller_phone=caller_phone,
        phone_required=True,
        address=address,
        latitude=latitude,
        longitude=longitude,
        attributes=attributes,
        operator=actor,
    )


def ticket_submit_online(
    *,
    actor,
    region: Region,
    category: TicketCategory,
    description: str,
    caller_phone: str,
    caller_name: str = "",
    title: str = "",
    address: str = "",
) -> Ticket:
    """A logged-in person submits online (渠道：网上); the ticket is theirs to follow."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录再提交诉求"), code="login_required")
    return _register(
        actor=actor,
        region=region,
        category=category,
        channel=TicketChannel.ONLINE,
        title=title,
        description=description,
        caller_name=caller_name or actor.get_full_name() or str(actor),
        caller_phone=caller_phone,
        phone_required=True,
        address=address,
        caller_user=actor,
    )


def ticket_submit_api(
    *,
    client: ApiClient,
    region: Region,
    category: TicketCategory,
    description: str,
    caller_name: str = "",
    caller_phone: str = "",
    caller_email: str = "",
    address: str = "",
    latitude=None,
    longitude=None,
    media_url: str = "",
    attributes: dict[str, Any] | None = None,
    device_id: str = "",
    account_id: str = "",
) -> Ticket:
    """A machine client (Open311 POST requests) submits; `region` must lie within the
    client's own."""
    if not client.is_active:
        raise PermissionDenied(_("接口客户端已停用"), code="api_key_invalid")
    if not region.path.startswith(client.region.path):
        raise PermissionDenied(_("该客户端无权向此区划提交诉求"), code="jurisdiction_forbidden")
    with transaction.atomic():
        ticket = _register(
            actor=None,
            region=region,
            category=category,
            channel=TicketChannel.API,
            title="",
            description=description,
            caller_name=caller_name,
            caller_phone=caller_phone,
            phone_required=False,
            caller_email=caller_email,
            address=address,
            latitude=latitude,
            longitude=longitude,
            media_url=media_url,
            attributes=attributes,
            api_client=client,
            audit_extra={
                "api_client": client.pk,
                "device_id": device_id[:100],
                "account_id": account_id[:100],
            },
        )
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return ticket


# --- tickets: transitions -------------------------------------------------------------------

# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "answer_from_knowledge": (
        frozenset({TicketStatus.REGISTERED, TicketStatus.RETURNED}),
        TicketStatus.ANSWERED,
    ),
    "dispatch": (
        frozenset({TicketStatus.REGISTERED, TicketStatus.RETURNED}),
        TicketStatus.DISPATCHED,
    ),
    "return": (frozenset({TicketStatus.DISPATCHED}), TicketStatus.RETURNED),
    "answer": (frozenset({TicketStatus.DISPATCHED}), TicketStatus.ANSWERED),
    "follow_up": (frozenset({TicketStatus.ANSWERED}), TicketStatus.CLOSED),
    "reopen": (frozenset({TicketStatus.CLOSED}), TicketStatus.REGISTERED),
}

ACTION_LABELS = {action.value: action.label for action in TicketAction}


def _begin(ticket: Ticket, action: str) -> Ticket:
    """Lock the ticket row and check that `action` is allowed from its current state."""
    try:
        locked = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("region", "category", "department__region")
            .get(pk=ticket.pk)
        )
    except Ticket.DoesNotExist:
        raise NotFound(_("工单不存在"), code="ticket_not_found") from None
    allowed_from, _target = TRANSITIONS[action]
    if locked.status not in allowed_from:
        raise Conflict(
            _("工单当前状态为“%(s)s”，不能%(a)s")
            % {"s": TicketStatus(locked.status).label, "a": ACTION_LABELS[action]},
            code="ticket_state",
        )
    return locked


def _move(ticket: Ticket, action: str, *, actor, note: str = "", department=None) -> str:
    old = ticket.status
    ticket.status = TRANSITIONS[action][1]
    _event(ticket, action=action, from_status=old, actor=actor, note=note, department=department)
    return old


def _event(
    ticket: Ticket, *, action: str, from_status: str, actor, note: str, department=None
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        action=action,
        from_status=from_status,
        to_status=ticket.status,
        actor=actor if getattr(actor, "pk", None) else None,
        department=department,
        note=note,
    )


def _open_assignment(ticket: Ticket) -> TicketAssignment:
    assignment = (
        TicketAssignment.objects.select_for_update(of=("self",))
        .select_related("department__region")
        .filter(ticket=ticket, outcome=AssignmentOutcome.OPEN)
        .order_by("-id")
        .first()
    )
    if assignment is None:
        raise Conflict(_("工单没有办理中的派单"), code="ticket_state")
    return assignment


def _require_department_staff(actor, department: Department) -> None:
    if not is_department_staff(actor, department):
        raise PermissionDenied(
            _("只有%(d)s的工作人员可以处理派给该部门的工单") % {"d": department.name},
            code="not_department_staff",
        )


def _ticket_link(ticket: Ticket) -> str:
    return reverse("hotline:ticket_detail", args=[ticket.number])


def _notify_caller(*, actor, ticket: Ticket, kind: str, subject: str, body: str) -> None:
    """SMS to the caller's mobile (and e-mail / in-app where we have them); a landline
    caller without an account gets the follow-up call only."""
    phone = ticket.caller_phone
    channels: list[str] = []
    if phone and MOBILE_RE.match(phone):
        channels.append("sms")
    email = ticket.caller_email
    if email:
        channels.append("email")
    if ticket.caller_user_id:
        channels.append("in_app")
    if not channels:
        return
    notification_send(
        actor=actor,
        recipient_user=ticket.caller_user if ticket.caller_user_id else None,
        phone=phone if "sms" in channels else "",
        email=email,
        channels=channels,
        subject=subject,
        body=body,
        kind=kind,
        link=_ticket_link(ticket),
        related=ticket,
    )


def ticket_answer_from_knowledge(
    *, actor, ticket: Ticket, entry: KnowledgeEntry, note: str = ""
) -> Ticket:
    """The operator answers at once with a published knowledge entry (recorded)."""
    errors: list[FieldError] = []
    note = _text(note, "note", errors, max_length=REASON_MAX, required=False, label=_("补充说明"))
    _raise_if(errors)
    with transaction.atomic():
        require_role(actor, Role.HOTLINE_OPERATOR, region=ticket.region)
        ticket = _begin(ticket, "answer_from_knowledge")
        entry = KnowledgeEntry.objects.filter(pk=entry.pk).first()
        if entry is None or entry.status != KnowledgeStatus.PUBLISHED:
            raise ValidationFailed.on_field(
                "entry_id", "published", _("只能引用已发布的知识库条目")
            )
        today = _today()
        if (entry.valid_from and entry.valid_from > today) or (
            entry.valid_until and entry.valid_until < today
        ):
            raise ValidationFailed.on_field("entry_id", "valid", _("该知识库条目不在有效期内"))
        old = _move(ticket, "answer_from_knowledge", actor=actor, note=note)
        ticket.knowledge_entry = entry
        ticket.answer = entry.answer + (f"\n{note}" if note else "")
        ticket.answered_at = timezone.now()
        ticket.department = None
        ticket.save()
        _notify_caller(
            actor=actor,
            ticket=ticket,
            kind="hotline.ticket_answered",
            subject=_("12345热线答复"),
            body=_("您反映的事项（工单%(n)s）已答复：%(a)s")
            % {"n": ticket.number, "a": _sms_excerpt(ticket.answer)},
        )
        audit.record(
            actor=actor,
            action="hotline.ticket_answer_from_knowledge",
            obj=ticket,
            changes={"status": [old, ticket.status], "knowledge_entry": entry.pk},
        )
    return ticket


def _sms_excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_recorded_on(recorded_on: dt.date | None, today: dt.date) -> dt.date:
    if recorded_on is None:
        return today
    if recorded_on > today:
        raise ValidationFailed.on_field("recorded_on", "future", _("日期不能晚于今天"))
    return recorded_on


def ticket_dispatch(
    *,
    actor,
    ticket: Ticket,
    department: Department,
    instructions: str = "",
    recorded_on: dt.date | None = None,
) -> Ticket:
    """Send the ticket to the responsible department, starting its deadline clock (the
    ticket kind's working days, counted from the day after dispatch).

    `recorded_on` is for dispatches made earlier in another system (a migration, the demo
    data): the clock starts that day. Pages and the API never pass it."""
    errors: list[FieldError] = []
    instructions = _text(
        instructions,
        "instructions",
        errors,
        max_length=REASON_MAX,
        required=False,
        label=_("派单意见"),
    )
    _raise_if(errors)
    with transaction.atomic():
        require_role(actor, Role.HOTLINE_OPERATOR, region=ticket.region)
        ticket = _begin(ticket, "dispatch")
        department = Department.objects.select_related("region").filter(pk=department.pk).first()
        if department is None:
            raise NotFound(_("部门不存在"), code="department_not_found")
        if not department.is_active:
            raise ValidationFailed.on_field("department", "inactive", _("该部门已撤销"))
        if not department.region.path.startswith(ticket.region.path):
            raise ValidationFailed.on_field(
                "department",
                "out_of_region",
                _("%(d)s不在工单受理区划（%(r)s）内")
                % {"d": department.name, "r": ticket.region.name},
            )
        today = _today()
        started_on = _check_recorded_on(recorded_on, today)
        assignment = TicketAssignment.objects.create(
            ticket=ticket,
            department=department,
            dispatched_by=actor,
            started_on=started_on,
            limit_days=time_limit_for(ticket.kind),
            instructions=instructions,
        )
        due = assignment_clock(assignment).due_on(today)
        old = _move(ticket, "dispatch", actor=actor, note=instructions, department=department)
        ticket.department = department
        ticket.save()
        _notify_caller(
            actor=actor,
            ticket=ticket,
            kind="hotline.ticket_dispatched",
            subject=_("12345热线工单已转办"),
            body=_("您反映的事项（工单%(n)s）已转%(d)s办理，预计%(due)s前答复。")
            % {"n": ticket.number, "d": department.name, "due": f"{due.due:%Y-%m-%d}"},
        )
        audit.record(
            actor=actor,
            action="hotline.ticket_dispatch",
            obj=ticket,
            changes={
                "status": [old, ticket.status],
                "department": department.pk,
                "limit_days": assignment.limit_days,
                "due": due.due.isoformat(),
            },
        )
    return ticket


def ticket_return(*, actor, ticket: Ticket, reason: str) -> Ticket:
    """The department says it is not responsible, with a reason — only within one working
    day of dispatch; after that the department must answer."""
    errors: list[FieldError] = []
    reason = _text(reason, "reason", errors, max_length=REASON_MAX, label=_("退回理由"))
    _raise_if(errors)
    with transaction.atomic():
        ticket = _begin(ticket, "return")
        assignment = _open_assignment(ticket)
        _require_department_staff(actor, assignment.department)
        today = _today()
        closes_on = return_window_closes_on(assignment)
        if today > closes_on:
            raise Conflict(
                _("派单已超过%(n)d个工作日（退回期限至%(d)s），不能退回，请办理答复")
                % {"n": RETURN_WINDOW_WORKING_DAYS, "d": f"{closes_on:%Y-%m-%d}"},
                code="return_window_closed",
            )
        assignment.outcome = AssignmentOutcome.RETURNED
        assignment.closed_on = today
        assignment.return_reason = reason
        assignment.save()
        old = _move(ticket, "return", actor=actor, note=reason, department=assignment.department)
        ticket.department = None
        ticket.save()
        audit.record(
            actor=actor,
            action="hotline.ticket_return",
            obj=ticket,
            changes={
                "status": [old, ticket.status],
                "department": assignment.department_id,
                "reason": reason,
            },
        )
    return ticket


def ticket_answer(
    *, actor, ticket: Ticket, answer: str, recorded_on: dt.date | None = None
) -> Ticket:
    """The department answers the caller's matter. (`recorded_on`: as for ticket_dispatch,
    an answer given earlier in another system.)"""
    errors: list[FieldError] = []
    answer = _text(answer, "answer", errors, max_length=ANSWER_MAX, label=_("答复内容"))
    _raise_if(errors)
    with transaction.atomic():
        ticket = _begin(ticket, "answer")
        assignment = _open_assignment(ticket)
        _require_department_staff(actor, assignment.department)
        today = _check_recorded_on(recorded_on, _today())
        if today < assignment.started_on:
            raise ValidationFailed.on_field(
                "recorded_on", "before_dispatch", _("答复日期不能早于派单日期")
            )
        due = assignment_clock(assignment).due_on(today)
        assignment.outcome = AssignmentOutcome.ANSWERED
        assignment.closed_on = today
        assignment.save()
        old = _move(ticket, "answer", actor=actor, note=answer, department=assignment.department)
        ticket.answer = answer
        ticket.answered_at = timezone.now()
        ticket.save()
        _notify_caller(
            actor=actor,
            ticket=ticket,
            kind="hotline.ticket_answered",
            subject=_("12345热线答复"),
            body=_("您反映的事项（工单%(n)s）%(d)s已答复：%(a)s")
            % {
                "n": ticket.number,
                "d": assignment.department.name,
                "a": _sms_excerpt(answer),
            },
        )
        audit.record(
            actor=actor,
            action="hotline.ticket_answer",
            obj=ticket,
            changes={
                "status": [old, ticket.status],
                "department": assignment.department_id,
                "on_time": today <= due.due,
            },
        )
    return ticket


def ticket_follow_up(*, actor, ticket: Ticket, satisfaction: str, note: str = "") -> Ticket:
    """The operator calls the caller back and records their satisfaction (GB/T 39735)."""
    errors: list[FieldError] = []
    if satisfaction not in Satisfaction.values:
        errors.append(
            FieldError(
                "satisfaction",
                "choice",
                _("满意度须为：%(c)s") % {"c": "、".join(str(s.label) for s in Satisfaction)},
            )
        )
    note = _text(note, "note", errors, max_length=REASON_MAX, required=False, label=_("回访记录"))
    _raise_if(errors)
    with transaction.atomic():
        require_role(actor, Role.HOTLINE_OPERATOR, region=ticket.region)
        ticket = _begin(ticket, "follow_up")
        old = _move(
            ticket,
            "follow_up",
            actor=actor,
            note=f"{Satisfaction(satisfaction).label}{('：' + note) if note else ''}",
        )
        ticket.satisfaction = satisfaction
        ticket.follow_up_note = note
        ticket.followed_up_at = timezone.now()
        ticket.closed_at = ticket.followed_up_at
        ticket.save()
        audit.record(
            actor=actor,
            action="hotline.ticket_follow_up",
            obj=ticket,
            changes={"status": [old, ticket.status], "satisfaction": satisfaction},
        )
    return ticket


def ticket_reopen(*, actor, ticket: Ticket, reason: str) -> Ticket:
    """A caller dissatisfied at follow-up gets the matter handled again — once."""
    errors: list[FieldError] = []
    reason = _text(reason, "reason", errors, max_length=REASON_MAX, label=_("重办理由"))
    _raise_if(errors)
    with transaction.atomic():
        require_role(actor, Role.HOTLINE_OPERATOR, region=ticket.region)
        ticket = _begin(ticket, "reopen")
        if ticket.satisfaction not in DISSATISFIED_LEVELS:
            raise Conflict(_("只有回访不满意的工单可以重办"), code="reopen_not_dissatisfied")
        if ticket.reopen_count >= MAX_REOPENS:
            raise Conflict(_("该工单已重办过一次，不能再次重办"), code="reopen_limit")
        previous = ticket.satisfaction
        old = _move(ticket, "reopen", actor=actor, note=reason)
        ticket.reopen_count += 1
        ticket.satisfaction = ""
        ticket.answer = ""
        ticket.answered_at = None
        ticket.closed_at = None
        ticket.knowledge_entry = None
        ticket.department = None
        ticket.save()
        audit.record(
            actor=actor,
            action="hotline.ticket_reopen",
            obj=ticket,
            changes={
                "status": [old, ticket.status],
                "previous_satisfaction": previous,
                "reason": reason,
            },
        )
    return ticket


# --- Open311 API clients --------------------------------------------------------------------


def api_client_create(*, actor, name: str, region: Region) -> tuple[ApiClient, str]:
    """Register a machine client; returns the client and its key, shown this once."""
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以登记接口客户端"), code="forbidden")
    errors: list[FieldError] = []
    name = _text(name, "name", errors, max_length=100, label=_("名称"))
    _raise_if(errors)
    with transaction.atomic():
        for _attempt in range(5):
            prefix = secrets.token_hex(4)
            if not ApiClient.objects.filter(key_prefix=prefix).exists():
                break
        key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        client = ApiClient.objects.create(
            name=name,
            region=region,
            key_prefix=prefix,
            key_hash=hash_api_key(key),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            actor=actor,
            action="hotline.api_client_create",
            obj=client,
            changes={"name": name, "region": region.code, "key_prefix": prefix},
        )
    return client, key


def api_client_deactivate(*, actor, client: ApiClient) -> ApiClient:
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以停用接口客户端"), code="forbidden")
    with transaction.atomic():
        client = ApiClient.objects.select_for_update(of=("self",)).get(pk=client.pk)
        if not client.is_active:
            raise Conflict(_("接口客户端已停用"), code="api_client_inactive")
        client.is_active = False
        client.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="hotline.api_client_deactivate",
            obj=client,
            changes={"is_active": [True, False]},
        )
    return client
