"""Every write on archives: open (implicitly), add a document, check a document at the
counter, file a record, expect a record, and manage sharing rules. Adding a document,
checking one and filing a record also append a ledger entry (archive and record ids, kind,
department, dates and digests — never the content or personal data in clear)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.accounts.models import Enterprise, Person
from yiciban.core import audit, documents
from yiciban.core.deadlines import Clock
from yiciban.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from yiciban.ledger.services import ledger_append
from yiciban.org.models import Department, DepartmentKind, Role
from yiciban.org.selectors import has_role, is_platform_admin

from .models import (
    RECORD_DEADLINE_WORKING_DAYS,
    Archive,
    ArchiveDocument,
    ArchiveRecord,
    ExpectedRecord,
    Origin,
    RecordKind,
    SharingRule,
    SubjectKind,
)
from .selectors import can_read_all, subject_key_for

SUMMARY_MAX = 300
LINK_TYPES = frozenset({"case", "licence", "record", "document"})
# Roles that record events for their department.
RECORDING_ROLES = (Role.REVIEWER, Role.APPROVER, Role.INSPECTOR, Role.DEPARTMENT_ADMIN)


def _ledger_document(action: str, item: ArchiveDocument) -> None:
    ledger_append(
        kind=f"archive.{action}",
        producer=item.source_department.uscc if item.source_department_id else "archive",
        payload={
            "archive": item.archive_id,
            "document": item.pk,
            "sha256": item.sha256,
            "origin": item.origin,
            "material_kind": item.material_kind,
        },
    )


def _ledger_record(record: ArchiveRecord) -> None:
    content = {"summary": record.summary, "payload": record.payload, "links": record.links}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    ledger_append(
        kind="archive.record",
        producer=record.department.uscc,
        payload={
            "archive": record.archive_id,
            "record": record.pk,
            "kind": record.kind,
            "event_date": record.event_date.isoformat(),
            "recorded_on": record.recorded_on.isoformat(),
            "late": record.late,
            "content_sha256": hashlib.sha256(canonical.encode()).hexdigest(),
        },
    )


def _is_department_staff(actor, department: Department) -> bool:
    return any(has_role(actor, role, department=department) for role in RECORDING_ROLES)


def _due_on(event_date: dt.date) -> dt.date:
    return Clock(started_on=event_date, limit=RECORD_DEADLINE_WORKING_DAYS).due_on().due


def archive_open(*, enterprise: Enterprise | None = None, person: Person | None = None) -> Archive:
    """The subject's archive, opened on first use (one per subject, even under concurrent
    first uses: the unique subject key decides)."""
    if (enterprise is None) == (person is None):
        raise ValidationFailed.on_field("subject", "one_subject", _("须指定一个企业或一个自然人"))
    key = subject_key_for(enterprise=enterprise, person=person)
    found = Archive.objects.filter(subject_key=key).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            archive = Archive.objects.create(
                kind=SubjectKind.ENTERPRISE if enterprise else SubjectKind.PERSON,
                subject_key=key,
                enterprise=enterprise,
                person=person,
            )
            audit.record(actor=None, action="archive.archive_open", obj=archive)
            return archive
    except IntegrityError:
        return Archive.objects.get(subject_key=key)


def archive_document_add(
    *,
    actor,
    archive: Archive,
    content: bytes | IO[bytes],
    filename: str,
    title: str,
    origin: str,
    material_kind: str = "",
    data_category: str = "",
    source_department: Department | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> ArchiveDocument:
    """Keep a document in the archive. Issued documents come from the issuing department's
    staff; counter-checked ones from a counter clerk; the subject (or anyone acting for it)
    may upload, and those wait for a check. The same bytes twice are refused (409)."""
    errors: list[FieldError] = []
    if origin not in Origin.values:
        errors.append(FieldError("origin", "choice", _("未知的材料来源")))
    title = (title or "").strip()
    if not title or len(title) > 120:
        errors.append(FieldError("title", "length", _("名称须为1到120个字")))
    if valid_from and valid_until and valid_until < valid_from:
        errors.append(FieldError("valid_until", "after_valid_from", _("有效期至不能早于起始日")))
    if origin == Origin.ISSUED and source_department is None:
        errors.append(FieldError("source_department", "required", _("部门核发的材料须注明部门")))
    if errors:
        raise ValidationFailed(_("材料信息有误"), errors)
    _require_document_right(actor, archive, origin, source_department)
    if material_kind and not data_category:
        data_category = _category_of(material_kind)
    stored = documents.document_store(actor=actor, content=content, filename=filename)
    with transaction.atomic():
        if ArchiveDocument.objects.filter(archive=archive, sha256=stored.sha256).exists():
            raise Conflict(_("档案中已有相同内容的材料"), code="archive_document_duplicate")
        try:
            with transaction.atomic():
                item = ArchiveDocument.objects.create(
                    archive=archive,
                    document=stored,
                    sha256=stored.sha256,
                    title=title,
                    material_kind=material_kind,
                    data_category=data_category,
                    origin=origin,
                    source_department=source_department,
                    valid_from=valid_from,
                    valid_until=valid_until,
                    added_by=actor,
                    checked_by=actor if origin == Origin.COUNTER_CHECKED else None,
                    checked_at=timezone.now() if origin == Origin.COUNTER_CHECKED else None,
                )
        except IntegrityError:  # the same bytes added at the same moment by someone else
            raise Conflict(
                _("档案中已有相同内容的材料"), code="archive_document_duplicate"
            ) from None
        _ledger_document("document_add", item)
        audit.record(
            actor=actor,
            action="archive.archive_document_add",
            obj=item,
            changes={"sha256": stored.sha256, "origin": origin, "material_kind": material_kind},
        )
    return item


def _category_of(material_kind: str) -> str:
    from yiciban.catalog.models import MaterialKind

    return (
        MaterialKind.objects.filter(code=material_kind).values_list("data_category", flat=True)
    ).first() or ""


def _require_document_right(actor, archive: Archive, origin: str, department) -> None:
    if is_platform_admin(actor):
        return
    if (
        origin == Origin.ISSUED
        and department is not None
        and _is_department_staff(actor, department)
    ):
        return
    if origin == Origin.COUNTER_CHECKED and _is_counter_clerk_for(actor, archive):
        return
    if origin == Origin.APPLICANT_UPLOADED and can_read_all(actor, archive):
        return
    raise PermissionDenied(_("无权向该档案添加此类材料"), code="archive_document_forbidden")


def _is_counter_clerk_for(actor, archive: Archive) -> bool:
    subject = archive.enterprise or archive.person
    region = getattr(subject, "region", None)
    if region is None:
        return has_role(actor, Role.COUNTER_CLERK)
    return has_role(actor, Role.COUNTER_CLERK, region=region)


def archive_document_check(*, actor, item: ArchiveDocument) -> ArchiveDocument:
    """A counter clerk saw the original: an applicant's upload becomes reusable."""
    if not (is_platform_admin(actor) or _is_counter_clerk_for(actor, item.archive)):
        raise PermissionDenied(_("只有窗口工作人员可以核验原件"), code="counter_clerk_required")
    with transaction.atomic():
        locked = ArchiveDocument.objects.select_for_update().get(pk=item.pk)
        if locked.origin != Origin.APPLICANT_UPLOADED:
            raise Conflict(_("该材料无需核验"), code="archive_document_not_pending")
        locked.origin = Origin.COUNTER_CHECKED
        locked.checked_by = actor
        locked.checked_at = timezone.now()
        locked.save(update_fields=["origin", "checked_by", "checked_at"])
        _ledger_document("document_check", locked)
        audit.record(
            actor=actor,
            action="archive.archive_document_check",
            obj=locked,
            changes={"origin": [Origin.APPLICANT_UPLOADED, Origin.COUNTER_CHECKED]},
        )
    return locked


