"""Reads of the catalogue. The public catalogue shows what is in force today: published
versions whose effective dates cover today. Drafts are seen only in the admin.

Pages browse with `items_list` (by department, type, theme, service point, level, channel,
region, text), `departments_with_items`, `themes_with_counts`, `service_points_with_items`,
`bundles_list`; they show `item_detail` and `bundle_detail`; the guidance wizard calls
`bundle_guidance`. Cases pin versions with `item_version_get` / `bundle_version_get`."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from math import inf

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yiciban.org.models import Department, Region, ServicePoint

from . import guidance
from .formschema import form_elements
from .models import (
    ApprovalMode,
    Bundle,
    BundleMember,
    BundleVersion,
    CatalogRevision,
    DataElement,
    Item,
    ItemMaterial,
    ItemVersion,
    Theme,
    VersionStatus,
)
from .questionnaire import parse_questions
from .reuse import ArchiveSubject
from .rules import rule_variables
from .services import current_filter

SEARCH_SPLIT = re.compile(r"[\s,，、;；/]+")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _today(today: date | None = None) -> date:
    return today or timezone.localdate()


def _region(code: str) -> Region | None:
    """A region by its 6-digit GB/T 2260 or 12-digit statistical code."""
    return Region.objects.filter(code=code if len(code) == 12 else code + "000000").first()


# The revision is read at most once per CATALOG_RECHECK_SECONDS per process: guidance is the
# hottest public endpoint, and without this every request paid a query for a number that
# changes a few times a day. A publication in this process resets it on commit; other
# processes see it within the interval.
_revision_cache: dict[str, float] = {}


def catalog_revision() -> int:
    interval = settings.YICIBAN.get("CATALOG_RECHECK_SECONDS", 1.0)
    now = time.monotonic()
    if interval > 0 and now - _revision_cache.get("read_at", -inf) < interval:
        return int(_revision_cache["number"])
    number = CatalogRevision.objects.filter(pk=1).values_list("number", flat=True).first() or 0
    _revision_cache.update(number=number, read_at=now)
    return number


def forget_catalog_revision() -> None:
    _revision_cache.clear()


# ---------------------------------------------------------------------------------------
# items


def current_item_versions(today: date | None = None) -> QuerySet[ItemVersion]:
    """The version of every item in force today (at most one per item: publication ends the
    previous version when the next one starts)."""
    return ItemVersion.objects.filter(current_filter(_today(today))).select_related(
        "item__department__region"
    )


def _search_terms(q: str) -> list[str]:
    return [t for t in SEARCH_SPLIT.split(q.strip()) if t]


def _term_filter(term: str) -> Q:
    return (
        Q(name__icontains=term)
        | Q(short_name__icontains=term)
        | Q(keywords__icontains=term)
        | Q(output_name__icontains=term)
        | Q(item__department__name__icontains=term)
        | Q(item__basic_code=term)
        | Q(item__implementation_code=term)
    )


def _bigrams(text: str) -> list[str]:
    chars = "".join(CJK.findall(text))
    return [chars[i : i + 2] for i in range(len(chars) - 1)]


@dataclass(frozen=True)
class Page:
    count: int
    items: list


def items_list(
    *,
    q: str = "",
    department: int | None = None,
    department_kind: str = "",
    region: str = "",
    item_type: str = "",
    level: str = "",
    channel: str = "",
    theme: str = "",
    service_point: str = "",
    audience: str = "",
    approval_mode: str = "",
    limit: int = 20,
    offset: int = 0,
    today: date | None = None,
) -> Page:
    """Items in force, filtered; `q` is Chinese-friendly: every whitespace-separated term
    must appear in the name, short name, keywords, result or department (or equal a code).
    When nothing matches a Chinese phrase, items sharing its two-character words are
    returned, most shared first."""
    versions = current_item_versions(today)
    if department:
        versions = versions.filter(item__department_id=department)
    if department_kind:
        versions = versions.filter(item__department__kind=department_kind)
    if region:
        area = _region(region)
        if area is None:
            return Page(0, [])
        versions = versions.filter(item__department__region__path__startswith=area.path)
    if item_type:
        versions = versions.filter(item_type=item_type)
    if level:
        versions = versions.filter(level_flags__contains=f",{level},")
    if channel:
        versions = versions.filter(channel_flags__contains=f",{channel},")
    if theme:
        versions = versions.filter(item__themes__code=theme)
    if service_point:
        versions = versions.filter(item__service_points__code=service_point)
    if audience:
        versions = versions.filter(audience__in=[audience, "both"])
    if approval_mode:
        versions = versions.filter(approval_mode=approval_mode)
    versions = versions.order_by("item__department__region__code", "item__basic_code", "item_id")
    terms = _search_terms(q)
    if not terms:
        return Page(versions.count(), list(versions[offset : offset + limit]))
    matched = versions
    for term in terms:
        matched = matched.filter(_term_filter(term))
    count = matched.count()
    if count or not any(len(CJK.findall(t)) >= 3 for t in terms):
        return Page(count, list(matched[offset : offset + limit]))
    # Fallback for a phrase nobody wrote: rank by shared two-character words.
    grams = sorted({g for t in terms for g in _bigrams(t)})
    any_gram = Q()
    for gram in grams:
        any_gram |= _term_filter(gram)
    candidates = list(versions.filter(any_gram).distinct())

    def score(version: ItemVersion) -> int:
        text = f"{version.name}{version.short_name}{version.keywords}{version.output_name}"
        return sum(1 for g in grams if g in text)

    candidates.sort(key=lambda v: -score(v))
    return Page(len(candidates), candidates[offset : offset + limit])


def item_detail(code: str, *, today: date | None = None) -> ItemVersion:
    """The version of item `code` in force today, with materials, places and history —
    everything a printable guide (办事指南) shows."""
    materials = Prefetch(
        "materials", queryset=ItemMaterial.objects.select_related("kind").order_by("order", "id")
    )
    version = (
        current_item_versions(today)
        .filter(item__implementation_code=code)
        .prefetch_related(materials, "item__themes", "item__service_points__region")
        .order_by("-effective_from", "-number")
        .first()
    )
    if version is None:
        raise NotFound(_("没有这个事项，或它目前不在办理中：%(c)s") % {"c": code})
    return version


def item_history(item: Item) -> list[ItemVersion]:
    """Published and withdrawn versions, newest first (drafts are not public)."""
    return list(item.versions.exclude(status=VersionStatus.DRAFT).order_by("-number"))


def item_version_get(version_id: int) -> ItemVersion:
    """A version by id, whatever its dates — what a case filed under it keeps using."""
    version = (
        ItemVersion.objects.exclude(status=VersionStatus.DRAFT)
        .select_related("item__department")
        .prefetch_related(
            Prefetch("materials", queryset=ItemMaterial.objects.select_related("kind"))
        )
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise NotFound(_("没有这个事项版本：%(v)s") % {"v": version_id})
    return version


def element_fragments_for(version: ItemVersion) -> dict[str, dict]:
    """Registry schemas of the data elements the version's form uses."""
    codes = [element for _n, element, _p, _r in form_elements(version.form_schema)]
    return dict(DataElement.objects.filter(code__in=codes).values_list("code", "schema"))


