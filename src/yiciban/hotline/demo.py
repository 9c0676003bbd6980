"""Demo data of the 12345 hotline: ticket categories, the synonym table and a knowledge base
of 68 entries for 华容县 (fixtures/demo_knowledge.yaml), and tickets in every state handled
by 华容县's departments.

Everything goes through the services, as the demo logins (huarong_hotline answers calls,
huarong_market_reviewer answers for the market regulator, the platform admin for the
departments without a demo login). Idempotent: categories by code, synonym groups by name,
entries by (region, question), tickets by (region, title) — a second load writes nothing.
Dates of the tickets are set relative to the day of loading, so the board always shows
overdue, near-due and on-time work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.utils import timezone

from yiciban.core.calendar import is_working_day
from yiciban.org.models import Region
from yiciban.org.selectors import department_by_kind

from . import services
from .models import KnowledgeEntry, SynonymGroup, Ticket, TicketCategory, TicketKind

FIXTURE = Path(__file__).parent / "fixtures" / "demo_knowledge.yaml"
HUARONG = "430623000000"

CATEGORIES = [
    # code, name, kind, group, default department kind, location required, attributes
    ("consultation.policy", "政策咨询", TicketKind.CONSULTATION, "咨询", "", False, []),
    (
        "consultation.service",
        "办事咨询",
        TicketKind.CONSULTATION,
        "咨询",
        "government_service",
        False,
        [],
    ),
    (
        "complaint.market",
        "市场监管投诉（食品安全、消费维权）",
        TicketKind.COMPLAINT,
        "投诉",
        "market_regulation",
        True,
        [
            {
                "code": "respondent",
                "datatype": "string",
                "required": True,
                "description": "被投诉经营者名称",
            },
            {
                "code": "loss",
                "datatype": "singlevaluelist",
                "required": False,
                "description": "是否造成经济损失",
                "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}],
            },
        ],
    ),
    (
        "complaint.wages",
        "拖欠工资投诉",
        TicketKind.COMPLAINT,
        "投诉",
        "human_resources_social_security",
        False,
        [
            {
                "code": "employer",
                "datatype": "string",
                "required": True,
                "description": "用人单位名称",
            },
            {
                "code": "amount",
                "datatype": "number",
                "required": False,
                "description": "拖欠金额（元）",
            },
        ],
    ),
    (
        "complaint.urban",
        "城市管理投诉（占道经营、噪音、违建）",
        TicketKind.COMPLAINT,
        "投诉",
        "urban_management",
        True,
        [],
    ),
    (
        "complaint.environment",
        "生态环境投诉（污水、废气、噪声）",
        TicketKind.COMPLAINT,
        "投诉",
        "ecology_environment",
        True,
        [],
    ),
    (
        "complaint.property",
        "物业服务投诉",
        TicketKind.COMPLAINT,
        "投诉",
        "housing_construction",
        True,
        [],
    ),
    ("request.water", "供水求助", TicketKind.REQUEST, "求助", "water_resources", True, []),
    ("request.road", "道路交通求助", TicketKind.REQUEST, "求助", "transport", True, []),
    ("request.assistance", "困难救助求助", TicketKind.REQUEST, "求助", "civil_affairs", False, []),
    (
        "suggestion.service",
        "政务服务建议",
        TicketKind.SUGGESTION,
        "建议",
        "government_service",
        False,
        [],
    ),
    (
        "suggestion.city",
        "城市建设建议",
        TicketKind.SUGGESTION,
        "建议",
        "housing_construction",
        False,
        [],
    ),
]


def load(report) -> None:
    users = get_user_model().objects
    admin = users.filter(username="admin").first()
    operator = users.filter(username="huarong_hotline").first()
    if admin is None or operator is None:
        return  # the org demo (which creates the logins) did not run
    huarong = Region.objects.get(code=HUARONG)
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    _categories(report, admin)
    _synonyms(report, operator, data["synonyms"])
    _entries(report, admin, huarong, data["entries"])
    _tickets(report, admin, operator, huarong)


def _categories(report, admin) -> None:
    for order, (code, name, kind, group, department_kind, located, attributes) in enumerate(
        CATEGORIES, start=1
    ):
        exists = TicketCategory.objects.filter(code=code).exists()
        report.count("hotline ticket categories", not exists)
        if not exists:
            services.ticket_category_save(
                actor=admin,
                code=code,
                name=name,
                kind=kind,
                group=group,
                default_department_kind=department_kind,
                location_required=located,
                attributes=attributes,
                order=order * 10,
            )


def _synonyms(report, operator, groups: list[list[str]]) -> None:
    for terms in groups:
        exists = SynonymGroup.objects.filter(name=terms[0]).exists()
        report.count("hotline synonym groups", not exists)
        if not exists:
            services.synonym_group_create(actor=operator, name=terms[0], terms=terms)


def _entries(report, admin, huarong: Region, entries: list[dict]) -> None:
    regions = {HUARONG: huarong}
    for item in entries:
        code = str(item.get("region") or HUARONG).ljust(12, "0")
        region = regions.get(code) or regions.setdefault(code, Region.objects.get(code=code))
        exists = KnowledgeEntry.objects.filter(region=region, question=item["question"]).exists()
        report.count("hotline knowledge entries", not exists)
        if exists:
            continue
        kind = item.get("department")
        department = department_by_kind(code, kind) if kind else None
        services.knowledge_entry_create(
            actor=admin,
            region=region,
            department=department,
            question=item["question"],
            answer=item["answer"],
            tags=item.get("tags", []),
            publish=True,
        )


def _working_days_before(day: dt.date, n: int) -> dt.date:
    while n > 0:
        day -= dt.timedelta(days=1)
        if is_working_day(day).working:
            n -= 1
    return day


# title, category, caller, description, what happens (department kind and steps)
TICKETS = [
    (
        "咨询新生儿上户口材料",
        "consultation.service",
        "13807301001",
        "孩子刚出生，想问上户口需要准备什么材料。",
        {"knowledge": "新生儿怎么上户口？"},
    ),
    (
        "咨询营业执照办理",
        "consultation.service",
        "13807301002",
        "想开个小卖部，问营业执照怎么办、要多久。",
        {"knowledge": "个体工商户怎么办理营业执照？", "satisfaction": "very_satisfied"},
    ),
    (
        "章华镇某超市销售过期牛奶",
        "complaint.market",
        "13807301003",
        "在章华镇人民路某超市买到过期三天的牛奶，要求处理。",
        {
            "department": "market_regulation",
            "dispatched": 2,
            "address": "章华镇人民路",
            "attributes": {"respondent": "章华镇某超市", "loss": "yes"},
        },
    ),
    (
        "某餐馆后厨卫生差",
        "complaint.market",
        "13807301004",
        "县城某餐馆后厨苍蝇多、餐具不消毒。",
        {
            "department": "market_regulation",
            "dispatched": 12,
            "address": "县城沿河路",
            "attributes": {"respondent": "沿河路某餐馆"},
        },
    ),
    (
        "工地拖欠农民工工资",
        "complaint.wages",
        "13807301005",
        "在县城某建筑工地做了三个月，工资一直没结，共两万多元。",
        {
            "department": "human_resources_social_security",
            "dispatched": 15,
            "answered": 3,
            "answer": "经劳动保障监察大队调查，已责令施工单位于5日内足额支付工资。",
            "satisfaction": "satisfied",
            "attributes": {"employer": "某建筑公司", "amount": "21600"},
        },
    ),
    (
        "夜间施工噪音扰民",
        "complaint.urban",
        "13807301006",
        "东山路工地每晚施工到凌晨一点，严重影响休息。",
        {
            "department": "urban_management",
            "dispatched": 8,
            "answered": 2,
            "answer": "已到场查处，责令该工地夜间22时后停止施工。",
            "satisfaction": "dissatisfied",
            "address": "东山路",
        },
    ),
    (
        "小区物业乱收停车费",
        "complaint.property",
        "13807301007",
        "小区物业未经业主大会同意上调停车费。",
        {
            "department": "natural_resources",
            "dispatched": 1,
            "returned": "物业服务收费不属于自然资源局职责，请派住建局。",
            "address": "华容县某小区",
        },
    ),
    (
        "村里停水三天",
        "request.water",
        "13807301008",
        "治河渡镇某村自来水已停三天，没有通知。",
        {
            "department": "water_resources",
            "dispatched": 4,
            "answered": 1,
            "answer": "系主管道破裂，已于次日抢修恢复供水，并要求供水站今后提前通知。",
            "address": "治河渡镇某村",
        },
    ),
    (
        "农村客运班次太少",
        "request.road",
        "13807301009",
        "万庾镇到县城每天只有两班车，建议增加。",
        {"department": "transport", "dispatched": 4, "address": "万庾镇至县城线路"},
    ),
    (
        "建议政务大厅周末开放",
        "suggestion.service",
        "13807301010",
        "上班族工作日没时间办事，建议周六上午开放部分窗口。",
        {},
    ),
    (
        "建议县城增设公共自行车",
        "suggestion.city",
        "13807301011",
        "县城公共自行车站点太少，建议在学校和医院附近增设。",
        {"department": "housing_construction", "dispatched": 6},
    ),
]


def _tickets(report, admin, operator, huarong: Region) -> None:
    today = timezone.localdate()
    categories = {c.code: c for c in TicketCategory.objects.all()}
    for title, code, phone, description, plan in TICKETS:
        exists = Ticket.objects.filter(region=huarong, title=title).exists()
        report.count("hotline tickets", not exists)
        if exists:
            continue
        ticket = services.ticket_log_call(
            actor=operator,
            region=huarong,
            category=categories[code],
            title=title,
            description=description,
            caller_phone=phone,
            caller_name="演示来电人",
            address=plan.get("address", ""),
            attributes=plan.get("attributes"),
        )
        if "knowledge" in plan:
            entry = KnowledgeEntry.objects.get(region=huarong, question=plan["knowledge"])
            ticket = services.ticket_answer_from_knowledge(
                actor=operator, ticket=ticket, entry=entry
            )
        elif "department" in plan:
            department = department_by_kind(HUARONG, plan["department"])
            dispatched_on = _working_days_before(today, plan["dispatched"])
            ticket = services.ticket_dispatch(
                actor=operator,
                ticket=ticket,
                department=department,
                recorded_on=dispatched_on,
            )
            if "returned" in plan:
                ticket = services.ticket_return(actor=admin, ticket=ticket, reason=plan["returned"])
            elif "answered" in plan:
                answered_on = _working_days_before(today, plan["answered"])
                ticket = services.ticket_answer(
                    actor=admin, ticket=ticket, answer=plan["answer"], recorded_on=answered_on
                )
        if "satisfaction" in plan:
            ticket = services.ticket_follow_up(
                actor=operator, ticket=ticket, satisfaction=plan["satisfaction"]
            )
    _online_ticket(report, huarong, categories)


def _online_ticket(report, huarong: Region, categories) -> None:
    person = get_user_model().objects.filter(username="zhangsan").first()
    title = "建议延长办事大厅午间服务"
    if person is None:
        return
    exists = Ticket.objects.filter(region=huarong, title=title).exists()
    report.count("hotline tickets", not exists)
    if not exists:
        services.ticket_submit_online(
            actor=person,
            region=huarong,
            category=categories["suggestion.service"],
            title=title,
            description="中午12点到14点半大厅不办事，建议安排轮班窗口。",
            caller_phone="13907301234",
        )
