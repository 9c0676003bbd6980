"""Every write to the catalogue. Each service runs in one transaction, writes one audit
event and raises domain errors. `actor=None` is the system itself (CLI, demo loader): the
HTTP faces always pass the signed-in user.

Published versions are immutable: the only changes a published version accepts are its
lifecycle dates and withdrawal. To change an item, create a draft from it, edit, publish."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core.audit import record
from yiciban.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from yiciban.org import selectors as org_selectors
from yiciban.org.models import Department, Region, Role, ServicePoint

from .content import (
    ITEM_VERSION_DEFAULTS,
    ITEM_VERSION_FIELDS,
    MATERIAL_DEFAULTS,
    MEMBER_DEFAULTS,
    bundle_version_content,
    element_content,
    flags,
    item_version_content,
    material_kind_content,
)
from .models import (
    ITEM_TYPE_CODES,
    VERSION_TRANSITIONS,
    Audience,
    Bundle,
    BundleMember,
    BundleVersion,
    CatalogRevision,
    DataElement,
    Item,
    ItemMaterial,
    ItemVersion,
    MaterialKind,
    MaterialSource,
    Theme,
    VersionStatus,
)
from .questionnaire import normalize_question
from .validation import (
    BASIC_CODE,
    BUSINESS_ITEM_CODE,
    MATERIAL_CODE,
    REGION_CODE,
    Problem,
    check_bundle_version,
    check_element,
    check_item_version,
    cross_item_conflicts,
    implementation_code_for,
)

# "leave unchanged" for arguments whose None is a meaningful value
UNSET: Any = object()

# ---------------------------------------------------------------------------------------
# permissions and shared helpers


def is_platform_admin(actor) -> bool:
    """`actor=None` is the system itself (CLI, demo loader)."""
    return actor is None or org_selectors.is_platform_admin(actor)


def may_edit_item(actor, department: Department) -> bool:
    """Platform admins edit everything; a department admin edits its department's items."""
    return is_platform_admin(actor) or org_selectors.has_role(
        actor, Role.DEPARTMENT_ADMIN, department=department
    )


def _require_platform_admin(actor) -> None:
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以维护共用目录和一件事"))


def _require_item_editor(actor, department: Department) -> None:
    if not may_edit_item(actor, department):
        raise PermissionDenied(_("无权维护 %(d)s 的事项") % {"d": department.name})


def _raise_problems(problems: list[Problem], message: str | None = None) -> None:
    if problems:
        raise ValidationFailed(
            message or problems[0].message,
            [FieldError(p.path, p.rule, p.message) for p in problems],
        )


def _root(path: str) -> str:
    """ "materials[2].kind" -> "materials"."""
    return path.split(".")[0].split("[")[0]


def bump_revision() -> int:
    """Advance the catalogue revision so every process drops its compiled bundles."""
    from .selectors import forget_catalog_revision

    transaction.on_commit(forget_catalog_revision)
    updated = CatalogRevision.objects.filter(pk=1).update(number=F("number") + 1)
    if not updated:
        try:
            with transaction.atomic():
                CatalogRevision.objects.create(pk=1, number=1)
        except IntegrityError:  # another writer created it first
            CatalogRevision.objects.filter(pk=1).update(number=F("number") + 1)
    return CatalogRevision.objects.values_list("number", flat=True).get(pk=1)


def _publish_superseding(*, version, previous, effective_from: date, actor) -> None:
    """Mark an item or bundle version published from `effective_from`; the published
    versions before it end that day. Called inside the publishing service's transaction."""
    previous = previous.exclude(pk=version.pk)
    latest_start = (
        previous.order_by("-effective_from").values_list("effective_from", flat=True).first()
    )
    if latest_start and effective_from < latest_start:
        raise ValidationFailed.on_field(
            "effective_from",
            "before_previous",
            _("生效日期不能早于上一版本的生效日期 %(d)s") % {"d": latest_start},
        )
    previous.filter(Q(effective_until__isnull=True) | Q(effective_until__gt=effective_from)).update(
        effective_until=effective_from
    )
    version.status = VersionStatus.PUBLISHED
    version.effective_from = effective_from
    version.published_at = timezone.now()
    version.published_by = actor if getattr(actor, "pk", None) else None
    version.save()