def element_labels(version: ItemVersion) -> dict[str, str]:
    codes = [element for _n, element, _p, _r in form_elements(version.form_schema)]
    return dict(DataElement.objects.filter(code__in=codes).values_list("code", "label"))


def departments_with_items(*, region: str = "", today: date | None = None) -> list[Department]:
    """Departments that have items in force, each with `item_count` — for browsing by
    department."""
    items_now = Item.objects.filter(current_filter(_today(today), prefix="versions__"))
    departments = Department.objects.filter(is_active=True).select_related("region")
    if region:
        area = _region(region)
        if area is None:
            return []
        departments = departments.filter(region__path__startswith=area.path)
    counts = dict(
        items_now.values("department_id")
        .annotate(n=Count("id", distinct=True))
        .values_list("department_id", "n")
    )
    result = []
    for department in departments.filter(pk__in=list(counts)).order_by("region__code", "name"):
        department.item_count = counts[department.pk]
        result.append(department)
    return result


def themes_with_counts(*, audience: str = "", today: date | None = None) -> list[Theme]:
    """Themes (life events for people, themes for enterprises) with `item_count` and
    `bundle_count` of what is in force."""
    day = _today(today)
    themes = Theme.objects.all()
    if audience:
        themes = themes.filter(audience=audience)
    items_now = Item.objects.filter(current_filter(day, prefix="versions__"))
    bundles_now = Bundle.objects.filter(current_filter(day, prefix="versions__"))
    return list(
        themes.annotate(
            item_count=Count("items", filter=Q(items__in=items_now), distinct=True),
            bundle_count=Count("bundles", filter=Q(bundles__in=bundles_now), distinct=True),
        ).order_by("audience", "order", "code")
    )


