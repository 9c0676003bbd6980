"""The demo data set: what it holds, and that loading it (or running `yiciban setup --demo`)
twice changes nothing."""

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model

from yiciban import cli, demo_loader
from yiciban.accounts import selectors as account_selectors
from yiciban.accounts.models import Enterprise, Person
from yiciban.core.identifiers import check_resident_id, check_uscc
from yiciban.org import selectors
from yiciban.org.models import (
    Department,
    DepartmentKind,
    PointKind,
    Region,
    RegionLevel,
    Role,
    ServicePoint,
)

PASSWORD = "Demo@2021"
PLACES = {
    "430623000000": "华容县",
    "430624000000": "湘阴县",
    "431127000000": "蓝山县",
    "430722000000": "汉寿县",
    "430781000000": "津市市",
    "430702000000": "武陵区",
    "431271000000": "怀化高新技术产业开发区",
}


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.fixture
def demo(db):
    return demo_loader.load()


@pytest.mark.django_db
def test_loading_twice_creates_nothing_the_second_time(demo):
    first = _counts()
    again = demo_loader.load()
    assert _counts() == first
    assert set(again.created.values()) == {0}
    assert again.logins == demo.logins


@pytest.mark.django_db
def test_setup_twice_changes_nothing(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    assert cli.main(["setup", "--demo", "--quiet"]) == 0
    first = _counts()
    assert first["core.User"] > 0
    assert cli.main(["setup", "--demo", "--quiet"]) == 0
    assert _counts() == first


@pytest.mark.django_db
def test_huarong_has_14_townships_and_204_villages(demo):
    huarong = Region.objects.get(code="430623000000")
    below = selectors.region_and_descendants(huarong)
    assert below.filter(level=RegionLevel.TOWNSHIP).count() == 14
    villages = below.filter(level=RegionLevel.VILLAGE)
    assert villages.count() == 204
    assert Region.objects.filter(level=RegionLevel.VILLAGE).count() == 204
    for village in villages.select_related("parent"):
        assert len(village.code) == 12 and village.code.isdigit()
        assert village.code.startswith(village.parent.code[:9])
        assert village.code[9:] != "000"
    assert "章华镇" in set(below.filter(level=RegionLevel.TOWNSHIP).values_list("name", flat=True))


@pytest.mark.django_db
def test_the_seven_places_and_hunan(demo):
    assert Region.objects.get(code="430000000000").name == "湖南省"
    places = dict(Region.objects.filter(level=RegionLevel.COUNTY).values_list("code", "name"))
    assert places == PLACES
    assert Region.objects.get(code="431271000000").parent.name == "怀化市"


@pytest.mark.django_db
def test_every_place_has_one_department_of_every_kind_with_a_valid_uscc(demo):
    for code in PLACES:
        kinds = set(Department.objects.filter(region__code=code).values_list("kind", flat=True))
        assert kinds == set(DepartmentKind.values), code
    for uscc in Department.objects.values_list("uscc", flat=True):
        assert check_uscc(uscc).valid, uscc
        assert uscc.startswith("11")
    assert (
        selectors.department_by_kind("430623", "market_regulation").name == "华容县市场监督管理局"
    )


@pytest.mark.django_db
def test_service_points_of_every_kind(demo):
    kinds = set(ServicePoint.objects.values_list("kind", flat=True))
    assert kinds == set(PointKind.values)
    huarong = Region.objects.get(code="430623000000")
    centres = ServicePoint.objects.filter(
        kind=PointKind.TOWNSHIP_CENTRE, region__path__startswith=huarong.path
    )
    assert centres.count() == 14
    assert ServicePoint.objects.filter(kind=PointKind.VILLAGE_STATION).count() > 82
    assert ServicePoint.objects.filter(kind=PointKind.KIOSK_24H).count() >= 3
    park_halls = ServicePoint.objects.filter(kind=PointKind.PARK_HALL)
    assert set(park_halls.values_list("region__code", flat=True)) == {
        "431271000000",
        "430722000000",
    }
    window = ServicePoint.objects.get(kind=PointKind.CROSS_PROVINCE_WINDOW)
    assert window.region.code == "430624000000"
    for county_code in PLACES:
        assert ServicePoint.objects.filter(
            kind=PointKind.COUNTY_HALL, region__code=county_code
        ).exists()
    assert not ServicePoint.objects.filter(address="").exists()
    assert not ServicePoint.objects.filter(opening_hours="").exists()


EXPECTED_LOGINS = {
    "admin": (Role.PLATFORM_ADMIN, None),
    "huarong_clerk": (Role.COUNTER_CLERK, "华容县"),
    "huarong_market_reviewer": (Role.REVIEWER, "华容县市场监督管理局"),
    "huarong_market_approver": (Role.APPROVER, "华容县市场监督管理局"),
    "huarong_health_reviewer": (Role.REVIEWER, "华容县卫生健康局"),
    "huarong_inspector": (Role.INSPECTOR, "华容县市场监督管理局"),
    "hanshou_agent": (Role.ASSISTED_SERVICE_AGENT, "汉寿县"),
    "huarong_editor": (Role.OPENNESS_EDITOR, "华容县"),
    "huarong_hotline": (Role.HOTLINE_OPERATOR, "华容县"),
    "huarong_supervisor": (Role.SUPERVISOR, "华容县"),
    "huarong_market_admin": (Role.DEPARTMENT_ADMIN, "华容县市场监督管理局"),
    "xiangyin_clerk": (Role.COUNTER_CLERK, "湘阴县"),
}


@pytest.mark.django_db
def test_demo_staff_logins_hold_their_roles(demo):
    user_model = get_user_model()
    admin = authenticate(username="admin", password=PASSWORD)
    assert admin is not None
    for username, (role, scope) in EXPECTED_LOGINS.items():
        user = user_model.objects.get(username=username)
        # one PBKDF2 check is enough: the demo logins share the password's hash
        assert user.password == admin.password, username
        assert user.is_staff
        assert user.is_superuser == (username == "admin")
        (assignment,) = selectors.role_assignments_for(user)
        assert assignment.role == role
        assert (scope is None and assignment.department is None and assignment.region is None) or (
            assignment.scope_label == scope
        )
    # other apps' demos may add logins of their own; these are the agreed ones
    printed = {login[0]: login for login in demo.logins}
    assert set(EXPECTED_LOGINS) | {"zhangsan", "lanshan_boss"} <= set(printed)
    assert all(login[1] == PASSWORD for login in demo.logins)


@pytest.mark.django_db
def test_cross_county_refusal_with_the_demo_logins(demo):
    reviewer = authenticate(username="huarong_health_reviewer", password=PASSWORD)
    assert selectors.has_role(
        reviewer, Role.REVIEWER, department=selectors.department_by_kind("430623", "health")
    )
    assert not selectors.has_role(
        reviewer, Role.REVIEWER, department=selectors.department_by_kind("430624", "health")
    )
    assert not selectors.has_role(
        reviewer,
        Role.REVIEWER,
        department=selectors.department_by_kind("430623", "market_regulation"),
    )


@pytest.mark.django_db
def test_demo_applicants(demo):
    zhangsan = authenticate(username="zhangsan", password=PASSWORD)
    boss = get_user_model().objects.get(username="lanshan_boss")
    assert boss.password == zhangsan.password
    assert not zhangsan.is_staff and not boss.is_staff
    person = account_selectors.person_for_user(zhangsan)
    assert person.name == "张三"
    lanshan = Enterprise.objects.get(region__code="431127000000")
    boss_person = account_selectors.person_for_user(boss)
    assert lanshan.legal_representative == boss_person
    assert account_selectors.person_can_act_for(boss_person, lanshan)
    assert account_selectors.authorisations_in_force(person).count() >= 1
    for someone in Person.objects.all():
        assert check_resident_id(someone.id_number).valid
        assert someone.id_number_masked.startswith("43")
    for enterprise in Enterprise.objects.all():
        assert check_uscc(enterprise.uscc).valid
