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
    {"code": "entity_type", "label": "类型", "required": True, "element": "enterprise.entity_type"},
    {"code": "legal_representative", "label": "法定代表人", "element": "legal_rep.name"},
    {"code": "registered_capital", "label": "注册资本", "element": "enterprise.registered_capital"},
    {"code": "business_scope", "label": "经营范围", "element": "enterprise.business_scope"},
    {"code": "address", "label": "住所", "element": "enterprise.address"},
]


def _f(code: str, label: str, element: str, required: bool = False) -> dict:
    spec = {"code": code, "label": label, "element": element}
    if required:
        spec["required"] = True
    return spec


LEGAL_REP = _f("legal_representative", "法定代表人（负责人）", "legal_rep.name")
PREMISES = _f("premises", "经营场所", "premises.address")

# (code, name, issuing department kind, years valid or None, number prefix, shared data
# category, printed fields) — one per `output_licence_type` of the demo catalogue
# (demo/catalog/items-*.yaml), so every approved demo item is delivered as an e-licence.
_PERMITS = [
    (
        "food_production_permit",
        "食品生产许可证",
        "market_regulation",
        5,
        "SC",
        "food_production_permits",
        [
            _f("food_category", "食品类别", "food.category", True),
            _f("production_address", "生产地址", "premises.address"),
        ],
    ),
    (
        "food_business_licence",
        "食品经营许可证",
        "market_regulation",
        5,
        "JY",
        "",
        [
            LEGAL_REP,
            PREMISES,
            _f("business_items", "经营项目", "food.business_items"),
            _f("safety_manager", "食品安全管理人员", "food.safety_manager"),
        ],
    ),
    (
        "food_workshop_registration",
        "食品小作坊登记证",
        "market_regulation",
        3,
        "XZF",
        "",
        [LEGAL_REP, PREMISES, _f("products", "生产品种", "food.workshop_products")],
    ),
    (
        "drug_business_licence",
        "药品经营许可证",
        "market_regulation",
        5,
        "YP",
        "",
        [
            LEGAL_REP,
            PREMISES,
            _f("scope", "经营范围", "drug.business_scope"),
            _f("pharmacist", "质量负责人（执业药师）", "drug.pharmacist_name"),
        ],
    ),
    (
        "medical_device_filing",
        "第二类医疗器械经营备案凭证",
        "market_regulation",
        None,
        "XBA",
        "",
        [LEGAL_REP, PREMISES, _f("categories", "经营范围", "device.categories")],
    ),
    (
        "special_equipment_registration",
        "特种设备使用登记证",
        "market_regulation",
        None,
        "TS",
        "special_equipment_registration",
        [
            _f("equipment", "设备种类", "special_equipment.kinds", True),
            _f("location", "使用地点", "premises.address"),
        ],
    ),
    (
        "fire_safety_check_permit",
        "公众聚集场所投入使用、营业前消防安全检查意见书",
        "fire_rescue",
        None,
        "XF",
        "fire_acceptance",
        [PREMISES, _f("max_occupancy", "最大容纳人数", "fire.max_occupancy")],
    ),
    (
        "outdoor_ad_permit",
        "户外广告设施设置许可决定书",
        "urban_management",
        3,
        "GG",
        "",
        [_f("location", "设置地点", "ad.location"), _f("size_m2", "面积（平方米）", "ad.size_m2")],
    ),
    (
        "alcohol_filing",
        "酒类经营备案登记表（回执）",
        "commerce",
        None,
        "JL",
        "",
        [PREMISES, _f("categories", "经营品种", "alcohol.categories")],
    ),
    (
        "tobacco_retail_licence",
        "烟草专卖零售许可证",
        "tobacco",
        5,
        "YC",
        "tobacco_retail_permits",
        [LEGAL_REP, PREMISES],
    ),
    (
        "pollutant_registration",
        "固定污染源排污登记回执",
        "ecology_environment",
        5,
        "PW",
        "pollutant_discharge",
        [
            _f("pollutants", "污染物种类", "pollution.sources", True),
            _f("outlet", "排放口", "pollution.outlet"),
        ],
    ),
    (
        "drainage_permit",
        "城镇污水排入排水管网许可证",
        "housing_construction",
        5,
        "PS",
        "",
        [PREMISES, _f("daily_volume_m3", "日排水量（立方米）", "drainage.daily_volume_m3")],
    ),
    (
        "real_estate_first_registration",
        "不动产登记证明（首次登记）",
        "natural_resources",
        None,
        "BDCZM",
        "real_estate_enterprise_registration",
        [
            _f("project", "项目名称", "project.name"),
            _f("location", "坐落", "project.address"),
            _f("area_m2", "建筑面积（平方米）", "project.building_area_m2"),
        ],
    ),
    (
        "real_estate_title",
        "不动产权证书",
        "natural_resources",
        None,
        "BDCQ",
        "real_estate_registration",
        [_f("location", "坐落", "house.address"), _f("area_m2", "面积（平方米）", "house.area_m2")],
    ),
    (
        "pesticide_business_licence",
        "农药经营许可证",
        "agriculture_rural",
        5,
        "NYJY",
        "",
        [LEGAL_REP, PREMISES, _f("scope", "经营范围", "agri.pesticide_scope")],
    ),
    (
        "vet_drug_business_licence",
        "兽药经营许可证",
        "agriculture_rural",
        5,
        "SYJY",
        "",
        [LEGAL_REP, PREMISES, _f("scope", "经营范围", "agri.vet_drug_scope")],
    ),
    (
        "seed_business_licence",
        "农作物种子生产经营许可证",
        "agriculture_rural",
        5,
        "ZZ",
        "",
        [LEGAL_REP, PREMISES, _f("crops", "生产经营作物", "agri.seed_crops")],
    ),
    (
        "road_transport_licence",
        "道路运输经营许可证",
        "transport",
        4,
        "DY",
        "road_transport_permits",
        [LEGAL_REP, _f("vehicle_count", "车辆数", "transport.vehicle_count")],
    ),
    (
        "vehicle_repair_filing",
        "机动车维修经营备案回执",
        "transport",
        None,
        "WX",
        "",
        [LEGAL_REP, PREMISES, _f("category", "维修经营类别", "transport.repair_category")],
    ),
    (
        "driver_training_filing",
        "机动车驾驶员培训备案回执",
        "transport",
        None,
        "JP",
        "",
        [LEGAL_REP, PREMISES, _f("category", "培训车型", "transport.training_category")],
    ),
    (
        "special_trade_licence",
        "特种行业许可证",
        "public_security",
        None,
        "TH",
        "",
        [LEGAL_REP, PREMISES],
    ),
    (
        "scrap_metal_filing",
        "废旧金属收购业备案回执",
        "public_security",
        None,
        "FJ",
        "",
        [LEGAL_REP, PREMISES, _f("kinds", "收购品种", "scrap.kinds")],
    ),
    (
        "public_venue_hygiene_licence",
        "公共场所卫生许可证",
        "health",
        4,
        "WS",
        "",
        [LEGAL_REP, PREMISES, _f("venue_kinds", "场所类别", "venue.kinds")],
    ),
    (
        "clinic_filing",
        "诊所备案凭证",
        "health",
        None,
        "ZS",
        "",
        [LEGAL_REP, PREMISES, _f("subjects", "诊疗科目", "clinic.subjects")],
    ),
    (
        "entertainment_licence",
        "娱乐经营许可证",
        "culture_tourism",
        2,
        "YL",
        "",
        [LEGAL_REP, PREMISES, _f("kind", "经营类别", "entertainment.kind")],
    ),
    (
        "internet_cafe_licence",
        "网络文化经营许可证",
        "culture_tourism",
        3,
        "WW",
        "",
        [LEGAL_REP, PREMISES, _f("terminals", "终端数", "internet_cafe.terminal_count")],
    ),
    (
        "publications_licence",
        "出版物经营许可证",
        "culture_tourism",
        6,
        "CB",
        "",
        [LEGAL_REP, PREMISES, _f("scope", "经营范围", "publications.scope")],
    ),
    (
        "hazardous_chemicals_licence",
        "危险化学品经营许可证",
        "emergency_management",
        3,
        "WH",
        "safety_production_permits",
        [LEGAL_REP, PREMISES, _f("chemicals", "经营品种", "chemicals.names")],
    ),
    (
        "residence_permit",
        "湖南省居住证",
        "public_security",
        None,
        "JZ",
        "",
        [_f("address", "居住地址", "applicant.address")],
    ),
    (
        "birth_medical_certificate",
        "出生医学证明",
        "health",
        None,
        "CS",
        "birth_certificates",
        [_f("child", "新生儿姓名", "child.name"), _f("birth_date", "出生日期", "child.birth_date")],
    ),
    (
        "household_register_page",
        "居民户口簿（新生儿页）",
        "public_security",
        None,
        "HK",
        "household_registration",
        [_f("child", "姓名", "child.name"), _f("address", "住址", "household.address")],
    ),
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
] + [
    dict(
        code=code,
        name=name,
        department_kind=kind,
        validity_years=years,
        number_prefix=prefix,
        data_category=category,
        fields=fields,
    )
    for code, name, kind, years, prefix, category, fields in _PERMITS
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
        "pollutant_registration",
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
