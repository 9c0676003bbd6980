import datetime as dt
import threading

import pytest
from django.db import connection

from tests.org.fixtures import UserFactory, assign
from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.org import services
from yiciban.org.models import Role, RoleAssignment


def _rules(exc_info) -> set[tuple[str, str]]:
    return {(e.field, e.rule) for e in exc_info.value.errors}


@pytest.mark.django_db
def test_platform_admin_assigns_a_department_role(tree, platform_admin):
    reviewer = UserFactory()
    assignment = services.role_assign(
        actor=platform_admin,
        user=reviewer,
        role=Role.REVIEWER,
        department=tree.huarong_health,
        service_point=tree.hall,
        valid_until=dt.date.today() + dt.timedelta(days=365),
    )
    assert assignment.department == tree.huarong_health
    event = AuditEvent.objects.get(action="org.role_assign")
    assert event.actor == platform_admin
    assert event.changes["user"] == reviewer.username
    assert event.changes["department"] == tree.huarong_health.uscc
    assert event.changes["service_point"] == tree.hall.code


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [
        (Role.REVIEWER, {}, {("department", "required")}),
        (Role.APPROVER, {"region": "huarong"}, {("department", "required"), ("region", "scope")}),
        (
            Role.INSPECTOR,
            {"department": "huarong_market", "region": "huarong"},
            {("region", "scope")},
        ),
        (Role.COUNTER_CLERK, {}, {("region", "required")}),
        (
            Role.SUPERVISOR,
            {"department": "huarong_market", "region": "huarong"},
            {("region", "scope")},
        ),
        (Role.PLATFORM_ADMIN, {"region": "huarong"}, {("region", "scope")}),
        (Role.PLATFORM_ADMIN, {"department": "huarong_market"}, {("department", "scope")}),
        ("janitor", {"region": "huarong"}, {("role", "choice")}),
    ],
)
def test_scope_rules(tree, platform_admin, role, scope, expected):
    with pytest.raises(ValidationFailed) as exc:
        services.role_assign(
            actor=platform_admin,
            user=UserFactory(),
            role=role,
            **{name: getattr(tree, attr) for name, attr in scope.items()},
        )
    assert _rules(exc) == expected


@pytest.mark.django_db
def test_region_roles_take_a_region_or_a_department(tree, platform_admin):
    by_region = services.role_assign(
        actor=platform_admin, user=UserFactory(), role=Role.HOTLINE_OPERATOR, region=tree.huarong
    )
    by_department = services.role_assign(
        actor=platform_admin,
        user=UserFactory(),
        role=Role.HOTLINE_OPERATOR,
        department=tree.huarong_health,
    )
    platform = services.role_assign(
        actor=platform_admin, user=UserFactory(), role=Role.PLATFORM_ADMIN
    )
    assert by_region.region == tree.huarong and by_department.region is None
    assert platform.department is None and platform.region is None


