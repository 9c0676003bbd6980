"""Every write on licences: issue, change, suspend, reinstate, revoke. Each signs what it
changes with the issuing department's key, writes an audit event and appends a ledger entry
(licence number, type, status, version, key and a digest of the signature — no personal
data) in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.accounts.models import Enterprise, Person
from yiciban.core import audit, keys
from yiciban.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from yiciban.core.identifiers import mask_resident_id
from yiciban.ledger.services import ledger_append
from yiciban.org.models import Department, DepartmentKind, Role
from yiciban.org.selectors import has_role, is_platform_admin

from . import signing, sm2
from .models import HolderKind, Licence, LicenceCounter, LicenceStatus, LicenceType

FIELD_VALUE_MAX = 500
REASON_MAX = 300

# action → (states it may start from, state it leads to). The one table of the lifecycle.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "change": (frozenset({LicenceStatus.VALID}), LicenceStatus.VALID),
    "suspend": (frozenset({LicenceStatus.VALID}), LicenceStatus.SUSPENDED),
    "reinstate": (frozenset({LicenceStatus.SUSPENDED}), LicenceStatus.VALID),
    "revoke": (
        frozenset({LicenceStatus.VALID, LicenceStatus.SUSPENDED}),
        LicenceStatus.REVOKED,
    ),
}


def _ledger(action: str, licence: Licence) -> None:
    """The licence's ledger entry, inside the caller's transaction."""
    ledger_append(
        kind=f"licence.{action}",
        producer=licence.issuing_department.uscc,
        payload={
            "number": licence.number,
            "type": licence.licence_type.code,
            "holder_kind": licence.holder_kind,
            "status": licence.status,
            "version": licence.version,
            "algorithm": licence.signature_algorithm,
            "key_id": licence.key_id,
            "signature_sha256": hashlib.sha256(licence.signature.encode("ascii")).hexdigest(),
        },
    )


def _may_issue_type(department: Department, licence_type: LicenceType) -> bool:
    """The department of the type's kind issues it — or, where licensing powers are
    concentrated (相对集中行政许可权), the county's administrative approval bureau."""
    return department.kind in (licence_type.department_kind, DepartmentKind.ADMINISTRATIVE_APPROVAL)


def _require_issuer(actor, department: Department) -> None:
    """Approvers and department admins of the issuing department sign its licences."""
    if has_role(actor, Role.APPROVER, department=department) or has_role(
        actor, Role.DEPARTMENT_ADMIN, department=department
    ):
        return
    raise PermissionDenied(
        _("没有以%(dept)s名义签发或变更证照的权限") % {"dept": department.name},
        code="licence_issuer_required",
    )


def _clean_fields(
    licence_type: LicenceType, fields: dict[str, Any] | None, *, require: bool = True
) -> dict[str, str]:
    fields = fields or {}
    if not isinstance(fields, dict):
        raise ValidationFailed.on_field("fields", "type", _("证照内容必须是字段与值的对照"))
    known = {f["code"]: f for f in licence_type.fields}
    errors: list[FieldError] = []
    cleaned: dict[str, str] = {}
    for code, value in fields.items():
        if code not in known:
            errors.append(FieldError(f"fields.{code}", "unknown_field", _("此类证照没有该字段")))
            continue
        text = "" if value is None else str(value).strip()
        if len(text) > FIELD_VALUE_MAX:
            errors.append(
                FieldError(
                    f"fields.{code}",
                    "max_length",
                    _("不能超过%(n)d个字") % {"n": FIELD_VALUE_MAX},
                )
            )
        if text:
            cleaned[code] = text
    for code, spec in known.items():
        if (
            require
            and spec.get("required")
            and code not in cleaned
            and f"fields.{code}" not in {e.field for e in errors}
        ):
            errors.append(
                FieldError(
                    f"fields.{code}",
                    "required",
                    _("请填写“%(label)s”") % {"label": spec.get("label", code)},
                )
            )
    if errors:
        raise ValidationFailed(_("证照内容有误"), errors)
    # printed order: the type's field order
    return {code: cleaned[code] for code in known if code in cleaned}


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed.on_field("reason", "required", _("请写明原因"))
    if len(text) > REASON_MAX:
        raise ValidationFailed.on_field(
            "reason", "max_length", _("原因不能超过%(n)d个字") % {"n": REASON_MAX}
        )
    return text


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _next_number(licence_type: LicenceType, department: Department, year: int) -> str:
    prefix = f"{licence_type.number_prefix}{department.region.code[:6]}{year}"
    counter = LicenceCounter.objects.select_for_update().filter(prefix=prefix).first()
    if counter is None:
        try:
            with transaction.atomic():
                counter = LicenceCounter.objects.create(prefix=prefix)
        except IntegrityError:  # another issue created it at the same moment
            pass
        counter = LicenceCounter.objects.select_for_update().get(prefix=prefix)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{prefix}{counter.last:06d}"


