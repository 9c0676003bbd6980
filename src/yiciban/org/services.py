"""Writes of the organisation: regions, departments, service points and role assignments.
Each service checks who may do it, validates, writes in one transaction and records an
audit event. The `validate_*` functions are the services' input checks on their own, so
admin forms can show the same errors next to the fields before anything is written."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core import audit
from yiciban.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from yiciban.core.identifiers import check_uscc, normalize_uscc

from . import selectors
from .codes import check_region_code, parent_level_for, significant_prefix
from .models import (
    DEPARTMENT_ROLES,
    PATH_SEPARATOR,
    REGION_ROLES,
    Department,
    DepartmentKind,
    PointKind,
    Region,
    RegionLevel,
    Role,
    RoleAssignment,
    ServicePoint,
)

_POINT_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")

# Which region levels each kind of service point may serve. Stations in residential
# compounds (武陵区's 小区政务服务站) serve a district or street, not one community.
POINT_KIND_LEVELS = {
    PointKind.COUNTY_HALL: {RegionLevel.CITY, RegionLevel.COUNTY},
    PointKind.TOWNSHIP_CENTRE: {RegionLevel.TOWNSHIP},
    PointKind.VILLAGE_STATION: {RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE},
    PointKind.PARK_HALL: {RegionLevel.COUNTY, RegionLevel.TOWNSHIP},
    PointKind.CROSS_PROVINCE_WINDOW: {RegionLevel.CITY, RegionLevel.COUNTY},
    PointKind.KIOSK_24H: {
        RegionLevel.CITY,
        RegionLevel.COUNTY,
        RegionLevel.TOWNSHIP,
        RegionLevel.VILLAGE,
    },
}


def _require_platform_admin(actor) -> None:
    if not selectors.is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以执行此操作"), code="platform_admin_required")


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors[0].message, errors)


def _check_name(name: str, errors: list[FieldError], *, max_length: int, field: str = "name"):
    if not name or not name.strip():
        errors.append(FieldError(field, "required", _("名称不能为空")))
    elif len(name.strip()) > max_length:
        errors.append(
            FieldError(field, "max_length", _("名称不能超过%(n)d个字") % {"n": max_length})
        )


# --- regions --------------------------------------------------------------------------


def validate_region_create(*, code: str, name: str, level: str, parent: Region | None) -> None:
    errors: list[FieldError] = []
    code = (code or "").strip()
    _check_name(name, errors, max_length=100)
    if level not in RegionLevel.values:
        errors.append(FieldError("level", "choice", _("层级“%(l)s”无效") % {"l": level}))
        _raise_if(errors)
    result = check_region_code(code, level)
    if not result:
        errors.append(FieldError("code", result.rule, result.reason))
        _raise_if(errors)
    expected_parent_level = parent_level_for(code, level)
    if expected_parent_level is None and parent is not None:
        errors.append(FieldError("parent", "root", _("省级区划没有上级")))
    elif expected_parent_level is not None:
        if parent is None:
            errors.append(FieldError("parent", "required", _("请选择上级区划")))
        elif parent.level != expected_parent_level:
            errors.append(
                FieldError(
                    "parent",
                    "level",
                    _("%(level)s的上级应为%(expected)s，而“%(parent)s”是%(actual)s")
                    % {
                        "level": RegionLevel(level).label,
                        "expected": RegionLevel(expected_parent_level).label,
                        "parent": parent.name,
                        "actual": RegionLevel(parent.level).label,
                    },
                )
            )
        elif not code.startswith(significant_prefix(parent.code, parent.level)):
            errors.append(
                FieldError(
                    "code",
                    "parent_prefix",
                    _("区划代码%(c)s应以上级“%(p)s”的代码%(prefix)s开头")
                    % {
                        "c": code,
                        "p": parent.name,
                        "prefix": significant_prefix(parent.code, parent.level),
                    },
                )
            )
    _raise_if(errors)
    if Region.objects.filter(code=code).exists():
        raise Conflict(_("区划代码%(c)s已存在") % {"c": code}, code="region_exists")


def region_create(
    *, actor, code: str, name: str, level: str, parent: Region | None = None
) -> Region:
    """A region with its 12-digit code; `path` is computed from the parent's."""
    _require_platform_admin(actor)
    code = (code or "").strip()
    validate_region_create(code=code, name=name, level=level, parent=parent)
    path = f"{parent.path}{PATH_SEPARATOR}{code}" if parent else code
    with transaction.atomic():
        try:
            with transaction.atomic():
                region = Region.objects.create(
                    code=code, name=name.strip(), level=level, parent=parent, path=path
                )
        except IntegrityError:
            raise Conflict(_("区划代码%(c)s已存在") % {"c": code}, code="region_exists") from None
        audit.record(
            actor=actor,
            action="org.region_create",
            obj=region,
            changes={
                "code": code,
                "name": region.name,
                "level": level,
                "parent": parent and parent.code,
            },
        )
    return region


