"""Reads of the organisation: regions, departments, service points, and who holds which
role where.

Scope semantics (docs/architecture.md):
- an assignment to a region covers that region and every region below it;
- an assignment to a department covers that department only — and, for reads of that
  department's work, the department's region and the places below it;
- an assignment whose valid_until lies before the day asked about counts for nothing;
- a platform admin (a valid platform_admin assignment, or a Django superuser) holds every
  role everywhere.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core.errors import NotFound, PermissionDenied, ValidationFailed

from .codes import check_region_code, normalize_region_code
from .models import Department, DepartmentKind, Region, Role, RoleAssignment, ServicePoint


def _is_active_user(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
    )


def _valid_on(on: dt.date | None) -> Q:
    day = on or timezone.localdate()
    return Q(valid_until__isnull=True) | Q(valid_until__gte=day)


# --- roles and scopes -----------------------------------------------------------------


def role_assignments_for(user, *, on: dt.date | None = None) -> QuerySet[RoleAssignment]:
    """The user's assignments that are valid on `on` (default today)."""
    if not _is_active_user(user):
        return RoleAssignment.objects.none()
    return (
        RoleAssignment.objects.filter(_valid_on(on), user=user)
        .select_related("department__region", "region", "service_point")
        .order_by("role", "id")
    )


class _Grant(NamedTuple):
    """One valid role assignment, flattened for checks in Python."""

    role: str
    department_id: int | None
    department_region_code: str | None
    region_code: str | None


# Bumped (in this process) whenever a role assignment, department or region is saved or
# deleted; see OrgConfig.ready. A user object keeps the grants it read for one generation
# and day: a request or a long service (one delivery checks roles hundreds of times) asks
# the database once, and sees its own process's role changes at once. Another process's
# change shows from that process's next user object, i.e. its next request.
_generation = 0


def forget_role_grants(**_signal) -> None:
    global _generation
    _generation += 1


def _grants(user, on: dt.date | None) -> tuple[_Grant, ...]:
    day = on or timezone.localdate()
    cached = user.__dict__.get("_yiciban_role_grants")
    if cached is not None and cached[0] == _generation and cached[1] == day:
        return cached[2]
    generation = _generation
    rows = RoleAssignment.objects.filter(_valid_on(day), user=user).values_list(
        "role", "department_id", "department__region__code", "region__code"
    )
    grants = tuple(_Grant(*row) for row in rows)
    user.__dict__["_yiciban_role_grants"] = (generation, day, grants)
    return grants


def is_platform_admin(user, *, on: dt.date | None = None) -> bool:
    if not _is_active_user(user):
        return False
    if user.is_superuser:
        # `yiciban createsuperuser` is how an installation gets its first platform admin.
        return True
    return any(grant.role == Role.PLATFORM_ADMIN for grant in _grants(user, on))


def has_role(
    user,
    role: str,
    *,
    department: Department | None = None,
    region: Region | None = None,
    on: dt.date | None = None,
) -> bool:
    """Does `user` hold `role` for this department and/or region?

    With neither given: anywhere. With a department: an assignment to that department, or
    to a region that contains the department's region. With a region (where the work
    happens, e.g. a village whose resident applied): an assignment to a region containing
    it — or, when no department is given, to a department whose region contains it."""
    if not _is_active_user(user):
        return False
    if is_platform_admin(user, on=on):
        return True
    grants = [grant for grant in _grants(user, on) if grant.role == role]
    if department is None and region is None:
        return bool(grants)
    target = region if region is not None else department.region
    covering = set(target.ancestor_codes)
    for grant in grants:
        if grant.department_id is None:
            if grant.region_code in covering:
                return True
        elif department is not None:
            if grant.department_id == department.pk:
                return True
        elif grant.department_region_code in covering:
            return True
    return False


def require_role(
    user,
    role: str,
    *,
    department: Department | None = None,
    region: Region | None = None,
    on: dt.date | None = None,
) -> None:
    """Raise PermissionDenied unless has_role(...)."""
    if has_role(user, role, department=department, region=region, on=on):
        return
    scope = department.name if department else (region.name if region else _("任何范围"))
    raise PermissionDenied(
        _("没有在%(scope)s担任“%(role)s”的有效授权") % {"scope": scope, "role": Role(role).label},
        code="role_required",
    )


def departments_covered(user, role: str, *, on: dt.date | None = None) -> QuerySet[Department]:
    """Departments in which `user` acts as `role`: assigned to the department itself, or to
    a region containing the department's region."""
    if not _is_active_user(user):
        return Department.objects.none()
    if is_platform_admin(user, on=on):
        return Department.objects.all()
    condition = Q(pk__in=[])
    for assignment in role_assignments_for(user, on=on).filter(role=role):
        if assignment.department_id:
            condition |= Q(pk=assignment.department_id)
        else:
            condition |= Q(region__path__startswith=assignment.region.path)
    return Department.objects.filter(condition).select_related("region")


