"""Demo of house delivery with title (交房即交证) in 津市市: 津市市嘉山房地产开发有限公司's
project 嘉山·澧水湾 with 120 units (5 buildings × 12 floors × 2 units). 118 are sold, their
contracts filed by the housing bureau (jinshi_housing); 115 buyers have paid the deed tax
(recorded by jinshi_tax); the completion acceptance is recorded. Unit 1栋101 belongs to the
demo buyer 周敏 (login jinshi_buyer). So the completion filing, when the developer
(jinshi_developer) asks for it, is blocked by three unpaid deed taxes until the tax bureau
records them; then the registration clerk (jinshi_registrar) delivers.

Buyers other than 周敏 are fictitious persons without logins, with generated resident IDs
that pass the GB 11643 check. Idempotent: nothing is written if the project exists."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from yiciban.accounts import selectors as account_selectors
from yiciban.accounts import services as account_services

from . import services
from .models import Project

CODE = "jiashan-lishuiwan"
DEVELOPER = "91430781MA4M6W9H0Q"
DEMO_BUYER = "430781199001010014"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "建华",
    "丽娟",
    "志强",
    "秀英",
    "海燕",
    "国平",
    "玉兰",
    "俊杰",
    "晓红",
    "文斌",
    "春梅",
    "德明",
]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
UNPAID = 3  # sold units whose deed tax the demo leaves unpaid


def _resident_id(index: int) -> str:
    year = 1970 + index % 30
    base = f"430781{year}{1 + index % 12:02d}{1 + index % 28:02d}{index % 1000:03d}"
    return base + "10X98765432"[sum(int(x) * w for x, w in zip(base, WEIGHTS, strict=True)) % 11]


def _buyer(admin, index: int) -> str:
    number = _resident_id(index)
    if account_selectors.person_find_by_id_number(number) is None:
        account_services.person_register(
            actor=admin,
            name=SURNAMES[index % len(SURNAMES)] + GIVEN[index % len(GIVEN)],
            id_number=number,
            phone=f"139{index:08d}",
        )
    return number


def load(report) -> None:
    if Project.objects.filter(code=CODE).exists():
        report.count("housing projects", False)
        return
    users = get_user_model().objects
    admin = users.get(username="admin")
    housing = users.get(username="jinshi_housing")
    tax = users.get(username="jinshi_tax")
    units = [
        {
            "building": str(b),
            "room": f"{floor}{door:02d}",
            "area_m2": f"{86 + 3 * door + b}.{floor % 10}0",
        }
        for b in range(1, 6)
        for floor in range(1, 13)
        for door in (1, 2)
    ]
    project = services.project_register(
        actor=housing,
        code=CODE,
        name="嘉山·澧水湾",
        developer_uscc=DEVELOPER,
        region_code="430781000000",
        address="津市市襄阳街街道新建路88号",
        construction_permit_no="430781202103150101",
        units=units,
    )
    services.presale_permit_record(
        actor=housing, project_id=project.pk, permit_no="津房预售证字（2021）第008号"
    )
    sold = list(project.units.order_by("id"))[:118]  # building, floor, door
    for index, unit in enumerate(sold):
        buyer = DEMO_BUYER if index == 0 else _buyer(admin, index)
        services.unit_contract_file(
            actor=housing,
            unit_id=unit.pk,
            buyer_id_number=buyer,
            contract_no=f"JSHT2021{index + 1:06d}",
            price_yuan=int(unit.area_m2 * 6000),
        )
        if index < len(sold) - UNPAID:
            services.deed_tax_record(
                actor=tax,
                unit_id=unit.pk,
                amount_yuan=int(unit.area_m2 * 6000 * 3 // 100),
                receipt_no=f"JSQS2022{index + 1:06d}",
            )
    services.completion_accept_record(
        actor=housing, project_id=project.pk, accepted_on=timezone.localdate()
    )
    report.count("housing projects")