def licence_issue(
    *,
    actor,
    licence_type: LicenceType,
    issuing_department: Department,
    enterprise: Enterprise | None = None,
    person: Person | None = None,
    fields: dict[str, Any] | None = None,
    issued_on: dt.date | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    source_reference: str = "",
) -> Licence:
    """Issue and sign a licence to an enterprise or a person. The validity runs from
    `valid_from` (default: the issue date) for the type's number of years unless
    `valid_until` is given."""
    _require_issuer(actor, issuing_department)
    return _issue(
        actor=actor,
        licence_type=licence_type,
        issuing_department=issuing_department,
        enterprise=enterprise,
        person=person,
        fields=fields,
        issued_on=issued_on,
        valid_from=valid_from,
        valid_until=valid_until,
        source_reference=source_reference,
    )


def licence_issue_for_decision(
    *,
    decided_by,
    licence_type_code: str,
    issuing_department: Department,
    enterprise: Enterprise | None,
    person: Person | None,
    form_values: dict[str, Any],
    source_reference: str,
) -> Licence | None:
    """Issue the e-licence of an approved case item at delivery (一窗出件), inside the
    delivery's transaction. The approval decision is the authority: the licence is signed by
    the department that decided, on behalf of the approver who decided (`decided_by`; None
    for a decision the rules took, 秒批), and no role is re-checked at delivery.

    `form_values` are the application's values by data element (``enterprise.business_scope``)
    or by field code; a licence field takes the value whose key is its code or its `element`.
    Returns None when no licence type has the code (the case engine then records the output
    without an e-licence)."""
    licence_type = LicenceType.objects.filter(code=licence_type_code).first()
    if licence_type is None:
        return None
    fields: dict[str, str] = {}
    for spec in licence_type.fields:
        for key in (spec["code"], spec.get("element")):
            value = form_values.get(key) if key else None
            if value not in (None, "", [], {}):
                fields[spec["code"]] = _field_text(value)
                break
    if licence_type.is_business_licence and enterprise is not None:
        held = (
            Licence.objects.filter(enterprise=enterprise, licence_type__is_business_licence=True)
            .exclude(status=LicenceStatus.REVOKED)
            .first()
        )
        if held is not None:  # a registration of an enterprise that has one changes it (变更)
            try:
                return _change(
                    actor=decided_by,
                    licence=held,
                    fields=fields,
                    valid_until=None,
                    reason=_("办件%(ref)s准予登记") % {"ref": source_reference},
                    expected_version=None,
                )
            except ValidationFailed:  # nothing to change
                return held
    return _issue(
        actor=decided_by,
        licence_type=licence_type,
        issuing_department=issuing_department,
        enterprise=enterprise,
        person=person,
        fields=fields,
        source_reference=source_reference,
        # the application form was validated against the item's schema when filed; the
        # licence prints what it gave, a field the form did not ask for stays empty
        require_fields=False,
    )


