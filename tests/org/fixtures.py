"""A small slice of Hunan for the org and accounts tests: two counties of 岳阳市 (华容县 with
one township and village, 湘阴县), their market and health bureaus, and users holding roles.
Rows are created directly (fast); the services are what the tests exercise."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import factory
import pytest
from django.contrib.auth import get_user_model

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

_org_bodies = itertools.count(1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True


def make_region(code: str, name: str, level: str, parent: Region | None = None) -> Region:
    path = f"{parent.path}/{code}" if parent else code
    return Region.objects.create(code=code, name=name, level=level, parent=parent, path=path)


def make_department(region: Region, kind: str, name: str | None = None) -> Department:
    body = f"T{next(_org_bodies):07d}"
    return Department.objects.create(
        region=region,
        kind=kind,
        name=name or f"{region.name}{DepartmentKind(kind).label}",
        uscc=make_uscc(authority="1", category="1", region=region.code[:6], org_body=body),
    )


def assign(user, role, *, department=None, region=None, valid_until=None, service_point=None):
    return RoleAssignment.objects.create(
        user=user,
        role=role,
        department=department,
        region=region,
        valid_until=valid_until,
        service_point=service_point,
    )


@pytest.fixture
def tree(db):
    hunan = make_region("430000000000", "湖南省", RegionLevel.PROVINCE)
    yueyang = make_region("430600000000", "岳阳市", RegionLevel.CITY, hunan)
    huarong = make_region("430623000000", "华容县", RegionLevel.COUNTY, yueyang)
    xiangyin = make_region("430624000000", "湘阴县", RegionLevel.COUNTY, yueyang)
    zhanghua = make_region("430623100000", "章华镇", RegionLevel.TOWNSHIP, huarong)
    dongjie = make_region("430623100001", "东街社区", RegionLevel.VILLAGE, zhanghua)
    wenxing = make_region("430624100000", "文星镇", RegionLevel.TOWNSHIP, xiangyin)
    hall = ServicePoint.objects.create(
        code="430623000000-CH1",
        name="华容县政务服务中心大厅",
        kind=PointKind.COUNTY_HALL,
        region=huarong,
        address="华容县章华镇",
        opening_hours="周一至周五",
    )
    return SimpleNamespace(
        hunan=hunan,
        yueyang=yueyang,
        huarong=huarong,
        xiangyin=xiangyin,
        zhanghua=zhanghua,
        dongjie=dongjie,
        wenxing=wenxing,
        hall=hall,
        huarong_market=make_department(huarong, DepartmentKind.MARKET_REGULATION),
        huarong_health=make_department(huarong, DepartmentKind.HEALTH),
        huarong_gov=make_department(huarong, DepartmentKind.GOVERNMENT_SERVICE),
        xiangyin_market=make_department(xiangyin, DepartmentKind.MARKET_REGULATION),
        xiangyin_health=make_department(xiangyin, DepartmentKind.HEALTH),
    )


@pytest.fixture
def platform_admin(db):
    user = UserFactory(username="platform_admin_user")
    assign(user, Role.PLATFORM_ADMIN)
    return user
