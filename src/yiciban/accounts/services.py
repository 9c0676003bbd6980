"""Writes of applicants: registering persons and enterprises, granting and revoking the
authority to act for an enterprise. Personal identifiers are validated, stored encrypted
with a blind index, and only ever appear masked in audit events."""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core import audit, crypto
from yiciban.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from yiciban.core.identifiers import (
    check_resident_id,
    check_uscc,
    mask_phone,
    mask_resident_id,
    normalize_resident_id,
    normalize_uscc,
)
from yiciban.org import selectors as org_selectors
from yiciban.org.models import Region, Role

from . import selectors
from .models import Authorisation, AuthorisationKind, Enterprise, Person

# Mainland mobile numbers: 11 digits starting 13–19 (GB/T 15120 numbering, MIIT segments).
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_NOISE = re.compile(r"[\s-]")
FRONT_OFFICE_ROLES = (Role.COUNTER_CLERK, Role.ASSISTED_SERVICE_AGENT)


def normalize_phone(value: str) -> str:
    """'+86 138-0000-1234' → '13800001234' (only the form is normalised, never guessed)."""
    phone = _PHONE_NOISE.sub("", value or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    return phone


def _is_front_office(actor, region: Region | None = None) -> bool:
    """Counter clerks and assisted-service agents (and platform admins) register applicants
    and record authorisations; for an enterprise, within the enterprise's region."""
    return any(org_selectors.has_role(actor, role, region=region) for role in FRONT_OFFICE_ROLES)


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors[0].message, errors)


def _check_text(value: str, field: str, label: str, max_length: int, errors: list[FieldError]):
    if not (value or "").strip():
        errors.append(FieldError(field, "required", _("%(f)s不能为空") % {"f": label}))
    elif len(value.strip()) > max_length:
        errors.append(
            FieldError(
                field, "max_length", _("%(f)s不能超过%(n)d个字") % {"f": label, "n": max_length}
            )
        )


# --- persons --------------------------------------------------------------------------


def validate_person(*, name: str, id_number: str, phone: str = "") -> tuple[str, str]:
    """Checks a person's fields; returns the normalised resident ID and phone."""
    errors: list[FieldError] = []
    _check_text(name, "name", _("姓名"), 50, errors)
    number = normalize_resident_id(id_number or "")
    result = check_resident_id(number)
    if not result:
        errors.append(FieldError("id_number", result.rule, result.reason))
    mobile = normalize_phone(phone)
    if mobile and not _MOBILE_RE.match(mobile):
        errors.append(
            FieldError("phone", "format", _("手机号应为11位中国大陆手机号码，以13至19开头"))
        )
    _raise_if(errors)
    return number, mobile