def _field_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "、".join(_field_text(v) for v in value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def _issue(
    *,
    actor,
    licence_type: LicenceType,
    issuing_department: Department,
    enterprise: Enterprise | None,
    person: Person | None,
    fields: dict[str, Any] | None,
    issued_on: dt.date | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    source_reference: str = "",
    require_fields: bool = True,
) -> Licence:
    today = timezone.localdate()
    issued_on = issued_on or today
    errors: list[FieldError] = []
    if (enterprise is None) == (person is None):
        errors.append(FieldError("holder", "one_holder", _("持证主体须是一个企业或一个自然人")))
    if not _may_issue_type(issuing_department, licence_type):
        errors.append(
            FieldError(
                "issuing_department",
                "department_kind",
                _("%(type)s应由%(kind)s签发")
                % {"type": licence_type.name, "kind": licence_type.get_department_kind_display()},
            )
        )
    if not issuing_department.is_active:
        errors.append(FieldError("issuing_department", "active", _("发证部门已停用")))
    if issued_on > today:
        errors.append(FieldError("issued_on", "not_future", _("发证日期不能晚于今天")))
    valid_from = valid_from or issued_on
    if valid_until is None and licence_type.validity_years:
        valid_until = _add_years(valid_from, licence_type.validity_years) - dt.timedelta(days=1)
    if valid_until is not None and valid_until < valid_from:
        errors.append(FieldError("valid_until", "after_valid_from", _("有效期至不能早于起始日")))
    if errors:
        raise ValidationFailed(_("不能签发证照"), errors)
    cleaned = _clean_fields(licence_type, fields, require=require_fields)
    with transaction.atomic():
        if enterprise is not None:
            # lock the holder so two business licences cannot be issued at the same moment
            enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
            if (
                licence_type.is_business_licence
                and Licence.objects.filter(
                    enterprise=enterprise, licence_type__is_business_licence=True
                )
                .exclude(status=LicenceStatus.REVOKED)
                .exists()
            ):
                raise Conflict(_("该企业已有营业执照，请办理变更"), code="business_licence_exists")
            holder = dict(
                holder_kind=HolderKind.ENTERPRISE,
                holder_name=enterprise.name,
                holder_identifier=enterprise.uscc,
            )
        else:
            holder = dict(
                holder_kind=HolderKind.PERSON,
                holder_name=person.name,
                holder_identifier=person.id_number_masked or mask_resident_id(person.id_number),
            )
        licence = Licence(
            number=_next_number(licence_type, issuing_department, issued_on.year),
            licence_type=licence_type,
            enterprise=enterprise,
            person=person,
            issuing_department=issuing_department,
            issued_on=issued_on,
            valid_from=valid_from,
            valid_until=valid_until,
            fields=cleaned,
            source_reference=source_reference[:100],
            status_changed_at=timezone.now(),
            **holder,
        )
        signing.sign_licence(licence)
        licence.save()
        _ledger("issue", licence)
        audit.record(
            actor=actor,
            action="licences.licence_issue",
            obj=licence,
            changes={
                "number": licence.number,
                "type": licence_type.code,
                "holder": licence.holder_identifier,
                "valid_until": str(valid_until) if valid_until else None,
                "key_id": licence.key_id,
            },
        )
    return licence


def _locked(licence: Licence, action: str, expected_version: int | None) -> Licence:
    """The licence row locked for update, refused (409) unless the action is allowed from its
    current state — so of two concurrent transitions exactly one wins."""
    locked = (
        Licence.objects.select_for_update()
        .select_related("licence_type", "issuing_department__region")
        .get(pk=licence.pk)
    )
    allowed_from, _target = TRANSITIONS[action]
    if locked.status not in allowed_from:
        raise Conflict(
            _("证照当前状态为“%(s)s”，不能执行此操作") % {"s": locked.get_status_display()},
            code="licence_wrong_state",
        )
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("证照已被他人变更，请刷新后重试"), code="licence_version_changed")
    return locked


def licence_change(
    *,
    actor,
    licence: Licence,
    fields: dict[str, Any] | None = None,
    valid_until: dt.date | None = None,
    reason: str,
    expected_version: int | None = None,
) -> Licence:
    """Change the content of a valid licence (变更): new fields and/or validity, a new version
    and a new signature. A QR printed for the old version verifies as superseded."""
    _require_issuer(actor, licence.issuing_department)
    return _change(
        actor=actor,
        licence=licence,
        fields=fields,
        valid_until=valid_until,
        reason=reason,
        expected_version=expected_version,
    )


def _change(*, actor, licence, fields, valid_until, reason, expected_version) -> Licence:
    reason = _reason(reason)
    with transaction.atomic():
        locked = _locked(licence, "change", expected_version)
        before = {"fields": dict(locked.fields), "valid_until": locked.valid_until}
        if fields is not None:
            locked.fields = _clean_fields(locked.licence_type, {**locked.fields, **fields})
        if valid_until is not None:
            if valid_until < locked.valid_from:
                raise ValidationFailed.on_field(
                    "valid_until", "after_valid_from", _("有效期至不能早于起始日")
                )
            locked.valid_until = valid_until
        if locked.fields == before["fields"] and locked.valid_until == before["valid_until"]:
            raise ValidationFailed.on_field("fields", "no_change", _("没有要变更的内容"))
        locked.version += 1
        locked.status_reason = reason
        locked.status_changed_at = timezone.now()
        signing.sign_licence(locked)
        locked.save()
        _ledger("change", locked)
        audit.record(
            actor=actor,
            action="licences.licence_change",
            obj=locked,
            changes={
                **audit.changed_fields(locked, before, ["fields", "valid_until"]),
                "version": [locked.version - 1, locked.version],
                "reason": reason,
            },
        )
    return locked


