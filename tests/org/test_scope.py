"""Role AND scope: who may act where (selectors.has_role and friends)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from tests.org.fixtures import UserFactory, assign, make_department
from yiciban.core.errors import NotFound, PermissionDenied
from yiciban.org import selectors
from yiciban.org.models import DepartmentKind, Region, Role

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def huarong_health_reviewer(tree):
    user = UserFactory(username="huarong_health_reviewer")
    assign(user, Role.REVIEWER, department=tree.huarong_health)
    return user


@pytest.mark.django_db
def test_cross_county_refusal(tree, huarong_health_reviewer):
    """A 华容县 health reviewer has no role for 湘阴县's health bureau, nor for 华容县's
    market regulator."""
    user = huarong_health_reviewer
    assert selectors.has_role(user, Role.REVIEWER, department=tree.huarong_health)
    assert not selectors.has_role(user, Role.REVIEWER, department=tree.xiangyin_health)
    assert not selectors.has_role(user, Role.REVIEWER, department=tree.huarong_market)
    assert not selectors.has_role(user, Role.REVIEWER, region=tree.xiangyin)
    assert not selectors.has_role(
        user, Role.REVIEWER, department=tree.xiangyin_health, region=tree.xiangyin
    )
    with pytest.raises(PermissionDenied) as exc:
        selectors.require_role(user, Role.REVIEWER, department=tree.xiangyin_health)
    assert "湘阴县" in exc.value.message
    assert exc.value.code == "role_required"


@pytest.mark.django_db
def test_a_role_is_not_another_role(tree, huarong_health_reviewer):
    assert not selectors.has_role(
        huarong_health_reviewer, Role.APPROVER, department=tree.huarong_health
    )


@pytest.mark.django_db
def test_department_assignment_reads_its_region_and_below(tree, huarong_health_reviewer):
    user = huarong_health_reviewer
    assert selectors.has_role(user, Role.REVIEWER)  # somewhere
    assert selectors.has_role(user, Role.REVIEWER, region=tree.huarong)
    assert selectors.has_role(user, Role.REVIEWER, region=tree.dongjie)  # a village of 华容县
    assert not selectors.has_role(user, Role.REVIEWER, region=tree.yueyang)  # the whole city


@pytest.mark.django_db
def test_region_assignment_covers_descendants_and_their_departments(tree):
    clerk = UserFactory()
    assign(clerk, Role.COUNTER_CLERK, region=tree.huarong)
    assert selectors.has_role(clerk, Role.COUNTER_CLERK, region=tree.huarong)
    assert selectors.has_role(clerk, Role.COUNTER_CLERK, region=tree.zhanghua)
    assert selectors.has_role(clerk, Role.COUNTER_CLERK, region=tree.dongjie)
    assert selectors.has_role(clerk, Role.COUNTER_CLERK, department=tree.huarong_market)
    assert not selectors.has_role(clerk, Role.COUNTER_CLERK, region=tree.xiangyin)
    assert not selectors.has_role(clerk, Role.COUNTER_CLERK, region=tree.yueyang)
    assert not selectors.has_role(clerk, Role.COUNTER_CLERK, department=tree.xiangyin_market)


@pytest.mark.django_db
def test_township_clerk_accepts_for_a_county_department_in_the_township_only(tree):
    township_clerk = UserFactory()
    assign(township_clerk, Role.COUNTER_CLERK, region=tree.zhanghua)
    # work happening in the township, for the county bureau: covered
    assert selectors.has_role(
        township_clerk, Role.COUNTER_CLERK, department=tree.huarong_market, region=tree.dongjie
    )
    # the county bureau's work in general is not the township's
    assert not selectors.has_role(
        township_clerk, Role.COUNTER_CLERK, department=tree.huarong_market
    )
    assert not selectors.has_role(township_clerk, Role.COUNTER_CLERK, region=tree.huarong)


@pytest.mark.django_db
def test_expired_assignments_count_for_nothing(tree):
    today = dt.date(2025, 6, 2)
    user = UserFactory()
    assign(user, Role.INSPECTOR, department=tree.huarong_market, valid_until=today)
    assert selectors.has_role(user, Role.INSPECTOR, department=tree.huarong_market, on=today)
    assert not selectors.has_role(
        user, Role.INSPECTOR, department=tree.huarong_market, on=today + dt.timedelta(days=1)
    )
    with time_machine.travel(dt.datetime(2025, 6, 3, 0, 30, tzinfo=SHANGHAI), tick=False):
        assert not selectors.has_role(user, Role.INSPECTOR, department=tree.huarong_market)
        assert not selectors.role_assignments_for(user).exists()
    with time_machine.travel(dt.datetime(2025, 6, 2, 23, 30, tzinfo=SHANGHAI), tick=False):
        assert selectors.has_role(user, Role.INSPECTOR, department=tree.huarong_market)


@pytest.mark.django_db
def test_platform_admin_covers_everything(tree, platform_admin):
    for role in Role.values:
        assert selectors.has_role(platform_admin, role, department=tree.xiangyin_health)
        assert selectors.has_role(platform_admin, role, region=tree.dongjie)
    assert selectors.departments_covered(platform_admin, Role.REVIEWER).count() == 5


@pytest.mark.django_db
def test_expired_platform_admin_is_nobody(tree):
    user = UserFactory()
    assign(user, Role.PLATFORM_ADMIN, valid_until=dt.date.today() - dt.timedelta(days=1))
    assert not selectors.is_platform_admin(user)
    assert not selectors.has_role(user, Role.REVIEWER, department=tree.huarong_health)


@pytest.mark.django_db
def test_inactive_and_anonymous_users_hold_nothing(tree):
    user = UserFactory(is_active=False)
    assign(user, Role.COUNTER_CLERK, region=tree.huarong)
    assert not selectors.has_role(user, Role.COUNTER_CLERK, region=tree.huarong)
    assert not selectors.has_role(AnonymousUser(), Role.COUNTER_CLERK)
    assert not selectors.has_role(None, Role.COUNTER_CLERK)
    assert not selectors.is_platform_admin(UserFactory(is_superuser=True, is_active=False))
    assert list(selectors.role_assignments_for(AnonymousUser())) == []


@pytest.mark.django_db
def test_departments_covered(tree):
    user = UserFactory()
    assign(user, Role.REVIEWER, department=tree.huarong_health)
    assign(user, Role.COUNTER_CLERK, region=tree.xiangyin)
    assert list(selectors.departments_covered(user, Role.REVIEWER)) == [tree.huarong_health]
    assert set(selectors.departments_covered(user, Role.COUNTER_CLERK)) == {
        tree.xiangyin_market,
        tree.xiangyin_health,
    }
    assert not selectors.departments_covered(user, Role.APPROVER).exists()


@pytest.mark.django_db
def test_can_assign_roles(tree, platform_admin):
    market_admin = UserFactory()
    assign(market_admin, Role.DEPARTMENT_ADMIN, department=tree.huarong_market)
    assert selectors.can_assign_roles(platform_admin, department=None)
    assert selectors.can_assign_roles(market_admin, department=tree.huarong_market)
    assert not selectors.can_assign_roles(market_admin, department=tree.huarong_health)
    assert not selectors.can_assign_roles(market_admin, department=None)


@pytest.mark.django_db
def test_region_and_descendants(tree):
    codes = set(selectors.region_and_descendants(tree.huarong).values_list("code", flat=True))
    assert codes == {"430623000000", "430623100000", "430623100001"}
    whole_city = selectors.region_and_descendants(tree.yueyang)
    assert whole_city.count() == 6
    assert set(selectors.region_ancestors(tree.dongjie)) == {
        tree.hunan,
        tree.yueyang,
        tree.huarong,
        tree.zhanghua,
    }


@pytest.mark.django_db
def test_department_by_kind(tree):
    assert selectors.department_by_kind("430623", "health") == tree.huarong_health
    assert selectors.department_by_kind("430623000000", "health") == tree.huarong_health
    with pytest.raises(NotFound):
        selectors.department_by_kind("430623", "tax")
    with pytest.raises(NotFound):
        selectors.department_by_kind("431127", "health")
    tax = make_department(tree.huarong, DepartmentKind.TAX)
    tax.is_active = False
    tax.save()
    with pytest.raises(NotFound):
        selectors.department_by_kind("430623", "tax")


@pytest.mark.django_db
def test_region_by_code(tree):
    assert selectors.region_by_code("430623") == tree.huarong
    with pytest.raises(NotFound):
        selectors.region_by_code("431127")
    assert Region.objects.count() == 7
