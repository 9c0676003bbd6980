"""Writes of data sharing: publish a record, grant and revoke reads, read under a grant.

Each is one transaction with an audit event and a ledger entry appended inside it
(`sharing.publish`, `sharing.grant`, `sharing.revoke`, `sharing.read`), so a write exists on
the ledger exactly when it committed. A grant and a read of it lock the grant row: of a
revocation and a read at the same moment, the read either completes before the revocation
or is refused after it — never a read under a grant already revoked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.accounts import selectors as account_selectors
from yiciban.accounts.models import Enterprise, Person
from yiciban.core import audit
from yiciban.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from yiciban.ledger.services import ledger_append
from yiciban.org import selectors as org_selectors
from yiciban.org.models import Department, Role

from . import selectors
from .models import DataCategory, Grant, ReadLog, SharedRecord, SubjectKind

PRODUCER = "sharing"
MAX_PURPOSE = 200
MAX_REFERENCE = 80
MAX_GRANT_DAYS = 5 * 366  # a grant runs at most five years; renew it after


@dataclass(frozen=True)
class Subject:
    kind: str
    enterprise: Enterprise | None = None
    person: Person | None = None

    @property
    def ledger_ref(self) -> str:
        # never a resident ID in clear on the ledger (even hashed payloads are kept)
        if self.enterprise is not None:
            return f"enterprise:{self.enterprise.uscc}"
        return f"person:{self.person.pk}"

    def fields(self) -> dict[str, Any]:
        return {"subject_kind": self.kind, "enterprise": self.enterprise, "person": self.person}


@dataclass(frozen=True)
class ReadResult:
    read: ReadLog
    records: list[SharedRecord]
    proof: dict  # selectors.ledger_proof of the read's ledger entry


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors[0].message, errors)


def _text(value: Any, field: str, label: str, max_length: int, errors: list[FieldError]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(field, "required", _("请填写%(f)s") % {"f": label}))
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors.append(
            FieldError(
                field,
                "max_length",
                _("%(f)s不能超过%(n)d个字符") % {"f": label, "n": max_length},
            )
        )
    return value


def resolve_subject(kind: Any, identifier: Any, *, field: str = "subject") -> Subject:
    """An enterprise by its USCC or a person by resident ID number (looked up through the
    blind index; the number is never stored here)."""
    if kind not in SubjectKind.values:
        raise ValidationFailed.on_field(
            "subject_kind", "choice", _("数据主体须为 enterprise 或 person")
        )
    if not isinstance(identifier, str) or not identifier.strip() or len(identifier) > 40:
        raise ValidationFailed.on_field(field, "required", _("请填写统一社会信用代码或身份证号码"))
    if kind == SubjectKind.ENTERPRISE:
        return Subject(kind=kind, enterprise=account_selectors.enterprise_by_uscc(identifier))
    person = account_selectors.person_find_by_id_number(identifier.strip().upper())
    if person is None:
        raise NotFound(_("没有这个自然人"), code="person_not_found")
    return Subject(kind=kind, person=person)


def subject_of(*, enterprise: Enterprise | None = None, person: Person | None = None) -> Subject:
    if (enterprise is None) == (person is None):
        raise ValidationFailed.on_field(
            "subject", "one_subject", _("数据主体须是一个企业或一个自然人")
        )
    if enterprise is not None:
        return Subject(kind=SubjectKind.ENTERPRISE, enterprise=enterprise)
    return Subject(kind=SubjectKind.PERSON, person=person)


def _category(code: Any) -> DataCategory:
    if not isinstance(code, str) or not code:
        raise ValidationFailed.on_field("category", "required", _("请选择数据类别"))
    category = DataCategory.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise NotFound(_("没有这个共享数据类别：%(c)s") % {"c": code[:80]}, code="no_category")
    return category


def _require_member(actor, department: Department) -> None:
    if not selectors.is_member(actor, department):
        raise PermissionDenied(
            _("您不是%(d)s的工作人员") % {"d": department.name}, code="not_department_staff"
        )


# --- publish -------------------------------------------------------------------------------


def record_publish(
    *,
    actor,
    category_code: str,
    producer: Department,
    subject: Subject,
    reference: str,
    payload: dict,
) -> SharedRecord:
    """A producing department publishes one record (e.g. a deed-tax payment) about an
    enterprise or a person. The category's owner kind must be the producer's kind."""
    category = _category(category_code)
    _require_member(actor, producer)
    errors: list[FieldError] = []
    reference = _text(reference, "reference", _("业务编号"), MAX_REFERENCE, errors)
    if producer.kind != category.owner_kind:
        errors.append(
            FieldError(
                "producer",
                "owner_kind",
                _("“%(c)s”由%(k)s提供")
                % {"c": category.name, "k": category.get_owner_kind_display()},
            )
        )
    if subject.kind != category.subject_kind:
        errors.append(
            FieldError(
                "subject_kind",
                "category_subject",
                _("“%(c)s”的数据主体须为%(k)s")
                % {"c": category.name, "k": category.get_subject_kind_display()},
            )
        )
    if not isinstance(payload, dict):
        errors.append(FieldError("payload", "object", _("内容须为 JSON 对象")))
    _raise_if(errors)
    with transaction.atomic():
        if SharedRecord.objects.filter(
            category=category, producer=producer, reference=reference
        ).exists():
            raise Conflict(
                _("%(d)s已发布过业务编号为%(r)s的记录") % {"d": producer.name, "r": reference},
                code="duplicate_record",
            )
        entry = ledger_append(
            kind="sharing.publish",
            producer=PRODUCER,
            payload={
                "category": category.code,
                "producer": producer.uscc,
                "reference": reference,
                "subject": subject.ledger_ref,
                "data": payload,
            },
        )
        record = SharedRecord.objects.create(
            category=category,
            producer=producer,
            reference=reference,
            payload=payload,
            payload_sha256=entry.payload_sha256,
            published_at=timezone.now(),
            published_by=actor,
            ledger_seq=entry.seq,
            **subject.fields(),
        )
        audit.record(
            actor=actor,
            action="sharing.record_publish",
            obj=record,
            changes={"category": category.code, "reference": reference, "seq": entry.seq},
        )
    return record


# --- grants --------------------------------------------------------------------------------


def _parse_day(value: Any, field: str, label: str, errors: list[FieldError]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors.append(FieldError(field, "date", _("%(f)s应为日期，格式为 YYYY-MM-DD") % {"f": label}))
    return None


def grant_create(
    *,
    actor,
    category_code: str,
    grantor: Department,
    grantee: Department,
    purpose: str,
    valid_from: dt.date | str,
    valid_until: dt.date | str,
) -> Grant:
    """The owning department's administrator lets `grantee` read `category` for `purpose`
    from `valid_from` to `valid_until` (inclusive, Asia/Shanghai days)."""
    category = _category(category_code)
    org_selectors.require_role(actor, Role.DEPARTMENT_ADMIN, department=grantor)
    errors: list[FieldError] = []
    purpose = _text(purpose, "purpose", _("用途"), MAX_PURPOSE, errors)
    start = _parse_day(valid_from, "valid_from", _("生效日期"), errors)
    end = _parse_day(valid_until, "valid_until", _("有效期至"), errors)
    if grantor.kind != category.owner_kind:
        errors.append(
            FieldError(
                "grantor",
                "owner_kind",
                _("只有%(k)s可以授权读取“%(c)s”")
                % {"k": category.get_owner_kind_display(), "c": category.name},
            )
        )
    if grantee.pk == grantor.pk:
        errors.append(FieldError("grantee", "other_department", _("不能授权给本部门")))
    if not grantee.is_active:
        errors.append(FieldError("grantee", "active", _("被授权部门已停用")))
    today = timezone.localdate()
    if start and end:
        if end < start:
            errors.append(
                FieldError("valid_until", "after_valid_from", _("有效期至不能早于生效日期"))
            )
        elif end < today:
            errors.append(FieldError("valid_until", "not_past", _("有效期至不能早于今天")))
        elif (end - start).days > MAX_GRANT_DAYS:
            errors.append(FieldError("valid_until", "max_span", _("授权期限不能超过五年")))
    _raise_if(errors)
    with transaction.atomic():
        grant = Grant.objects.create(
            category=category,
            grantor=grantor,
            grantee=grantee,
            purpose=purpose,
            valid_from=start,
            valid_until=end,
            granted_by=actor,
            ledger_seq=0,
        )
        entry = ledger_append(
            kind="sharing.grant",
            producer=PRODUCER,
            payload={
                "grant": grant.pk,
                "category": category.code,
                "grantor": grantor.uscc,
                "grantee": grantee.uscc,
                "purpose": purpose,
                "valid_from": start.isoformat(),
                "valid_until": end.isoformat(),
                "by": actor.get_username(),
            },
        )
        grant.ledger_seq = entry.seq
        grant.save(update_fields=["ledger_seq"])
        audit.record(
            actor=actor,
            action="sharing.grant_create",
            obj=grant,
            changes={
                "category": category.code,
                "grantee": grantee.uscc,
                "purpose": purpose,
                "valid_until": end.isoformat(),
                "seq": entry.seq,
            },
        )
    return grant


def grant_revoke(*, actor, grant_id: int, reason: str) -> Grant:
    """Revoke a grant at once; reads after the revocation are refused."""
    errors: list[FieldError] = []
    reason = _text(reason, "reason", _("撤销原因"), MAX_PURPOSE, errors)
    _raise_if(errors)
    with transaction.atomic():
        grant = _lock_grant(grant_id)
        org_selectors.require_role(actor, Role.DEPARTMENT_ADMIN, department=grant.grantor)
        if grant.revoked_at is not None:
            raise Conflict(_("该授权已撤销"), code="grant_revoked")
        grant.revoked_at = timezone.now()
        grant.revoked_by = actor
        grant.revoke_reason = reason
        entry = ledger_append(
            kind="sharing.revoke",
            producer=PRODUCER,
            payload={"grant": grant.pk, "reason": reason, "by": actor.get_username()},
        )
        grant.revoke_ledger_seq = entry.seq
        grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "revoke_ledger_seq"])
        audit.record(
            actor=actor,
            action="sharing.grant_revoke",
            obj=grant,
            changes={"reason": reason, "seq": entry.seq},
        )
    return grant


def _lock_grant(grant_id: Any) -> Grant:
    if isinstance(grant_id, bool) or not isinstance(grant_id, int) or grant_id <= 0:
        raise ValidationFailed.on_field("grant_id", "int", _("授权编号应为正整数"))
    grant = (
        Grant.objects.select_for_update()
        .select_related("category", "grantee", "grantor")
        .filter(pk=grant_id)
        .first()
    )
    if grant is None:
        raise NotFound(_("没有这个授权"), code="no_grant")
    return grant


# --- read ----------------------------------------------------------------------------------


GRANT_REFUSALS = {
    "revoked": ("grant_revoked", _("该授权已撤销，不能读取")),
    "expired": ("grant_expired", _("该授权已过期，不能读取")),
    "not_yet": ("grant_not_yet_valid", _("该授权尚未生效，不能读取")),
}


def record_read(
    *,
    actor,
    grant_id: int,
    category_code: str,
    subject: Subject,
    purpose: str = "",
) -> ReadResult:
    """Read a category's records about one subject under a grant of the reader's department.
    The read is recorded (who, grant, purpose, subject, record ids) and appended to the
    ledger in the same transaction; the result carries the read's ledger proof (pending
    until integration: see docs/sharing.md for fetching it later)."""
    errors: list[FieldError] = []
    if purpose:
        purpose = _text(purpose, "purpose", _("用途"), MAX_PURPOSE, errors)
    _raise_if(errors)
    with transaction.atomic():
        grant = _lock_grant(grant_id)
        _require_member(actor, grant.grantee)
        if grant.category.code != category_code:
            raise PermissionDenied(
                _("该授权只允许读取“%(c)s”") % {"c": grant.category.name},
                code="wrong_category",
            )
        state = grant.state_on(timezone.localdate())
        if state != "valid":
            code, message = GRANT_REFUSALS[state]
            raise PermissionDenied(message, code=code)
        if subject.kind != grant.category.subject_kind:
            raise ValidationFailed.on_field(
                "subject_kind",
                "category_subject",
                _("“%(c)s”的数据主体须为%(k)s")
                % {"c": grant.category.name, "k": grant.category.get_subject_kind_display()},
            )
        records = list(
            SharedRecord.objects.filter(
                category=grant.category, enterprise=subject.enterprise, person=subject.person
            )
            .select_related("producer", "category")
            .order_by("published_at", "id")
        )
        department = grant.grantee
        read = ReadLog.objects.create(
            grant=grant,
            department=department,
            reader=actor,
            purpose=purpose or grant.purpose,
            record_ids=[r.pk for r in records],
            read_at=timezone.now(),
            ledger_seq=0,
            **subject.fields(),
        )
        entry = ledger_append(
            kind="sharing.read",
            producer=PRODUCER,
            payload={
                "read": read.pk,
                "grant": grant.pk,
                "category": grant.category.code,
                "department": department.uscc,
                "reader": actor.get_username(),
                "purpose": read.purpose,
                "subject": subject.ledger_ref,
                "records": [[r.pk, r.payload_sha256] for r in records],
            },
        )
        read.ledger_seq = entry.seq
        read.save(update_fields=["ledger_seq"])
        audit.record(
            actor=actor,
            action="sharing.record_read",
            obj=read,
            changes={
                "grant": grant.pk,
                "category": grant.category.code,
                "records": len(records),
                "seq": entry.seq,
            },
        )
    return ReadResult(read=read, records=records, proof=selectors.ledger_proof(read.ledger_seq))


def category_ensure(
    *, code: str, name: str, owner_kind: str, subject_kind: str, description: str = ""
) -> tuple[DataCategory, bool]:
    """Create a category unless one with this code exists (demo and setup; categories are
    reference data kept by the platform)."""
    with transaction.atomic():
        category, created = DataCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "owner_kind": owner_kind,
                "subject_kind": subject_kind,
                "description": description,
            },
        )
        if created:
            audit.record(
                actor=None,
                action="sharing.category_create",
                obj=category,
                changes={"code": code, "owner_kind": owner_kind},
            )
    return category, created