def _transition(actor, licence: Licence, action: str, reason: str) -> Licence:
    _require_issuer(actor, licence.issuing_department)
    reason = _reason(reason)
    with transaction.atomic():
        locked = _locked(licence, action, None)
        old = locked.status
        locked.status = TRANSITIONS[action][1]
        locked.status_reason = reason
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
        _ledger(action, locked)
        audit.record(
            actor=actor,
            action=f"licences.licence_{action}",
            obj=locked,
            changes={"status": [old, locked.status], "reason": reason},
        )
    return locked


def licence_suspend(*, actor, licence: Licence, reason: str) -> Licence:
    """Suspend a valid licence (暂扣): verification shows it suspended from now on."""
    return _transition(actor, licence, "suspend", reason)


def licence_reinstate(*, actor, licence: Licence, reason: str) -> Licence:
    """Lift a suspension."""
    return _transition(actor, licence, "reinstate", reason)


def licence_revoke(*, actor, licence: Licence, reason: str) -> Licence:
    """Revoke a licence for good (吊销/撤销); verification shows it revoked with the date."""
    return _transition(actor, licence, "revoke", reason)


def licence_type_create(
    *,
    actor,
    code: str,
    name: str,
    department_kind: str,
    validity_years: int | None = None,
    is_business_licence: bool = False,
    fields: list[dict] | None = None,
    number_prefix: str = "",
    data_category: str = "",
) -> LicenceType:
    """Define a licence type (platform admins)."""
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以定义证照类型"), code="platform_admin_required")
    errors: list[FieldError] = []
    if department_kind not in DepartmentKind.values:
        errors.append(FieldError("department_kind", "choice", _("未知的部门类别")))
    if validity_years is not None and not 1 <= validity_years <= 100:
        errors.append(FieldError("validity_years", "range", _("有效期须在1到100年之间")))
    fields = fields or []
    codes = [f.get("code") for f in fields if isinstance(f, dict)]
    if len(codes) != len(fields) or not all(isinstance(c, str) and c for c in codes):
        errors.append(FieldError("fields", "shape", _("每个字段须有编码和名称")))
    elif len(set(codes)) != len(codes):
        errors.append(FieldError("fields", "unique", _("字段编码重复")))
    if LicenceType.objects.filter(code=code).exists():
        errors.append(FieldError("code", "unique", _("编码已被使用")))
    if errors:
        raise ValidationFailed(_("证照类型有误"), errors)
    with transaction.atomic():
        licence_type = LicenceType.objects.create(
            code=code,
            name=name,
            department_kind=department_kind,
            validity_years=validity_years,
            is_business_licence=is_business_licence,
            fields=fields,
            number_prefix=number_prefix,
            data_category=data_category,
        )
        audit.record(
            actor=actor,
            action="licences.licence_type_create",
            obj=licence_type,
            changes={"code": code, "department_kind": department_kind},
        )
    return licence_type


# --- signing keys ---------------------------------------------------------------------------


def signing_key_rotate(*, actor, department: Department):
    """Give `department` a new licence-signing key (its configured algorithm): licences
    issued from now on are signed with it, the old public key stays published (JWKS) so
    every licence and QR token signed before still verifies; the old private key is gone.
    Platform admins only (the keys are the instance's, not the department's to handle).
    Raises Conflict for keys given by the environment (rotate them there)."""
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以轮换证照签名密钥"), code="key_rotate_forbidden")
    algorithm = signing.algorithm_for(department)
    name = signing.key_name_for(department)
    signing.department_signer(department)  # a department that never signed gets its first key
    backend = sm2 if algorithm == signing.SM2 else keys
    signer = backend.key_rotate(name=name, actor=actor)
    signing.forget_published_keys()
    return signer


def signing_keys_overview() -> list[dict]:
    """Every licence-signing key of the instance: department, algorithm, current key id and
    the retired key ids still published for verification."""
    departments = {signing.key_name_for(d): d for d in Department.objects.order_by("name")}
    rows = []
    for algorithm, backend in ((signing.ED25519, keys), (signing.SM2, sm2)):
        for name in backend.key_names():
            if not name.startswith(signing.KEY_PREFIX):
                continue
            public = backend.public_keys(name)
            department = departments.get(name)
            rows.append(
                {
                    "key_name": name,
                    "department": department.name if department else "",
                    "department_uscc": department.uscc if department else "",
                    "algorithm": algorithm,
                    "current": public[0].key_id,
                    "retired": [key.key_id for key in public[1:]],
                }
            )
    return rows
