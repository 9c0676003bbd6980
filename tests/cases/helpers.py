"""Helpers of the case-engine tests. A small world: 华容县 and 湘阴县 with their departments, staff
in every role, two applicants (a person, and an enterprise with its legal representative),
and the test catalogue in tests/cases/catalog/ imported through the catalogue's own import
(the same path as the demo), so cases are filed against real published item versions."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

from django.test import Client
from django_tasks_db.models import DBTaskResult

from tests.org.fixtures import UserFactory, assign, make_department, make_region
from yiciban.accounts import services as account_services
from yiciban.cases import services
from yiciban.cases.services import MaterialInput
from yiciban.catalog.demo import build_document
from yiciban.catalog.models import Item
from yiciban.catalog.services import catalog_import
from yiciban.core.documents import document_store
from yiciban.core.identifiers import make_uscc
from yiciban.org.models import DepartmentKind, PointKind, RegionLevel, Role, ServicePoint

CATALOG_DIR = Path(__file__).parent / "catalog"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ZHANGSAN_ID = "430623198803120211"
LISI_ID = "430623199202270040"


def _staff(username: str, role: str, **scope):
    user = UserFactory(username=username, display_name=username)
    assign(user, role, **scope)
    return user


def build_world():
    hunan = make_region("430000000000", "湖南省", RegionLevel.PROVINCE)
    yueyang = make_region("430600000000", "岳阳市", RegionLevel.CITY, hunan)
    huarong = make_region("430623000000", "华容县", RegionLevel.COUNTY, yueyang)
    township = make_region("430623100000", "章华镇", RegionLevel.TOWNSHIP, huarong)
    xiangyin = make_region("430624000000", "湘阴县", RegionLevel.COUNTY, yueyang)
    departments = {
        kind: make_department(huarong, kind)
        for kind in (
            DepartmentKind.MARKET_REGULATION,
            DepartmentKind.HEALTH,
            DepartmentKind.FIRE_RESCUE,
            DepartmentKind.COMMERCE,
            DepartmentKind.GOVERNMENT_SERVICE,
        )
    }
    xiangyin_market = make_department(xiangyin, DepartmentKind.MARKET_REGULATION)
    hall = ServicePoint.objects.create(
        code="430623000000-CH1",
        name="华容县政务服务中心",
        kind=PointKind.COUNTY_HALL,
        region=huarong,
        address="华容县章华镇",
        opening_hours="周一至周五",
    )
    market = departments[DepartmentKind.MARKET_REGULATION]
    health = departments[DepartmentKind.HEALTH]
    admin = _staff("admin", Role.PLATFORM_ADMIN)
    world = SimpleNamespace(
        hunan=hunan,
        huarong=huarong,
        township=township,
        xiangyin=xiangyin,
        market=market,
        health=health,
        fire=departments[DepartmentKind.FIRE_RESCUE],
        commerce=departments[DepartmentKind.COMMERCE],
        xiangyin_market=xiangyin_market,
        hall=hall,
        admin=admin,
        clerk=_staff("clerk", Role.COUNTER_CLERK, region=huarong, service_point=hall),
        agent=_staff("agent", Role.ASSISTED_SERVICE_AGENT, region=huarong),
        xiangyin_clerk=_staff("xiangyin_clerk", Role.COUNTER_CLERK, region=xiangyin),
        reviewer=_staff("market_reviewer", Role.REVIEWER, department=market),
        reviewer2=_staff("market_reviewer2", Role.REVIEWER, department=market),
        approver=_staff("market_approver", Role.APPROVER, department=market),
        inspector=_staff("market_inspector", Role.INSPECTOR, department=market),
        health_reviewer=_staff("health_reviewer", Role.REVIEWER, department=health),
        health_approver=_staff("health_approver", Role.APPROVER, department=health),
        xiangyin_reviewer=_staff("xiangyin_reviewer", Role.REVIEWER, department=xiangyin_market),
        supervisor=_staff("supervisor", Role.SUPERVISOR, region=huarong),
    )
    # a reviewer who also approves in the same department (to test 一审一核)
    assign(world.reviewer2, Role.APPROVER, department=market)
    zhangsan_user = UserFactory(username="zhangsan", is_staff=False)
    lisi_user = UserFactory(username="lisi", is_staff=False)
    world.zhangsan_user = zhangsan_user
    world.lisi_user = lisi_user
    world.zhangsan = account_services.person_register(
        actor=admin,
        name="张三",
        id_number=ZHANGSAN_ID,
        phone="13800000001",
        region=township,
        user=zhangsan_user,
    )
    world.lisi = account_services.person_register(
        actor=admin, name="李四", id_number=LISI_ID, phone="13800000004", user=lisi_user
    )
    world.enterprise = account_services.enterprise_register(
        actor=admin,
        uscc=make_uscc(authority="9", category="1", region="430623", org_body="MA4PK2N8"),
        name="华容县洞庭芥菜食品有限公司",
        registered_address="华容县章华镇工业园8号",
        region=huarong,
        legal_representative=world.lisi,
    )
    document = build_document(CATALOG_DIR)
    catalog_import(actor=None, data=json.dumps(document, ensure_ascii=False).encode(), fmt="json")
    world.codes = {
        item.name: item.implementation_code
        for item in Item.objects.filter(department__region=huarong)
    }
    return world


def code_of(world, name: str) -> str:
    return world.codes[name]


def upload(user, content: bytes = PDF, name: str = "scan.pdf"):
    return document_store(actor=user, content=content, filename=name)


RESTAURANT_FORM = {
    "base": {
        "enterprise.name": "华容县好味道餐饮店",
        "legal_rep.name": "张三",
        "premises.address": "华容县章华镇人民路1号",
    },
}


def restaurant_form(world, *, alcohol: bool = True, fire: bool = True) -> dict:
    form = {"base": dict(RESTAURANT_FORM["base"])}
    form[code_of(world, "食品经营许可")] = {
        "premises.area_m2": 80,
        "food.business_items": ["hot_food", "drinks"],
    }
    if fire:
        form[code_of(world, "公众聚集场所投入使用、营业前消防安全检查")] = {
            "fire.max_occupancy": 60
        }
    if alcohol:
        form[code_of(world, "酒类经营备案")] = {"alcohol.categories": ["beer"]}
    return form


# the uploads of the test restaurant bundle without its fire and alcohol permits
RESTAURANT_KINDS = (
    "registration.application",
    "id.legal_rep",
    "premises.proof",
    "food.application",
    "premises.layout",
    "food.equipment_list",
)


def restaurant_materials(
    user, *, skip: tuple[str, ...] = (), alcohol: bool = True, fire: bool = True
):
    kinds = list(RESTAURANT_KINDS)
    if fire:
        kinds.append("fire.application")
    if alcohol:
        kinds.append("alcohol.filing_form")
    result = []
    for index, kind in enumerate(kinds):
        if kind in skip:
            continue
        # distinct bytes per material, so each is its own document
        document = upload(user, PDF + f"% {kind} {index}\n".encode(), f"{kind}.pdf")
        result.append(MaterialInput(kind=kind, document_id=document.pk))
    return result


def submit_restaurant(
    world,
    user=None,
    *,
    key: str = "",
    alcohol: bool = True,
    seats: int = 80,
    skip: tuple[str, ...] = (),
    commit: bool = True,
    **extra,
):
    user = user or world.zhangsan_user
    fire = seats >= 50
    commitments = (
        [code_of(world, "公众聚集场所投入使用、营业前消防安全检查")] if (commit and fire) else []
    )
    return services.case_submit(
        actor=user,
        bundle_code="test-restaurant",
        answers={"seats": seats, "sells_alcohol": alcohol},
        form_data=restaurant_form(world, alcohol=alcohol, fire=fire),
        materials=restaurant_materials(user, skip=skip, alcohol=alcohol, fire=fire),
        commitments=commitments,
        idempotency_key=key,
        **extra,
    )


def submit_single(world, name: str, form: dict, *, user=None, materials=(), **extra):
    user = user or world.zhangsan_user
    return services.case_submit(
        actor=user,
        item_code=code_of(world, name),
        form_data=form,
        materials=list(materials),
        **extra,
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pdf_file(name: str = "a.pdf", content: bytes = PDF):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


NOTICES_TASK = "yiciban.cases.tasks.send_case_notices"


def queued_notices() -> list[dict]:
    """The applicant notices submissions have queued and no worker has run yet."""
    return [
        notice
        for result in DBTaskResult.objects.ready().filter(task_path=NOTICES_TASK)
        for notice in result.args_kwargs["kwargs"]["notices"]
    ]


def run_case_notices() -> int:
    """Run the queued `send_case_notices` tasks as the worker does (claim, run the task with
    its stored arguments, mark it done); returns how many ran."""
    ran = 0
    for result in (
        DBTaskResult.objects.ready().filter(task_path=NOTICES_TASK).order_by("enqueued_at")
    ):
        result.claim("test-worker")
        value = result.task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
        result.set_successful(value)
        ran += 1
    return ran
