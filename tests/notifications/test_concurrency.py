"""Two workers must never send the same message twice (PostgreSQL, real threads, each
with its own database connection)."""

import threading

import pytest
from django.db import connection, transaction

from yiciban.notifications.models import OutboxMessage, OutboxStatus
from yiciban.notifications.services import notification_send, outbox_message_deliver

from .conftest import read_sms_file, run_worker


@pytest.fixture
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are a PostgreSQL matter; SQLite has one writer")


def _send_many(count: int) -> list[int]:
    for n in range(count):
        notification_send(
            actor=None,
            phone=f"1390000{n:04d}",
            channels=["sms"],
            subject="受理通知",
            body=f"您的第{n}号申请已受理。",
            kind="cases.accepted",
        )
    return list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True))


def _in_thread(target, *args):
    errors = []

    def run():
        try:
            target(*args)
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_each_message_send_it_once(postgresql_only, sms_file):
    ids = _send_many(20)
    barrier = threading.Barrier(2)
    results: dict[str, list[str]] = {"a": [], "b": []}

    def worker(name):
        for message_id in ids:
            barrier.wait(timeout=30)  # both reach for the same message at the same moment
            results[name].append(outbox_message_deliver(message_id=message_id))

    threads = [_in_thread(worker, name) for name in results]
    for thread, errors in threads:
        thread.join(timeout=120)
        assert not errors, errors
    for outcome_a, outcome_b in zip(results["a"], results["b"], strict=True):
        assert sorted([outcome_a, outcome_b]) == ["sent", "skipped"]
    lines = read_sms_file(sms_file)
    assert len(lines) == 20
    assert len({line["phone"] for line in lines}) == 20
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 1)}


@pytest.mark.django_db(transaction=True)
def test_claim_skips_a_locked_message_instead_of_waiting(postgresql_only, sms_file):
    (message_id,) = _send_many(1)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic():
            OutboxMessage.objects.select_for_update().get(pk=message_id)
            locked.set()
            # Without SKIP LOCKED the claim below would wait here until this times out,
            # then send: the assertions below would fail.
            release.wait(timeout=30)

    holder, errors = _in_thread(hold_lock)
    assert locked.wait(timeout=30)
    try:
        outcome = outbox_message_deliver(message_id=message_id)
    finally:
        release.set()
        holder.join(timeout=60)
    assert not errors, errors
    assert outcome == "skipped"
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.QUEUED, 0)
    assert read_sms_file(sms_file) == []


@pytest.mark.django_db(transaction=True)
def test_two_real_workers_with_duplicate_tasks_send_each_message_once(postgresql_only, sms_file):
    from yiciban.notifications.tasks import deliver_outbox_message

    ids = _send_many(15)  # each already has its task (on commit)
    for message_id in ids:  # and a duplicate, as the sweeper may add
        deliver_outbox_message.enqueue(message_id)

    def worker(name):
        # these transactions commit for real, so the worker may recycle connections as
        # it does in production
        run_worker(name, recycle_connections=True)

    threads = [_in_thread(worker, f"worker-{n}") for n in range(2)]
    for thread, errors in threads:
        thread.join(timeout=120)
        assert not errors, errors
    assert len(read_sms_file(sms_file)) == 15
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 1)}
