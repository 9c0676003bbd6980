from decimal import Decimal

import pytest

from tests.org.fixtures import UserFactory, assign, make_department
from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.org import services
from yiciban.org.models import DepartmentKind, PointKind, Role, ServicePoint


def _point(actor, region, **overrides):
    fields = {
        "code": f"{region.code}-TC1",
        "name": f"{region.name}便民服务中心",
        "kind": PointKind.TOWNSHIP_CENTRE,
        "region": region,
        "address": f"{region.name}人民政府一楼",
        "opening_hours": "周一至周五 8:30—17:30",
    }
    fields.update(overrides)
    return services.service_point_create(actor=actor, **fields)


@pytest.mark.django_db
def test_township_centre_is_created_and_audited(tree, platform_admin):
    point = _point(
        platform_admin,
        tree.zhanghua,
        phone="12345",
        latitude=Decimal("29.537560"),
        longitude=Decimal("112.545860"),
    )
    assert point.region == tree.zhanghua
    event = AuditEvent.objects.get(action="org.service_point_create")
    assert event.changes == {
        "code": "430623100000-TC1",
        "name": "章华镇便民服务中心",
        "kind": "township_centre",
        "region": "430623100000",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"code": "含中文"}, ("code", "format")),
        ({"kind": "castle"}, ("kind", "choice")),
        ({"address": ""}, ("address", "required")),
        ({"opening_hours": " "}, ("opening_hours", "required")),
        ({"latitude": Decimal("91")}, ("latitude", "range")),
    ],
)
def test_bad_input_names_field_and_rule(tree, platform_admin, overrides, expected):
    with pytest.raises(ValidationFailed) as exc:
        _point(platform_admin, tree.zhanghua, **overrides)
    assert expected in [(e.field, e.rule) for e in exc.value.errors]


@pytest.mark.django_db
def test_kind_must_fit_the_regions_level(tree, platform_admin):
    with pytest.raises(ValidationFailed) as exc:
        _point(platform_admin, tree.huarong)  # a township centre for a whole county
    assert [(e.field, e.rule) for e in exc.value.errors] == [("region", "level")]


@pytest.mark.django_db
def test_codes_are_unique(tree, platform_admin):
    with pytest.raises(Conflict):
        _point(platform_admin, tree.zhanghua, code=tree.hall.code)


@pytest.mark.django_db
def test_government_service_centre_admin_manages_its_own_county_only(tree):
    hall_admin = UserFactory()
    assign(hall_admin, Role.DEPARTMENT_ADMIN, department=tree.huarong_gov)
    point = _point(hall_admin, tree.zhanghua)
    assert point.pk
    with pytest.raises(PermissionDenied):
        _point(hall_admin, tree.wenxing)  # 湘阴县's township


@pytest.mark.django_db
def test_other_department_admins_do_not_manage_points(tree):
    market_admin = UserFactory()
    assign(market_admin, Role.DEPARTMENT_ADMIN, department=tree.huarong_market)
    with pytest.raises(PermissionDenied):
        _point(market_admin, tree.zhanghua)


@pytest.mark.django_db
def test_update_changes_hours_and_records_the_difference(tree, platform_admin):
    services.service_point_update(
        actor=platform_admin, point=tree.hall, opening_hours="全天24小时", phone="12345"
    )
    tree.hall.refresh_from_db()
    assert tree.hall.opening_hours == "全天24小时"
    event = AuditEvent.objects.get(action="org.service_point_update")
    assert event.changes == {
        "opening_hours": ["周一至周五", "全天24小时"],
        "phone": ["", "12345"],
    }


@pytest.mark.django_db
def test_update_refusals(tree, platform_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.service_point_update(actor=platform_admin, point=tree.hall, code="X-1")
    assert exc.value.errors[0].rule == "not_editable"
    with pytest.raises(ValidationFailed):
        services.service_point_update(actor=platform_admin, point=tree.hall, region=tree.dongjie)
    tree.hall.refresh_from_db()
    assert tree.hall.region == tree.huarong


@pytest.mark.django_db
def test_moving_a_point_needs_authority_over_the_new_region(tree):
    hall_admin = UserFactory()
    assign(hall_admin, Role.DEPARTMENT_ADMIN, department=tree.huarong_gov)
    make_department(tree.xiangyin, DepartmentKind.GOVERNMENT_SERVICE)
    with pytest.raises(PermissionDenied):
        services.service_point_update(actor=hall_admin, point=tree.hall, region=tree.xiangyin)
    assert ServicePoint.objects.get(pk=tree.hall.pk).region == tree.huarong
