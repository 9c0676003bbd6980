"""Two stage changes of one project at the same moment: exactly one wins, the other gets
409 (real threads on PostgreSQL; SQLite serialises writers, nothing to race there)."""

import pytest
from django.db import connection

from tests.cases.test_concurrency import race
from yiciban.core.errors import Conflict
from yiciban.housing import services
from yiciban.housing.models import Project, Stage

from .conftest import filed_project, make_project

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]


def test_two_presale_permits_at_once(world):
    project = make_project(world)
    outcomes = race(
        *[
            lambda n=n: services.presale_permit_record(
                actor=world.housing, project_id=project.pk, permit_no=f"P-{n}"
            )
            for n in range(2)
        ]
    )
    errors = [e for _r, e in outcomes if e is not None]
    assert len(errors) == 1 and isinstance(errors[0], Conflict)
    assert errors[0].code == "wrong_stage"
    project = Project.objects.get(pk=project.pk)
    assert project.stage == Stage.PRESALE
    assert project.events.filter(kind="presale_permit").count() == 1


def test_two_delivery_starts_at_once(world):
    project = filed_project(world)
    outcomes = race(
        *[
            lambda: services.project_delivery_start(actor=world.registrar, project_id=project.pk)
            for _ in range(2)
        ]
    )
    errors = [e for _r, e in outcomes if e is not None]
    assert len(errors) == 1 and errors[0].code == "delivery_running"
    assert project.events.filter(kind="delivery_start").count() == 1
