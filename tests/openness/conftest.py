"""A slice of 华容县 for the openness tests: the county, two townships (one under 统一发布),
a village, the county's 政务服务中心 and market bureau, the county hall, the standard
columns, and staff holding the roles the openness rules name. Rows are created directly;
the services are what the tests exercise."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from yiciban.core.identifiers import make_uscc
from yiciban.notifications.models import Notification
from yiciban.openness import services
from yiciban.openness.models import Column, PublishingMode, RegionPublishing
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


def _region(code, name, level, parent=None):
    path = f"{parent.path}/{code}" if parent else code
    return Region.objects.create(code=code, name=name, level=level, parent=parent, path=path)


def _department(region, kind, body):
    return Department.objects.create(
        region=region,
        kind=kind,
        name=f"{region.name}{DepartmentKind(kind).label}",
        uscc=make_uscc(authority="1", category="1", region=region.code[:6], org_body=body),
    )


def _user(username, role=None, **scope):
    # No password: tests sign in with force_login, and hashing one per user would cost
    # a third of a second each.
    user = get_user_model().objects.create_user(username=username, is_staff=role is not None)
    if role:
        RoleAssignment.objects.create(user=user, role=role, **scope)
    return user


@pytest.fixture
def place(db):
    hunan = _region("430000000000", "湖南省", RegionLevel.PROVINCE)
    yueyang = _region("430600000000", "岳阳市", RegionLevel.CITY, hunan)
    county = _region("430623000000", "华容县", RegionLevel.COUNTY, yueyang)
    township = _region("430623100000", "章华镇", RegionLevel.TOWNSHIP, county)
    unified_township = _region("430623101000", "治河渡镇", RegionLevel.TOWNSHIP, county)
    village = _region("430623100201", "东街社区", RegionLevel.VILLAGE, township)
    unified_village = _region("430623101201", "治河渡村", RegionLevel.VILLAGE, unified_township)
    other_county = _region("430624000000", "湘阴县", RegionLevel.COUNTY, yueyang)
    government_service = _department(county, DepartmentKind.GOVERNMENT_SERVICE, "PN000001")
    market = _department(county, DepartmentKind.MARKET_REGULATION, "PN000002")
    other_market = _department(other_county, DepartmentKind.MARKET_REGULATION, "PN000003")
    hall = ServicePoint.objects.create(
        code="430623-HALL",
        name="华容县政务服务中心",
        kind=PointKind.COUNTY_HALL,
        region=county,
        address="华容县章华镇华容大道1号",
        opening_hours="周一至周五 8:30-12:00 14:30-17:30",
        phone="0730-4221234",
    )
    station = ServicePoint.objects.create(
        code="430623100201-ST",
        name="东街社区便民服务站",
        kind=PointKind.VILLAGE_STATION,
        region=village,
        address="章华镇东街",
        opening_hours="周一至周六 9:00-17:00",
    )
    RegionPublishing.objects.create(region=unified_township, mode=PublishingMode.UNIFIED)
    people = SimpleNamespace(
        county_editor=_user("county_editor", Role.OPENNESS_EDITOR, region=county),
        county_editor2=_user("county_editor2", Role.OPENNESS_EDITOR, region=county),
        township_editor=_user("township_editor", Role.OPENNESS_EDITOR, region=township),
        unified_editor=_user("unified_editor", Role.OPENNESS_EDITOR, region=unified_township),
        village_editor=_user("village_editor", Role.OPENNESS_EDITOR, region=village),
        supervisor=_user("county_supervisor", Role.SUPERVISOR, region=county),
        township_supervisor=_user("township_supervisor", Role.SUPERVISOR, region=township),
        service_admin=_user("service_admin", Role.DEPARTMENT_ADMIN, department=government_service),
        market_admin=_user("market_admin", Role.DEPARTMENT_ADMIN, department=market),
        other_market_admin=_user(
            "other_market_admin", Role.DEPARTMENT_ADMIN, department=other_market
        ),
        clerk=_user("clerk", Role.COUNTER_CLERK, region=county),
        other_editor=_user("other_editor", Role.OPENNESS_EDITOR, region=other_county),
        nobody=_user("nobody"),
    )
    for region in (county, township, unified_township, village, unified_village):
        services.columns_provision(actor=people.county_editor, region=region)
    return SimpleNamespace(
        county=county,
        township=township,
        unified_township=unified_township,
        village=village,
        unified_village=unified_village,
        other_county=other_county,
        government_service=government_service,
        market=market,
        other_market=other_market,
        hall=hall,
        station=station,
        people=people,
    )


def column(region, kind="policy") -> Column:
    return Column.objects.get(region=region, kind=kind)


def published_article(
    place, *, region=None, column_kind="policy", title="关于做好春耕生产的通知", **extra
):
    """An article taken through draft → submit → approve (published now)."""
    region = region or place.county
    people = place.people
    article = services.article_create(
        actor=people.county_editor,
        column=column(region, column_kind),
        title=title,
        body=extra.pop("body", "各乡镇：请做好春耕备耕工作。"),
        **extra,
    )
    services.article_submit(actor=people.county_editor, article=article)
    return services.article_approve(actor=people.supervisor, article=article)


def notifications(kind: str):
    return Notification.objects.filter(kind=kind).order_by("id")


def aware(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))
