"""A county with a market bureau and a health bureau, an enterprise, a person, the business
licence type and two permit types, and the staff who sign them. Keys live in a fresh
instance folder per test."""

import datetime as dt
from types import SimpleNamespace

import pytest

from tests.accounts.helpers import HUARONG_FOOD_USCC, ZHANGSAN_ID
from tests.org.fixtures import UserFactory, assign, platform_admin, tree  # noqa: F401
from yiciban.accounts.models import Authorisation, AuthorisationKind, Enterprise, Person
from yiciban.accounts.selectors import id_number_index
from yiciban.core import crypto
from yiciban.licences.models import LicenceType
from yiciban.org.models import DepartmentKind, Role


@pytest.fixture(autouse=True)
def _own_key_folder(settings, tmp_path):
    settings.INSTANCE_DIR = tmp_path


def make_person(name: str, id_number: str, region=None) -> Person:
    return Person.objects.create(
        name=name,
        id_number_encrypted=crypto.encrypt(id_number),
        id_number_index=id_number_index(id_number),
        id_number_masked=id_number[:6] + "********" + id_number[-4:],
        region=region,
    )


@pytest.fixture
def world(tree):  # noqa: F811
    business = LicenceType.objects.create(
        code="business_licence",
        name="营业执照",
        department_kind=DepartmentKind.MARKET_REGULATION,
        is_business_licence=True,
        data_category="market_entity_registration",
        fields=[
            {"code": "entity_type", "label": "类型", "required": True},
            {"code": "legal_representative", "label": "法定代表人"},
            {
                "code": "business_scope",
                "label": "经营范围",
                "element": "enterprise.business_scope",
            },
        ],
    )
    food = LicenceType.objects.create(
        code="food_business_permit",
        name="食品经营许可证",
        department_kind=DepartmentKind.MARKET_REGULATION,
        validity_years=5,
        number_prefix="JY",
        data_category="food_business_permits",
        fields=[{"code": "premises", "label": "经营场所", "required": True}],
    )
    hygiene = LicenceType.objects.create(
        code="public_hygiene_permit",
        name="公共场所卫生许可证",
        department_kind=DepartmentKind.HEALTH,
        validity_years=4,
        number_prefix="WS",
        fields=[{"code": "venue", "label": "场所"}],
    )
    approver = UserFactory(username="market_approver")
    assign(approver, Role.APPROVER, department=tree.huarong_market)
    approver2 = UserFactory(username="market_approver_2")
    assign(approver2, Role.APPROVER, department=tree.huarong_market)
    reviewer = UserFactory(username="market_reviewer")
    assign(reviewer, Role.REVIEWER, department=tree.huarong_market)
    health_approver = UserFactory(username="health_approver")
    assign(health_approver, Role.APPROVER, department=tree.huarong_health)
    other_county = UserFactory(username="xiangyin_market_approver")
    assign(other_county, Role.APPROVER, department=tree.xiangyin_market)
    boss_user = UserFactory(username="food_boss", is_staff=False)
    boss = make_person("王丽", ZHANGSAN_ID, tree.huarong)
    boss.user = boss_user
    boss.save()
    enterprise = Enterprise.objects.create(
        uscc=HUARONG_FOOD_USCC,
        name="华容县洞庭芥菜食品有限公司",
        legal_representative=boss,
        registered_address="华容县章华镇工业园8号",
        region=tree.huarong,
    )
    Authorisation.objects.create(
        person=boss,
        enterprise=enterprise,
        kind=AuthorisationKind.LEGAL_REPRESENTATIVE,
        valid_from=dt.date(2020, 1, 1),
    )
    return SimpleNamespace(
        tree=tree,
        market=tree.huarong_market,
        health=tree.huarong_health,
        business=business,
        food=food,
        hygiene=hygiene,
        approver=approver,
        approver2=approver2,
        reviewer=reviewer,
        health_approver=health_approver,
        other_county=other_county,
        boss=boss,
        boss_user=boss_user,
        enterprise=enterprise,
    )


def issue_business(world, **extra):
    from yiciban.licences import services

    return services.licence_issue(
        actor=world.approver,
        licence_type=world.business,
        issuing_department=world.market,
        enterprise=world.enterprise,
        fields={"entity_type": "有限责任公司", "business_scope": "芥菜制品加工、销售"},
        **extra,
    )


def issue_food(world, **extra):
    from yiciban.licences import services

    return services.licence_issue(
        actor=world.approver,
        licence_type=world.food,
        issuing_department=world.market,
        enterprise=world.enterprise,
        fields={"premises": "华容县章华镇工业园8号"},
        **extra,
    )
