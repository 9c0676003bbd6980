"""Fixtures for the catalogue tests: a small organisation (the demo places with one
department of every kind, a few service points), users with catalogue roles, and helpers to
build items and bundles through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from yiciban.catalog import selectors, services
from yiciban.core.identifiers import make_uscc
from yiciban.org.models import (
    Department,
    DepartmentKind,
    PointKind,
    Region,
    RegionLevel,
    Role,
    RoleAssignment,
    ServicePoint,
)

PLACES = {
    "431127": ("蓝山县", "431100", "永州市"),
    "430623": ("华容县", "430600", "岳阳市"),
    "430624": ("湘阴县", "430600", "岳阳市"),
    "430781": ("津市市", "430700", "常德市"),
    "430702": ("武陵区", "430700", "常德市"),
}


def _region(code, name, level, parent):
    path = f"{parent.path}/{code}" if parent else code
    return Region.objects.create(code=code, name=name, level=level, parent=parent, path=path)


@pytest.fixture
def org(db):
    """Regions of the five places used by the demo catalogue, every department kind in
    each, and a hall and a kiosk per place."""
    province = _region("430000000000", "湖南省", RegionLevel.PROVINCE, None)
    cities: dict[str, Region] = {}
    counties: dict[str, Region] = {}
    departments = []
    for place_index, (place, (name, city, city_name)) in enumerate(sorted(PLACES.items())):
        if city not in cities:
            cities[city] = _region(city + "000000", city_name, RegionLevel.CITY, province)
        county = _region(place + "000000", name, RegionLevel.COUNTY, cities[city])
        counties[place] = county
        for kind_index, kind in enumerate(DepartmentKind.values):
            departments.append(
                Department(
                    region=county,
                    name=f"{name}{DepartmentKind(kind).label}",
                    kind=kind,
                    uscc=make_uscc(
                        authority="1",
                        category="1",
                        region=place,
                        org_body=f"{place_index:02d}{kind_index:03d}{place[3:6]}",
                    ),
                )
            )
        ServicePoint.objects.create(
            code=f"{place}-CH1",
            name=f"{name}政务服务中心大厅",
            kind=PointKind.COUNTY_HALL,
            region=county,
            address=f"{name}政务服务中心",
            opening_hours="周一至周五",
        )
        ServicePoint.objects.create(
            code=f"{place}-K1",
            name=f"{name}24小时自助服务区",
            kind=PointKind.KIOSK_24H,
            region=county,
            address=f"{name}政务服务中心",
            opening_hours="全天24小时",
        )
    Department.objects.bulk_create(departments)
    return counties


def department(place: str, kind: str) -> Department:
    return Department.objects.get(region__code=place + "000000", kind=kind)


@pytest.fixture
def admin_user(db):
    user = get_user_model().objects.create(username="catalog_admin", is_staff=True)
    RoleAssignment.objects.create(user=user, role=Role.PLATFORM_ADMIN)
    return user


@pytest.fixture
def market_admin(org):
    user = get_user_model().objects.create(username="market_admin", is_staff=True)
    RoleAssignment.objects.create(
        user=user,
        role=Role.DEPARTMENT_ADMIN,
        department=department("430623", "market_regulation"),
    )
    return user


@pytest.fixture(autouse=True)
def _fresh_compiled_bundles():
    # compiled bundles are cached per process; each test starts without them
    selectors.forget_compiled_bundles()
    yield
    selectors.forget_compiled_bundles()


@pytest.fixture
def registry(admin_user):
    """A few data elements and material kinds."""
    for code, label, schema in (
        ("enterprise.name", "企业名称", {"type": "string", "maxLength": 100}),
        ("enterprise.uscc", "统一社会信用代码", {"type": "string", "pattern": "^[0-9A-Z]{18}$"}),
        ("premises.address", "经营场所", {"type": "string"}),
        ("premises.area_m2", "经营面积", {"type": "number", "minimum": 0}),
        ("food.items", "食品经营项目", {"type": "array", "items": {"type": "string"}}),
        ("tobacco.distance_m", "与最近零售点距离", {"type": "number"}),
    ):
        services.data_element_create(actor=admin_user, code=code, label=label, schema=schema)
    for code, name, source, category in (
        ("licence.business", "营业执照", "government", "market_entity_registration"),
        ("id.legal_rep", "法定代表人身份证明", "applicant", ""),
        ("premises.proof", "场所证明", "archive", ""),
        ("food.application", "食品经营许可申请书", "applicant", ""),
        ("tobacco.application", "烟草零售许可申请表", "applicant", ""),
        ("registration.application", "登记申请书", "applicant", ""),
    ):
        services.material_kind_create(
            actor=admin_user, code=code, name=name, source=source, data_category=category
        )


QUESTIONS = [
    {"code": "sells_tobacco", "label": "是否销售卷烟？", "type": "boolean", "required": True},
    {"code": "sells_drinks", "label": "是否销售饮品？", "type": "boolean"},
    {
        "code": "drinks",
        "label": "销售哪些饮品？",
        "type": "multi_choice",
        "choices": [{"value": "alcohol", "label": "酒类"}, {"value": "tea", "label": "茶饮"}],
        "show_if": {"var": "sells_drinks"},
    },
    {"code": "seats", "label": "座位数", "type": "number", "minimum": 0, "maximum": 500},
    {
        "code": "scale",
        "label": "规模",
        "type": "single_choice",
        "choices": [{"value": "small", "label": "小型"}, {"value": "large", "label": "大型"}],
    },
]


@pytest.fixture
def restaurant(org, admin_user, registry):
    services.material_kind_create(actor=admin_user, code="alcohol.form", name="酒类备案表")
    registration, _v = make_item(
        admin_user,
        basic_code="070012001000",
        name="市场主体设立登记",
        item_type="confirmation",
        promised_limit=1,
        legal_limit=3,
        approval_mode="merged_review",
        process_template="merged_review",
        conditions=["有固定经营场所", "名称符合规定"],
        materials=[
            {"kind": "registration.application"},
            {"kind": "id.legal_rep"},
            {"kind": "premises.proof"},
        ],
        form_schema=form("enterprise.name", "premises.address", required=("enterprise.name",)),
    )
    food, _v = make_item(
        admin_user,
        conditions=["有固定经营场所", "有食品安全管理制度"],
        materials=[
            {"kind": "food.application"},
            {"kind": "licence.business"},
            {"kind": "id.legal_rep", "deferrable": True},
            {"kind": "premises.proof", "requirement": "optional"},
        ],
        form_schema=form(
            "enterprise.name",
            "premises.area_m2",
            "food.items",
            required=("premises.area_m2",),
            premises_area_m2={"minimum": 10},
        ),
    )
    tobacco, _v = make_item(
        admin_user,
        kind="tobacco",
        basic_code="010026001000",
        name="烟草专卖零售许可证核发",
        promised_limit=7,
        approval_mode="standard",
        process_template="review_with_inspection",
        materials=[
            {"kind": "tobacco.application"},
            {"kind": "licence.business"},
            {"kind": "id.legal_rep"},
        ],
        form_schema=form("enterprise.name", "premises.area_m2", "tobacco.distance_m"),
    )
    alcohol, _v = make_item(
        admin_user,
        kind="commerce",
        basic_code="100028003000",
        name="酒类经营备案",
        item_type="other_power",
        promised_limit=0,
        legal_limit=0,
        approval_mode="filing",
        risk_tier="none",
        process_template="filing",
        materials=[{"kind": "alcohol.form"}, {"kind": "licence.business"}],
        form_schema=form("enterprise.name"),
    )
    bundle = services.bundle_create(
        actor=admin_user,
        code="restaurant",
        region=org["430623"],
        audience="enterprise",
        name="开办餐饮店",
    )
    version = bundle.versions.get()
    services.bundle_version_update(actor=admin_user, version=version, questionnaire=QUESTIONS)
    services.bundle_members_set(
        actor=admin_user,
        version=version,
        members=[
            {"item": registration.implementation_code, "role": "base", "reason": "先取得营业执照"},
            {
                "item": food.implementation_code,
                "depends_on": [registration.implementation_code],
                "reason": "制售食品",
            },
            {
                "item": tobacco.implementation_code,
                "rule": {"var": "sells_tobacco"},
                "reason": "销售卷烟",
                "depends_on": [food.implementation_code],
            },
            {
                "item": alcohol.implementation_code,
                "rule": {"in": ["alcohol", {"var": "drinks"}]},
                "reason": "销售酒类",
            },
        ],
    )
    services.bundle_version_publish(
        actor=admin_user, version=version, effective_from=dt.date(2021, 6, 1)
    )
    return {"registration": registration, "food": food, "tobacco": tobacco, "alcohol": alcohol}


def form(*fields: str, required: tuple[str, ...] = (), **overrides) -> dict:
    properties = {}
    for element in fields:
        name = element.replace(".", "_")
        properties[name] = {"title": element, "x-element": element, **overrides.get(name, {})}
    return {
        "type": "object",
        "properties": properties,
        "required": [r.replace(".", "_") for r in required],
    }


def make_item(
    actor,
    *,
    place: str = "430623",
    kind: str = "market_regulation",
    basic_code: str = "010017002000",
    name: str = "食品经营许可",
    publish: bool = True,
    effective_from: dt.date | None = None,
    materials: list[dict] | None = None,
    **fields,
):
    """An item through the services: created, filled in, optionally published."""
    item = services.item_create(
        actor=actor, department=department(place, kind), basic_code=basic_code, name=name
    )
    version = item.versions.get()
    content = {
        "conditions": ["有固定经营场所"],
        "legal_limit": 20,
        "promised_limit": 5,
        "approval_mode": "commitment",
        "risk_tier": "general",
        "process_template": "commitment_review",
        "channels": ["online", "counter"],
        "levels": ["county"],
        **fields,
    }
    services.item_version_update(actor=actor, version=version, **content)
    if materials is not None:
        services.item_materials_set(actor=actor, version=version, materials=materials)
    if publish:
        services.item_version_publish(
            actor=actor, version=version, effective_from=effective_from or dt.date(2021, 6, 1)
        )
    version.refresh_from_db()
    return item, version


@pytest.fixture
def demo_catalog(org):
    """The demo catalogue of demo/catalog/, imported on the small organisation."""
    import json

    from django.conf import settings

    from yiciban.catalog.demo import build_document

    document = build_document(settings.REPO_DIR / "demo" / "catalog")
    services.catalog_import(
        actor=None, data=json.dumps(document, ensure_ascii=False).encode(), fmt="json"
    )
    return document