def _check_transition(current: str, target: str) -> None:
    if target not in VERSION_TRANSITIONS[current]:
        raise Conflict(
            _("版本状态为“%(s)s”，不能改为“%(t)s”")
            % {"s": VersionStatus(current).label, "t": VersionStatus(target).label},
            code="invalid_transition",
        )


def element_fragments(extra: dict[str, dict] | None = None) -> dict[str, dict]:
    fragments = dict(DataElement.objects.values_list("code", "schema"))
    fragments.update(extra or {})
    return fragments


def current_filter(today: date, prefix: str = "") -> Q:
    """Published and in force on `today`."""
    return Q(
        **{
            f"{prefix}status": VersionStatus.PUBLISHED,
            f"{prefix}effective_from__lte": today,
        }
    ) & (
        Q(**{f"{prefix}effective_until__isnull": True})
        | Q(**{f"{prefix}effective_until__gt": today})
    )


def in_force_or_scheduled_filter(today: date) -> Q:
    """Published and not yet ended: current now, or scheduled to become so."""
    return Q(status=VersionStatus.PUBLISHED) & (
        Q(effective_until__isnull=True) | Q(effective_until__gt=today)
    )


# ---------------------------------------------------------------------------------------
# shared registries: themes, data elements, material kinds


def theme_create(
    *, actor, code: str, name: str, audience: str, order: int = 0, description: str = ""
) -> Theme:
    _require_platform_admin(actor)
    if audience not in (Audience.PERSON, Audience.ENTERPRISE):
        raise ValidationFailed.on_field("audience", "choice", _("主题的服务对象须为个人或法人"))
    with transaction.atomic():
        if Theme.objects.filter(code=code).exists():
            raise Conflict(_("主题编码已存在：%(c)s") % {"c": code}, code="duplicate")
        theme = Theme.objects.create(
            code=code, name=name, audience=audience, order=order, description=description
        )
        record(actor=actor, action="catalog.theme_create", obj=theme, changes={"code": code})
    return theme


def data_element_create(
    *,
    actor,
    code: str,
    label: str,
    schema: dict,
    description: str = "",
    personal: bool = False,
) -> DataElement:
    _require_platform_admin(actor)
    content = {
        "code": code,
        "label": label,
        "schema": schema,
        "description": description,
        "personal": personal,
    }
    _raise_problems(check_element(content))
    with transaction.atomic():
        if DataElement.objects.filter(code=code).exists():
            raise Conflict(_("数据元编码已存在：%(c)s") % {"c": code}, code="duplicate")
        element = DataElement.objects.create(**content)
        record(
            actor=actor, action="catalog.data_element_create", obj=element, changes={"code": code}
        )
    return element


def data_element_update(
    *,
    actor,
    element: DataElement,
    label: str | None = None,
    schema: dict | None = None,
    description: str | None = None,
    personal: bool | None = None,
) -> DataElement:
    """Change an element. A new schema must still agree with every published form that
    uses the element, or those forms would silently change meaning."""
    _require_platform_admin(actor)
    with transaction.atomic():
        element = DataElement.objects.select_for_update().get(pk=element.pk)
        before = element_content(element)
        changes = {
            k: v
            for k, v in (
                ("label", label),
                ("schema", schema),
                ("description", description),
                ("personal", personal),
            )
            if v is not None
        }
        content = {**before, **changes}
        problems = check_element(content)
        if schema is not None and not problems:
            problems += _element_users_conflicts(element.code, before["schema"], schema)
        _raise_problems(problems)
        for key, value in changes.items():
            setattr(element, key, value)
        element.save()
        record(
            actor=actor,
            action="catalog.data_element_update",
            obj=element,
            changes={k: [before[k], v] for k, v in changes.items() if before[k] != v},
        )
        bump_revision()
    return element