def region_update(*, actor, region: Region, name: str) -> Region:
    """Rename a region. Codes never change: a new code is a new region."""
    _require_platform_admin(actor)
    errors: list[FieldError] = []
    _check_name(name, errors, max_length=100)
    _raise_if(errors)
    with transaction.atomic():
        region = Region.objects.select_for_update().get(pk=region.pk)
        before = {"name": region.name}
        region.name = name.strip()
        region.save(update_fields=["name"])
        changes = audit.changed_fields(region, before, ["name"])
        if changes:
            audit.record(actor=actor, action="org.region_update", obj=region, changes=changes)
    return region


# --- departments ----------------------------------------------------------------------


def _check_uscc(uscc: str, errors: list[FieldError]) -> str:
    code = normalize_uscc(uscc or "")
    result = check_uscc(code)
    if not result:
        errors.append(FieldError("uscc", result.rule, result.reason))
    return code


def validate_department(
    *,
    region: Region | None,
    name: str,
    kind: str,
    uscc: str,
    short_name: str = "",
    instance: Department | None = None,
) -> str:
    """Checks a department's fields; returns the normalised USCC."""
    errors: list[FieldError] = []
    if region is None:
        errors.append(FieldError("region", "required", _("请选择所属区划")))
    elif region.level == RegionLevel.VILLAGE:
        errors.append(FieldError("region", "level", _("村（社区）不设政府部门")))
    _check_name(name, errors, max_length=100)
    if len(short_name or "") > 40:
        errors.append(FieldError("short_name", "max_length", _("简称不能超过40个字")))
    if kind not in DepartmentKind.values:
        errors.append(FieldError("kind", "choice", _("部门类别“%(k)s”无效") % {"k": kind}))
    code = _check_uscc(uscc, errors)
    _raise_if(errors)
    others = Department.objects.exclude(pk=instance.pk) if instance else Department.objects
    if others.filter(region=region, kind=kind).exists():
        raise Conflict(
            _("%(r)s已有“%(k)s”类部门") % {"r": region.name, "k": DepartmentKind(kind).label},
            code="department_kind_exists",
        )
    if others.filter(uscc=code).exists():
        raise Conflict(_("统一社会信用代码%(c)s已被其他部门使用") % {"c": code}, code="uscc_exists")
    return code


