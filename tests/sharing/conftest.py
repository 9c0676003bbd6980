"""A small world for data sharing: 津市市 with its tax, housing and registration (natural
resources) departments, their staff, a buyer with a login, and three categories."""

from types import SimpleNamespace

import pytest
from django.test import Client

from tests.org.fixtures import UserFactory, assign, make_department, make_region
from yiciban.accounts import services as account_services
from yiciban.org.models import DepartmentKind, RegionLevel, Role
from yiciban.sharing import services

BUYER_ID = "430781199001010014"
OTHER_ID = "430781198805050025"


def _staff(username, role, **scope):
    user = UserFactory(username=username, display_name=username)
    assign(user, role, **scope)
    return user


@pytest.fixture
def world(db):
    hunan = make_region("430000000000", "湖南省", RegionLevel.PROVINCE)
    changde = make_region("430700000000", "常德市", RegionLevel.CITY, hunan)
    jinshi = make_region("430781000000", "津市市", RegionLevel.COUNTY, changde)
    tax = make_department(jinshi, DepartmentKind.TAX)
    housing = make_department(jinshi, DepartmentKind.HOUSING_CONSTRUCTION)
    registry = make_department(jinshi, DepartmentKind.NATURAL_RESOURCES)
    admin = _staff("admin", Role.PLATFORM_ADMIN)
    w = SimpleNamespace(
        jinshi=jinshi,
        tax=tax,
        housing=housing,
        registry=registry,
        admin=admin,
        tax_officer=_staff("tax_officer", Role.REVIEWER, department=tax),
        tax_admin=_staff("tax_admin", Role.DEPARTMENT_ADMIN, department=tax),
        housing_officer=_staff("housing_officer", Role.REVIEWER, department=housing),
        housing_admin=_staff("housing_admin", Role.DEPARTMENT_ADMIN, department=housing),
        registrar=_staff("registrar", Role.REVIEWER, department=registry),
        # a county-wide counter clerk is not staff of every department
        county_clerk=_staff("county_clerk", Role.COUNTER_CLERK, region=jinshi),
    )
    w.buyer_user = UserFactory(username="buyer", is_staff=False)
    w.buyer = account_services.person_register(
        actor=admin, name="周敏", id_number=BUYER_ID, phone="13800000011", user=w.buyer_user
    )
    w.other = account_services.person_register(
        actor=admin, name="陈华", id_number=OTHER_ID, phone="13800000012"
    )
    for code, name, owner in (
        ("tax_payment", "契税等税款缴纳信息", DepartmentKind.TAX),
        ("contract_filing", "商品房买卖合同网签备案信息", DepartmentKind.HOUSING_CONSTRUCTION),
        ("household_registration", "户籍信息", DepartmentKind.PUBLIC_SECURITY),
    ):
        services.category_ensure(code=code, name=name, owner_kind=owner, subject_kind="person")
    return w


@pytest.fixture
def client_for():
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make