def _element_users_conflicts(code: str, old: dict, new: dict) -> list[Problem]:
    """A data element used by forms in force keeps its identity (type, format, pattern,
    enum …): those forms were published with that meaning. Bounds may change as long as
    every form's own bounds still leave a value possible."""
    from .formschema import identity_changes, merge_fragments

    today = timezone.localdate()
    users = []
    for version in ItemVersion.objects.filter(in_force_or_scheduled_filter(today)).select_related(
        "item"
    ):
        for name, prop in (version.form_schema or {}).get("properties", {}).items():
            if isinstance(prop, dict) and prop.get("x-element") == code:
                users.append((version, name, prop))
    problems = []
    changed = identity_changes(old, new)
    if users and changed:
        problems.append(
            Problem(
                "schema",
                "element_in_use",
                _("数据元已被 %(n)s 个现行事项使用（如 %(item)s），不能更改 %(k)s")
                % {"n": len(users), "item": users[0][0].name, "k": "、".join(changed)},
            )
        )
    for version, name, prop in users:
        _m, conflicts = merge_fragments([(_("新定义"), new), (version.name, prop)])
        problems += [
            Problem(
                "schema",
                "element_schema_conflict",
                _("与 %(item)s 的字段 %(f)s 冲突：%(c)s")
                % {"item": version.item.implementation_code, "f": name, "c": c},
            )
            for c in conflicts
        ]
    return problems


def material_kind_create(
    *,
    actor,
    code: str,
    name: str,
    source: str = MaterialSource.APPLICANT,
    data_category: str = "",
    formats: Iterable[str] = ("pdf", "jpg", "png"),
    max_size_mb: int = 10,
    blank_form_url: str = "",
    sample_url: str = "",
    description: str = "",
) -> MaterialKind:
    _require_platform_admin(actor)
    content = {
        "code": code,
        "name": name,
        "source": source,
        "data_category": data_category,
        "formats": list(formats),
        "max_size_mb": max_size_mb,
        "blank_form_url": blank_form_url,
        "sample_url": sample_url,
        "description": description,
    }
    _raise_problems(check_material_kind(content))
    with transaction.atomic():
        if MaterialKind.objects.filter(code=code).exists():
            raise Conflict(_("材料编码已存在：%(c)s") % {"c": code}, code="duplicate")
        kind = MaterialKind.objects.create(**content)
        record(actor=actor, action="catalog.material_kind_create", obj=kind, changes={"code": code})
        bump_revision()
    return kind


def material_kind_update(*, actor, kind: MaterialKind, **changes: Any) -> MaterialKind:
    _require_platform_admin(actor)
    with transaction.atomic():
        kind = MaterialKind.objects.select_for_update().get(pk=kind.pk)
        before = material_kind_content(kind)
        unknown = set(changes) - set(before) | ({"code"} & set(changes))
        if unknown:
            raise ValidationFailed.on_field(
                sorted(unknown)[0], "not_allowed", _("不能修改：%(f)s") % {"f": sorted(unknown)[0]}
            )
        content = {**before, **changes}
        _raise_problems(check_material_kind(content))
        for key, value in changes.items():
            setattr(kind, key, value)
        kind.save()
        record(
            actor=actor,
            action="catalog.material_kind_update",
            obj=kind,
            changes={k: [before[k], content[k]] for k in changes if before[k] != content[k]},
        )
        bump_revision()
    return kind


ACCEPTED_FORMATS = ("pdf", "ofd", "jpg", "png", "doc", "docx", "xls", "xlsx")


def check_material_kind(content: dict) -> list[Problem]:
    p = []
    if not isinstance(content.get("code"), str) or not MATERIAL_CODE.match(content["code"]):
        p.append(
            Problem(
                "code", "pattern", _("材料编码须为点分小写名称：%(c)s") % {"c": content.get("code")}
            )
        )
    if not content.get("name"):
        p.append(Problem("name", "required", _("材料须有名称")))
    if content.get("source") not in MaterialSource.values:
        p.append(
            Problem(
                "source",
                "choice",
                _("来源须为 %(all)s 之一") % {"all": "、".join(MaterialSource.values)},
            )
        )
    if content.get("source") == MaterialSource.GOVERNMENT and not content.get("data_category"):
        p.append(
            Problem("data_category", "required", _("政府部门核发的材料须写明可共享获取的数据类别"))
        )
    formats = content.get("formats")
    if not isinstance(formats, list) or any(f not in ACCEPTED_FORMATS for f in formats):
        p.append(
            Problem(
                "formats",
                "choice",
                _("接收格式须取自 %(all)s") % {"all": "、".join(ACCEPTED_FORMATS)},
            )
        )
    size = content.get("max_size_mb")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 100:
        p.append(Problem("max_size_mb", "range", _("大小上限须为 1–100 MB")))
    return p


