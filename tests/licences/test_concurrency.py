"""Two approvers acting on one licence at the same moment: exactly one wins, the other gets
409. Real threads on PostgreSQL; SQLite serialises writers at BEGIN IMMEDIATE."""

import threading

import pytest
from django.db import connection

from tests.licences.conftest import issue_business, issue_food
from yiciban.core.errors import Conflict
from yiciban.licences import services
from yiciban.licences.models import Licence, LicenceStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]


def race(*actions):
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


def test_suspend_and_revoke_at_once(world):
    licence = issue_food(world)
    outcomes = race(
        lambda: services.licence_revoke(actor=world.approver, licence=licence, reason="吊销"),
        lambda: services.licence_revoke(actor=world.approver2, licence=licence, reason="撤销"),
    )
    losses = [e for _, e in outcomes if e is not None]
    assert len(losses) == 1 and isinstance(losses[0], Conflict)
    assert Licence.objects.get(pk=licence.pk).status == LicenceStatus.REVOKED


def test_two_changes_of_one_version(world):
    licence = issue_food(world)
    outcomes = race(
        lambda: services.licence_change(
            actor=world.approver,
            licence=licence,
            fields={"premises": "甲址"},
            reason="迁址",
            expected_version=1,
        ),
        lambda: services.licence_change(
            actor=world.approver2,
            licence=licence,
            fields={"premises": "乙址"},
            reason="迁址",
            expected_version=1,
        ),
    )
    wins = [r for r, e in outcomes if e is None]
    losses = [e for _, e in outcomes if e is not None]
    assert len(wins) == 1 and len(losses) == 1
    assert losses[0].code == "licence_version_changed"
    assert Licence.objects.get(pk=licence.pk).version == 2


def test_numbers_stay_unique_and_one_business_licence(world):
    outcomes = race(*[lambda: issue_food(world) for _ in range(4)])
    numbers = [r.number for r, e in outcomes if e is None]
    assert len(numbers) == 4 and len(set(numbers)) == 4
    outcomes = race(lambda: issue_business(world), lambda: issue_business(world))
    losses = [e for _, e in outcomes if e is not None]
    assert len(losses) == 1 and losses[0].code == "business_licence_exists"