def _save_unique(instance, *, message: str, code: str) -> None:
    """Save in a savepoint so that a unique-constraint race becomes a 409, not a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise Conflict(message, code=code) from None


def department_create(
    *, actor, region: Region, name: str, kind: str, uscc: str, short_name: str = ""
) -> Department:
    _require_platform_admin(actor)
    code = validate_department(
        region=region, name=name, kind=kind, uscc=uscc, short_name=short_name
    )
    department = Department(
        region=region, name=name.strip(), short_name=short_name.strip(), kind=kind, uscc=code
    )
    with transaction.atomic():
        _save_unique(department, message=_("部门已存在"), code="department_exists")
        audit.record(
            actor=actor,
            action="org.department_create",
            obj=department,
            changes={"region": region.code, "name": department.name, "kind": kind, "uscc": code},
        )
    return department


def department_update(
    *,
    actor,
    department: Department,
    name: str | None = None,
    short_name: str | None = None,
    kind: str | None = None,
    uscc: str | None = None,
    is_active: bool | None = None,
) -> Department:
    """Change the given fields (None = leave as is). The department's own admin may change
    its names and USCC; its kind and whether it is active are for platform admins."""
    if kind is not None or is_active is not None:
        _require_platform_admin(actor)
    elif not selectors.can_edit_department(actor, department=department):
        raise PermissionDenied(_("只有平台管理员或本部门管理员可以修改部门信息"))
    fields = ["name", "short_name", "kind", "uscc", "is_active"]
    with transaction.atomic():
        department = Department.objects.select_for_update().get(pk=department.pk)
        before = {f: getattr(department, f) for f in fields}
        new = {
            "name": name.strip() if name is not None else department.name,
            "short_name": short_name.strip() if short_name is not None else department.short_name,
            "kind": kind if kind is not None else department.kind,
            "uscc": uscc if uscc is not None else department.uscc,
        }
        new["uscc"] = validate_department(region=department.region, instance=department, **new)
        for field, value in new.items():
            setattr(department, field, value)
        if is_active is not None:
            department.is_active = is_active
        _save_unique(department, message=_("部门信息与其他部门冲突"), code="department_conflict")
        changes = audit.changed_fields(department, before, fields)
        if changes:
            audit.record(
                actor=actor, action="org.department_update", obj=department, changes=changes
            )
    return department


# --- service points -------------------------------------------------------------------


def _require_point_manager(actor, region: Region | None) -> None:
    if region is None:
        # nothing to scope the check by: only a platform admin gets as far as validation
        _require_platform_admin(actor)
    elif not selectors.can_manage_service_points(actor, region=region):
        raise PermissionDenied(
            _("只有平台管理员或本地政务服务中心的部门管理员可以管理服务网点"),
            code="cannot_manage_service_point",
        )


def validate_service_point(
    *,
    code: str,
    name: str,
    kind: str,
    region: Region | None,
    address: str,
    opening_hours: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    instance: ServicePoint | None = None,
) -> None:
    errors: list[FieldError] = []
    if not _POINT_CODE_RE.match(code or ""):
        errors.append(FieldError("code", "format", _("网点编码应为1至32位字母、数字或连字符")))
    _check_name(name, errors, max_length=100)
    if kind not in PointKind.values:
        errors.append(FieldError("kind", "choice", _("网点类型“%(k)s”无效") % {"k": kind}))
    if region is None:
        errors.append(FieldError("region", "required", _("请选择服务区域")))
    elif kind in PointKind.values and region.level not in POINT_KIND_LEVELS[kind]:
        errors.append(
            FieldError(
                "region",
                "level",
                _("%(kind)s不能设在%(level)s一级")
                % {"kind": PointKind(kind).label, "level": RegionLevel(region.level).label},
            )
        )
    if not (address or "").strip():
        errors.append(FieldError("address", "required", _("地址不能为空")))
    if not (opening_hours or "").strip():
        errors.append(FieldError("opening_hours", "required", _("办公时间不能为空")))
    if latitude is not None and not -90 <= latitude <= 90:
        errors.append(FieldError("latitude", "range", _("纬度应在-90到90之间")))
    if longitude is not None and not -180 <= longitude <= 180:
        errors.append(FieldError("longitude", "range", _("经度应在-180到180之间")))
    _raise_if(errors)
    others = ServicePoint.objects.exclude(pk=instance.pk) if instance else ServicePoint.objects
    if others.filter(code=code).exists():
        raise Conflict(_("网点编码%(c)s已存在") % {"c": code}, code="service_point_exists")


def service_point_create(
    *,
    actor,
    code: str,
    name: str,
    kind: str,
    region: Region,
    address: str,
    opening_hours: str,
    phone: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> ServicePoint:
    _require_point_manager(actor, region)
    code = (code or "").strip()
    validate_service_point(
        code=code,
        name=name,
        kind=kind,
        region=region,
        address=address,
        opening_hours=opening_hours,
        latitude=latitude,
        longitude=longitude,
    )
    point = ServicePoint(
        code=code,
        name=name.strip(),
        kind=kind,
        region=region,
        address=address.strip(),
        opening_hours=opening_hours.strip(),
        phone=(phone or "").strip(),
        latitude=latitude,
        longitude=longitude,
    )
    with transaction.atomic():
        _save_unique(
            point, message=_("网点编码%(c)s已存在") % {"c": code}, code="service_point_exists"
        )
        audit.record(
            actor=actor,
            action="org.service_point_create",
            obj=point,
            changes={"code": code, "name": point.name, "kind": kind, "region": region.code},
        )
    return point


_POINT_FIELDS = [
    "name",
    "kind",
    "region",
    "address",
    "opening_hours",
    "phone",
    "latitude",
    "longitude",
    "is_active",
]


def service_point_update(*, actor, point: ServicePoint, **changes) -> ServicePoint:
    """Change any of name, kind, region, address, opening_hours, phone, latitude,
    longitude, is_active. The code is the point's identity and never changes."""
    unknown = sorted(set(changes) - set(_POINT_FIELDS))
    if unknown:
        raise ValidationFailed(
            _("不能修改字段：%(f)s") % {"f": ", ".join(unknown)},
            [FieldError(name, "not_editable", _("该字段不可修改")) for name in unknown],
        )
    # Moving a point needs authority over both the old and the new region.
    _require_point_manager(actor, point.region)
    if "region" in changes:
        _require_point_manager(actor, changes["region"])
    with transaction.atomic():
        point = ServicePoint.objects.select_for_update().get(pk=point.pk)
        before = {f: getattr(point, f) for f in _POINT_FIELDS}
        for field, value in changes.items():
            setattr(point, field, value.strip() if isinstance(value, str) else value)
        validate_service_point(
            code=point.code,
            name=point.name,
            kind=point.kind,
            region=point.region,
            address=point.address,
            opening_hours=point.opening_hours,
            latitude=point.latitude,
            longitude=point.longitude,
            instance=point,
        )
        point.save()
        diff = audit.changed_fields(point, before, _POINT_FIELDS)
        if diff:
            audit.record(actor=actor, action="org.service_point_update", obj=point, changes=diff)
    return point


