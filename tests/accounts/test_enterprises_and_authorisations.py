import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests.accounts.helpers import (
    HUARONG_FOOD_USCC,
    LISI_ID,
    WANGWU_ID,
    XIANGYIN_SHOP_USCC,
    ZHANGSAN_ID,
    huarong_clerk,
)
from tests.org.fixtures import UserFactory, assign
from yiciban.accounts import selectors, services
from yiciban.accounts.models import Authorisation, AuthorisationKind, Enterprise
from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.org.models import Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
AGENT = AuthorisationKind.AGENT
LEGAL_REP = AuthorisationKind.LEGAL_REPRESENTATIVE


@pytest.fixture
def people(tree):
    clerk = huarong_clerk(tree)
    boss_login = UserFactory(username="boss", is_staff=False)
    agent_login = UserFactory(username="agent", is_staff=False)
    boss = services.person_register(actor=clerk, name="王五", id_number=WANGWU_ID, user=boss_login)
    agent = services.person_register(
        actor=clerk, name="张三", id_number=ZHANGSAN_ID, user=agent_login
    )
    other = services.person_register(actor=clerk, name="李四", id_number=LISI_ID)
    return clerk, boss, agent, other


@pytest.fixture
def food_company(tree, people):
    clerk, boss, _, _ = people
    return services.enterprise_register(
        actor=clerk,
        uscc=HUARONG_FOOD_USCC,
        name="华容县洞庭芥菜食品有限公司",
        registered_address="华容县章华镇工业园8号",
        region=tree.huarong,
        legal_representative=boss,
    )


@pytest.mark.django_db
def test_registering_an_enterprise_records_its_legal_representative(food_company, people):
    _, boss, agent, _ = people
    assert food_company.legal_representative == boss
    authorisation = Authorisation.objects.get(enterprise=food_company)
    assert authorisation.kind == LEGAL_REP and authorisation.valid_until is None
    assert selectors.person_can_act_for(boss, food_company)
    assert not selectors.person_can_act_for(agent, food_company)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"accounts.enterprise_register", "accounts.authorisation_grant"} <= actions


@pytest.mark.django_db
def test_enterprise_refusals(tree, people, food_company):
    clerk, _, _, _ = people
    with pytest.raises(ValidationFailed) as exc:
        services.enterprise_register(
            actor=clerk,
            uscc=HUARONG_FOOD_USCC[:-1] + "0",
            name="某公司",
            registered_address="某地",
            region=tree.huarong,
        )
    assert exc.value.errors[0].field == "uscc"
    with pytest.raises(Conflict):
        services.enterprise_register(
            actor=clerk,
            uscc=HUARONG_FOOD_USCC,
            name="同码公司",
            registered_address="某地",
            region=tree.huarong,
        )
    with pytest.raises(PermissionDenied):
        # a 华容县 clerk does not register 湘阴县's enterprises
        services.enterprise_register(
            actor=clerk,
            uscc=XIANGYIN_SHOP_USCC,
            name="湘阴某店",
            registered_address="湘阴县文星镇",
            region=tree.xiangyin,
        )


@pytest.mark.django_db
def test_a_legal_representative_registers_their_own_enterprise(tree, people):
    _, boss, _, _ = people
    shop = services.enterprise_register(
        actor=boss.user,
        uscc=XIANGYIN_SHOP_USCC,
        name="湘阴某店",
        registered_address="湘阴县文星镇",
        region=tree.xiangyin,
        legal_representative=boss,
    )
    assert selectors.person_can_act_for(boss, shop)


@pytest.mark.django_db
def test_legal_representative_appoints_an_agent(food_company, people):
    _, boss, agent, _ = people
    until = timezone.localdate() + dt.timedelta(days=90)
    authorisation = services.authorisation_grant(
        actor=boss.user, enterprise=food_company, person=agent, kind=AGENT, valid_until=until
    )
    assert selectors.person_can_act_for(agent, food_company)
    event = AuditEvent.objects.get(
        action="accounts.authorisation_grant", object_id=str(authorisation.pk)
    )
    assert event.on_behalf_of == f"enterprise:{HUARONG_FOOD_USCC}"
    assert event.changes["person"] == agent.id_number_masked
    assert ZHANGSAN_ID not in str(event.changes)