# ---------------------------------------------------------------------------------------
# items and their versions


def item_create(
    *,
    actor,
    department: Department,
    basic_code: str,
    name: str,
    business_item_code: str = "000",
    themes: Iterable[Theme] = (),
) -> Item:
    """A new item with an empty draft version 1 to fill in."""
    _require_item_editor(actor, department)
    problems = []
    if not BASIC_CODE.match(basic_code or ""):
        problems.append(Problem("basic_code", "pattern", _("基本编码须为12位数字")))
    elif basic_code[:2] not in ITEM_TYPE_CODES.values():
        problems.append(
            Problem("basic_code", "item_type_code", _("基本编码前两位须为事项类型代码"))
        )
    if not BUSINESS_ITEM_CODE.match(business_item_code or ""):
        problems.append(Problem("business_item_code", "pattern", _("业务办理项编码须为3位数字")))
    if not name or not name.strip():
        problems.append(Problem("name", "required", _("事项名称不能为空")))
    _raise_problems(problems)
    code = implementation_code_for(department.uscc, basic_code, business_item_code)
    item_type = next(t for t, c in ITEM_TYPE_CODES.items() if c == basic_code[:2])
    with transaction.atomic():
        if Item.objects.filter(implementation_code=code).exists():
            raise Conflict(_("实施编码已存在：%(c)s") % {"c": code}, code="duplicate")
        item = Item.objects.create(
            implementation_code=code,
            basic_code=basic_code,
            business_item_code=business_item_code,
            department=department,
            name=name,
        )
        item.themes.set(themes)
        ItemVersion.objects.create(
            item=item,
            number=1,
            name=name,
            item_type=item_type,
            approval_mode="standard",
            risk_tier="general",
            process_template="standard_review",
            channel_flags=flags(ITEM_VERSION_DEFAULTS["channels"]),
            level_flags=flags(ITEM_VERSION_DEFAULTS["levels"]),
            **ITEM_VERSION_DEFAULTS,
        )
        record(
            actor=actor,
            action="catalog.item_create",
            obj=item,
            changes={"implementation_code": code, "department": department.pk},
        )
    return item


def item_places_set(
    *,
    actor,
    item: Item,
    service_points: Iterable[ServicePoint] | None = None,
    cross_province_partners: list[dict] | None = None,
    themes: Iterable[Theme] | None = None,
) -> Item:
    """Where an item can be done and how it is browsed: operational, not versioned."""
    _require_item_editor(actor, item.department)
    changes: dict[str, Any] = {}
    if cross_province_partners is not None:
        problems = check_partners(cross_province_partners)
        _raise_problems(problems)
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=item.pk)
        if service_points is not None:
            points = list(service_points)
            item.service_points.set(points)
            changes["service_points"] = sorted(p.code for p in points)
        if cross_province_partners is not None:
            item.cross_province_partners = cross_province_partners
            item.save(update_fields=["cross_province_partners"])
            changes["cross_province_partners"] = [p["code"] for p in cross_province_partners]
        if themes is not None:
            chosen = list(themes)
            item.themes.set(chosen)
            changes["themes"] = sorted(t.code for t in chosen)
        record(actor=actor, action="catalog.item_places_set", obj=item, changes=changes)
    return item


def check_partners(partners: Any) -> list[Problem]:
    if not isinstance(partners, list):
        return [Problem("cross_province_partners", "type", _("合作地区须为列表"))]
    p = []
    for index, partner in enumerate(partners):
        where = f"cross_province_partners[{index}]"
        if not isinstance(partner, dict) or not REGION_CODE.match(str(partner.get("code", ""))):
            p.append(Problem(f"{where}.code", "pattern", _("合作地区须有6位区划代码")))
        elif not partner.get("name"):
            p.append(Problem(f"{where}.name", "required", _("合作地区须有名称")))
    return p


