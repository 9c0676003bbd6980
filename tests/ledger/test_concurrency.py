"""Concurrent appends and integrations on PostgreSQL (real row locks, real commit order).
SQLite serialises writers at BEGIN IMMEDIATE, so there is nothing to race there."""

import threading

import pytest
from django.db import connection, transaction

from yiciban.ledger.auditor import audit_log
from yiciban.ledger.models import Checkpoint, Entry, LedgerAlarm, LogState
from yiciban.ledger.services import ledger_append, ledger_integrate

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]


def _run(workers):
    errors = []

    def wrap(target):
        def run():
            try:
                target()
            except Exception as exc:  # reported to the test thread below
                errors.append(exc)
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=wrap(w)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_appenders_and_integrators_racing_leave_no_gap_and_no_duplicate():
    appenders, per_appender = 4, 40
    done = threading.Event()
    start = threading.Barrier(appenders + 2)
    kept = []

    def appender(number):
        def run():
            start.wait()
            for i in range(per_appender):
                # Every fifth business write fails: its entry must never appear.
                try:
                    with transaction.atomic():
                        pending = ledger_append(
                            kind="case.event", producer=f"worker{number}", payload={"i": i}
                        )
                        if i % 5 == 4:
                            raise RuntimeError("business write failed")
                    kept.append(pending.seq)
                except RuntimeError:
                    pass

        return run

    def integrator():
        start.wait()
        while not done.is_set():
            ledger_integrate(batch_size=7)

    def appenders_then_stop():
        _run([appender(n) for n in range(appenders)])
        done.set()

    _run([appenders_then_stop, integrator, integrator])
    ledger_integrate()

    expected = appenders * per_appender * 4 // 5
    assert len(kept) == expected
    rows = list(Entry.objects.values_list("seq", "position__index"))
    assert sorted(seq for seq, _ in rows) == sorted(kept)
    assert sorted(index for _, index in rows) == list(range(expected))
    sizes = list(Checkpoint.objects.order_by("id").values_list("size", flat=True))
    assert sizes == sorted(sizes)
    assert sizes[-1] == LogState.objects.get().size == expected
    assert not LedgerAlarm.objects.exists()
    assert audit_log().ok


def test_two_integrators_at_once_integrate_each_entry_once():
    for i in range(500):
        ledger_append(kind="case.event", producer="cases", payload={"i": i})
    barrier = threading.Barrier(2)
    results = []

    def integrate():
        barrier.wait()
        results.append(ledger_integrate())

    _run([integrate, integrate])
    assert sorted(r.integrated for r in results) == [0, 500]
    assert Checkpoint.objects.count() == 1
    assert audit_log().ok