# --- roles ----------------------------------------------------------------------------


def validate_role_assignment(
    *,
    user,
    role: str,
    department: Department | None = None,
    region: Region | None = None,
    service_point: ServicePoint | None = None,
    valid_until: dt.date | None = None,
) -> None:
    """The scope rules: department roles need a department; region roles need a region or
    a department (not both); platform_admin has no scope; a service point must lie inside
    the scope; an assignment cannot end in the past."""
    errors: list[FieldError] = []
    if role not in Role.values:
        errors.append(FieldError("role", "choice", _("角色“%(r)s”无效") % {"r": role}))
        _raise_if(errors)
    label = Role(role).label
    if role == Role.PLATFORM_ADMIN:
        for field, value in (
            ("department", department),
            ("region", region),
            ("service_point", service_point),
        ):
            if value is not None:
                errors.append(FieldError(field, "scope", _("平台管理员不限定部门、区域或网点")))
    elif role in DEPARTMENT_ROLES:
        if department is None:
            errors.append(
                FieldError("department", "required", _("“%(r)s”须指定部门") % {"r": label})
            )
        if region is not None:
            errors.append(
                FieldError("region", "scope", _("“%(r)s”按部门授权，不再指定区域") % {"r": label})
            )
    elif role in REGION_ROLES:
        if department is None and region is None:
            errors.append(
                FieldError("region", "required", _("“%(r)s”须指定区域或部门") % {"r": label})
            )
        elif department is not None and region is not None:
            errors.append(FieldError("region", "scope", _("区域和部门只能指定其一")))
    if service_point is not None and role != Role.PLATFORM_ADMIN:
        scope_region = department.region if department is not None else region
        if scope_region is not None and not service_point.region.path.startswith(scope_region.path):
            errors.append(
                FieldError(
                    "service_point",
                    "scope",
                    _("网点“%(p)s”不在%(s)s范围内")
                    % {"p": service_point.name, "s": scope_region.name},
                )
            )
    if valid_until is not None and valid_until < timezone.localdate():
        errors.append(FieldError("valid_until", "past", _("有效期不能早于今天")))
    if user is not None and not user.is_active:
        errors.append(FieldError("user", "inactive", _("该账号已停用")))
    _raise_if(errors)
    if user is not None and user.pk and _existing_assignment(user, role, department, region):
        raise Conflict(_("该工作人员已有相同范围的“%(r)s”角色") % {"r": label}, code="role_exists")


