import pytest

from yiciban.core.identifiers import make_uscc
from yiciban.org.models import Department, Region, RegionLevel, Role, RoleAssignment

PASSWORD = "Pass-word-for-tests-42"


@pytest.fixture
def huarong(db):
    province = Region.objects.create(
        code="430000000000", name="湖南省", level=RegionLevel.PROVINCE, path="430000000000"
    )
    city = Region.objects.create(
        code="430600000000",
        name="岳阳市",
        level=RegionLevel.CITY,
        parent=province,
        path="430000000000/430600000000",
    )
    return Region.objects.create(
        code="430623000000",
        name="华容县",
        level=RegionLevel.COUNTY,
        parent=city,
        path="430000000000/430600000000/430623000000",
    )


@pytest.fixture
def market_bureau(huarong):
    return Department.objects.create(
        region=huarong,
        name="华容县市场监督管理局",
        kind="market_regulation",
        uscc=make_uscc(authority="1", category="1", region="430623", org_body="MB123456"),
    )


@pytest.fixture
def clerk(django_user_model, huarong):
    user = django_user_model.objects.create_user(
        username="clerk", password=PASSWORD, is_staff=True, display_name="李四"
    )
    RoleAssignment.objects.create(user=user, role=Role.COUNTER_CLERK, region=huarong)
    return user


@pytest.fixture
def applicant(django_user_model, db):
    return django_user_model.objects.create_user(username="resident", password=PASSWORD)
