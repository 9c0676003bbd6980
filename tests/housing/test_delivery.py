"""交房即交证 in the background: started by the registration clerk (page or API), run by the
worker registration by registration with its progress on the project, stopped with a
reason, and started again where it stopped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from yiciban.cases.models import Case
from yiciban.core.errors import Conflict, PermissionDenied
from yiciban.housing import selectors, services
from yiciban.housing.models import DELIVERY_STALL, Project, Stage, Unit

from .conftest import DELIVERY_TASK, filed_project, make_project, run_deliveries


def test_delivery_runs_in_the_background_with_its_progress(world):
    project = filed_project(world)
    started = services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    assert started.stage == Stage.COMPLETION_FILED  # nothing registered in the request
    progress = selectors.delivery_progress(started)
    assert progress["running"] and progress["done"] == 0 and progress["total"] == 3
    assert not Case.objects.exists()
    with pytest.raises(Conflict) as exc:  # not twice at once
        services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    assert exc.value.code == "delivery_running"
    assert run_deliveries() == 1
    project.refresh_from_db()
    assert project.stage == Stage.DELIVERED and project.first_registration_case
    progress = selectors.delivery_progress(project)
    assert not progress["running"] and progress["done"] == progress["total"] == 3
    assert project.events.filter(kind="delivery_start", actor=world.registrar).exists()
    with pytest.raises(Conflict) as exc:  # delivered: nothing more to start
        services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    assert exc.value.code == "wrong_stage"


def test_only_the_registration_office_starts_it_at_its_stage(world):
    project = make_project(world)
    with pytest.raises(Conflict) as exc:
        services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    assert exc.value.code == "wrong_stage"
    filed = filed_project(world, project)
    with pytest.raises(PermissionDenied):
        services.project_delivery_start(actor=world.housing, project_id=filed.pk)
    assert not DBTaskResult.objects.filter(task_path=DELIVERY_TASK).exists()
    assert Project.objects.get(pk=filed.pk).delivery_started_at is None


def test_a_stopped_delivery_goes_on_where_it_stopped(world, monkeypatch):
    project = filed_project(world)
    register = services._register_transfer
    calls = []

    def second_fails(actor, project, registry, values, unit, contract, tax):
        calls.append(unit.room)
        if len(calls) == 2:
            raise RuntimeError("gateway down")
        return register(actor, project, registry, values, unit, contract, tax)

    monkeypatch.setattr(services, "_register_transfer", second_fails)
    services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    assert run_deliveries() == 1
    project.refresh_from_db()
    progress = selectors.delivery_progress(project)
    # the first registration and the first buyer's are whole; the second is absent
    assert project.stage == Stage.COMPLETION_FILED and progress["done"] == 2
    assert not progress["running"] and "RuntimeError" in progress["error"]
    units = list(project.units.filter(buyer__isnull=False).order_by("room"))
    assert units[0].certificate_number and not units[1].certificate_number
    cases_before = Case.objects.count()
    monkeypatch.undo()
    services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    assert selectors.delivery_progress(Project.objects.get(pk=project.pk))["error"] == ""
    assert run_deliveries() == 1
    project.refresh_from_db()
    assert project.stage == Stage.DELIVERED and project.delivery_done == 3
    assert Case.objects.count() == cases_before + 1  # only the missing registration
    assert Case.objects.filter(number=project.first_registration_case).count() == 1


def test_a_missing_record_registers_nothing_and_says_which(world):
    project = filed_project(world)
    # the second buyer's contract number no longer matches what the registry may read
    second = project.units.filter(buyer__isnull=False).order_by("room")[1]
    Unit.objects.filter(pk=second.pk).update(contract_no="JS-NOT-FILED")
    services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    run_deliveries()
    project.refresh_from_db()
    assert project.stage == Stage.COMPLETION_FILED and not Case.objects.exists()
    assert "1栋102" in project.delivery_error and project.delivery_done == 0


def test_the_page_starts_it_and_shows_how_far_it_got(world, client_for):
    project = filed_project(world)
    registrar = client_for(world.registrar)
    path = f"/housing/projects/{project.code}/"
    page = registrar.get(path).content.decode()
    assert "交房即交证</button>" in page and 'http-equiv="refresh"' not in page
    answer = registrar.post(f"{path}deliver", follow=True)
    page = answer.content.decode()
    assert "已开始交房即交证" in page
    assert 'data-testid="delivery"' in page and "已办结 0 / 3 件登记" in page
    assert 'http-equiv="refresh"' in page  # the page follows the worker
    assert "交房即交证</button>" not in page  # no second start while it runs
    run_deliveries()
    page = registrar.get(path).content.decode()
    assert "已交房交证" in page and 'http-equiv="refresh"' not in page
    assert 'data-testid="delivery"' not in page


def test_the_page_says_why_it_stopped_and_offers_to_go_on(world, client_for, monkeypatch):
    project = filed_project(world)

    def fails(*args, **kwargs):
        raise Conflict("登记系统维护中", code="registry_down")

    monkeypatch.setattr(services, "_register_transfer", fails)
    registrar = client_for(world.registrar)
    path = f"/housing/projects/{project.code}/"
    registrar.post(f"{path}deliver")
    run_deliveries()
    page = registrar.get(path).content.decode()
    assert "办理中断" in page and "登记系统维护中" in page and "已办结 1 / 3 件登记" in page
    assert "继续交房即交证</button>" in page and 'http-equiv="refresh"' not in page


def test_a_delivery_whose_worker_stopped_can_be_started_again(world):
    project = filed_project(world)
    services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    with pytest.raises(Conflict):
        services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    # the worker that took it was killed: no progress for longer than DELIVERY_STALL
    long_ago = timezone.now() - DELIVERY_STALL - dt.timedelta(minutes=1)
    Project.objects.filter(pk=project.pk).update(delivery_progressed_at=long_ago)
    stalled = Project.objects.get(pk=project.pk)
    assert selectors.delivery_progress(stalled)["stalled"]
    assert not selectors.delivery_progress(stalled)["running"]
    services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    assert run_deliveries() == 2  # the abandoned task and the new one: the second finds it done
    project.refresh_from_db()
    assert project.stage == Stage.DELIVERED and project.delivery_done == 3


def test_a_refused_call_by_someone_else_does_not_stop_a_running_delivery(world):
    project = filed_project(world)
    services.project_delivery_start(actor=world.registrar, project_id=project.pk)
    with pytest.raises(PermissionDenied):
        services.project_deliver(actor=world.housing, project_id=project.pk)
    assert selectors.delivery_progress(Project.objects.get(pk=project.pk))["running"]
