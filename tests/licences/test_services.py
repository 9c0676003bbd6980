import datetime as dt

import pytest

from tests.licences.conftest import issue_business, issue_food, make_person
from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.licences import selectors, services, signing
from yiciban.licences.models import LicenceStatus

pytestmark = pytest.mark.django_db


def _rules(error):
    return {(e.field, e.rule) for e in error.errors}


def test_issue_signs_numbers_and_audits(world):
    licence = issue_food(world)
    today = dt.date.today()
    assert licence.number == f"JY430623{today.year}000001"
    assert licence.holder_identifier == world.enterprise.uscc
    assert licence.valid_from == today
    # five years, the last day included
    assert licence.valid_until.year == today.year + 5
    assert licence.key_name == "dept-" + world.market.uscc.lower()
    assert signing.signature_valid(licence)
    second = issue_food(world)
    assert second.number.endswith("000002")
    event = AuditEvent.objects.get(action="licences.licence_issue", object_id=str(licence.pk))
    assert event.actor == world.approver and event.changes["number"] == licence.number


def test_issue_to_a_person_never_keeps_the_id_in_clear(world):
    person = make_person("李四", "430623199001010011", world.tree.huarong)
    licence = services.licence_issue(
        actor=world.health_approver,
        licence_type=world.hygiene,
        issuing_department=world.health,
        person=person,
        fields={"venue": "东街理发店"},
    )
    assert licence.holder_identifier == "430623********0011"
    assert "430623199001010011" not in str(signing.licence_content(licence))


def test_a_tampered_licence_no_longer_verifies(world):
    licence = issue_food(world)
    licence.fields = {"premises": "别处"}
    assert not signing.signature_valid(licence)


def test_refusals_name_field_and_rule(world):
    with pytest.raises(ValidationFailed) as error:
        services.licence_issue(
            actor=world.approver,
            licence_type=world.hygiene,  # a health permit by the market bureau
            issuing_department=world.market,
            fields={},
        )
    assert ("issuing_department", "department_kind") in _rules(error.value)
    assert ("holder", "one_holder") in _rules(error.value)
    with pytest.raises(ValidationFailed) as error:
        issue_food(world, issued_on=dt.date.today() + dt.timedelta(days=1))
    assert ("issued_on", "not_future") in _rules(error.value)
    with pytest.raises(ValidationFailed) as error:
        services.licence_issue(
            actor=world.approver,
            licence_type=world.food,
            issuing_department=world.market,
            enterprise=world.enterprise,
            fields={"colour": "red"},
        )
    assert _rules(error.value) == {
        ("fields.colour", "unknown_field"),
        ("fields.premises", "required"),
    }
    with pytest.raises(ValidationFailed) as error:
        issue_food(world, valid_from=dt.date(2026, 1, 1), valid_until=dt.date(2025, 1, 1))
    assert ("valid_until", "after_valid_from") in _rules(error.value)


@pytest.mark.parametrize("who", ["reviewer", "health_approver", "other_county", "boss_user"])
def test_only_the_issuing_departments_approvers_sign(world, who):
    with pytest.raises(PermissionDenied):
        services.licence_issue(
            actor=getattr(world, who),
            licence_type=world.food,
            issuing_department=world.market,
            enterprise=world.enterprise,
            fields={"premises": "x"},
        )


def test_one_business_licence_per_enterprise(world):
    first = issue_business(world)
    with pytest.raises(Conflict) as error:
        issue_business(world)
    assert error.value.code == "business_licence_exists"
    services.licence_revoke(actor=world.approver, licence=first, reason="注销登记")
    assert issue_business(world).number != first.number


