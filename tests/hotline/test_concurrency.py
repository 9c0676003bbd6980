"""Concurrent transitions on one ticket: exactly one wins, the other gets Conflict (409).
Real threads with their own connections, on PostgreSQL (row locks); on SQLite writers are
serialised by the database lock and the stale-copy tests in test_tickets.py cover the
check-after-lock logic."""

import threading

import pytest
from django.db import connection, connections, transaction

from yiciban.core.errors import Conflict
from yiciban.hotline import services
from yiciban.hotline.models import AssignmentOutcome, Ticket, TicketAssignment, TicketStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency is tested on PostgreSQL")


def _race(*calls):
    """Run the calls at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = ("ok", call())
        except Exception as exc:  # collected and asserted on in the test thread
            outcomes[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _one_wins(outcomes):
    wins = [o for o in outcomes if o[0] == "ok"]
    losses = [o for o in outcomes if o[0] == "error"]
    assert len(wins) == 1, outcomes
    assert all(isinstance(exc, Conflict) for _kind, exc in losses), outcomes
    return wins[0][1]


def test_two_operators_dispatch_at_once(logged_call, operator, other_operator, market, social):
    ticket = logged_call()
    winner = _one_wins(
        _race(
            lambda: services.ticket_dispatch(actor=operator, ticket=ticket, department=market),
            lambda: services.ticket_dispatch(
                actor=other_operator, ticket=ticket, department=social
            ),
        )
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DISPATCHED
    assert ticket.department_id == winner.department_id
    assert TicketAssignment.objects.filter(ticket=ticket).count() == 1


def test_answer_and_return_at_once(logged_call, operator, market, market_staff, market_admin):
    ticket = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    _one_wins(
        _race(
            lambda: services.ticket_answer(actor=market_staff, ticket=ticket, answer="已办理"),
            lambda: services.ticket_return(actor=market_admin, ticket=ticket, reason="不属本部门"),
        )
    )
    ticket.refresh_from_db()
    assignment = TicketAssignment.objects.get(ticket=ticket)
    if ticket.status == TicketStatus.ANSWERED:
        assert assignment.outcome == AssignmentOutcome.ANSWERED
    else:
        assert ticket.status == TicketStatus.RETURNED
        assert assignment.outcome == AssignmentOutcome.RETURNED


def test_a_waiting_action_sees_the_committed_state(logged_call, operator, other_operator, market):
    """While one transaction holds the ticket, a second dispatch waits for it and then,
    finding the ticket already dispatched, is refused."""
    ticket = logged_call()
    locked, release = threading.Event(), threading.Event()

    def hold_and_dispatch():
        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().get(pk=ticket.pk)
                locked.set()
                release.wait(timeout=30)
                services.ticket_dispatch(actor=operator, ticket=ticket, department=market)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_and_dispatch)
    holder.start()
    assert locked.wait(timeout=30)
    outcome = {}

    def second():
        try:
            services.ticket_dispatch(actor=other_operator, ticket=ticket, department=market)
            outcome["result"] = "ok"
        except Conflict:
            outcome["result"] = "conflict"
        finally:
            connections.close_all()

    waiter = threading.Thread(target=second)
    waiter.start()
    waiter.join(timeout=1)
    assert waiter.is_alive(), "the second dispatch should wait for the row lock"
    release.set()
    holder.join(timeout=60)
    waiter.join(timeout=60)
    assert outcome == {"result": "conflict"}
    assert TicketAssignment.objects.filter(ticket=ticket).count() == 1
