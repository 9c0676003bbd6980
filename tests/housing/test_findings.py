"""Recording a finding of false materials from a project (page and API share one service):
the department and the party are named, not picked by the caller; garbage is refused by
field, with nothing written."""

import pytest

from yiciban.core.errors import PermissionDenied, ValidationFailed
from yiciban.housing import services
from yiciban.housing.models import FalseMaterialFinding

from .conftest import make_project, sell_all


def _rules(error):
    return {(e.field, e.rule) for e in error.errors}


def test_project_finding_names_department_and_party(world):
    project = make_project(world)
    units = sell_all(world, project)
    against_buyer = services.project_finding_record(
        actor=world.registrar,
        project_id=project.pk,
        by="registry",
        party="buyer",
        unit_id=units[0].pk,
        finding="转移登记时提交伪造的身份证明",
    )
    units[0].refresh_from_db()
    assert against_buyer.person == units[0].buyer and against_buyer.enterprise is None
    against_developer = services.project_finding_record(
        actor=world.housing,
        project_id=project.pk,
        by="housing",
        party="developer",
        unit_id=None,
        finding="伪造竣工验收资料",
    )
    assert against_developer.enterprise == project.developer


def test_project_finding_refuses_garbage_and_outsiders(world):
    project = make_project(world)
    units = sell_all(world, project)
    base = {"project_id": project.pk, "unit_id": None, "finding": "认定事实"}
    with pytest.raises(ValidationFailed) as error:
        services.project_finding_record(actor=world.housing, by="police", party="x", **base)
    assert _rules(error.value) == {("department", "choice"), ("party", "choice")}
    with pytest.raises(ValidationFailed) as error:
        services.project_finding_record(actor=world.housing, by="housing", party="buyer", **base)
    assert _rules(error.value) == {("unit_id", "sold_unit")}
    with pytest.raises(PermissionDenied):  # the registrar is not housing-bureau staff
        services.project_finding_record(
            actor=world.registrar,
            by="housing",
            party="buyer",
            **{**base, "unit_id": units[0].pk},
        )
    assert not FalseMaterialFinding.objects.exists()