def person_register(
    *,
    actor,
    name: str,
    id_number: str,
    phone: str = "",
    region: Region | None = None,
    user=None,
) -> Person:
    """Register a natural person: by front-office staff, or by the person for their own
    login. The resident ID is stored encrypted, as a blind index and masked; the clear value
    is never written anywhere else."""
    registering_self = user is not None and getattr(actor, "pk", None) == user.pk
    if not registering_self and not _is_front_office(actor):
        raise PermissionDenied(
            _("只有综合受理员、帮办代办员或本人可以登记自然人"), code="cannot_register_person"
        )
    number, mobile = validate_person(name=name, id_number=id_number, phone=phone)
    index = selectors.id_number_index(number)
    duplicate = Conflict(_("该身份证号已登记"), code="person_exists")
    if Person.objects.filter(id_number_index=index).exists():
        raise duplicate
    if user is not None and Person.objects.filter(user=user).exists():
        raise Conflict(_("该账号已关联自然人"), code="user_has_person")
    person = Person(
        user=user,
        name=name.strip(),
        id_number_encrypted=crypto.encrypt(number),
        id_number_index=index,
        id_number_masked=mask_resident_id(number),
        phone_encrypted=crypto.encrypt(mobile) if mobile else "",
        phone_masked=mask_phone(mobile) if mobile else "",
        region=region,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                person.save()
        except IntegrityError:
            raise duplicate from None
        audit.record(
            actor=actor,
            action="accounts.person_register",
            obj=person,
            changes={
                "name": person.name,
                "id_number": person.id_number_masked,
                "phone": person.phone_masked,
                "region": region.code if region else None,
                "user": user.get_username() if user is not None else None,
            },
        )
    return person


# --- enterprises ----------------------------------------------------------------------


def validate_enterprise(*, uscc: str, name: str, registered_address: str, region) -> str:
    errors: list[FieldError] = []
    code = normalize_uscc(uscc or "")
    result = check_uscc(code)
    if not result:
        errors.append(FieldError("uscc", result.rule, result.reason))
    _check_text(name, "name", _("名称"), 200, errors)
    _check_text(registered_address, "registered_address", _("住所"), 200, errors)
    if region is None:
        errors.append(FieldError("region", "required", _("请选择所在区划")))
    _raise_if(errors)
    return code


def enterprise_register(
    *,
    actor,
    uscc: str,
    name: str,
    registered_address: str,
    region: Region,
    legal_representative: Person | None = None,
) -> Enterprise:
    """Record an enterprise as an applicant. With a legal representative, that person's
    authority to act for it is recorded too (kind legal_representative, open-ended)."""
    actor_person = selectors.person_for_user(actor)
    self_registration = (
        legal_representative is not None
        and actor_person is not None
        and actor_person.pk == legal_representative.pk
    )
    if not self_registration and not _is_front_office(actor, region):
        raise PermissionDenied(
            _("只有本地综合受理员、帮办代办员或法定代表人本人可以登记企业"),
            code="cannot_register_enterprise",
        )
    code = validate_enterprise(
        uscc=uscc, name=name, registered_address=registered_address, region=region
    )
    duplicate = Conflict(
        _("统一社会信用代码%(c)s的企业已登记") % {"c": code}, code="enterprise_exists"
    )
    if Enterprise.objects.filter(uscc=code).exists():
        raise duplicate
    enterprise = Enterprise(
        uscc=code,
        name=name.strip(),
        registered_address=registered_address.strip(),
        region=region,
        legal_representative=legal_representative,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                enterprise.save()
        except IntegrityError:
            raise duplicate from None
        audit.record(
            actor=actor,
            action="accounts.enterprise_register",
            obj=enterprise,
            changes={
                "uscc": code,
                "name": enterprise.name,
                "region": region.code,
                "legal_representative": legal_representative.pk if legal_representative else None,
            },
        )
        if legal_representative is not None:
            _create_authorisation(
                actor=actor,
                enterprise=enterprise,
                person=legal_representative,
                kind=AuthorisationKind.LEGAL_REPRESENTATIVE,
                valid_from=timezone.localdate(),
                valid_until=None,
                scope="",
            )
    return enterprise


# --- authorisations -------------------------------------------------------------------


def validate_authorisation(
    *,
    enterprise: Enterprise,
    person: Person,
    kind: str,
    valid_from: dt.date,
    valid_until: dt.date | None,
    scope: str = "",
) -> None:
    errors: list[FieldError] = []
    today = timezone.localdate()
    if kind not in AuthorisationKind.values:
        errors.append(FieldError("kind", "choice", _("授权类型“%(k)s”无效") % {"k": kind}))
    if kind == AuthorisationKind.AGENT and valid_until is None:
        errors.append(FieldError("valid_until", "required", _("授权代理人须有失效日期")))
    if valid_from < today:
        errors.append(FieldError("valid_from", "past", _("生效日期不能早于今天")))
    if valid_until is not None and valid_until < valid_from:
        errors.append(FieldError("valid_until", "order", _("失效日期不能早于生效日期")))
    if len(scope or "") > 200:
        errors.append(FieldError("scope", "max_length", _("授权范围不能超过200个字")))
    if (
        kind == AuthorisationKind.LEGAL_REPRESENTATIVE
        and enterprise.legal_representative_id is not None
        and enterprise.legal_representative_id != person.pk
    ):
        errors.append(
            FieldError(
                "person",
                "not_legal_representative",
                _("%(e)s的法定代表人是他人；请先撤销原法定代表人的授权") % {"e": enterprise.name},
            )
        )
    _raise_if(errors)


def _create_authorisation(
    *, actor, enterprise, person, kind, valid_from, valid_until, scope, on_behalf_of=""
) -> Authorisation:
    overlapping = Authorisation.objects.filter(
        person=person, enterprise=enterprise, kind=kind, revoked_at__isnull=True
    ).exclude(valid_until__lt=valid_from)
    if valid_until is not None:
        overlapping = overlapping.exclude(valid_from__gt=valid_until)
    if overlapping.exists():
        raise Conflict(
            _("%(p)s对%(e)s已有同类有效授权") % {"p": person.name, "e": enterprise.name},
            code="authorisation_exists",
        )
    authorisation = Authorisation.objects.create(
        person=person,
        enterprise=enterprise,
        kind=kind,
        scope=(scope or "").strip(),
        valid_from=valid_from,
        valid_until=valid_until,
    )
    if (
        kind == AuthorisationKind.LEGAL_REPRESENTATIVE
        and enterprise.legal_representative_id is None
    ):
        enterprise.legal_representative = person
        enterprise.save(update_fields=["legal_representative"])
    audit.record(
        actor=actor,
        action="accounts.authorisation_grant",
        obj=authorisation,
        on_behalf_of=on_behalf_of,
        changes={
            "enterprise": enterprise.uscc,
            "person": person.id_number_masked,
            "kind": kind,
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat() if valid_until else None,
            "scope": authorisation.scope,
        },
    )
    return authorisation


def authorisation_grant(
    *,
    actor,
    enterprise: Enterprise,
    person: Person,
    kind: str,
    valid_until: dt.date | None = None,
    valid_from: dt.date | None = None,
    scope: str = "",
) -> Authorisation:
    """Let `person` act for `enterprise`. An agent's authority needs an end date. The legal
    representative may appoint agents; front-office staff of the enterprise's region may
    record either kind (a legal representative only after checking the licence)."""
    by_staff = _is_front_office(actor, enterprise.region)
    by_legal_representative = selectors.is_legal_representative(
        selectors.person_for_user(actor), enterprise
    )
    if not by_staff and not (by_legal_representative and kind == AuthorisationKind.AGENT):
        raise PermissionDenied(
            _("只有企业法定代表人或本地综合受理员、帮办代办员可以授权"),
            code="cannot_grant_authorisation",
        )
    valid_from = valid_from or timezone.localdate()
    validate_authorisation(
        enterprise=enterprise,
        person=person,
        kind=kind,
        valid_from=valid_from,
        valid_until=valid_until,
        scope=scope,
    )
    with transaction.atomic():
        # One grant at a time per enterprise, so two grants cannot both pass the overlap check.
        enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        return _create_authorisation(
            actor=actor,
            enterprise=enterprise,
            person=person,
            kind=kind,
            valid_from=valid_from,
            valid_until=valid_until,
            scope=scope,
            on_behalf_of="" if by_staff else f"enterprise:{enterprise.uscc}",
        )


def authorisation_revoke(*, actor, authorisation: Authorisation, reason: str = "") -> Authorisation:
    """End an authorisation now: by staff of the enterprise's region, by the enterprise's
    legal representative, or by the authorised person renouncing it. Of two concurrent
    revocations one wins, the other gets Conflict."""
    enterprise = authorisation.enterprise
    actor_person = selectors.person_for_user(actor)
    by_staff = _is_front_office(actor, enterprise.region)
    by_self = actor_person is not None and actor_person.pk == authorisation.person_id
    by_legal_representative = selectors.is_legal_representative(actor_person, enterprise)
    if not (by_staff or by_self or by_legal_representative):
        raise PermissionDenied(
            _("只有企业法定代表人、被授权人本人或本地工作人员可以撤销授权"),
            code="cannot_revoke_authorisation",
        )
    if len(reason or "") > 200:
        raise ValidationFailed.on_field("reason", "max_length", _("撤销原因不能超过200个字"))
    with transaction.atomic():
        locked = (
            Authorisation.objects.select_for_update(of=("self",))
            .select_related("enterprise", "person")
            .get(pk=authorisation.pk)
        )
        if locked.revoked_at is not None:
            raise Conflict(_("该授权已被撤销"), code="authorisation_already_revoked")
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        if (
            locked.kind == AuthorisationKind.LEGAL_REPRESENTATIVE
            and locked.enterprise.legal_representative_id == locked.person_id
        ):
            # The post is vacant until a new legal representative is recorded.
            Enterprise.objects.filter(pk=locked.enterprise_id).update(legal_representative=None)
        audit.record(
            actor=actor,
            action="accounts.authorisation_revoke",
            obj=locked,
            on_behalf_of=(
                f"enterprise:{enterprise.uscc}" if by_legal_representative and not by_staff else ""
            ),
            changes={
                "enterprise": locked.enterprise.uscc,
                "person": locked.person.id_number_masked,
                "kind": locked.kind,
                "reason": (reason or "").strip(),
            },
        )
    authorisation.refresh_from_db()
    return authorisation
