"""Demo cases: every state of the case engine across the demo counties, so that each demo
login finds work in its queue (huarong_clerk: cases to accept and to deliver;
huarong_market_reviewer / _approver / huarong_inspector: tasks; huarong_supervisor: a board
with normal, warning, overdue and suspended items; xiangyin_clerk: newborn cases; zhangsan
and lanshan_boss: their own cases).

Every case is filed and moved through the ordinary services, by the demo logins, with
materials uploaded as small generated files and forms filled from the catalogue's merged
schema. Each case carries an Idempotency-Key, so a second load finds the case it made and
changes nothing. To show warnings and overdue items on a fresh install, a few accepted
cases have their clock start moved back (demo only: `_backdate`); their due dates are then
recomputed by the one deadline computation like any other."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from yiciban.catalog.formschema import ELEMENT_KEY
from yiciban.core.documents import document_store

from . import deadlines, selectors, services
from .models import ACTIVE_TASK_STATES, Case, CaseItem, Task, TaskKind
from .services import MaterialInput

PDF = b"%PDF-1.4\n%% yiciban demo material\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
WANG_LI_ID = "430623199202270040"  # legal representative of 华容县洞庭芥菜食品有限公司
HUARONG_ENTERPRISE = "91430623MA4PK2N83B"
LANSHAN_ENTERPRISE = "91431127MA4LQ7T25H"
RESTAURANT_ANSWERS = {
    "dine_in": True,
    "seats": 60,
    "floor_area_m2": 120,
    "sells_alcohol": True,
    "sells_tobacco": False,
    "signboard": False,
    "cooking_fumes": False,
}
ONE_LICENCE_ANSWERS = {
    "entity_type": "company",
    "sells_food": True,
    "food_activities": ["catering"],
    "public_venues": ["beauty_salon"],
    "sells_tobacco": True,
}
NEWBORN_ANSWERS = {"born_in_county": True, "register_household": True}
SAMPLE_BY_PATTERN = {
    "^1[0-9]{10}$": "13800000001",
    "^[0-9-]{7,20}$": "0730-4221234",
    "^[0-9]{17}[0-9X]$": "430623198803120211",
    "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$": HUARONG_ENTERPRISE,
}


@dataclass
class Demo:
    report: Any
    users: dict[str, Any] = field(default_factory=dict)

    def user(self, username: str):
        if username not in self.users:
            self.users[username] = get_user_model().objects.get(username=username)
        return self.users[username]


def load(report) -> None:
    demo = Demo(report)
    _huarong(demo)
    _wuling(demo)
    _lanshan(demo)
    _xiangyin(demo)


# --- filling an application ------------------------------------------------------------


def _value(prop: dict, overrides: dict) -> Any:
    element = prop.get(ELEMENT_KEY, "")
    if element in overrides:
        return overrides[element]
    kind = prop.get("type")
    if "enum" in prop:
        return prop["enum"][0]
    if kind == "string":
        if prop.get("format") == "date":
            return "2021-06-01"
        if "pattern" in prop:
            return SAMPLE_BY_PATTERN.get(prop["pattern"], "")
        text = f"{prop.get('title', element)}（演示）"
        return text[: prop.get("maxLength", len(text))]
    if kind in ("number", "integer"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0) + 1)
        value = max(low, 1)
        if "maximum" in prop:
            value = min(value, prop["maximum"])
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "array":
        items = prop.get("items", {})
        return [items["enum"][0]] if "enum" in items else []
    return None


def _fill(schema: dict, overrides: dict) -> dict:
    data: dict = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") == "object" and ELEMENT_KEY not in prop:
            data[name] = _fill(prop, overrides)
        else:
            value = _value(prop, overrides)
            if value not in (None, ""):
                data[name] = value
    return data


def _file_for(formats: list[str]) -> bytes:
    if not formats or "pdf" in formats:
        return PDF
    return PNG if "png" in formats else JPEG


def _application(demo: Demo, user, *, bundle="", item="", answers=None, overrides=None, skip=()):
    preview = selectors.case_preview(bundle_code=bundle, item_code=item, answers=answers or {})
    commit = [
        i["code"] for i in preview["items"] if i["approval_mode"] in ("commitment", "automatic")
    ]
    materials = []
    for entry in preview["materials"]:
        code = entry["kind"]
        if not entry.get("submit", True) or code in skip:
            continue
        needers = {i["code"] for i in entry.get("items", [])}
        if services.is_commitment_material(code) and needers and needers <= set(commit):
            continue  # signed on the platform
        content = _file_for(entry.get("formats", [])) + f"% {code}\n".encode()
        document = document_store(actor=user, content=content, filename=f"{code}.pdf")
        materials.append(MaterialInput(kind=code, document_id=document.pk))
    return {
        "bundle_code": bundle,
        "item_code": item,
        "answers": answers or {},
        "form_data": _fill(preview["form_schema"], overrides or {}),
        "materials": materials,
        "commitments": commit,
    }


def _submit(demo: Demo, key: str, user, **application) -> tuple[Case, bool]:
    extra = {
        k: application.pop(k)
        for k in (
            "channel",
            "applicant_id_number",
            "enterprise_uscc",
            "green_channel",
            "green_channel_reason",
        )
        if k in application
    }
    submission = services.case_submit(
        actor=user,
        idempotency_key=f"demo-{key}",
        **_application(demo, user, **application),
        **extra,
    )
    demo.report.count("cases", submission.created)
    return submission.case, submission.created


# --- moving cases along ----------------------------------------------------------------


def _task(case: Case, kind: str, name: str | None = None) -> Task:
    tasks = Task.objects.filter(case=case, kind=kind, state__in=ACTIVE_TASK_STATES)
    if name:
        tasks = tasks.filter(case_item__name=name)
    return tasks.order_by("id").first()


def _approve_open(demo: Demo, case: Case) -> None:
    approver = demo.user("huarong_market_approver")
    while (task := _task(case, TaskKind.APPROVE)) is not None:
        services.item_approve(actor=approver, task_id=task.pk, comment="符合法定条件")


def _review_food(demo: Demo, case: Case) -> None:
    task = _task(case, TaskKind.REVIEW, "食品经营许可")
    services.item_review(
        actor=demo.user("huarong_market_reviewer"),
        task_id=task.pk,
        opinion="approve",
        comment="材料齐全，建议现场核查后准予",
    )


def _inspect_food(demo: Demo, case: Case, result: str = "passed") -> None:
    inspector = demo.user("huarong_inspector")
    food = case.items.get(name="食品经营许可")
    inspection = services.inspection_schedule(
        actor=inspector,
        case_id=case.pk,
        item_ids=[food.pk],
        scheduled_for=timezone.now() + dt.timedelta(hours=2),
        note="联合现场核查",
    )
    if result == "rectification":
        services.inspection_record(
            actor=inspector,
            inspection_id=inspection.pk,
            result="rectification",
            findings="后厨排烟设施不足",
            rectification_notice="请加装油烟净化与排烟设施，整改后申请复查",
        )
    else:
        services.inspection_record(
            actor=inspector, inspection_id=inspection.pk, result=result, findings="现场符合要求"
        )


def _backdate(case: Case, days: int) -> None:
    """Demo only: move an accepted case's clock start `days` calendar days back, so the
    board shows warnings and overdue items on the day the demo is loaded."""
    today = timezone.localdate()
    for item in CaseItem.objects.filter(case=case, started_on__isnull=False):
        item.started_on = item.started_on - dt.timedelta(days=days)
        deadlines.refresh(item, today)
        item.save()
        Task.objects.filter(case_item=item, state__in=ACTIVE_TASK_STATES).exclude(
            kind=TaskKind.POST_CHECK
        ).update(due_on=item.due_on, warn_from=item.warn_from, suspended=item.suspended)
    Case.objects.filter(pk=case.pk).update(
        accepted_at=case.accepted_at - dt.timedelta(days=days) if case.accepted_at else None
    )


# --- the places -------------------------------------------------------------------------


def _huarong(demo: Demo) -> None:
    zhangsan = demo.user("zhangsan")
    clerk = demo.user("huarong_clerk")

    def restaurant(key: str, name: str, user=zhangsan, **extra):
        return _submit(
            demo,
            key,
            user,
            bundle="huarong-restaurant",
            answers=RESTAURANT_ANSWERS,
            overrides={"enterprise.name": name, "legal_rep.name": "张三"},
            **extra,
        )

    def accept(case: Case) -> Case:
        return services.case_accept(actor=clerk, case_id=case.pk)

    # awaiting the counter
    restaurant("huarong-1", "华容县好味道餐饮店")
    restaurant(
        "huarong-2",
        "华容县洞庭芥菜食品有限公司食堂",
        user=clerk,
        channel="counter",
        applicant_id_number=WANG_LI_ID,
        enterprise_uscc=HUARONG_ENTERPRISE,
        green_channel=True,
        green_channel_reason="县重点农产品加工企业",
    )
    # one supplement notice (一次性告知)
    case, new = restaurant("huarong-3", "华容县湘味小厨")
    if new:
        services.case_request_supplement(
            actor=clerk,
            case_id=case.pk,
            missing=[
                {"kind": "food.application", "reason": "申请书未签字"},
                {"kind": "premises.layout", "reason": "平面图未标明比例与功能分区"},
            ],
            message="请一次性补齐以下材料后重新提交",
        )
    # in progress: registration awaiting the approver, food licence awaiting the reviewer
    case, new = restaurant("huarong-4", "华容县渔家乐餐馆")
    if new:
        accept(case)
    # food licence awaiting the site inspection
    case, new = restaurant("huarong-5", "华容县鱼米香饭店")
    if new:
        accept(case)
        _approve_open(demo, case)
        _review_food(demo, case)
    # site inspection found problems: rectification, the clock stopped
    case, new = restaurant("huarong-6", "华容县东湖茶餐厅")
    if new:
        accept(case)
        _approve_open(demo, case)
        _review_food(demo, case)
        _inspect_food(demo, case, "rectification")
    # overdue approval
    case, new = restaurant("huarong-7", "华容县老街米粉店")
    if new:
        accept(case)
        _review_food(demo, case)
        _inspect_food(demo, case)
        case.refresh_from_db()
        _backdate(case, 20)
    # warning: due tomorrow
    case, new = restaurant("huarong-8", "华容县南山烧烤")
    if new:
        accept(case)
        _approve_open(demo, case)
        case.refresh_from_db()
        _backdate(case, 8)
    # a suspension for correction (补正)
    case, new = restaurant("huarong-9", "华容县章华面馆")
    if new:
        accept(case)
        food = case.items.get(name="食品经营许可")
        services.suspension_start(
            actor=demo.user("huarong_market_reviewer"),
            item_id=food.pk,
            kind="correction",
            reason="从业人员健康证明待补正",
        )
    # every item decided: ready to deliver at the counter
    case, new = restaurant("huarong-10", "华容县江南春酒家")
    if new:
        accept(case)
        _review_food(demo, case)
        _inspect_food(demo, case)
        _approve_open(demo, case)
    # delivered (一窗出件)
    case, new = restaurant("huarong-11", "华容县桃花源农家乐")
    if new:
        accept(case)
        _review_food(demo, case)
        _inspect_food(demo, case)
        _approve_open(demo, case)
        services.case_deliver(actor=clerk, case_id=case.pk, method="counter", recipient="张三")
    # refused food licence, delivered with the refusal's legal basis and how to appeal
    case, new = restaurant("huarong-12", "华容县夜宵排档")
    if new:
        accept(case)
        _approve_open(demo, case)
        task = _task(case, TaskKind.REVIEW, "食品经营许可")
        services.item_review(
            actor=demo.user("huarong_market_reviewer"),
            task_id=task.pk,
            opinion="refuse",
            comment="经营场所为临时搭建棚屋",
        )
        _inspect_food(demo, case, "failed")
        task = _task(case, TaskKind.APPROVE, "食品经营许可")
        services.item_refuse(
            actor=demo.user("huarong_market_approver"),
            task_id=task.pk,
            reasons="经营场所不具备防尘、防蝇、防鼠设施，不符合许可条件",
            legal_basis="《中华人民共和国食品安全法》第三十三条；《食品经营许可管理办法》第十一条",
        )
    # not accepted, and withdrawn
    case, new = restaurant("huarong-13", "华容县流动餐车")
    if new:
        services.case_refuse_acceptance(
            actor=clerk, case_id=case.pk, reason="流动经营不属于本一件事的办理范围"
        )
    case, new = restaurant("huarong-14", "华容县试营业小馆")
    if new:
        services.case_withdraw(actor=zhangsan, case_id=case.pk, reason="店址变更，重新申请")


def _wuling(demo: Demo) -> None:
    """武陵区 24-hour kiosk: 公共场所卫生许可 decided by rules in seconds, printed at once."""
    zhangsan = demo.user("zhangsan")
    item = _item_code("430702", "公共场所卫生许可（自助秒批）")
    if item is None:
        return
    case, new = _submit(
        demo,
        "wuling-1",
        zhangsan,
        item=item,
        channel="kiosk",
        enterprise_uscc=HUARONG_ENTERPRISE,
        overrides={"enterprise.name": "华容县洞庭芥菜食品有限公司武陵门店"},
    )
    if new and case.state == "ready_for_delivery":
        services.case_deliver(actor=zhangsan, case_id=case.pk, method="electronic")


def _lanshan(demo: Demo) -> None:
    """蓝山县 一照通 (1+X): the business licence with three permits."""
    boss = demo.user("lanshan_boss")
    for key, name in (("lanshan-1", "蓝山县湘粤美食城"), ("lanshan-2", "蓝山县南风美发餐饮店")):
        case, new = _submit(
            demo,
            key,
            boss,
            bundle="lanshan-one-licence",
            answers=ONE_LICENCE_ANSWERS,
            enterprise_uscc=LANSHAN_ENTERPRISE,
            overrides={"enterprise.name": name, "legal_rep.name": "雷建国"},
        )
        if new and key == "lanshan-2":
            services.case_accept(actor=demo.user("admin"), case_id=case.pk)


def _xiangyin(demo: Demo) -> None:
    """湘阴县 新生儿出生一件事 at the 湘阴 counter."""
    zhangsan = demo.user("zhangsan")
    for key in ("xiangyin-1", "xiangyin-2"):
        case, new = _submit(
            demo,
            key,
            zhangsan,
            bundle="xiangyin-newborn",
            answers=NEWBORN_ANSWERS,
            overrides={"child.name": "张小满", "applicant.name": "张三"},
        )
        if new and key == "xiangyin-2":
            services.case_accept(actor=demo.user("xiangyin_clerk"), case_id=case.pk)


def _item_code(place: str, name: str) -> str | None:
    from yiciban.catalog import selectors as catalog_selectors

    page = catalog_selectors.items_list(q=name, region=place, limit=5)
    for version in page.items:
        if version.name == name:
            return version.item.implementation_code
    return None
