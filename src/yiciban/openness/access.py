"""Who may do what in openness. Scopes come from org role assignments (a region role covers
the region and everything below it); the decisions, also in docs/openness.md:

- editor: `openness_editor` covering the column's region. Under 统一发布 (the township's
  RegionPublishing.mode = unified) only editors covering the county may author for that
  township and its villages; under 自主公开 (the default) the township's own editors may.
- reviewer: `supervisor` covering the article's region (so of the same or a higher level),
  or `department_admin` of the 政务服务中心 (government_service, which runs openness) of
  the article's region or a region above it; never the article's author (一审一核).
- disclosure staff: `openness_editor` covering the request's region, or `department_admin`
  of the handling department; counter clerks may also record an on-site or mailed filing.
- office head (政府信息公开工作机构负责人, who approves an extension): `department_admin` of
  the handling department (or of the region's 政务服务中心 when none is named), or a
  `supervisor` covering the region.
- suggestion answerers: `department_admin` of the responsible department, or an
  `openness_editor` covering the suggestion's region."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from yiciban.core.errors import PermissionDenied
from yiciban.org.models import Department, DepartmentKind, Region, RegionLevel, Role
from yiciban.org.selectors import has_role, is_platform_admin, role_assignments_for

from .models import PublishingMode, RegionPublishing


def county_of(region: Region) -> Region | None:
    """The county (or higher) region at or above `region`."""
    codes = region.ancestor_codes
    if region.level in (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY):
        return region
    # Township codes keep the county's first six digits; ancestors are on the path.
    for code in reversed(codes):
        if code.endswith("000000") and code != region.code:
            return Region.objects.filter(code=code).first()
    return None


def township_of(region: Region) -> Region | None:
    if region.level == RegionLevel.TOWNSHIP:
        return region
    if region.level == RegionLevel.VILLAGE:
        return region.parent
    return None


def publishing_mode_of(region: Region) -> str:
    township = township_of(region)
    if township is None:
        return PublishingMode.SELF
    setting = RegionPublishing.objects.filter(region=township).first()
    return setting.mode if setting else PublishingMode.SELF


def authoring_mode(user, region: Region) -> str:
    """统一发布 when the author acts from the county for a place below it, else 自主公开.
    Raises PermissionDenied when the user may not author for `region` at all."""
    if not has_role(user, Role.OPENNESS_EDITOR, region=region):
        raise PermissionDenied(
            _("没有%(r)s的政务公开编辑权限") % {"r": region.name}, code="editor_required"
        )
    if region.level in (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY):
        return PublishingMode.SELF
    county = county_of(region)
    from_county = county is not None and has_role(user, Role.OPENNESS_EDITOR, region=county)
    if from_county:
        return PublishingMode.UNIFIED
    if publishing_mode_of(region) == PublishingMode.UNIFIED:
        raise PermissionDenied(
            _("该乡镇实行县级统一发布，请由县级政务公开编辑发布"), code="unified_publishing"
        )
    return PublishingMode.SELF


def require_editor(user, region: Region) -> str:
    return authoring_mode(user, region)


def _government_service_admin(user, region: Region) -> bool:
    departments = Department.objects.filter(
        kind=DepartmentKind.GOVERNMENT_SERVICE, region__code__in=region.ancestor_codes
    )
    return any(has_role(user, Role.DEPARTMENT_ADMIN, department=d) for d in departments)


def can_review(user, region: Region) -> bool:
    return has_role(user, Role.SUPERVISOR, region=region) or _government_service_admin(user, region)


def require_reviewer(user, region: Region) -> None:
    if not can_review(user, region):
        raise PermissionDenied(
            _("没有%(r)s政务公开信息的审核权限") % {"r": region.name}, code="reviewer_required"
        )


def can_edit_or_review(user, region: Region) -> bool:
    return has_role(user, Role.OPENNESS_EDITOR, region=region) or can_review(user, region)


def can_handle_disclosure(user, region: Region, department: Department | None) -> bool:
    if has_role(user, Role.OPENNESS_EDITOR, region=region):
        return True
    return department is not None and has_role(user, Role.DEPARTMENT_ADMIN, department=department)


def require_disclosure_staff(user, region: Region, department: Department | None) -> None:
    if can_handle_disclosure(user, region, department):
        return
    raise PermissionDenied(
        _("没有办理%(r)s依申请公开的权限") % {"r": region.name}, code="disclosure_staff_required"
    )


def require_office_head(user, region: Region, department: Department | None) -> None:
    if has_role(user, Role.SUPERVISOR, region=region):
        return
    if department is not None:
        if has_role(user, Role.DEPARTMENT_ADMIN, department=department):
            return
    elif _government_service_admin(user, region):
        return
    raise PermissionDenied(
        _("延长答复期限须经政府信息公开工作机构负责人同意"), code="office_head_required"
    )


def require_suggestion_answerer(user, region: Region, department: Department | None) -> None:
    if department is not None and has_role(user, Role.DEPARTMENT_ADMIN, department=department):
        return
    if has_role(user, Role.OPENNESS_EDITOR, region=region):
        return
    raise PermissionDenied(_("只有责任单位可以答复该意见建议"), code="responsible_office_required")


def covered_region_filter(user, roles: tuple[str, ...], *, field: str = "region") -> Q:
    """A Q on `<field>` matching the regions in which the user holds any of `roles`
    (department roles cover their department's region and below)."""
    if is_platform_admin(user):
        return Q()
    condition = Q(pk__in=[])
    for assignment in role_assignments_for(user).filter(role__in=roles):
        scope = assignment.region or (assignment.department and assignment.department.region)
        if scope is not None:
            condition |= Q(**{f"{field}__path__startswith": scope.path})
    return condition


def staff_region_filter(user, *, field: str = "region") -> Q:
    """Regions where the user edits or reviews openness content: editor and supervisor
    scopes, and the regions of the 政务服务中心 they administer."""
    if is_platform_admin(user):
        return Q()
    condition = covered_region_filter(user, (Role.OPENNESS_EDITOR, Role.SUPERVISOR), field=field)
    for assignment in role_assignments_for(user).filter(
        role=Role.DEPARTMENT_ADMIN, department__kind=DepartmentKind.GOVERNMENT_SERVICE
    ):
        condition |= Q(**{f"{field}__path__startswith": assignment.department.region.path})
    return condition