@pytest.mark.django_db
def test_an_agent_needs_an_end_date_and_a_sane_period(food_company, people):
    clerk, _, agent, _ = people
    today = timezone.localdate()
    cases = [
        ({}, ("valid_until", "required")),
        ({"valid_until": today - dt.timedelta(days=2)}, ("valid_until", "order")),
        (
            {"valid_from": today - dt.timedelta(days=1), "valid_until": today},
            ("valid_from", "past"),
        ),
    ]
    for fields, expected in cases:
        with pytest.raises(ValidationFailed) as exc:
            services.authorisation_grant(
                actor=clerk, enterprise=food_company, person=agent, kind=AGENT, **fields
            )
        assert expected in [(e.field, e.rule) for e in exc.value.errors]
    with pytest.raises(ValidationFailed):
        services.authorisation_grant(
            actor=clerk, enterprise=food_company, person=agent, kind="boss"
        )


@pytest.mark.django_db
def test_who_may_grant(food_company, people, tree):
    _, boss, agent, other = people
    until = timezone.localdate() + dt.timedelta(days=30)
    with pytest.raises(PermissionDenied):
        # an agent cannot appoint further agents
        services.authorisation_grant(
            actor=agent.user, enterprise=food_company, person=other, kind=AGENT, valid_until=until
        )
    with pytest.raises(PermissionDenied):
        # only staff record a legal representative
        services.authorisation_grant(
            actor=boss.user, enterprise=food_company, person=other, kind=LEGAL_REP
        )
    xiangyin_clerk = UserFactory()
    assign(xiangyin_clerk, Role.COUNTER_CLERK, region=tree.xiangyin)
    with pytest.raises(PermissionDenied):
        services.authorisation_grant(
            actor=xiangyin_clerk,
            enterprise=food_company,
            person=other,
            kind=AGENT,
            valid_until=until,
        )
    helper = UserFactory()
    assign(helper, Role.ASSISTED_SERVICE_AGENT, region=tree.huarong)
    services.authorisation_grant(
        actor=helper, enterprise=food_company, person=other, kind=AGENT, valid_until=until
    )


@pytest.mark.django_db
def test_a_second_legal_representative_is_refused(food_company, people):
    clerk, _, _, other = people
    with pytest.raises(ValidationFailed) as exc:
        services.authorisation_grant(
            actor=clerk, enterprise=food_company, person=other, kind=LEGAL_REP
        )
    assert exc.value.errors[0].rule == "not_legal_representative"


@pytest.mark.django_db
def test_overlapping_agent_authorisations_conflict(food_company, people):
    clerk, _, agent, _ = people
    today = timezone.localdate()
    services.authorisation_grant(
        actor=clerk,
        enterprise=food_company,
        person=agent,
        kind=AGENT,
        valid_until=today + dt.timedelta(days=30),
    )
    with pytest.raises(Conflict):
        services.authorisation_grant(
            actor=clerk,
            enterprise=food_company,
            person=agent,
            kind=AGENT,
            valid_from=today + dt.timedelta(days=10),
            valid_until=today + dt.timedelta(days=60),
        )
    # a later, non-overlapping period is fine
    services.authorisation_grant(
        actor=clerk,
        enterprise=food_company,
        person=agent,
        kind=AGENT,
        valid_from=today + dt.timedelta(days=31),
        valid_until=today + dt.timedelta(days=60),
    )


@pytest.mark.django_db
def test_person_can_act_for_respects_the_period(food_company, people):
    clerk, _, agent, _ = people
    today = timezone.localdate()
    services.authorisation_grant(
        actor=clerk,
        enterprise=food_company,
        person=agent,
        kind=AGENT,
        valid_from=today + dt.timedelta(days=1),
        valid_until=today + dt.timedelta(days=10),
    )
    assert not selectors.person_can_act_for(agent, food_company, on=today)
    assert selectors.person_can_act_for(agent, food_company, on=today + dt.timedelta(days=1))
    assert selectors.person_can_act_for(agent, food_company, on=today + dt.timedelta(days=10))
    assert not selectors.person_can_act_for(agent, food_company, on=today + dt.timedelta(days=11))