def _clean_links(links: Sequence[dict] | None) -> list[dict]:
    cleaned = []
    for index, link in enumerate(links or []):
        if (
            not isinstance(link, dict)
            or link.get("type") not in LINK_TYPES
            or not isinstance(link.get("ref"), str)
            or not 0 < len(link["ref"]) <= 100
        ):
            raise ValidationFailed.on_field(
                f"links.{index}", "shape", _("关联须为 {type: case|licence|record|document, ref}")
            )
        cleaned.append({"type": link["type"], "ref": link["ref"]})
    return cleaned


def archive_record_add(
    *,
    actor,
    archive: Archive,
    kind: str,
    department: Department,
    event_date: dt.date,
    summary: str,
    payload: dict[str, Any] | None = None,
    links: Sequence[dict] | None = None,
    documents_in_archive: Sequence[ArchiveDocument] = (),
) -> ArchiveRecord:
    """A department records an event about the subject. Due within 5 working days of the
    event; a later record is kept and flagged late. An open expectation of the same kind,
    department and event date is fulfilled."""
    today = timezone.localdate()
    errors: list[FieldError] = []
    if kind not in RecordKind.values:
        errors.append(FieldError("kind", "choice", _("未知的记录类别")))
    if event_date > today:
        errors.append(FieldError("event_date", "not_future", _("事件日期不能晚于今天")))
    summary = (summary or "").strip()
    if not summary or len(summary) > SUMMARY_MAX:
        errors.append(
            FieldError("summary", "length", _("摘要须为1到%(n)d个字") % {"n": SUMMARY_MAX})
        )
    if payload is not None and not isinstance(payload, dict):
        errors.append(FieldError("payload", "type", _("内容须为对象")))
    if any(d.archive_id != archive.pk for d in documents_in_archive):
        errors.append(FieldError("documents", "same_archive", _("只能关联本档案的材料")))
    if errors:
        raise ValidationFailed(_("记录信息有误"), errors)
    links = _clean_links(links)
    if not (is_platform_admin(actor) or _is_department_staff(actor, department)):
        raise PermissionDenied(
            _("只能以本部门名义记录（%(d)s）") % {"d": department.name},
            code="archive_record_forbidden",
        )
    due = _due_on(event_date)
    with transaction.atomic():
        record = ArchiveRecord.objects.create(
            archive=archive,
            kind=kind,
            department=department,
            event_date=event_date,
            recorded_on=today,
            due_on=due,
            late=today > due,
            summary=summary,
            payload=payload or {},
            links=links,
            recorded_by=actor,
        )
        if documents_in_archive:
            record.documents.set(documents_in_archive)
        expectation = (
            ExpectedRecord.objects.select_for_update()
            .filter(
                archive=archive,
                kind=kind,
                department=department,
                event_date=event_date,
                fulfilled_by__isnull=True,
            )
            .order_by("id")
            .first()
        )
        if expectation is not None:
            expectation.fulfilled_by = record
            expectation.save(update_fields=["fulfilled_by"])
        _ledger_record(record)
        audit.record(
            actor=actor,
            action="archive.archive_record_add",
            obj=record,
            changes={
                "kind": kind,
                "department": department.pk,
                "event_date": event_date.isoformat(),
                "late": record.late,
            },
        )
    return record


