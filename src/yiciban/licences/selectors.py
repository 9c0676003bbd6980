"""Reads of licences: public verification, the live permit list (一码涵盖), a subject's
licences."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from django.db import router
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.accounts.models import Enterprise
from yiciban.accounts.selectors import in_force_on, person_for_user
from yiciban.core.errors import NotFound
from yiciban.core.statements import Columns, Statement
from yiciban.org.models import Department, Role
from yiciban.org.selectors import departments_covered, is_platform_admin

from . import signing
from .models import HolderKind, Licence, LicenceStatus, LicenceType

_RELATED = ("licence_type", "issuing_department__region")


def licence_by_number(number: str) -> Licence:
    licence = Licence.objects.select_related(*_RELATED).filter(number=number).first()
    if licence is None:
        raise NotFound(_("没有编号为%(n)s的证照") % {"n": number}, code="licence_not_found")
    return licence


@dataclass
class Verification:
    """What a person who scanned a QR code learns about a licence."""

    licence: Licence
    status: str  # LicenceStatus value on `today`
    signature_valid: bool
    token_given: bool = False
    token_ok: bool = False
    token_reason: str = ""  # see signing.TokenCheck; also number_mismatch
    superseded: bool = False  # the token names an earlier version (the licence was changed)
    permits: list[dict] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return LicenceStatus(self.status).label

    def as_dict(self) -> dict:
        lic = self.licence
        return {
            "number": lic.number,
            "type": lic.licence_type.code,
            "type_name": lic.licence_type.name,
            "holder_kind": lic.holder_kind,
            "holder_name": lic.holder_name,
            "holder_identifier": lic.holder_identifier,
            "issuing_department": lic.issuing_department.name,
            "issued_on": lic.issued_on,
            "valid_from": lic.valid_from,
            "valid_until": lic.valid_until,
            "version": lic.version,
            "status": self.status,
            "status_label": str(self.status_label),
            "status_changed_at": lic.status_changed_at
            if self.status in (LicenceStatus.SUSPENDED, LicenceStatus.REVOKED)
            else None,
            "status_reason": lic.status_reason
            if self.status in (LicenceStatus.SUSPENDED, LicenceStatus.REVOKED)
            else "",
            "signature_valid": self.signature_valid,
            "signature_algorithm": lic.signature_algorithm,
            "token_given": self.token_given,
            "token_ok": self.token_ok,
            "token_reason": self.token_reason,
            "superseded": self.superseded,
        }


# Licence types and departments change rarely; the public verification (the busiest read of
# the app) takes them from a per-process copy at most REFERENCE_SECONDS old instead of joining
# them in every query — one indexed query on the licence number is left per scan.
REFERENCE_SECONDS = 5.0
_reference: dict[tuple[type, int], tuple[float, object]] = {}


def _reference_row(model, pk: int, related: tuple[str, ...] = ()):
    now = time.monotonic()
    hit = _reference.get((model, pk))
    if hit is not None and now - hit[0] < REFERENCE_SECONDS:
        return hit[1]
    row = model.objects.select_related(*related).get(pk=pk)
    _reference[model, pk] = (now, row)
    return row


def forget_reference_rows(**_signal) -> None:
    """Drop the copies (connected to saves and deletes of types and departments, so this
    process sees its own changes at once; other processes within REFERENCE_SECONDS)."""
    _reference.clear()


# The verification's licence read: every scan runs it, and building and compiling the same
# queryset each time took about as long as the database takes to answer it.
_LICENCE = Columns(Licence, "l")
_LICENCE_BY_NUMBER = Statement(
    lambda quote, _variant: (
        f"SELECT {_LICENCE.select(quote)} FROM {quote(Licence._meta.db_table)} l "
        f"WHERE l.{quote(Licence._meta.get_field('number').column)} = %s"
    )
)


def _licence_by_number_fast(number: str) -> Licence | None:
    alias = router.db_for_read(Licence)
    row = _LICENCE_BY_NUMBER.fetchone([number], using=alias)
    return _LICENCE.load(row, using=alias) if row is not None else None


def _licence_for_verification(number: str) -> Licence:
    licence = _licence_by_number_fast(number)
    if licence is None:
        raise NotFound(_("没有编号为%(n)s的证照") % {"n": number}, code="licence_not_found")
    licence.licence_type = _reference_row(LicenceType, licence.licence_type_id)
    licence.issuing_department = _reference_row(
        Department, licence.issuing_department_id, ("region",)
    )
    return licence


def licence_verify(number: str, token: str = "", *, today: dt.date | None = None) -> Verification:
    """The live state of licence `number`, and — when the scanned token is given — whether
    that token is genuine and current. Public: shows no personal data in clear."""
    today = today or timezone.localdate()
    licence = _licence_for_verification(number)
    result = Verification(
        licence=licence,
        status=licence.status_on(today),
        signature_valid=signing.signature_valid(licence),
    )
    if token:
        result.token_given = True
        check = signing.check_token(token, signing.published_key, today=today)
        # An expired token of a licence is reported through the licence's own status.
        result.token_ok = check.ok or check.reason == "expired"
        result.token_reason = "" if result.token_ok else check.reason
        if result.token_ok and check.claims.get("no") != licence.number:
            result.token_ok, result.token_reason = False, "number_mismatch"
        if result.token_ok:
            result.superseded = check.claims.get("ver") != licence.version
    return result


def permit_list(uscc: str, *, today: dt.date | None = None) -> dict:
    """The enterprise's live permit list behind the business-licence QR (一码涵盖): every
    licence it holds except the business licence itself, with today's status — read fresh
    on every request, so an issue, change, suspension or revocation shows at once."""
    today = today or timezone.localdate()
    licences = list(
        Licence.objects.select_related(*_RELATED)
        .filter(holder_kind=HolderKind.ENTERPRISE, holder_identifier=uscc.strip().upper())
        .order_by("issued_on", "id")
    )
    business = next((lic for lic in licences if lic.licence_type.is_business_licence), None)
    if not licences:
        raise NotFound(_("没有该企业的证照"), code="enterprise_licences_not_found")
    order = {LicenceStatus.VALID: 0, LicenceStatus.SUSPENDED: 1, LicenceStatus.EXPIRED: 2}
    permits = [
        {
            "number": lic.number,
            "type": lic.licence_type.code,
            "type_name": lic.licence_type.name,
            "issuing_department": lic.issuing_department.name,
            "valid_from": lic.valid_from,
            "valid_until": lic.valid_until,
            "status": lic.status_on(today),
            "status_label": str(LicenceStatus(lic.status_on(today)).label),
            "status_changed_at": lic.status_changed_at,
            "version": lic.version,
        }
        for lic in licences
        if lic is not business
    ]
    permits.sort(key=lambda p: order.get(p["status"], 3))
    return {
        "uscc": licences[0].holder_identifier,
        "holder_name": (business or licences[0]).holder_name,
        "business_licence": business.number if business else None,
        "business_licence_status": business.status_on(today) if business else None,
        "valid_count": sum(1 for p in permits if p["status"] == LicenceStatus.VALID),
        "permits": permits,
    }


def licences_of_enterprise(enterprise) -> QuerySet[Licence]:
    return Licence.objects.select_related(*_RELATED).filter(enterprise=enterprise)


def licences_of_person(person) -> QuerySet[Licence]:
    return Licence.objects.select_related(*_RELATED).filter(person=person)


def valid_licences_by_category(*, enterprise=None, person=None, today: dt.date | None = None):
    """{data category: licence} of the subject's licences valid today — for the archive's
    reuse lookup."""
    today = today or timezone.localdate()
    rows = licences_of_enterprise(enterprise) if enterprise else licences_of_person(person)
    found: dict[str, Licence] = {}
    for licence in rows.exclude(licence_type__data_category="").order_by("-issued_on", "-id"):
        if licence.status_on(today) == LicenceStatus.VALID:
            found.setdefault(licence.licence_type.data_category, licence)
    return found


def qr_target(licence: Licence, token: str) -> str:
    """The URL in the licence's QR: a business licence points to the permit list, any other
    licence to its verification page; both carry the signed token."""
    if licence.licence_type.is_business_licence:
        return f"{signing.public_base_url()}{permit_list_path(licence.holder_identifier)}?t={token}"
    return signing.qr_url(licence, token)


def permit_list_path(uscc: str) -> str:
    return f"/licences/enterprise/{uscc}"


def licences_visible_to(user) -> QuerySet[Licence]:
    """Licences `user` may list: those issued by departments where they review, approve or
    administer, and those they hold (as a person or for an enterprise they act for)."""
    rows = Licence.objects.select_related(*_RELATED)
    if user is None or not getattr(user, "is_authenticated", False):
        return rows.none()
    if is_platform_admin(user):
        return rows
    departments = set()
    for role in (Role.REVIEWER, Role.APPROVER, Role.DEPARTMENT_ADMIN, Role.INSPECTOR):
        departments.update(departments_covered(user, role).values_list("pk", flat=True))
    condition = Q(issuing_department__in=departments)
    person = person_for_user(user)
    if person is not None:
        enterprises = Enterprise.objects.filter(
            authorisations__in=person.authorisations.filter(in_force_on())
        )
        condition |= Q(person=person) | Q(enterprise__in=enterprises)
    return rows.filter(condition).distinct()


def licence_for_user(user, number: str) -> Licence:
    """One licence `user` may see in full (its PDF, its fields); 404 otherwise, so a
    licence's existence is not revealed beyond the public verification."""
    licence = licences_visible_to(user).filter(number=number).first()
    if licence is None:
        raise NotFound(_("没有编号为%(n)s的证照") % {"n": number}, code="licence_not_found")
    return licence