@pytest.mark.django_db
def test_revocation_ends_the_authority_from_that_day(food_company, people):
    clerk, boss, agent, _ = people
    today = timezone.localdate()
    authorisation = services.authorisation_grant(
        actor=clerk,
        enterprise=food_company,
        person=agent,
        kind=AGENT,
        valid_until=today + dt.timedelta(days=100),
    )
    revocation_day = today + dt.timedelta(days=5)
    at_ten = dt.datetime.combine(revocation_day, dt.time(10, 0), tzinfo=SHANGHAI)
    with time_machine.travel(at_ten, tick=False):
        services.authorisation_revoke(actor=boss.user, authorisation=authorisation, reason="离职")
        assert not selectors.person_can_act_for(agent, food_company)
    day_before = revocation_day - dt.timedelta(days=1)
    assert selectors.person_can_act_for(agent, food_company, on=day_before)
    assert not selectors.person_can_act_for(agent, food_company, on=revocation_day)
    event = AuditEvent.objects.get(action="accounts.authorisation_revoke")
    assert event.changes["reason"] == "离职"
    assert event.on_behalf_of == f"enterprise:{HUARONG_FOOD_USCC}"
    with pytest.raises(Conflict):
        services.authorisation_revoke(actor=clerk, authorisation=authorisation)


@pytest.mark.django_db
def test_an_agent_may_renounce_and_strangers_may_not_revoke(food_company, people):
    clerk, _, agent, _ = people
    authorisation = services.authorisation_grant(
        actor=clerk,
        enterprise=food_company,
        person=agent,
        kind=AGENT,
        valid_until=timezone.localdate() + dt.timedelta(days=5),
    )
    with pytest.raises(PermissionDenied):
        services.authorisation_revoke(actor=UserFactory(), authorisation=authorisation)
    services.authorisation_revoke(actor=agent.user, authorisation=authorisation)
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is not None


@pytest.mark.django_db
def test_revoking_the_legal_representative_vacates_the_post(food_company, people):
    clerk, boss, _, other = people
    legal = Authorisation.objects.get(enterprise=food_company, kind=LEGAL_REP)
    services.authorisation_revoke(actor=clerk, authorisation=legal)
    food_company.refresh_from_db()
    assert food_company.legal_representative is None
    assert not selectors.person_can_act_for(boss, food_company)
    services.authorisation_grant(actor=clerk, enterprise=food_company, person=other, kind=LEGAL_REP)
    food_company.refresh_from_db()
    assert food_company.legal_representative == other
    assert selectors.is_legal_representative(other, food_company)


@pytest.mark.django_db
def test_authorisations_in_force_lists_the_enterprises(food_company, people):
    _, boss, agent, _ = people
    assert [a.enterprise for a in selectors.authorisations_in_force(boss)] == [food_company]
    assert list(selectors.authorisations_in_force(agent)) == []
    assert selectors.enterprise_by_uscc(HUARONG_FOOD_USCC.lower()) == food_company


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks; SQLite serialises every writer, so there is no race to test",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_grants_of_the_same_agent_one_wins(food_company, people):
    clerk, _, agent, _ = people
    outcomes: list[str] = []
    barrier = threading.Barrier(2)
    until = timezone.localdate() + dt.timedelta(days=30)

    def grant():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.authorisation_grant(
                actor=clerk, enterprise=food_company, person=agent, kind=AGENT, valid_until=until
            )
            outcomes.append("granted")
        except Conflict:
            outcomes.append("conflict")
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=grant) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "granted"]
    assert Authorisation.objects.filter(person=agent, kind=AGENT).count() == 1
    assert Enterprise.objects.count() == 1