def service_points_with_items(*, region: str = "", kind: str = "", today: date | None = None):
    """Service points where items in force can be done, each with `item_count`."""
    items_now = Item.objects.filter(current_filter(_today(today), prefix="versions__"))
    points = ServicePoint.objects.filter(is_active=True).select_related("region")
    if region:
        area = _region(region)
        if area is None:
            return []
        points = points.filter(region__path__startswith=area.path)
    if kind:
        points = points.filter(kind=kind)
    item_model = Item.service_points.through
    counts = dict(
        item_model.objects.filter(item__in=items_now)
        .values_list("servicepoint_id")
        .annotate(n=Count("item_id", distinct=True))
        .values_list("servicepoint_id", "n")
    )
    result = []
    for point in points.filter(pk__in=list(counts)).order_by("region__code", "kind", "name"):
        point.item_count = counts[point.pk]
        result.append(point)
    return result


def approval_mode_label(code: str) -> str:
    return str(ApprovalMode(code).label)


# ---------------------------------------------------------------------------------------
# bundles


def current_bundle_versions(today: date | None = None) -> QuerySet[BundleVersion]:
    return BundleVersion.objects.filter(current_filter(_today(today))).select_related(
        "bundle__region"
    )


def bundles_list(
    *,
    q: str = "",
    theme: str = "",
    audience: str = "",
    region: str = "",
    limit: int = 20,
    offset: int = 0,
    today: date | None = None,
) -> Page:
    versions = current_bundle_versions(today).annotate(member_count=Count("members"))
    if theme:
        versions = versions.filter(bundle__themes__code=theme)
    if audience:
        versions = versions.filter(bundle__audience=audience)
    if region:
        area = _region(region)
        if area is None:
            return Page(0, [])
        # a county's bundles, and the province's and city's that cover it
        versions = versions.filter(
            Q(bundle__region__path__startswith=area.path)
            | Q(bundle__region__code__in=area.path.split("/"))
        )
    for term in _search_terms(q):
        versions = versions.filter(Q(name__icontains=term) | Q(summary__icontains=term))
    versions = versions.order_by("bundle__region__code", "bundle__code")
    return Page(versions.count(), list(versions[offset : offset + limit]))


def bundle_detail(code: str, *, today: date | None = None) -> BundleVersion:
    members = Prefetch(
        "members",
        queryset=BundleMember.objects.select_related("item__department").order_by("order", "id"),
    )
    version = (
        current_bundle_versions(today)
        .filter(bundle__code=code)
        .prefetch_related(members, "bundle__themes")
        .order_by("-effective_from", "-number")
        .first()
    )
    if version is None:
        raise NotFound(_("没有这个一件事，或它目前不在办理中：%(c)s") % {"c": code})
    return version