def item_version_draft_create(*, actor, item: Item) -> ItemVersion:
    """A new draft copied from the item's newest version."""
    _require_item_editor(actor, item.department)
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=item.pk)
        if item.versions.filter(status=VersionStatus.DRAFT).exists():
            raise Conflict(_("该事项已有草稿版本，请先编辑或发布"), code="draft_exists")
        latest = item.versions.order_by("-number").prefetch_related("materials").first()
        draft = ItemVersion(item=item, number=(latest.number + 1) if latest else 1)
        for name in ITEM_VERSION_FIELDS:
            setattr(draft, name, getattr(latest, name))
        draft.channel_flags, draft.level_flags = latest.channel_flags, latest.level_flags
        draft.save()
        ItemMaterial.objects.bulk_create(
            ItemMaterial(
                version=draft,
                kind_id=m.kind_id,
                order=m.order,
                requirement=m.requirement,
                deferrable=m.deferrable,
                copies=m.copies,
                note=m.note,
            )
            for m in latest.materials.all()
        )
        record(
            actor=actor,
            action="catalog.item_version_draft_create",
            obj=draft,
            changes={"from_version": latest.number},
        )
    return draft


def _locked_draft(model, version):
    locked = model.objects.select_for_update().get(pk=version.pk)
    if locked.status != VersionStatus.DRAFT:
        raise Conflict(
            _("已发布的版本不可修改；请基于它创建新的草稿版本"), code="published_version_immutable"
        )
    return locked


def item_version_update(*, actor, version: ItemVersion, **changes: Any) -> ItemVersion:
    """Change fields of a draft version (any of ITEM_VERSION_FIELDS)."""
    _require_item_editor(actor, version.item.department)
    unknown = sorted(set(changes) - set(ITEM_VERSION_FIELDS))
    if unknown:
        raise ValidationFailed.on_field(
            unknown[0], "unknown_field", _("没有这个字段：%(f)s") % {"f": unknown[0]}
        )
    with transaction.atomic():
        version = _locked_draft(ItemVersion, version)
        before = item_version_content(version)
        content = {**before, **changes}
        problems = check_item_version(
            content,
            basic_code=version.item.basic_code,
            elements=element_fragments(),
            material_kinds=MaterialKind.objects.values_list("code", flat=True),
        )
        _raise_problems([p for p in problems if _root(p.path) in changes])
        for key, value in changes.items():
            setattr(version, key, value)
        version.channel_flags, version.level_flags = flags(version.channels), flags(version.levels)
        version.save()
        record(
            actor=actor,
            action="catalog.item_version_update",
            obj=version,
            changes={k: [before[k], v] for k, v in changes.items() if before[k] != v},
        )
    return version


def item_materials_set(*, actor, version: ItemVersion, materials: list[dict]) -> ItemVersion:
    """Replace the material list of a draft: [{"kind": code, "requirement", "deferrable",
    "copies", "note"}] in order."""
    _require_item_editor(actor, version.item.department)
    materials = [{**MATERIAL_DEFAULTS, **m} for m in materials]
    with transaction.atomic():
        version = _locked_draft(ItemVersion, version)
        kinds = {
            k.code: k for k in MaterialKind.objects.filter(code__in=[m["kind"] for m in materials])
        }
        from .validation import _check_materials

        _raise_problems(_check_materials(materials, set(kinds)))
        version.materials.all().delete()
        ItemMaterial.objects.bulk_create(
            ItemMaterial(
                version=version,
                kind=kinds[m["kind"]],
                order=index,
                requirement=m["requirement"],
                deferrable=m["deferrable"],
                copies=m["copies"],
                note=m["note"],
            )
            for index, m in enumerate(materials)
        )
        record(
            actor=actor,
            action="catalog.item_materials_set",
            obj=version,
            changes={"materials": [m["kind"] for m in materials]},
        )
    return version


def _other_item_forms(exclude_item_id: int | None, today: date) -> list[tuple[str, dict]]:
    versions = (
        ItemVersion.objects.filter(in_force_or_scheduled_filter(today))
        .exclude(item_id=exclude_item_id)
        .exclude(form_schema={})
        .select_related("item")
        .only("form_schema", "name", "item__implementation_code")
    )
    return [
        (f"{v.name}（{v.item.implementation_code} 第{v.number}版）", v.form_schema)
        for v in versions
    ]


