"""Demo licence types and licences: the Lanshan leather-and-toy maker of 一照通 holds its
business licence and two permits, the Huarong mustard-greens company a business licence and
a food production permit. Issued through the services by the demo administrator (a platform
admin signs for any department); matched by (type, enterprise), so a second load creates
nothing."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from yiciban.accounts.models import Enterprise
from yiciban.org.selectors import department_by_kind

from . import services
from .models import Licence, LicenceStatus, LicenceType

BUSINESS_FIELDS = [
    {"code": "entity_type", "label": "类型", "required": True},
    {"code": "legal_representative", "label": "法定代表人"},
    {"code": "registered_capital", "label": "注册资本"},
    {"code": "business_scope", "label": "经营范围", "element": "enterprise.business_scope"},
    {"code": "address", "label": "住所"},
]

TYPES = [
    dict(
        code="business_licence",
        name="营业执照",
        department_kind="market_regulation",
        validity_years=None,
        is_business_licence=True,
        number_prefix="",
        data_category="market_entity_registration",
        fields=BUSINESS_FIELDS,
    ),
    dict(
        code="food_production_permit",
        name="食品生产许可证",
        department_kind="market_regulation",
        validity_years=5,
        number_prefix="SC",
        data_category="food_production_permits",
        fields=[
            {"code": "food_category", "label": "食品类别", "required": True},
            {"code": "production_address", "label": "生产地址"},
        ],
    ),
    dict(
        code="special_equipment_registration",
        name="特种设备使用登记证",
        department_kind="market_regulation",
        validity_years=None,
        number_prefix="TS",
        data_category="special_equipment_registration",
        fields=[
            {"code": "equipment", "label": "设备种类", "required": True},
            {"code": "location", "label": "使用地点"},
        ],
    ),
    dict(
        code="pollutant_discharge_registration",
        name="固定污染源排污登记回执",
        department_kind="ecology_environment",
        validity_years=5,
        number_prefix="PW",
        data_category="pollutant_discharge",
        fields=[
            {"code": "pollutants", "label": "污染物种类", "required": True},
            {"code": "outlet", "label": "排放口"},
        ],
    ),
]

# (USCC, type code, region of the issuing department, fields, issued on)
LICENCES = [
    (
        "91431127MA4LQ7T25H",
        "business_licence",
        "431127",
        {
            "entity_type": "有限责任公司（自然人投资或控股）",
            "legal_representative": "雷建国",
            "registered_capital": "伍佰万元整",
            "business_scope": "皮革制品、玩具制造与销售；货物进出口",
            "address": "蓝山县塔峰镇湘粤边界皮具玩具产业园3号厂房",
        },
        dt.date(2021, 6, 8),
    ),
    (
        "91431127MA4LQ7T25H",
        "special_equipment_registration",
        "431127",
        {"equipment": "场（厂）内专用机动车辆（叉车）", "location": "3号厂房"},
        dt.date(2021, 6, 8),
    ),
    (
        "91431127MA4LQ7T25H",
        "pollutant_discharge_registration",
        "431127",
        {"pollutants": "挥发性有机物（喷漆废气）", "outlet": "DA001"},
        dt.date(2021, 6, 8),
    ),
    (
        "91430623MA4PK2N83B",
        "business_licence",
        "430623",
        {
            "entity_type": "有限责任公司",
            "business_scope": "芥菜种植、收购、加工与销售",
            "address": "华容县章华镇工业园芥菜产业区8号",
        },
        dt.date(2022, 3, 15),
    ),
    (
        "91430623MA4PK2N83B",
        "food_production_permit",
        "430623",
        {"food_category": "蔬菜制品（酱腌菜）", "production_address": "华容县章华镇工业园8号"},
        dt.date(2022, 4, 1),
    ),
]


def load(report) -> None:
    admin = get_user_model().objects.get(username="admin")
    types = {}
    for entry in TYPES:
        found = LicenceType.objects.filter(code=entry["code"]).first()
        report.count("licence types", found is None)
        types[entry["code"]] = found or services.licence_type_create(actor=admin, **entry)
    for uscc, type_code, region, fields, issued_on in LICENCES:
        enterprise = Enterprise.objects.filter(uscc=uscc).first()
        if enterprise is None:  # the accounts demo did not load this enterprise
            continue
        licence_type = types[type_code]
        exists = (
            Licence.objects.filter(licence_type=licence_type, enterprise=enterprise)
            .exclude(status=LicenceStatus.REVOKED)
            .exists()
        )
        report.count("licences", not exists)
        if not exists:
            services.licence_issue(
                actor=admin,
                licence_type=licence_type,
                issuing_department=department_by_kind(region, licence_type.department_kind),
                enterprise=enterprise,
                fields=fields,
                issued_on=issued_on,
                source_reference="demo",
            )
