"""A party found to have filed false materials: a credit record in its archive, and the
case engine refuses it the green channel afterwards (its registration at delivery runs
on the ordinary path while the other buyers keep the green channel)."""

import pytest

from yiciban.accounts.selectors import enterprise_by_uscc, person_find_by_id_number
from yiciban.archive.models import ArchiveRecord
from yiciban.cases import hooks
from yiciban.cases.models import Case
from yiciban.core.errors import PermissionDenied, ValidationFailed
from yiciban.housing import services
from yiciban.org.selectors import department_by_kind

from .conftest import DEVELOPER_USCC, filed_project


def test_false_materials_blacklist_the_party(world):
    developer = enterprise_by_uscc(DEVELOPER_USCC)
    subject = hooks.ApplicantSubject("enterprise", developer.uscc, enterprise=developer)
    assert not hooks.applicant_record(subject, verified=True).blacklisted
    housing = department_by_kind("430781", "housing_construction")
    finding = services.false_material_record(
        actor=world.housing,
        department=housing,
        enterprise=developer,
        finding="竣工验收备案时提交伪造的消防验收凭证",
    )
    record = ArchiveRecord.objects.get(pk=finding.archive_record_id)
    assert record.kind == "credit" and record.department == housing
    after = hooks.applicant_record(subject, verified=True)
    assert after.blacklisted and after.as_rule_data()["green_channel"] is False


def test_green_channel_refused_at_delivery_after_the_finding(world):
    project = filed_project(world)
    registry = department_by_kind("430781", "natural_resources")
    services.false_material_record(
        actor=world.registrar,
        department=registry,
        person=person_find_by_id_number(world.other_buyer_id),
        finding="提交虚假的婚姻状况证明",
    )
    services.project_deliver(actor=world.registrar, project_id=project.pk)
    units = [u for u in project.units.order_by("room")][:2]
    cases = {u.room: Case.objects.get(number=u.transfer_case) for u in units}
    assert cases["101"].green_channel is True
    assert cases["102"].green_channel is False


def test_finding_needs_staff_and_one_party(world):
    housing = department_by_kind("430781", "housing_construction")
    developer = enterprise_by_uscc(DEVELOPER_USCC)
    with pytest.raises(PermissionDenied):
        services.false_material_record(
            actor=world.tax, department=housing, enterprise=developer, finding="x"
        )
    with pytest.raises(ValidationFailed) as exc:
        services.false_material_record(actor=world.housing, department=housing, finding=" ")
    assert {e.field for e in exc.value.errors} == {"finding", "party"}