def bundle_version_get(version_id: int) -> BundleVersion:
    version = (
        BundleVersion.objects.exclude(status=VersionStatus.DRAFT)
        .select_related("bundle")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise NotFound(_("没有这个一件事版本：%(v)s") % {"v": version_id})
    return version


# ---------------------------------------------------------------------------------------
# compiled bundles and guidance

# Compiled bundles of this process, by code. An entry is used while the catalogue revision
# (bumped by every publication, withdrawal, import and element/material change) and the
# day (versions start and end on dates) are those it was built at.
COMPILED_LIMIT = 64
_compiled: OrderedDict[str, guidance.CompiledBundle] = OrderedDict()
_compiled_lock = threading.Lock()


def compile_bundle(
    version: BundleVersion, *, today: date, revision: int
) -> guidance.CompiledBundle:
    members = list(version.members.select_related("item__department").order_by("order", "id"))
    materials = Prefetch(
        "materials", queryset=ItemMaterial.objects.select_related("kind").order_by("order", "id")
    )
    current: dict[int, ItemVersion] = {}
    for item_version in (
        ItemVersion.objects.filter(current_filter(today), item_id__in=[m.item_id for m in members])
        .prefetch_related(materials)
        .order_by("effective_from", "number")
    ):
        current[item_version.item_id] = item_version
    available = [m for m in members if m.item_id in current]
    unavailable = tuple(m.item.name for m in members if m.item_id not in current)
    if not any(m.role == "base" for m in available):
        raise Conflict(
            _("一件事 %(b)s 的基础事项目前不在办理中") % {"b": version.name},
            code="bundle_unavailable",
        )
    position = {m.item.implementation_code: i for i, m in enumerate(available)}
    element_codes: set[str] = set()
    compiled_members = []
    for index, member in enumerate(available):
        item_version = current[member.item_id]
        fields = tuple(
            guidance.FormField(element=element, prop=prop, required=required)
            for _n, element, prop, required in form_elements(item_version.form_schema)
        )
        element_codes.update(f.element for f in fields)
        compiled_members.append(
            guidance.CompiledMember(
                index=index,
                code=member.item.implementation_code,
                item_id=member.item_id,
                version_id=item_version.pk,
                version_number=item_version.number,
                name=item_version.name,
                department=member.item.department.name,
                department_id=member.item.department_id,
                role=member.role,
                rule=member.rule,
                rule_vars=tuple(rule_variables(member.rule)) if member.rule is not None else (),
                reason=member.reason,
                depends_on=tuple(position[c] for c in member.depends_on if c in position),
                promised_limit=item_version.promised_limit,
                promised_limit_unit=item_version.promised_limit_unit,
                approval_mode=item_version.approval_mode,
                approval_mode_label=approval_mode_label(item_version.approval_mode),
                output_name=item_version.output_name,
                visits_required=item_version.visits_required,
                fees=tuple(item_version.fees),
                conditions=tuple(item_version.conditions),
                materials=tuple(
                    guidance.MaterialNeed(
                        kind=m.kind.code,
                        name=m.kind.name,
                        source=m.kind.source,
                        data_category=m.kind.data_category,
                        fetchable=m.kind.fetchable,
                        formats=tuple(m.kind.formats),
                        max_size_mb=m.kind.max_size_mb,
                        blank_form_url=m.kind.blank_form_url,
                        sample_url=m.kind.sample_url,
                        requirement=m.requirement,
                        deferrable=m.deferrable,
                        copies=m.copies,
                        note=m.note,
                    )
                    for m in item_version.materials.all()
                ),
                fields=fields,
            )
        )
    order = guidance.topological_order([m.depends_on for m in compiled_members])
    elements = DataElement.objects.filter(code__in=element_codes)
    return guidance.CompiledBundle(
        code=version.bundle.code,
        version_id=version.pk,
        version_number=version.number,
        name=version.name,
        summary=version.summary,
        declared_limit=version.promised_limit,
        questions=parse_questions(version.questionnaire),
        members=tuple(compiled_members),
        base_index=next(m.index for m in compiled_members if m.role == "base"),
        topo_order=order if order is not None else tuple(range(len(compiled_members))),
        element_labels={e.code: e.label for e in elements},
        element_fragments={e.code: e.schema for e in elements},
        unavailable=unavailable,
        revision=revision,
        day=today,
    )


def compiled_bundle(code: str, *, today: date | None = None) -> guidance.CompiledBundle:
    """The compiled form of bundle `code` in force today, built once per catalogue revision
    and day in this process."""
    day = _today(today)
    revision = catalog_revision()
    cached = _compiled.get(code)
    if cached is not None and cached.revision == revision and cached.day == day:
        return cached
    compiled = compile_bundle(bundle_detail(code, today=day), today=day, revision=revision)
    with _compiled_lock:
        _compiled[code] = compiled
        _compiled.move_to_end(code)
        while len(_compiled) > COMPILED_LIMIT:
            _compiled.popitem(last=False)
    return compiled


def forget_compiled_bundles() -> None:
    forget_catalog_revision()
    with _compiled_lock:
        _compiled.clear()


def bundle_guidance(
    code: str,
    answers: dict,
    *,
    subject: ArchiveSubject | None = None,
    today: date | None = None,
) -> dict:
    """Guidance for `answers`: applicable items with reasons, the notice, the merged form,
    the promised limit and the reduction (see guidance.evaluate). Raises NotFound for an
    unknown bundle and ValidationFailed naming each answer that breaks the questionnaire."""
    return guidance.evaluate(compiled_bundle(code, today=today), answers, subject)


def bundle_guidance_json(
    code: str,
    answers: dict,
    *,
    subject: ArchiveSubject | None = None,
    today: date | None = None,
) -> bytes:
    """`bundle_guidance` encoded as UTF-8 JSON, reusing the encoding of the shared parts —
    what the API sends."""
    return guidance.evaluate_json(compiled_bundle(code, today=today), answers, subject)


def questionnaire_of(version: BundleVersion) -> list[dict]:
    return [q.as_dict() for q in parse_questions(version.questionnaire)]


def member_rule_variables(member: BundleMember) -> list[str]:
    return rule_variables(member.rule) if member.rule is not None else []


def guidance_subject_for(user, enterprise_uscc: str = "") -> ArchiveSubject | None:
    """Whose archive guidance may read: the signed-in person, or an enterprise they
    represent. Anonymous users get none; naming someone else's enterprise is forbidden."""
    from yiciban.accounts.models import Enterprise, Person

    if user is None or not getattr(user, "is_authenticated", False):
        if enterprise_uscc:
            raise PermissionDenied(_("请先登录，才能使用企业档案中的材料"))
        return None
    if enterprise_uscc:
        enterprise = (
            Enterprise.objects.filter(uscc=enterprise_uscc.strip().upper())
            .select_related("legal_representative")
            .first()
        )
        representative = enterprise.legal_representative if enterprise else None
        if representative is None or representative.user_id != user.pk:
            raise PermissionDenied(_("您不是该企业的法定代表人，不能使用其档案"))
        return ArchiveSubject(kind="enterprise", identifier=enterprise.uscc)
    person = Person.objects.filter(user=user).first()
    if person is None:
        return None
    return ArchiveSubject(kind="person", identifier=person.id_number)


def check_answers_for(code: str, answers: dict) -> None:
    """Raise ValidationFailed when answers break the questionnaire (for form views)."""
    from .questionnaire import check_answers

    errors = check_answers(compiled_bundle(code).questions, answers)
    if errors:
        raise ValidationFailed(_("答案不符合导办问题"), errors)