def test_transitions_follow_the_table(world):
    licence = issue_food(world)
    licence = services.licence_suspend(actor=world.approver, licence=licence, reason="停业整顿")
    assert licence.status == LicenceStatus.SUSPENDED
    with pytest.raises(Conflict):
        services.licence_suspend(actor=world.approver, licence=licence, reason="again")
    with pytest.raises(Conflict):
        services.licence_change(
            actor=world.approver, licence=licence, fields={"premises": "y"}, reason="搬迁"
        )
    licence = services.licence_reinstate(actor=world.approver, licence=licence, reason="整改完毕")
    assert licence.status == LicenceStatus.VALID
    licence = services.licence_revoke(actor=world.approver, licence=licence, reason="违法经营")
    assert licence.status == LicenceStatus.REVOKED and licence.status_changed_at
    for action in (services.licence_suspend, services.licence_reinstate, services.licence_revoke):
        with pytest.raises(Conflict) as error:
            action(actor=world.approver, licence=licence, reason="x")
        assert error.value.code == "licence_wrong_state"
    actions = list(
        AuditEvent.objects.filter(object_id=str(licence.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "licences.licence_issue",
        "licences.licence_suspend",
        "licences.licence_reinstate",
        "licences.licence_revoke",
    ]


def test_transition_refusals(world):
    licence = issue_food(world)
    with pytest.raises(ValidationFailed) as error:
        services.licence_revoke(actor=world.approver, licence=licence, reason="  ")
    assert ("reason", "required") in _rules(error.value)
    with pytest.raises(PermissionDenied):
        services.licence_revoke(actor=world.health_approver, licence=licence, reason="x")
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.VALID


def test_change_raises_version_and_re_signs(world):
    licence = issue_food(world)
    old_signature = licence.signature
    changed = services.licence_change(
        actor=world.approver,
        licence=licence,
        fields={"premises": "华容县章华镇新址"},
        reason="经营场所变更",
        expected_version=1,
    )
    assert changed.version == 2 and changed.fields["premises"] == "华容县章华镇新址"
    assert changed.signature != old_signature and signing.signature_valid(changed)
    with pytest.raises(Conflict) as error:
        services.licence_change(
            actor=world.approver,
            licence=changed,
            fields={"premises": "又一处"},
            reason="x",
            expected_version=1,
        )
    assert error.value.code == "licence_version_changed"
    with pytest.raises(ValidationFailed) as error:
        services.licence_change(
            actor=world.approver,
            licence=changed,
            fields={"premises": "华容县章华镇新址"},
            reason="x",
        )
    assert ("fields", "no_change") in _rules(error.value)


def test_expiry_is_derived_from_the_date(world):
    licence = issue_food(world, valid_from=dt.date(2020, 1, 1), issued_on=dt.date(2020, 1, 1))
    assert licence.valid_until == dt.date(2024, 12, 31)
    assert licence.status == LicenceStatus.VALID
    assert licence.status_on(dt.date(2024, 12, 31)) == LicenceStatus.VALID
    assert licence.status_on(dt.date(2025, 1, 1)) == LicenceStatus.EXPIRED
    result = selectors.licence_verify(licence.number)
    assert result.status == LicenceStatus.EXPIRED


def test_rotation_keeps_old_licences_verifiable(world):
    from yiciban.core import keys

    old = issue_food(world)
    keys.key_rotate(name=old.key_name, actor=None)
    new = issue_food(world)
    assert new.key_id != old.key_id
    assert signing.signature_valid(old) and signing.signature_valid(new)
    kids = {k["kid"] for k in signing.jwks()["keys"]}
    assert {old.key_id, new.key_id} <= kids


def test_licence_type_create(world, platform_admin):
    created = services.licence_type_create(
        actor=platform_admin,
        code="drug_retail",
        name="药品经营许可证",
        department_kind="market_regulation",
        validity_years=5,
        fields=[{"code": "scope", "label": "经营范围"}],
    )
    assert created.pk and created.validity_years == 5
    with pytest.raises(ValidationFailed) as error:
        services.licence_type_create(
            actor=platform_admin,
            code="drug_retail",
            name="x",
            department_kind="nowhere",
            validity_years=0,
            fields=[{"code": "a"}, {"code": "a"}],
        )
    assert _rules(error.value) == {
        ("code", "unique"),
        ("department_kind", "choice"),
        ("validity_years", "range"),
        ("fields", "unique"),
    }
    with pytest.raises(PermissionDenied):
        services.licence_type_create(
            actor=world.approver, code="x", name="x", department_kind="health"
        )