def _existing_assignment(user, role, department, region) -> bool:
    return RoleAssignment.objects.filter(
        user=user, role=role, department=department, region=region
    ).exists()


def role_assign(
    *,
    actor,
    user,
    role: str,
    department: Department | None = None,
    region: Region | None = None,
    service_point: ServicePoint | None = None,
    valid_until: dt.date | None = None,
) -> RoleAssignment:
    """Give `user` a role within a scope. Only a platform admin, or a department admin for
    their own department, may assign roles."""
    if department is None:
        _require_platform_admin(actor)
    elif not selectors.can_assign_roles(actor, department=department):
        raise PermissionDenied(
            _("只有平台管理员或%(d)s的部门管理员可以授予该部门的角色") % {"d": department.name},
            code="cannot_assign_role",
        )
    validate_role_assignment(
        user=user,
        role=role,
        department=department,
        region=region,
        service_point=service_point,
        valid_until=valid_until,
    )
    assignment = RoleAssignment(
        user=user,
        role=role,
        department=department,
        region=region,
        service_point=service_point,
        valid_until=valid_until,
    )
    with transaction.atomic():
        _save_unique(
            assignment,
            message=_("该工作人员已有相同范围的“%(r)s”角色") % {"r": Role(role).label},
            code="role_exists",
        )
        audit.record(
            actor=actor, action="org.role_assign", obj=assignment, changes=_snapshot(assignment)
        )
    return assignment


def _snapshot(assignment: RoleAssignment) -> dict:
    return {
        "user": assignment.user.get_username(),
        "role": assignment.role,
        "department": assignment.department.uscc if assignment.department_id else None,
        "region": assignment.region.code if assignment.region_id else None,
        "service_point": assignment.service_point.code if assignment.service_point_id else None,
        "valid_until": assignment.valid_until.isoformat() if assignment.valid_until else None,
    }


def role_revoke(*, actor, assignment: RoleAssignment) -> None:
    """Withdraw a role. The row goes; the audit event keeps what it was. Of two concurrent
    revocations one wins, the other gets Conflict."""
    if assignment.department_id is None:
        _require_platform_admin(actor)
    elif not selectors.can_assign_roles(actor, department=assignment.department):
        raise PermissionDenied(
            _("只有平台管理员或%(d)s的部门管理员可以撤销该部门的角色")
            % {"d": assignment.department.name},
            code="cannot_revoke_role",
        )
    with transaction.atomic():
        locked = (
            RoleAssignment.objects.select_for_update(of=("self",))
            .select_related("user", "department", "region", "service_point")
            .filter(pk=assignment.pk)
            .first()
        )
        if locked is None:
            raise Conflict(_("该角色授权已被撤销"), code="role_already_revoked")
        snapshot = _snapshot(locked)
        object_id = locked.pk
        locked.delete()
        audit.record(
            actor=actor,
            action="org.role_revoke",
            object_type=RoleAssignment._meta.label_lower,
            object_id=object_id,
            changes=snapshot,
        )