def item_version_publish(
    *, actor, version: ItemVersion, effective_from: date | None = None
) -> ItemVersion:
    """Publish a draft. It becomes current on `effective_from` (default today); the version
    it replaces stays in force until then. Refused when the content breaks a rule or a data
    element is given a schema incompatible with another published item's."""
    _require_item_editor(actor, version.item.department)
    today = timezone.localdate()
    effective_from = effective_from or today
    with transaction.atomic():
        # Lock the item first: publications of one item queue here.
        Item.objects.select_for_update().get(pk=version.item_id)
        version = ItemVersion.objects.select_for_update().get(pk=version.pk)
        _check_transition(version.status, VersionStatus.PUBLISHED)
        content = item_version_content(version)
        content.update(status=VersionStatus.PUBLISHED, effective_from=effective_from.isoformat())
        elements = element_fragments()
        problems = check_item_version(
            content,
            basic_code=version.item.basic_code,
            elements=elements,
            material_kinds=MaterialKind.objects.values_list("code", flat=True),
        )
        if not problems:
            problems = cross_item_conflicts(
                version.form_schema, _other_item_forms(version.item_id, today), elements
            )
        _raise_problems(
            problems, _("不能发布：%(m)s") % {"m": problems[0].message} if problems else None
        )
        _publish_superseding(
            version=version,
            previous=version.item.versions.filter(status=VersionStatus.PUBLISHED),
            effective_from=effective_from,
            actor=actor,
        )
        Item.objects.filter(pk=version.item_id).update(name=version.name)
        record(
            actor=actor,
            action="catalog.item_version_publish",
            obj=version,
            changes={"number": version.number, "effective_from": effective_from.isoformat()},
        )
        bump_revision()
    return version


def item_version_withdraw(
    *, actor, version: ItemVersion, effective_until: date | None = None
) -> ItemVersion:
    """Stop a published version (事项取消/暂停): it is no longer in force from
    `effective_until` (default today). Cases filed under it keep it."""
    _require_item_editor(actor, version.item.department)
    effective_until = effective_until or timezone.localdate()
    with transaction.atomic():
        version = ItemVersion.objects.select_for_update().get(pk=version.pk)
        _check_transition(version.status, VersionStatus.WITHDRAWN)
        if effective_until <= version.effective_from:
            effective_until = version.effective_from
        version.status = VersionStatus.WITHDRAWN
        if version.effective_until is None or version.effective_until > effective_until:
            version.effective_until = effective_until
        version.save(update_fields=["status", "effective_until"])
        record(
            actor=actor,
            action="catalog.item_version_withdraw",
            obj=version,
            changes={"effective_until": version.effective_until.isoformat()},
        )
        bump_revision()
    return version


# ---------------------------------------------------------------------------------------
# bundles


def bundle_create(
    *,
    actor,
    code: str,
    region: Region,
    audience: str,
    name: str,
    themes: Iterable[Theme] = (),
) -> Bundle:
    _require_platform_admin(actor)
    from .questionnaire import CODE_PATTERN

    problems = []
    if not CODE_PATTERN.match(code.replace("-", "_")):
        problems.append(Problem("code", "pattern", _("一件事编码须为小写字母、数字、连字符")))
    if audience not in (Audience.PERSON, Audience.ENTERPRISE):
        problems.append(Problem("audience", "choice", _("服务对象须为个人或法人")))
    if not name:
        problems.append(Problem("name", "required", _("一件事名称不能为空")))
    _raise_problems(problems)
    with transaction.atomic():
        if Bundle.objects.filter(code=code).exists():
            raise Conflict(_("一件事编码已存在：%(c)s") % {"c": code}, code="duplicate")
        bundle = Bundle.objects.create(code=code, region=region, audience=audience, name=name)
        bundle.themes.set(themes)
        BundleVersion.objects.create(bundle=bundle, number=1, name=name)
        record(actor=actor, action="catalog.bundle_create", obj=bundle, changes={"code": code})
    return bundle


