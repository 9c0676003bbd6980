"""Checking a whole catalogue document against itself and the database, then writing it.

Import is an upsert by code: rows in the file are created or updated, rows only in the
database stay. Published versions stay immutable — a file may repeat one unchanged, withdraw
it or end it, never alter it. Every check runs before the first write, and the writes run
in one transaction, so a file is imported completely or not at all."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core.errors import FieldError, NotFound
from yiciban.org.models import Department, PointKind, Region, ServicePoint
from yiciban.org.selectors import department_by_kind

from .content import (
    BUNDLE_VERSION_FIELDS,
    ITEM_VERSION_FIELDS,
    bundle_version_content,
    flags,
    item_version_content,
    legal_content,
)
from .formschema import merge_fragments
from .importexport import Source, department_reference, region_reference
from .models import (
    VERSION_TRANSITIONS,
    Audience,
    Bundle,
    BundleMember,
    BundleVersion,
    DataElement,
    Item,
    ItemMaterial,
    ItemVersion,
    MaterialKind,
    Theme,
    VersionStatus,
)
from .validation import (
    BASIC_CODE,
    BUSINESS_ITEM_CODE,
    Problem,
    check_bundle_version,
    check_element,
    check_item_version,
    cross_item_conflicts,
    implementation_code_for,
)


def region_code12(code: str) -> str:
    return code + "000000" if len(code) == 6 else code


@dataclass
class Plan:
    """What the checks resolved, handed to the writer."""

    departments: dict[str, Department] = field(default_factory=dict)
    regions: dict[str, Region] = field(default_factory=dict)
    points: dict[int, list[ServicePoint]] = field(default_factory=dict)  # item index
    counts: Counter = field(default_factory=Counter)


class Checker:
    def __init__(self, document: dict, source: Source, today: date):
        self.doc = document
        self.source = source
        self.today = today
        self.errors: list[FieldError] = []
        self.plan = Plan()

    def add(self, path: str, rule: str, message: str) -> None:
        self.errors.append(self.source.error(path, rule, message))

    def add_problems(self, prefix: str, problems: list[Problem]) -> None:
        for problem in problems:
            path = problem.path
            joined = f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"
            self.add(joined if path else prefix, problem.rule, problem.message)

    def duplicates(self, table: str, key: str) -> set[str]:
        seen: dict[Any, int] = {}
        for index, row in enumerate(self.doc[table]):
            value = row[key]
            if value in seen:
                self.add(
                    f"{table}[{index}].{key}",
                    "duplicate",
                    _("编码重复：%(v)s（与第 %(i)s 条相同）") % {"v": value, "i": seen[value] + 1},
                )
            else:
                seen[value] = index
        return set(seen)

    # -- registries ------------------------------------------------------------------

    def check_registries(self) -> None:
        self.duplicates("themes", "code")
        for index, theme in enumerate(self.doc["themes"]):
            if theme["audience"] not in (Audience.PERSON, Audience.ENTERPRISE):
                self.add(
                    f"themes[{index}].audience",
                    "choice",
                    _("主题的服务对象须为 person 或 enterprise"),
                )
        self.duplicates("data_elements", "code")
        for index, element in enumerate(self.doc["data_elements"]):
            self.add_problems(f"data_elements[{index}]", check_element(element))
        self.duplicates("material_kinds", "code")
        from .services import check_material_kind

        for index, kind in enumerate(self.doc["material_kinds"]):
            self.add_problems(f"material_kinds[{index}]", check_material_kind(kind))
        self.themes = set(Theme.objects.values_list("code", flat=True)) | {
            t["code"] for t in self.doc["themes"]
        }
        self.elements = dict(DataElement.objects.values_list("code", "schema"))
        self.changed_elements = {
            e["code"]
            for e in self.doc["data_elements"]
            if e["code"] in self.elements and self.elements[e["code"]] != e["schema"]
        }
        self.elements.update({e["code"]: e["schema"] for e in self.doc["data_elements"]})
        self.kinds = set(MaterialKind.objects.values_list("code", flat=True)) | {
            k["code"] for k in self.doc["material_kinds"]
        }

    # -- items -------------------------------------------------------------------------

    def department(self, reference: str, path: str) -> Department | None:
        if reference in self.plan.departments:
            return self.plan.departments[reference]
        region, _sep, kind = reference.partition(":")
        if not kind or not region.isdigit() or len(region) not in (6, 12):
            self.add(
                path, "pattern", _("实施部门须写作“区划代码:部门类别”，如 431127:market_regulation")
            )
            return None
        try:
            department = department_by_kind(region, kind)
        except NotFound:
            self.add(
                path,
                "unknown_department",
                _("区划 %(r)s 没有类别为 %(k)s 的部门") % {"r": region, "k": kind},
            )
            return None
        self.plan.departments[reference] = department
        return department

    def service_points(self, references: list[str], path: str) -> list[ServicePoint]:
        points: list[ServicePoint] = []
        for position, reference in enumerate(references):
            where = f"{path}[{position}]"
            if "@" in reference:
                # "kind@region": every active point of that kind in the region and below
                kind, _at, region = reference.partition("@")
                if kind not in PointKind.values:
                    self.add(
                        where, "unknown_point_kind", _("没有这种网点类型：%(k)s") % {"k": kind}
                    )
                    continue
                area = Region.objects.filter(code=region_code12(region)).first()
                if area is None:
                    self.add(where, "unknown_region", _("没有这个区划：%(r)s") % {"r": region})
                    continue
                points += list(
                    ServicePoint.objects.filter(
                        kind=kind, is_active=True, region__path__startswith=area.path
                    )
                )
                continue
            point = ServicePoint.objects.filter(code=reference).first()
            if point is None:
                self.add(
                    where, "unknown_service_point", _("没有这个网点：%(c)s") % {"c": reference}
                )
            else:
                points.append(point)
        return list({p.pk: p for p in points}.values())

    def check_items(self) -> None:
        from .services import check_partners

        self.duplicates("items", "implementation_code")
        existing = {
            item.implementation_code: item
            for item in Item.objects.filter(
                implementation_code__in=[i["implementation_code"] for i in self.doc["items"]]
            )
            .select_related("department__region")
            .prefetch_related(
                Prefetch(
                    "versions",
                    queryset=ItemVersion.objects.prefetch_related(
                        Prefetch("materials", queryset=ItemMaterial.objects.select_related("kind"))
                    ),
                )
            )
        }
        self.existing_items = existing
        # item code -> final list of version contents (file over database)
        self.final_versions: dict[str, list[dict]] = {}
        for index, item in enumerate(self.doc["items"]):
            path = f"items[{index}]"
            code = item["implementation_code"]
            department = self.department(item["department"], f"{path}.department")
            if not BASIC_CODE.match(item["basic_code"]):
                self.add(f"{path}.basic_code", "pattern", _("基本编码须为12位数字"))
            if not BUSINESS_ITEM_CODE.match(item["business_item_code"]):
                self.add(f"{path}.business_item_code", "pattern", _("业务办理项编码须为3位数字"))
            if department is not None:
                expected = implementation_code_for(
                    department.uscc, item["basic_code"], item["business_item_code"]
                )
                if code != expected:
                    self.add(
                        f"{path}.implementation_code",
                        "implementation_code_mismatch",
                        _("实施编码应为实施部门统一社会信用代码+基本编码+业务办理项编码：%(e)s")
                        % {"e": expected},
                    )
            for position, theme in enumerate(item["themes"]):
                if theme not in self.themes:
                    self.add(
                        f"{path}.themes[{position}]",
                        "unknown_theme",
                        _("没有这个主题：%(t)s") % {"t": theme},
                    )
            self.plan.points[index] = self.service_points(
                item["service_points"], f"{path}.service_points"
            )
            self.add_problems(path, check_partners(item["cross_province_partners"]))
            old = existing.get(code)
            if old is not None and department is not None and old.department_id != department.pk:
                self.add(
                    f"{path}.department",
                    "department_changed",
                    _("已有事项的实施部门不能更改（原为 %(d)s）")
                    % {"d": department_reference(old.department)},
                )
            self.check_item_versions(index, item, old)

    def check_item_versions(self, index: int, item: dict, old: Item | None) -> None:
        path = f"items[{index}]"
        numbers = Counter(v["number"] for v in item["versions"])
        db_versions = {v.number: v for v in old.versions.all()} if old else {}
        final: dict[int, dict] = {n: item_version_content(v) for n, v in db_versions.items()}
        for position, version in enumerate(item["versions"]):
            where = f"{path}.versions[{position}]"
            if numbers[version["number"]] > 1:
                self.add(
                    f"{where}.number",
                    "duplicate",
                    _("版本号重复：%(n)s") % {"n": version["number"]},
                )
            self.add_problems(
                where,
                check_item_version(
                    version,
                    basic_code=item["basic_code"],
                    elements=self.elements,
                    material_kinds=self.kinds,
                ),
            )
            stored = db_versions.get(version["number"])
            if stored is not None and stored.status != VersionStatus.DRAFT:
                self.check_immutable(where, item_version_content(stored), version)
            final[version["number"]] = version
        drafts = [n for n, v in final.items() if v["status"] == VersionStatus.DRAFT]
        if len(drafts) > 1:
            self.add(
                f"{path}.versions",
                "one_draft",
                _("一个事项只能有一个草稿版本：%(n)s") % {"n": drafts},
            )
        ordered = [final[n] for n in sorted(final)]
        self.check_dates(path, [v for v in ordered if v["status"] != VersionStatus.DRAFT])
        self.final_versions[item["implementation_code"]] = ordered

    def check_immutable(self, where: str, stored: dict, incoming: dict) -> None:
        if legal_content(stored) != legal_content(incoming) or (
            stored["effective_from"] != incoming["effective_from"]
        ):
            changed = sorted(
                k
                for k in {**legal_content(stored), "effective_from": None}
                if stored.get(k) != incoming.get(k)
            )
            self.add(
                f"{where}.{changed[0]}" if changed else where,
                "published_version_immutable",
                _("第 %(n)s 版已发布，内容不可更改（不同之处：%(f)s）；请使用新的版本号")
                % {"n": stored["number"], "f": "、".join(changed)},
            )
        if (
            incoming["status"] != stored["status"]
            and incoming["status"] not in VERSION_TRANSITIONS[stored["status"]]
        ):
            self.add(
                f"{where}.status",
                "invalid_transition",
                _("第 %(n)s 版状态不能从 %(a)s 改为 %(b)s")
                % {"n": stored["number"], "a": stored["status"], "b": incoming["status"]},
            )

    def check_dates(self, path: str, published: list[dict]) -> None:
        last = None
        for version in published:
            start = version.get("effective_from")
            if last and start and start < last:
                self.add(
                    f"{path}.versions",
                    "effective_from_order",
                    _("第 %(n)s 版的生效日期早于前一版本") % {"n": version["number"]},
                )
            last = start or last

    def in_force_or_scheduled(self, versions: list[dict]) -> list[dict]:
        today = self.today.isoformat()
        return [
            v
            for v in versions
            if v["status"] == VersionStatus.PUBLISHED
            and (not v.get("effective_until") or v["effective_until"] > today)
        ]

    def check_element_agreement(self) -> None:
        """No two items may give one data element incompatible schemas."""
        forms: dict[str, list[tuple[str, dict]]] = {}
        for code, versions in self.final_versions.items():
            forms[code] = [
                (f"{v['name']}（{code} 第{v['number']}版）", v.get("form_schema") or {})
                for v in self.in_force_or_scheduled(versions)
            ]
        in_file = set(self.final_versions)
        for item in (
            ItemVersion.objects.filter(status=VersionStatus.PUBLISHED)
            .exclude(item__implementation_code__in=in_file)
            .select_related("item")
        ):
            if item.effective_until is None or item.effective_until > self.today:
                forms.setdefault(item.item.implementation_code, []).append(
                    (
                        f"{item.name}（{item.item.implementation_code} 第{item.number}版）",
                        item.form_schema,
                    )
                )
        for index, item in enumerate(self.doc["items"]):
            code = item["implementation_code"]
            others = [f for other, fs in forms.items() if other != code for f in fs]
            for position, version in enumerate(item["versions"]):
                if version not in self.in_force_or_scheduled([version]):
                    continue
                problems = cross_item_conflicts(
                    version.get("form_schema") or {}, others, self.elements
                )
                self.add_problems(f"items[{index}].versions[{position}]", problems)
        # a changed element must still agree with forms outside the file
        for index, element in enumerate(self.doc["data_elements"]):
            if element["code"] not in self.changed_elements:
                continue
            for _code, fs in forms.items():
                for label, form in fs:
                    for prop in form.get("properties", {}).values():
                        if isinstance(prop, dict) and prop.get("x-element") == element["code"]:
                            _m, conflicts = merge_fragments(
                                [(_("新定义"), element["schema"]), (label, prop)]
                            )
                            for conflict in conflicts:
                                self.add(
                                    f"data_elements[{index}].schema",
                                    "element_schema_conflict",
                                    conflict,
                                )

    # -- bundles -----------------------------------------------------------------------

    def current_item_content(self, code: str, day: str) -> dict | None:
        versions = self.final_versions.get(code)
        if versions is None:
            item = Item.objects.filter(implementation_code=code).first()
            if item is None:
                return None
            versions = [item_version_content(v) for v in item.versions.order_by("number")]
            self.final_versions[code] = versions
        chosen = None
        for version in versions:
            if (
                version["status"] == VersionStatus.PUBLISHED
                and version.get("effective_from")
                and version["effective_from"] <= day
                and (not version.get("effective_until") or version["effective_until"] > day)
            ):
                chosen = version
        return chosen

    def check_bundles(self) -> None:
        self.duplicates("bundles", "code")
        existing = {
            b.code: b
            for b in Bundle.objects.filter(code__in=[b["code"] for b in self.doc["bundles"]])
            .select_related("region")
            .prefetch_related(
                Prefetch(
                    "versions",
                    queryset=BundleVersion.objects.prefetch_related(
                        Prefetch("members", queryset=BundleMember.objects.select_related("item"))
                    ),
                )
            )
        }
        self.existing_bundles = existing
        known_items = set(self.final_versions) | set(
            Item.objects.values_list("implementation_code", flat=True)
        )
        for index, bundle in enumerate(self.doc["bundles"]):
            path = f"bundles[{index}]"
            region = Region.objects.filter(code=region_code12(bundle["region"])).first()
            if region is None:
                self.add(
                    f"{path}.region",
                    "unknown_region",
                    _("没有这个区划：%(r)s") % {"r": bundle["region"]},
                )
            else:
                self.plan.regions[bundle["region"]] = region
            if bundle["audience"] not in (Audience.PERSON, Audience.ENTERPRISE):
                self.add(f"{path}.audience", "choice", _("服务对象须为 person 或 enterprise"))
            for position, theme in enumerate(bundle["themes"]):
                if theme not in self.themes:
                    self.add(
                        f"{path}.themes[{position}]",
                        "unknown_theme",
                        _("没有这个主题：%(t)s") % {"t": theme},
                    )
            old = existing.get(bundle["code"])
            if old is not None and region is not None and old.region_id != region.pk:
                self.add(
                    f"{path}.region",
                    "region_changed",
                    _("已有一件事的实施区域不能更改（原为 %(r)s）")
                    % {"r": region_reference(old.region)},
                )
            db_versions = {v.number: v for v in old.versions.all()} if old else {}
            numbers = Counter(v["number"] for v in bundle["versions"])
            final = {n: bundle_version_content(v) for n, v in db_versions.items()}
            for position, version in enumerate(bundle["versions"]):
                where = f"{path}.versions[{position}]"
                if numbers[version["number"]] > 1:
                    self.add(
                        f"{where}.number",
                        "duplicate",
                        _("版本号重复：%(n)s") % {"n": version["number"]},
                    )
                day = version.get("effective_from") or self.today.isoformat()
                member_items = {
                    m["item"]: self.current_item_content(m["item"], day)
                    for m in version["members"]
                    if m["item"] in known_items
                }
                self.add_problems(where, check_bundle_version(version, member_items=member_items))
                stored = db_versions.get(version["number"])
                if stored is not None and stored.status != VersionStatus.DRAFT:
                    self.check_immutable(where, bundle_version_content(stored), version)
                final[version["number"]] = version
            drafts = [n for n, v in final.items() if v["status"] == VersionStatus.DRAFT]
            if len(drafts) > 1:
                self.add(
                    f"{path}.versions", "one_draft", _("只能有一个草稿版本：%(n)s") % {"n": drafts}
                )
            self.check_dates(
                path, [final[n] for n in sorted(final) if final[n]["status"] != VersionStatus.DRAFT]
            )

    def run(self) -> list[FieldError]:
        self.check_registries()
        self.check_items()
        if not self.errors:
            self.check_element_agreement()
        self.check_bundles()
        return self.errors


# ---------------------------------------------------------------------------------------
# writing (called only once every check passed, inside the import transaction)


def _supersede(versions: list) -> None:
    """A published version ends when the next one starts (as publication does)."""
    published = [v for v in versions if v.status != VersionStatus.DRAFT and v.effective_from]
    published.sort(key=lambda v: (v.effective_from, v.number))
    for current, following in pairwise(published):
        if current.effective_until is None or current.effective_until > following.effective_from:
            current.effective_until = following.effective_from
            current.save(update_fields=["effective_until"])


def _codes(themes) -> list[str]:
    return sorted(themes.values_list("code", flat=True))


def _item_state(item: Item) -> tuple:
    return (
        item.name,
        list(item.cross_province_partners),
        _codes(item.themes),
        sorted(item.service_points.values_list("pk", flat=True)),
    )


def write(document: dict, checker: Checker, actor) -> Counter:
    plan = checker.plan
    counts: Counter = Counter()
    now = timezone.now()
    publisher = actor if getattr(actor, "pk", None) else None
    for model, key in (
        (Theme, "themes"),
        (DataElement, "data_elements"),
        (MaterialKind, "material_kinds"),
    ):
        created, updated = _upsert(model, document[key])
        counts[f"{key}_created"] += created
        counts[f"{key}_updated"] += updated
    themes = {t.code: t for t in Theme.objects.all()}
    kinds = {k.code: k for k in MaterialKind.objects.all()}
    for index, entry in enumerate(document["items"]):
        code = entry["implementation_code"]
        item = checker.existing_items.get(code)
        if item is None:
            item = Item.objects.create(
                implementation_code=code,
                basic_code=entry["basic_code"],
                business_item_code=entry["business_item_code"],
                department=plan.departments[entry["department"]],
                name=entry["versions"][-1]["name"],
            )
            counts["items_created"] += 1
            before = None
        else:
            before = _item_state(item)
        item.cross_province_partners = entry["cross_province_partners"]
        item.themes.set([themes[t] for t in entry["themes"]])
        item.service_points.set(plan.points[index])
        stored = {v.number: v for v in item.versions.all()} if item.pk else {}
        for version in entry["versions"]:
            _write_item_version(
                item, version, stored.get(version["number"]), kinds, now, publisher, counts
            )
        versions = list(item.versions.order_by("number"))
        _supersede(versions)
        published = [v for v in versions if v.status == VersionStatus.PUBLISHED]
        item.name = (published or versions)[-1].name
        item.save(update_fields=["cross_province_partners", "name"])
        if before is not None:
            # "updated" only when something about the item itself changed; its versions
            # are counted on their own.
            counts["items_updated" if _item_state(item) != before else "items_unchanged"] += 1
    items = {i.implementation_code: i for i in Item.objects.all()}
    for entry in document["bundles"]:
        bundle = checker.existing_bundles.get(entry["code"])
        if bundle is None:
            bundle = Bundle.objects.create(
                code=entry["code"],
                region=plan.regions[entry["region"]],
                audience=entry["audience"],
                name=entry["versions"][-1]["name"],
            )
            counts["bundles_created"] += 1
        else:
            before_bundle = (bundle.audience, _codes(bundle.themes))
            bundle.audience = entry["audience"]
            changed = before_bundle != (entry["audience"], sorted(entry["themes"]))
            counts["bundles_updated" if changed else "bundles_unchanged"] += 1
        bundle.themes.set([themes[t] for t in entry["themes"]])
        stored = {v.number: v for v in bundle.versions.all()}
        for version in entry["versions"]:
            _write_bundle_version(
                bundle, version, stored.get(version["number"]), items, now, publisher, counts
            )
        versions = list(bundle.versions.order_by("number"))
        _supersede(versions)
        published = [v for v in versions if v.status == VersionStatus.PUBLISHED]
        bundle.name = (published or versions)[-1].name
        bundle.save(update_fields=["audience", "name"])
    return counts


def _upsert(model, rows: list[dict]) -> tuple[int, int]:
    """Create or update registry rows by code in two queries; returns (created, changed)."""
    existing = {obj.code: obj for obj in model.objects.filter(code__in=[r["code"] for r in rows])}
    fresh, changed = [], []
    for row in rows:
        obj = existing.get(row["code"])
        if obj is None:
            fresh.append(model(**row))
            continue
        if any(getattr(obj, k) != v for k, v in row.items()):
            for k, v in row.items():
                setattr(obj, k, v)
            changed.append(obj)
    model.objects.bulk_create(fresh)
    if changed:
        model.objects.bulk_update(changed, [k for k in rows[0] if k != "code"])
    return len(fresh), len(changed)


def _lifecycle(row, version: dict, now, publisher) -> None:
    row.status = version["status"]
    row.effective_from = (
        date.fromisoformat(version["effective_from"]) if version["effective_from"] else None
    )
    row.effective_until = (
        date.fromisoformat(version["effective_until"]) if version["effective_until"] else None
    )
    if row.status != VersionStatus.DRAFT and row.published_at is None:
        row.published_at, row.published_by = now, publisher


def _write_item_version(item, version, row, kinds, now, publisher, counts) -> None:
    if row is not None and row.status != VersionStatus.DRAFT:
        # unchanged content (checked); only the lifecycle may move on
        _lifecycle(row, version, now, publisher)
        row.save(update_fields=["status", "effective_from", "effective_until"])
        counts["item_versions_unchanged"] += 1
        return
    if row is None:
        row = ItemVersion(item=item, number=version["number"])
        counts["item_versions_created"] += 1
    else:
        counts["item_versions_updated"] += 1
    for name in ITEM_VERSION_FIELDS:
        setattr(row, name, version[name])
    row.channel_flags, row.level_flags = flags(row.channels), flags(row.levels)
    _lifecycle(row, version, now, publisher)
    row.save()
    row.materials.all().delete()
    ItemMaterial.objects.bulk_create(
        ItemMaterial(
            version=row,
            kind=kinds[m["kind"]],
            order=position,
            requirement=m["requirement"],
            deferrable=m["deferrable"],
            copies=m["copies"],
            note=m["note"],
        )
        for position, m in enumerate(version["materials"])
    )


def _write_bundle_version(bundle, version, row, items, now, publisher, counts) -> None:
    if row is not None and row.status != VersionStatus.DRAFT:
        _lifecycle(row, version, now, publisher)
        row.save(update_fields=["status", "effective_from", "effective_until"])
        counts["bundle_versions_unchanged"] += 1
        return
    if row is None:
        row = BundleVersion(bundle=bundle, number=version["number"])
        counts["bundle_versions_created"] += 1
    else:
        counts["bundle_versions_updated"] += 1
    for name in BUNDLE_VERSION_FIELDS:
        setattr(row, name, version[name])
    _lifecycle(row, version, now, publisher)
    row.save()
    row.members.all().delete()
    BundleMember.objects.bulk_create(
        BundleMember(
            version=row,
            item=items[m["item"]],
            order=position,
            role=m["role"],
            rule=m["rule"],
            reason=m["reason"],
            depends_on=list(m["depends_on"]),
        )
        for position, m in enumerate(version["members"])
    )