@pytest.mark.django_db
def test_service_point_must_lie_in_the_scope(tree, platform_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.role_assign(
            actor=platform_admin,
            user=UserFactory(),
            role=Role.COUNTER_CLERK,
            region=tree.xiangyin,
            service_point=tree.hall,  # 华容县's hall
        )
    assert _rules(exc) == {("service_point", "scope")}


@pytest.mark.django_db
def test_an_assignment_cannot_end_in_the_past(tree, platform_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.role_assign(
            actor=platform_admin,
            user=UserFactory(),
            role=Role.COUNTER_CLERK,
            region=tree.huarong,
            valid_until=dt.date.today() - dt.timedelta(days=1),
        )
    assert _rules(exc) == {("valid_until", "past")}


@pytest.mark.django_db
def test_inactive_users_get_no_roles(tree, platform_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.role_assign(
            actor=platform_admin,
            user=UserFactory(is_active=False),
            role=Role.COUNTER_CLERK,
            region=tree.huarong,
        )
    assert _rules(exc) == {("user", "inactive")}


@pytest.mark.django_db
def test_the_same_role_and_scope_twice_is_a_conflict(tree, platform_admin):
    clerk = UserFactory()
    services.role_assign(
        actor=platform_admin, user=clerk, role=Role.COUNTER_CLERK, region=tree.huarong
    )
    with pytest.raises(Conflict):
        services.role_assign(
            actor=platform_admin, user=clerk, role=Role.COUNTER_CLERK, region=tree.huarong
        )
    # the same role in another scope is a second assignment
    services.role_assign(
        actor=platform_admin, user=clerk, role=Role.COUNTER_CLERK, region=tree.xiangyin
    )
    assert RoleAssignment.objects.filter(user=clerk).count() == 2


@pytest.mark.django_db
def test_department_admin_assigns_within_own_department_only(tree):
    market_admin = UserFactory()
    assign(market_admin, Role.DEPARTMENT_ADMIN, department=tree.huarong_market)
    inspector = UserFactory()
    services.role_assign(
        actor=market_admin, user=inspector, role=Role.INSPECTOR, department=tree.huarong_market
    )
    with pytest.raises(PermissionDenied):
        services.role_assign(
            actor=market_admin, user=inspector, role=Role.REVIEWER, department=tree.huarong_health
        )
    with pytest.raises(PermissionDenied):
        services.role_assign(
            actor=market_admin, user=inspector, role=Role.COUNTER_CLERK, region=tree.huarong
        )
    with pytest.raises(PermissionDenied):
        services.role_assign(actor=market_admin, user=inspector, role=Role.PLATFORM_ADMIN)


@pytest.mark.django_db
def test_staff_without_admin_roles_assign_nothing(tree):
    clerk = UserFactory()
    assign(clerk, Role.COUNTER_CLERK, region=tree.huarong)
    with pytest.raises(PermissionDenied):
        services.role_assign(
            actor=clerk, user=UserFactory(), role=Role.REVIEWER, department=tree.huarong_market
        )


@pytest.mark.django_db
def test_expired_department_admin_assigns_nothing(tree):
    former_admin = UserFactory()
    assign(
        former_admin,
        Role.DEPARTMENT_ADMIN,
        department=tree.huarong_market,
        valid_until=dt.date.today() - dt.timedelta(days=1),
    )
    with pytest.raises(PermissionDenied):
        services.role_assign(
            actor=former_admin,
            user=UserFactory(),
            role=Role.INSPECTOR,
            department=tree.huarong_market,
        )


@pytest.mark.django_db
def test_revoke_deletes_and_keeps_the_record_in_the_audit_trail(tree, platform_admin):
    reviewer = UserFactory()
    assignment = assign(reviewer, Role.REVIEWER, department=tree.huarong_health)
    services.role_revoke(actor=platform_admin, assignment=assignment)
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    event = AuditEvent.objects.get(action="org.role_revoke")
    assert event.object_id == str(assignment.pk)
    assert event.changes["role"] == "reviewer"
    assert event.changes["department"] == tree.huarong_health.uscc
    with pytest.raises(Conflict):
        services.role_revoke(actor=platform_admin, assignment=assignment)


@pytest.mark.django_db
def test_revoke_permissions(tree):
    market_admin = UserFactory()
    assign(market_admin, Role.DEPARTMENT_ADMIN, department=tree.huarong_market)
    health_reviewer = assign(UserFactory(), Role.REVIEWER, department=tree.huarong_health)
    clerk = assign(UserFactory(), Role.COUNTER_CLERK, region=tree.huarong)
    market_reviewer = assign(UserFactory(), Role.REVIEWER, department=tree.huarong_market)
    for assignment in (health_reviewer, clerk):
        with pytest.raises(PermissionDenied):
            services.role_revoke(actor=market_admin, assignment=assignment)
    services.role_revoke(actor=market_admin, assignment=market_reviewer)
    assert RoleAssignment.objects.filter(pk__in=[health_reviewer.pk, clerk.pk]).count() == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks; SQLite serialises every writer, so there is no race to test",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_revocations_one_wins_one_conflicts(tree, platform_admin):
    assignment = assign(UserFactory(), Role.REVIEWER, department=tree.huarong_health)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def revoke():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.role_revoke(actor=platform_admin, assignment=assignment)
            outcomes.append("revoked")
        except Conflict:
            outcomes.append("conflict")
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=revoke) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "revoked"]
    assert AuditEvent.objects.filter(action="org.role_revoke").count() == 1