def bundle_version_draft_create(*, actor, bundle: Bundle) -> BundleVersion:
    _require_platform_admin(actor)
    with transaction.atomic():
        bundle = Bundle.objects.select_for_update().get(pk=bundle.pk)
        if bundle.versions.filter(status=VersionStatus.DRAFT).exists():
            raise Conflict(_("该一件事已有草稿版本"), code="draft_exists")
        latest = bundle.versions.order_by("-number").first()
        draft = BundleVersion.objects.create(
            bundle=bundle,
            number=latest.number + 1,
            name=latest.name,
            summary=latest.summary,
            promised_limit=latest.promised_limit,
            questionnaire=latest.questionnaire,
        )
        BundleMember.objects.bulk_create(
            BundleMember(
                version=draft,
                item_id=m.item_id,
                order=m.order,
                role=m.role,
                rule=m.rule,
                reason=m.reason,
                depends_on=m.depends_on,
            )
            for m in latest.members.all()
        )
        record(
            actor=actor,
            action="catalog.bundle_version_draft_create",
            obj=draft,
            changes={"from_version": latest.number},
        )
    return draft


def _member_items(codes: Iterable[str], today: date) -> dict[str, dict | None]:
    """Item code -> content of its current published version (None when it has none)."""
    codes = list(codes)
    found: dict[str, dict | None] = dict.fromkeys(
        Item.objects.filter(implementation_code__in=codes).values_list(
            "implementation_code", flat=True
        )
    )
    versions = (
        ItemVersion.objects.filter(current_filter(today), item__implementation_code__in=codes)
        .select_related("item")
        .order_by("item_id", "-effective_from", "-number")
    )
    for version in versions:
        code = version.item.implementation_code
        if found.get(code) is None:
            found[code] = {
                "promised_limit": version.promised_limit,
                "promised_limit_unit": version.promised_limit_unit,
            }
    return found


def bundle_version_update(
    *,
    actor,
    version: BundleVersion,
    name: str | None = None,
    summary: str | None = None,
    promised_limit: Any = UNSET,
    questionnaire: list | None = None,
) -> BundleVersion:
    _require_platform_admin(actor)
    if isinstance(questionnaire, list):
        questionnaire = [normalize_question(q) if isinstance(q, dict) else q for q in questionnaire]
    with transaction.atomic():
        version = _locked_draft(BundleVersion, version)
        before = bundle_version_content(version)
        changes: dict[str, Any] = {
            k: v
            for k, v in (("name", name), ("summary", summary), ("questionnaire", questionnaire))
            if v is not None
        }
        if promised_limit is not UNSET:
            changes["promised_limit"] = promised_limit
        content = {**before, **changes}
        problems = check_bundle_version(
            content,
            member_items=_member_items(
                [m["item"] for m in content["members"]], timezone.localdate()
            ),
        )
        # A draft may be incomplete; refuse only what this change breaks (a changed
        # questionnaire can break the members' rules).
        _raise_problems(
            [
                p
                for p in problems
                if _root(p.path) in changes
                or ("questionnaire" in changes and p.rule == "unknown_variable")
            ]
        )
        for key, value in changes.items():
            setattr(version, key, value)
        version.save()
        record(
            actor=actor,
            action="catalog.bundle_version_update",
            obj=version,
            changes={k: [before[k], v] for k, v in changes.items() if k != "questionnaire"}
            | (
                {"questionnaire": len(changes["questionnaire"])}
                if "questionnaire" in changes
                else {}
            ),
        )
    return version


def bundle_members_set(*, actor, version: BundleVersion, members: list[dict]) -> BundleVersion:
    """Replace the members of a draft: [{"item": implementation code, "role", "rule",
    "reason", "depends_on": [codes]}] in order."""
    _require_platform_admin(actor)
    members = [{**MEMBER_DEFAULTS, **m} for m in members]
    with transaction.atomic():
        version = _locked_draft(BundleVersion, version)
        content = {**bundle_version_content(version), "members": members}
        items = {
            i.implementation_code: i
            for i in Item.objects.filter(implementation_code__in=[m["item"] for m in members])
        }
        problems = check_bundle_version(
            content, member_items=_member_items(list(items), timezone.localdate())
        )
        _raise_problems([p for p in problems if _root(p.path) == "members"])
        version.members.all().delete()
        BundleMember.objects.bulk_create(
            BundleMember(
                version=version,
                item=items[m["item"]],
                order=index,
                role=m["role"],
                rule=m["rule"],
                reason=m["reason"],
                depends_on=list(m["depends_on"]),
            )
            for index, m in enumerate(members)
        )
        record(
            actor=actor,
            action="catalog.bundle_members_set",
            obj=version,
            changes={"members": [m["item"] for m in members]},
        )
    return version


