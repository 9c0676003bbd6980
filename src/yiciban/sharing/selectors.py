"""Reads of data sharing, filtered by who may see what, and the ledger proofs of its
entries."""

from __future__ import annotations

import base64

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.accounts import selectors as account_selectors
from yiciban.accounts.models import Enterprise
from yiciban.core.errors import NotFound
from yiciban.ledger import selectors as ledger_selectors
from yiciban.org import selectors as org_selectors
from yiciban.org.models import Department, Role

from .models import DataCategory, Grant, ReadLog


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def is_member(user, department: Department) -> bool:
    """Does `user` work for `department` (any role assigned to that department itself)?
    A region-wide role (a county's counter clerk) does not make one a member of every
    department of the county: reads are per department."""
    if org_selectors.is_platform_admin(user):
        return True
    return org_selectors.role_assignments_for(user).filter(department=department).exists()


def member_departments(user) -> QuerySet[Department]:
    if org_selectors.is_platform_admin(user):
        return Department.objects.filter(is_active=True)
    ids = org_selectors.role_assignments_for(user).filter(department__isnull=False)
    return Department.objects.filter(pk__in=ids.values("department_id"))


def administered_departments(user) -> QuerySet[Department]:
    """Departments whose grants the user administers (department admins; platform admins)."""
    return org_selectors.departments_covered(user, Role.DEPARTMENT_ADMIN)


def active_department(raw_id: object) -> Department | None:
    """The active department whose primary key a form posted, or None for anything else
    (empty, not a number, unknown, inactive)."""
    try:
        pk = int(str(raw_id))
    except (TypeError, ValueError):
        return None
    return Department.objects.filter(pk=pk, is_active=True).first() if pk > 0 else None


def department_by_uscc(uscc: str, field: str) -> Department:
    """The active department with this USCC; NotFound names the field it came from."""
    department = Department.objects.filter(uscc=uscc.strip().upper(), is_active=True).first()
    if department is None:
        raise NotFound(
            _("没有统一社会信用代码为%(c)s的部门") % {"c": uscc}, code=f"{field}_unknown"
        )
    return department


def grant_form_choices(user) -> dict:
    """What the grants page offers: the user's departments, the categories they own, and
    every active department as a possible grantee."""
    administered = administered_departments(user)
    owner_kinds = set(administered.values_list("kind", flat=True))
    return {
        "administered": administered,
        "categories": categories().filter(owner_kind__in=owner_kinds),
        "departments": Department.objects.filter(is_active=True).select_related("region"),
    }


def categories() -> QuerySet[DataCategory]:
    return DataCategory.objects.filter(is_active=True).order_by("owner_kind", "code")


def grants_given_by(user) -> QuerySet[Grant]:
    """Grants of the departments the user administers (the category owner's view)."""
    return (
        Grant.objects.filter(grantor__in=administered_departments(user))
        .select_related("category", "grantor", "grantee", "granted_by")
        .order_by("-granted_at", "-id")
    )


def grants_held_by(user, *, valid_only: bool = False) -> QuerySet[Grant]:
    """Grants whose grantee is one of the user's departments."""
    grants = Grant.objects.filter(grantee__in=member_departments(user))
    if valid_only:
        today = timezone.localdate()
        grants = grants.filter(
            revoked_at__isnull=True, valid_from__lte=today, valid_until__gte=today
        )
    return grants.select_related("category", "grantor", "grantee").order_by("category__code", "id")


def grant_for_admin(user, grant_id: int) -> Grant:
    grant = grants_given_by(user).filter(pk=grant_id).first()
    if grant is None:
        raise NotFound(_("没有这个授权"), code="no_grant")
    return grant


def reads_visible_to(user) -> QuerySet[ReadLog]:
    """The read log for staff: reads by the user's departments, and reads under grants that
    the user's departments gave; supervisors see their region."""
    if org_selectors.is_platform_admin(user):
        reads = ReadLog.objects.all()
    else:
        departments = member_departments(user)
        condition = Q(department__in=departments) | Q(grant__grantor__in=departments)
        for assignment in org_selectors.role_assignments_for(user).filter(
            role=Role.SUPERVISOR, region__isnull=False
        ):
            condition |= Q(department__region__path__startswith=assignment.region.path)
        reads = ReadLog.objects.filter(condition)
    return reads.select_related(
        "grant__category", "grant__grantor", "department", "reader", "person", "enterprise"
    ).order_by("-read_at", "-id")


def enterprises_of(user) -> QuerySet[Enterprise]:
    person = account_selectors.person_for_user(user)
    if person is None:
        return Enterprise.objects.none()
    ids = account_selectors.authorisations_in_force(person).values("enterprise_id")
    return Enterprise.objects.filter(pk__in=ids)


def reads_about_me(user) -> QuerySet[ReadLog]:
    """谁查看了我的数据: reads whose subject is the user (as a person) or an enterprise the
    user represents or acts for."""
    person = account_selectors.person_for_user(user)
    if person is None:
        return ReadLog.objects.none()
    return (
        ReadLog.objects.filter(Q(person=person) | Q(enterprise__in=enterprises_of(user)))
        .select_related("grant__category", "department", "reader", "person", "enterprise")
        .order_by("-read_at", "-id")
    )


def read_for(user, read_id: int) -> ReadLog:
    """One read, for its reader's department, the granting department, supervisors, or its
    subject."""
    read = (
        reads_visible_to(user).filter(pk=read_id).first()
        or reads_about_me(user).filter(pk=read_id).first()
    )
    if read is None:
        raise NotFound(_("没有这条查询记录"), code="no_read")
    return read


def ledger_proof(seq: int) -> dict:
    """Where a ledger entry stands: its `seq` at once; once integrated, its `index`, and an
    inclusion proof against the latest signed checkpoint (RFC 9162, hashes in base64) with
    that checkpoint's signed note. Before integration `integrated` is false: ask again (API
    GET /api/v1/sharing/reads/{id}/proof) after a moment."""
    entry = ledger_selectors.entry_by_seq(seq)
    checkpoint = ledger_selectors.latest_checkpoint()
    size = checkpoint.size if checkpoint is not None else 0
    result = {
        "seq": seq,
        "kind": entry.kind,
        "payload_sha256": entry.document()["payload_sha256"],
        "index": entry.index,
        "integrated": False,
    }
    if entry.index is None or entry.index >= size:
        return result
    proof = ledger_selectors.inclusion_proof(index=entry.index, tree_size=size)
    result.update(
        integrated=True,
        tree_size=proof.tree_size,
        leaf_hash=_b64(proof.leaf_hash),
        hashes=[_b64(h) for h in proof.hashes],
        checkpoint=checkpoint.note,
    )
    return result