def archive_record_expect(
    *,
    actor,
    archive: Archive,
    kind: str,
    department: Department,
    event_date: dt.date,
    description: str,
) -> ExpectedRecord:
    """Note that `department` owes a record of an event (called where the event happens:
    an inspection done, a licence issued, a penalty decided)."""
    errors: list[FieldError] = []
    if kind not in RecordKind.values:
        errors.append(FieldError("kind", "choice", _("未知的记录类别")))
    if event_date > timezone.localdate():
        errors.append(FieldError("event_date", "not_future", _("事件日期不能晚于今天")))
    description = (description or "").strip()
    if not description or len(description) > 300:
        errors.append(FieldError("description", "length", _("说明须为1到300个字")))
    if errors:
        raise ValidationFailed(_("待记录事项有误"), errors)
    if not (
        is_platform_admin(actor)
        or _is_department_staff(actor, department)
        or has_role(actor, Role.SUPERVISOR, region=department.region)
    ):
        raise PermissionDenied(_("无权为该部门登记待记录事项"), code="archive_expect_forbidden")
    with transaction.atomic():
        expected = ExpectedRecord.objects.create(
            archive=archive,
            kind=kind,
            department=department,
            event_date=event_date,
            due_on=_due_on(event_date),
            description=description,
        )
        audit.record(
            actor=actor,
            action="archive.archive_record_expect",
            obj=expected,
            changes={"kind": kind, "department": department.pk, "due_on": str(expected.due_on)},
        )
    return expected


def sharing_rule_create(
    *,
    actor,
    record_kind: str = "",
    viewer_department: Department | None = None,
    viewer_department_kind: str = "",
    include_documents: bool = False,
) -> SharingRule:
    """Let a department (or every department of a kind) read records of a kind. Platform
    admins set the rules."""
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以设置共享规则"), code="platform_admin_required")
    errors: list[FieldError] = []
    if (viewer_department is None) == (not viewer_department_kind):
        errors.append(
            FieldError("viewer", "one_viewer", _("须指定一个部门或一个部门类别（只能二选一）"))
        )
    if viewer_department_kind and viewer_department_kind not in DepartmentKind.values:
        errors.append(FieldError("viewer_department_kind", "choice", _("未知的部门类别")))
    if record_kind and record_kind not in RecordKind.values:
        errors.append(FieldError("record_kind", "choice", _("未知的记录类别")))
    if errors:
        raise ValidationFailed(_("共享规则有误"), errors)
    with transaction.atomic():
        rule = SharingRule.objects.create(
            viewer_department=viewer_department,
            viewer_department_kind=viewer_department_kind,
            record_kind=record_kind,
            include_documents=include_documents,
        )
        audit.record(
            actor=actor,
            action="archive.sharing_rule_create",
            obj=rule,
            changes={
                "viewer_department": viewer_department.pk if viewer_department else None,
                "viewer_department_kind": viewer_department_kind,
                "record_kind": record_kind,
            },
        )
    return rule


def sharing_rule_delete(*, actor, rule: SharingRule) -> None:
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以设置共享规则"), code="platform_admin_required")
    with transaction.atomic():
        audit.record(actor=actor, action="archive.sharing_rule_delete", obj=rule)
        rule.delete()