def bundle_version_publish(
    *, actor, version: BundleVersion, effective_from: date | None = None
) -> BundleVersion:
    _require_platform_admin(actor)
    today = timezone.localdate()
    effective_from = effective_from or today
    with transaction.atomic():
        Bundle.objects.select_for_update().get(pk=version.bundle_id)
        version = BundleVersion.objects.select_for_update().get(pk=version.pk)
        _check_transition(version.status, VersionStatus.PUBLISHED)
        content = bundle_version_content(version)
        content.update(status=VersionStatus.PUBLISHED, effective_from=effective_from.isoformat())
        problems = check_bundle_version(
            content,
            member_items=_member_items([m["item"] for m in content["members"]], effective_from),
        )
        _raise_problems(
            problems, _("不能发布：%(m)s") % {"m": problems[0].message} if problems else None
        )
        _publish_superseding(
            version=version,
            previous=version.bundle.versions.filter(status=VersionStatus.PUBLISHED),
            effective_from=effective_from,
            actor=actor,
        )
        Bundle.objects.filter(pk=version.bundle_id).update(name=version.name)
        record(
            actor=actor,
            action="catalog.bundle_version_publish",
            obj=version,
            changes={"number": version.number, "effective_from": effective_from.isoformat()},
        )
        bump_revision()
    return version


def bundle_version_withdraw(
    *, actor, version: BundleVersion, effective_until: date | None = None
) -> BundleVersion:
    _require_platform_admin(actor)
    effective_until = effective_until or timezone.localdate()
    with transaction.atomic():
        version = BundleVersion.objects.select_for_update().get(pk=version.pk)
        _check_transition(version.status, VersionStatus.WITHDRAWN)
        effective_until = max(effective_until, version.effective_from)
        version.status = VersionStatus.WITHDRAWN
        if version.effective_until is None or version.effective_until > effective_until:
            version.effective_until = effective_until
        version.save(update_fields=["status", "effective_until"])
        record(
            actor=actor,
            action="catalog.bundle_version_withdraw",
            obj=version,
            changes={"effective_until": version.effective_until.isoformat()},
        )
        bump_revision()
    return version


# ---------------------------------------------------------------------------------------
# import


def catalog_import(*, actor, data: bytes, fmt: str) -> dict[str, int]:
    """Import a catalogue file (json, yaml or xlsx) completely or not at all. Errors name the
    sheet/row/column or JSON path and the rule broken."""
    from . import importexport
    from .importer import Checker, write

    _require_platform_admin(actor)
    document, source = importexport.loads(data, fmt)
    importexport.check_shape(document, source)
    document = importexport.with_defaults(document)
    with transaction.atomic():
        # One import at a time: the revision row is the catalogue-wide lock.
        bump_revision()
        CatalogRevision.objects.select_for_update().get(pk=1)
        checker = Checker(document, source, timezone.localdate())
        importexport._fail(checker.run())
        counts = write(document, checker, actor)
        # A file that changes nothing (e.g. the demo loaded twice) leaves no trace.
        if any(n for key, n in counts.items() if not key.endswith("_unchanged")):
            record(
                actor=actor,
                action="catalog.catalog_import",
                object_type="catalog.catalog",
                object_id=fmt,
                changes=dict(sorted(counts.items())),
            )
    return dict(counts)


def theme_update(
    *,
    actor,
    theme: Theme,
    name: str | None = None,
    order: int | None = None,
    description: str | None = None,
) -> Theme:
    _require_platform_admin(actor)
    with transaction.atomic():
        theme = Theme.objects.select_for_update().get(pk=theme.pk)
        changes = {
            k: v
            for k, v in (("name", name), ("order", order), ("description", description))
            if v is not None and getattr(theme, k) != v
        }
        if "name" in changes and not str(changes["name"]).strip():
            raise ValidationFailed.on_field("name", "required", _("主题名称不能为空"))
        before = {k: getattr(theme, k) for k in changes}
        for key, value in changes.items():
            setattr(theme, key, value)
        theme.save()
        record(
            actor=actor,
            action="catalog.theme_update",
            obj=theme,
            changes={k: [before[k], v] for k, v in changes.items()},
        )
    return theme