def can_assign_roles(user, *, department: Department | None) -> bool:
    """Platform admins assign any role; a department admin assigns roles within their own
    department only."""
    if is_platform_admin(user):
        return True
    if department is None:
        return False
    return (
        role_assignments_for(user)
        .filter(role=Role.DEPARTMENT_ADMIN, department=department)
        .exists()
    )


def can_manage_service_points(user, *, region: Region) -> bool:
    """Platform admins, and the department admins of a government service centre
    (政务服务中心, which runs the halls and stations) whose region contains `region`."""
    if is_platform_admin(user):
        return True
    return (
        role_assignments_for(user)
        .filter(
            role=Role.DEPARTMENT_ADMIN,
            department__kind=DepartmentKind.GOVERNMENT_SERVICE,
            department__region__code__in=region.ancestor_codes,
        )
        .exists()
    )


def service_point_manager_regions(user) -> list[Region] | None:
    """The regions whose service points `user` manages: None means all (platform admin);
    otherwise the regions of the government service centres they administer."""
    if is_platform_admin(user):
        return None
    return [
        assignment.department.region
        for assignment in role_assignments_for(user).filter(
            role=Role.DEPARTMENT_ADMIN, department__kind=DepartmentKind.GOVERNMENT_SERVICE
        )
    ]


def administered_departments(user) -> QuerySet[Department]:
    """Departments whose department admin `user` is (all of them for a platform admin)."""
    if is_platform_admin(user):
        return Department.objects.all()
    ids = role_assignments_for(user).filter(role=Role.DEPARTMENT_ADMIN).values("department_id")
    return Department.objects.filter(pk__in=ids)


def can_edit_department(user, *, department: Department) -> bool:
    return is_platform_admin(user) or can_assign_roles(user, department=department)


# --- regions --------------------------------------------------------------------------


def region_by_code(code: str, *, field: str = "code") -> Region:
    """The region with this code (12 digits, or the 6-digit GB/T 2260 code of a county or
    higher): ValidationFailed if malformed, NotFound if unknown."""
    normalized = normalize_region_code(code)
    result = check_region_code(normalized)
    if not result:
        raise ValidationFailed.on_field(field, result.rule, result.reason)
    try:
        return Region.objects.select_related("parent").get(code=normalized)
    except Region.DoesNotExist:
        raise NotFound(
            _("区划代码%(c)s不存在") % {"c": normalized}, code="region_not_found"
        ) from None


def region_and_descendants(region: Region) -> QuerySet[Region]:
    return Region.objects.filter(path__startswith=region.path)


def region_ancestors(region: Region) -> QuerySet[Region]:
    """From the root down to the region's parent."""
    return Region.objects.filter(code__in=region.ancestor_codes[:-1]).order_by("code")


def regions_list(
    *, parent: Region | None = None, within: Region | None = None, level: str | None = None
) -> QuerySet[Region]:
    """Regions, optionally only the direct children of `parent`, only those strictly below
    `within`, and only of one level."""
    regions = Region.objects.select_related("parent")
    if parent is not None:
        regions = regions.filter(parent=parent)
    if within is not None:
        regions = regions.filter(path__startswith=within.path + "/")
    if level:
        regions = regions.filter(level=level)
    return regions.order_by("code")


# --- departments and service points ---------------------------------------------------


def department_by_kind(region_code: str, kind: str) -> Department:
    """The department of `kind` in the region (code: 12 digits or GB/T 2260 six)."""
    normalized = normalize_region_code(region_code)
    try:
        return Department.objects.select_related("region").get(
            region__code=normalized, kind=kind, is_active=True
        )
    except Department.DoesNotExist:
        raise NotFound(
            _("区划%(c)s没有“%(k)s”类部门")
            % {
                "c": normalized,
                "k": DepartmentKind(kind).label if kind in DepartmentKind.values else kind,
            },
            code="department_not_found",
        ) from None


def departments_list(
    *, region: Region | None = None, kind: str | None = None, include_inactive: bool = False
) -> QuerySet[Department]:
    """Departments in `region` and the regions below it."""
    departments = Department.objects.select_related("region")
    if not include_inactive:
        departments = departments.filter(is_active=True)
    if region is not None:
        departments = departments.filter(region__path__startswith=region.path)
    if kind:
        departments = departments.filter(kind=kind)
    return departments.order_by("region__code", "kind")


def service_points_list(
    *, region: Region | None = None, kind: str | None = None, include_inactive: bool = False
) -> QuerySet[ServicePoint]:
    """Service points serving `region` or a region below it."""
    points = ServicePoint.objects.select_related("region")
    if not include_inactive:
        points = points.filter(is_active=True)
    if region is not None:
        points = points.filter(region__path__startswith=region.path)
    if kind:
        points = points.filter(kind=kind)
    return points.order_by("region__code", "kind", "code")
