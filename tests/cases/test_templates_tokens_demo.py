"""Process templates as versioned data; the daily clock refresh; tokens from the command
line; the read-only admin; and the demo cases (every state, every queue, loaded twice)."""

import datetime as dt
import io
from collections import Counter

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.cases.helpers import client_for, submit_restaurant
from yiciban import demo_loader
from yiciban.cases import process, selectors, services
from yiciban.cases.models import Case, CaseState, ProcessTemplate
from yiciban.core.errors import PermissionDenied, ValidationFailed


def _definition(**changes) -> dict:
    definition = process.builtin_definition("standard_review")
    definition.update(changes)
    return definition


def test_a_new_template_version_applies_to_new_items_only(world):
    old_case = submit_restaurant(world, seats=10, alcohol=False).case
    definition = process.builtin_definition("review_with_inspection")
    definition["steps"][1] = {**definition["steps"][1], "label": "初审"}
    template = services.process_template_publish(
        actor=world.admin,
        code="review_with_inspection",
        name="含现场核查（第二版）",
        flow="standard",
        definition=definition,
    )
    assert template.version == 2
    new_case = submit_restaurant(world, seats=10, alcohol=False).case
    old_food = old_case.items.get(name="食品经营许可")
    new_food = new_case.items.get(name="食品经营许可")
    assert old_food.process_template.version == 1
    assert new_food.process_template.version == 2
    assert {t.code: t.version for t in selectors.process_templates()}["review_with_inspection"] == 2
    services.case_accept(actor=world.clerk, case_id=new_case.pk)
    status = selectors.case_status(new_case)
    food = next(i for i in status["items"] if i["name"] == "食品经营许可")
    assert food["step_label"] == "初审"


def test_only_platform_admins_publish_templates(world):
    with pytest.raises(PermissionDenied):
        services.process_template_publish(
            actor=world.approver, code="x", name="x", flow="standard", definition=_definition()
        )


@pytest.mark.parametrize(
    ("definition", "field", "rule"),
    [
        ({"steps": []}, "definition.steps", "required"),
        ({"steps": [{"key": "dance", "role": "reviewer"}]}, "definition.steps[0].key", "choice"),
        (
            {"steps": [{"key": "review", "role": "janitor", "actions": []}]},
            "definition.steps[0].role",
            "choice",
        ),
        (
            {"steps": [{"key": "review", "role": "reviewer", "actions": ["approve"]}]},
            "definition.steps[0].actions",
            "choice",
        ),
        (
            {"steps": [process.ACCEPT, process.DELIVER]},
            "definition.steps",
            "one_decision",
        ),
        (
            {"steps": [{"key": "rules", "role": "system", "actions": []}, process.DELIVER]},
            "definition.fallback_steps",
            "required",
        ),
    ],
)
def test_template_definitions_are_checked(world, definition, field, rule):
    with pytest.raises(ValidationFailed) as exc:
        services.process_template_publish(
            actor=world.admin, code="custom", name="自定义", flow="standard", definition=definition
        )
    assert (field, rule) in {(e.field, e.rule) for e in exc.value.errors}


def test_every_builtin_template_is_valid():
    for code in process.BUILTIN_TEMPLATES:
        assert process.check_definition(process.builtin_definition(code)) == [], code


def test_templates_are_stored_once(world):
    first = process.current_template("filing")
    assert process.current_template("filing").pk == first.pk
    assert ProcessTemplate.objects.filter(code="filing").count() == 1


def test_open_suspensions_move_the_stored_due_date_daily(world):
    case = submit_restaurant(world, seats=10, alcohol=False).case
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False):
        services.case_accept(actor=world.clerk, case_id=case.pk)
        food = case.items.get(name="食品经营许可")
        services.suspension_start(
            actor=world.reviewer, item_id=food.pk, kind="expert_review", reason="专家评审"
        )
    food.refresh_from_db()
    assert food.due_on == dt.date(2026, 3, 11)  # the day of acceptance never counts
    assert services.clocks_refresh(today=dt.date(2026, 3, 6)) == 1
    food.refresh_from_db()
    assert food.due_on == dt.date(2026, 3, 17)  # 3–6 March suspended: four working days
    assert food.tasks.get(kind="review").due_on == dt.date(2026, 3, 17)
    assert services.clocks_refresh(today=dt.date(2026, 3, 6)) == 0


def test_token_command_prints_a_working_token(world):
    out = io.StringIO()
    call_command("cases_token_create", "clerk", "--name", "counter-pc", stdout=out)
    raw = out.getvalue().strip()
    assert services.api_token_authenticate(raw) == world.clerk
    assert services.api_token_authenticate(raw + "x") is None


def test_the_admin_shows_cases_read_only(world):
    case = submit_restaurant(world).case
    world.admin.is_superuser = True
    world.admin.save()
    client = client_for(world.admin)
    assert client.get("/admin/cases/case/").status_code == 200
    page = client.get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200 and case.number in page.content.decode()
    assert client.get("/admin/cases/case/add/").status_code == 403


@pytest.mark.django_db
def test_demo_cases_fill_every_queue_and_load_once():
    demo_loader.load()
    states = Counter(Case.objects.values_list("state", flat=True))
    assert set(states) == set(CaseState.values)
    regions = {number[:6] for number in Case.objects.values_list("number", flat=True)}
    assert regions == {"430623", "430624", "431127", "430702"}
    users = get_user_model().objects
    assert selectors.counter_queue(users.get(username="huarong_clerk")).exists()
    assert selectors.counter_queue(users.get(username="xiangyin_clerk")).exists()
    for username, role in (
        ("huarong_market_reviewer", "reviewer"),
        ("huarong_market_approver", "approver"),
        ("huarong_inspector", "inspector"),
    ):
        assert selectors.task_queue(users.get(username=username), role=role).exists(), username
    board = selectors.supervisor_board(users.get(username="huarong_supervisor"))
    market = board[0]
    assert market["overdue"] and market["warning"] and market["suspended"] and market["normal"]
    assert selectors.cases_of_applicant(users.get(username="zhangsan")).exists()
    assert selectors.cases_of_applicant(users.get(username="lanshan_boss")).exists()
    count = Case.objects.count()
    again = demo_loader.load()
    assert Case.objects.count() == count
    assert again.created.get("cases") == 0
