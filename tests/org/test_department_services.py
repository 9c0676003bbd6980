import pytest

from tests.org.fixtures import UserFactory, assign
from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.core.identifiers import make_uscc
from yiciban.core.models import AuditEvent
from yiciban.org import services
from yiciban.org.models import Department, DepartmentKind, Role

TAX_USCC = make_uscc(authority="1", category="1", region="430623", org_body="TX000001")


@pytest.mark.django_db
def test_department_is_created_with_a_checked_uscc(tree, platform_admin):
    department = services.department_create(
        actor=platform_admin,
        region=tree.huarong,
        name="国家税务总局华容县税务局",
        short_name="华容税务局",
        kind=DepartmentKind.TAX,
        uscc=TAX_USCC.lower(),
    )
    assert department.uscc == TAX_USCC  # normalised to upper case
    event = AuditEvent.objects.get(action="org.department_create")
    assert event.changes["kind"] == "tax"
    assert event.changes["region"] == "430623000000"


@pytest.mark.django_db
def test_invalid_uscc_names_the_broken_rule(tree, platform_admin):
    wrong_check = TAX_USCC[:-1] + ("0" if TAX_USCC[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as exc:
        services.department_create(
            actor=platform_admin, region=tree.huarong, name="税务局", kind="tax", uscc=wrong_check
        )
    assert [(e.field, e.rule) for e in exc.value.errors] == [("uscc", "check_char")]


@pytest.mark.django_db
def test_one_department_per_kind_and_region(tree, platform_admin):
    with pytest.raises(Conflict) as exc:
        services.department_create(
            actor=platform_admin,
            region=tree.huarong,
            name="另一个市场监管局",
            kind=DepartmentKind.MARKET_REGULATION,
            uscc=TAX_USCC,
        )
    assert exc.value.code == "department_kind_exists"
    # the same kind in another county is fine
    services.department_create(
        actor=platform_admin,
        region=tree.xiangyin,
        name="国家税务总局湘阴县税务局",
        kind=DepartmentKind.TAX,
        uscc=make_uscc(authority="1", category="1", region="430624", org_body="TX000002"),
    )


@pytest.mark.django_db
def test_uscc_is_unique(tree, platform_admin):
    with pytest.raises(Conflict) as exc:
        services.department_create(
            actor=platform_admin,
            region=tree.huarong,
            name="税务局",
            kind=DepartmentKind.TAX,
            uscc=tree.huarong_market.uscc,
        )
    assert exc.value.code == "uscc_exists"


@pytest.mark.django_db
def test_unknown_kind_and_village_region_are_refused(tree, platform_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.department_create(
            actor=platform_admin, region=tree.dongjie, name="某局", kind="magic", uscc=TAX_USCC
        )
    assert {(e.field, e.rule) for e in exc.value.errors} == {
        ("region", "level"),
        ("kind", "choice"),
    }


@pytest.mark.django_db
def test_only_platform_admins_create_departments(tree):
    admin_of_market = UserFactory()
    assign(admin_of_market, Role.DEPARTMENT_ADMIN, department=tree.huarong_market)
    with pytest.raises(PermissionDenied):
        services.department_create(
            actor=admin_of_market, region=tree.huarong, name="税务局", kind="tax", uscc=TAX_USCC
        )
    assert not Department.objects.filter(kind="tax").exists()


@pytest.mark.django_db
def test_department_admin_renames_own_department_only(tree):
    admin_of_market = UserFactory()
    assign(admin_of_market, Role.DEPARTMENT_ADMIN, department=tree.huarong_market)
    updated = services.department_update(
        actor=admin_of_market, department=tree.huarong_market, short_name="华容市监局"
    )
    assert updated.short_name == "华容市监局"
    event = AuditEvent.objects.get(action="org.department_update")
    assert event.changes == {"short_name": ["", "华容市监局"]}
    with pytest.raises(PermissionDenied):
        services.department_update(
            actor=admin_of_market, department=tree.huarong_health, name="改名"
        )
    with pytest.raises(PermissionDenied):
        # kind and activation are for platform admins
        services.department_update(
            actor=admin_of_market, department=tree.huarong_market, is_active=False
        )


@pytest.mark.django_db
def test_update_refuses_a_second_department_of_a_kind(tree, platform_admin):
    with pytest.raises(Conflict):
        services.department_update(
            actor=platform_admin, department=tree.huarong_health, kind="market_regulation"
        )
    tree.huarong_health.refresh_from_db()
    assert tree.huarong_health.kind == "health"


@pytest.mark.django_db
def test_update_without_changes_records_nothing(tree, platform_admin):
    services.department_update(
        actor=platform_admin, department=tree.huarong_market, name=tree.huarong_market.name
    )
    assert not AuditEvent.objects.filter(action="org.department_update").exists()


@pytest.mark.django_db
def test_deactivation_by_platform_admin(tree, platform_admin):
    services.department_update(
        actor=platform_admin, department=tree.huarong_health, is_active=False
    )
    tree.huarong_health.refresh_from_db()
    assert tree.huarong_health.is_active is False
