"""Public catalogue API, mounted at /api/v1: items, bundles and smart guidance. Reads only —
the catalogue is maintained in the admin and by import."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from yiciban.org.models import DepartmentKind, PointKind

from . import selectors
from .formschema import effective_property
from .models import ApprovalMode, Audience, Channel, ItemType, Level

router = Router(tags=["catalog"])


class Page(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class ItemFilters(Page):
    q: str = Field("", max_length=100, description="中文关键词，空格分隔多个词")
    department: int | None = Field(None, description="部门 id")
    department_kind: DepartmentKind | None = None
    region: str = Field("", pattern=r"^(\d{6}|\d{12})?$", description="区划代码（含下级）")
    type: ItemType | None = None
    level: Level | None = None
    channel: Channel | None = None
    theme: str = Field("", max_length=40)
    service_point: str = Field("", max_length=32)
    audience: Audience | None = None
    approval_mode: ApprovalMode | None = None


class DepartmentOut(Schema):
    id: int
    name: str
    kind: str
    region_code: str


class ItemOut(Schema):
    code: str
    basic_code: str
    item_version_id: int
    version: int
    effective_from: date
    name: str
    short_name: str
    item_type: str
    item_type_label: str
    audience: str
    department: DepartmentOut
    approval_mode: str
    approval_mode_label: str
    risk_tier: str
    legal_limit: int | None
    legal_limit_unit: str
    promised_limit: int
    promised_limit_unit: str
    channels: list[str]
    levels: list[str]
    visits_required: int
    output_name: str
    free_of_charge: bool


class ItemList(Schema):
    count: int
    items: list[ItemOut]


class MaterialOut(Schema):
    kind: str
    name: str
    source: str
    data_category: str
    fetchable: bool
    requirement: str
    deferrable: bool
    copies: str
    note: str
    formats: list[str]
    max_size_mb: int
    blank_form_url: str
    sample_url: str


class ThemeOut(Schema):
    code: str
    name: str
    audience: str


class ServicePointOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    region_code: str
    address: str
    opening_hours: str
    phone: str


class VersionOut(Schema):
    number: int
    status: str
    effective_from: date | None
    effective_until: date | None


class ItemDetailOut(ItemOut):
    legal_basis: str
    conditions: list[str]
    fees: list[dict[str, Any]]
    process_template: str
    output_licence_type: str
    keywords: str
    materials: list[MaterialOut]
    form_schema: dict[str, Any]
    themes: list[ThemeOut]
    service_points: list[ServicePointOut]
    cross_province_partners: list[dict[str, str]]
    history: list[VersionOut]


def _item_out(version) -> dict:
    item = version.item
    department = item.department
    return {
        "code": item.implementation_code,
        "basic_code": item.basic_code,
        "item_version_id": version.pk,
        "version": version.number,
        "effective_from": version.effective_from,
        "name": version.name,
        "short_name": version.short_name,
        "item_type": version.item_type,
        "item_type_label": str(version.get_item_type_display()),
        "audience": version.audience,
        "department": {
            "id": department.pk,
            "name": department.name,
            "kind": department.kind,
            "region_code": department.region.code,
        },
        "approval_mode": version.approval_mode,
        "approval_mode_label": str(version.get_approval_mode_display()),
        "risk_tier": version.risk_tier,
        "legal_limit": version.legal_limit,
        "legal_limit_unit": version.legal_limit_unit,
        "promised_limit": version.promised_limit,
        "promised_limit_unit": version.promised_limit_unit,
        "channels": version.channels,
        "levels": version.levels,
        "visits_required": version.visits_required,
        "output_name": version.output_name,
        "free_of_charge": not version.fees,
    }


@router.get("/items", response=ItemList, summary="事项清单（现行有效）")
def list_items(request: HttpRequest, filters: Query[ItemFilters]):
    page = selectors.items_list(
        q=filters.q,
        department=filters.department,
        department_kind=filters.department_kind or "",
        region=filters.region,
        item_type=filters.type or "",
        level=filters.level or "",
        channel=filters.channel or "",
        theme=filters.theme,
        service_point=filters.service_point,
        audience=filters.audience or "",
        approval_mode=filters.approval_mode or "",
        limit=filters.limit,
        offset=filters.offset,
    )
    return {"count": page.count, "items": [_item_out(v) for v in page.items]}


@router.get("/items/{code}", response=ItemDetailOut, summary="办事指南")
def get_item(request: HttpRequest, code: str):
    version = selectors.item_detail(code)
    item = version.item
    fragments = selectors.element_fragments_for(version)
    form = dict(version.form_schema)
    if form.get("properties"):
        form["properties"] = {
            name: effective_property(prop, fragments) for name, prop in form["properties"].items()
        }
    return {
        **_item_out(version),
        "legal_basis": version.legal_basis,
        "conditions": version.conditions,
        "fees": version.fees,
        "process_template": version.process_template,
        "output_licence_type": version.output_licence_type,
        "keywords": version.keywords,
        "materials": [
            {
                "kind": m.kind.code,
                "name": m.kind.name,
                "source": m.kind.source,
                "data_category": m.kind.data_category,
                "fetchable": m.kind.fetchable,
                "requirement": m.requirement,
                "deferrable": m.deferrable,
                "copies": m.copies,
                "note": m.note,
                "formats": m.kind.formats,
                "max_size_mb": m.kind.max_size_mb,
                "blank_form_url": m.kind.blank_form_url,
                "sample_url": m.kind.sample_url,
            }
            for m in version.materials.all()
        ],
        "form_schema": form,
        "themes": [
            {"code": t.code, "name": t.name, "audience": t.audience} for t in item.themes.all()
        ],
        "service_points": [
            {
                "code": p.code,
                "name": p.name,
                "kind": p.kind,
                "kind_label": str(PointKind(p.kind).label),
                "region_code": p.region.code,
                "address": p.address,
                "opening_hours": p.opening_hours,
                "phone": p.phone,
            }
            for p in item.service_points.all()
            if p.is_active
        ],
        "cross_province_partners": item.cross_province_partners,
        "history": [
            {
                "number": v.number,
                "status": v.status,
                "effective_from": v.effective_from,
                "effective_until": v.effective_until,
            }
            for v in selectors.item_history(item)
        ],
    }


class BundleFilters(Page):
    q: str = Field("", max_length=100)
    theme: str = Field("", max_length=40)
    audience: Audience | None = None
    region: str = Field("", pattern=r"^(\d{6}|\d{12})?$")


class RegionOut(Schema):
    code: str
    name: str


class BundleOut(Schema):
    code: str
    bundle_version_id: int
    version: int
    effective_from: date
    name: str
    summary: str
    audience: str
    region: RegionOut
    promised_limit: int | None
    member_count: int


class BundleList(Schema):
    count: int
    items: list[BundleOut]


class MemberOut(Schema):
    code: str
    name: str
    department: str
    role: str
    reason: str
    rule: Any = None
    depends_on: list[str]


class BundleDetailOut(BundleOut):
    themes: list[ThemeOut]
    questionnaire: list[dict[str, Any]]
    members: list[MemberOut]


def _bundle_out(version, member_count: int) -> dict:
    bundle = version.bundle
    return {
        "code": bundle.code,
        "bundle_version_id": version.pk,
        "version": version.number,
        "effective_from": version.effective_from,
        "name": version.name,
        "summary": version.summary,
        "audience": bundle.audience,
        "region": {"code": bundle.region.code, "name": bundle.region.name},
        "promised_limit": version.promised_limit,
        "member_count": member_count,
    }


@router.get("/bundles", response=BundleList, summary="一件事清单")
def list_bundles(request: HttpRequest, filters: Query[BundleFilters]):
    page = selectors.bundles_list(
        q=filters.q,
        theme=filters.theme,
        audience=filters.audience or "",
        region=filters.region,
        limit=filters.limit,
        offset=filters.offset,
    )
    return {"count": page.count, "items": [_bundle_out(v, v.member_count) for v in page.items]}


@router.get("/bundles/{code}", response=BundleDetailOut, summary="一件事详情与导办问题")
def get_bundle(request: HttpRequest, code: str):
    version = selectors.bundle_detail(code)
    members = list(version.members.all())
    return {
        **_bundle_out(version, len(members)),
        "themes": [
            {"code": t.code, "name": t.name, "audience": t.audience}
            for t in version.bundle.themes.all()
        ],
        "questionnaire": selectors.questionnaire_of(version),
        "members": [
            {
                "code": m.item.implementation_code,
                "name": m.item.name,
                "department": m.item.department.name,
                "role": m.role,
                "reason": m.reason,
                "rule": m.rule,
                "depends_on": m.depends_on,
            }
            for m in members
        ],
    }


class GuidanceIn(Schema):
    answers: dict[str, Any] = Field(default_factory=dict, description="问题编码 → 回答")
    enterprise_uscc: str = Field(
        "", max_length=18, description="以其法定代表人身份登录时，使用该企业档案中的材料"
    )


class GuidanceOut(Schema):
    bundle: dict[str, Any]
    visible_questions: list[str]
    unanswered: list[str]
    complete: bool
    ignored_answers: list[str]
    items: list[dict[str, Any]]
    not_applicable: list[dict[str, Any]]
    unavailable: list[str]
    notice: dict[str, Any]
    merged_schema: dict[str, Any]
    promised_limit: dict[str, Any]
    reduction: dict[str, int]
    prefill: dict[str, Any]


@router.post(
    "/bundles/{code}/guidance", response=GuidanceOut, summary="智能导办：一单告知与合并表单"
)
def bundle_guidance(request: HttpRequest, code: str, payload: GuidanceIn):
    subject = selectors.guidance_subject_for(request.user, payload.enterprise_uscc)
    # Sent as encoded by the selector (the shape of GuidanceOut): the notice and merged
    # schema are large and shared, so their JSON is produced once, not on every request.
    body = selectors.bundle_guidance_json(code, payload.answers, subject=subject)
    return HttpResponse(body, content_type="application/json")
