"""Two people acting on the same thing at the same moment: exactly one wins, the other gets
Conflict (409) saying what happened. Real threads on PostgreSQL (real row locks); SQLite
serialises writers at BEGIN IMMEDIATE, so there is nothing to race there."""

import threading

import pytest
from django.db import connection

from tests.cases.helpers import submit_restaurant
from tests.org.fixtures import UserFactory, assign
from yiciban.cases import services
from yiciban.cases.models import Case, Decision, Task
from yiciban.core.errors import Conflict
from yiciban.org.models import Role

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]


def race(*actions):
    """Run the actions at the same moment in their own threads (and connections);
    return [(result, exception)] in order."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            outcomes[index] = (action(), None)
        except Exception as exc:  # handed back to the test thread
            outcomes[index] = (None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _split(outcomes):
    wins = [r for r, e in outcomes if e is None]
    losses = [e for r, e in outcomes if e is not None]
    return wins, losses


def test_two_reviewers_claiming_one_task(world):
    case = submit_restaurant(world).case
    services.case_accept(actor=world.clerk, case_id=case.pk)
    task = Task.objects.get(case=case, kind="review")
    wins, losses = _split(
        race(
            lambda: services.task_claim(actor=world.reviewer, task_id=task.pk),
            lambda: services.task_claim(actor=world.reviewer2, task_id=task.pk),
        )
    )
    assert len(wins) == 1 and len(losses) == 1
    assert isinstance(losses[0], Conflict) and losses[0].code == "task_claimed"
    task.refresh_from_db()
    assert task.assignee == wins[0].assignee
    assert task.assignee.username in str(losses[0])


def test_two_approvers_deciding_one_item(world):
    second = UserFactory(username="market_approver_b")
    assign(second, Role.APPROVER, department=world.market)
    case = submit_restaurant(world).case
    services.case_accept(actor=world.clerk, case_id=case.pk)
    task = Task.objects.get(case=case, kind="approve")  # the registration (核验合一)
    wins, losses = _split(
        race(
            lambda: services.item_approve(actor=world.approver, task_id=task.pk),
            lambda: services.item_refuse(
                actor=second, task_id=task.pk, reasons="名称不合规", legal_basis="条例第十条"
            ),
        )
    )
    assert len(wins) == 1 and len(losses) == 1
    assert isinstance(losses[0], Conflict) and losses[0].code == "task_done"
    assert Decision.objects.filter(case_item=task.case_item).count() == 1


def test_two_clerks_accepting_one_case(world):
    other_clerk = UserFactory(username="clerk_b")
    assign(other_clerk, Role.COUNTER_CLERK, region=world.huarong)
    case = submit_restaurant(world).case
    wins, losses = _split(
        race(
            lambda: services.case_accept(actor=world.clerk, case_id=case.pk),
            lambda: services.case_accept(actor=other_clerk, case_id=case.pk),
        )
    )
    assert len(wins) == 1 and isinstance(losses[0], Conflict)
    assert Task.objects.filter(case=case, kind="review").count() == 1


def test_a_retried_submit_racing_itself_makes_one_case(world):
    outcomes = race(*[lambda: submit_restaurant(world, key="double-click")] * 3)
    wins, losses = _split(outcomes)
    assert not losses
    assert len({w.case.pk for w in wins}) == 1
    assert sum(w.created for w in wins) == 1
    assert Case.objects.count() == 1


def test_concurrent_submissions_get_distinct_consecutive_numbers(world):
    outcomes = race(*[lambda: submit_restaurant(world)] * 6)
    wins, losses = _split(outcomes)
    assert not losses
    numbers = sorted(w.case.number for w in wins)
    assert [int(n[-6:]) for n in numbers] == [1, 2, 3, 4, 5, 6]
