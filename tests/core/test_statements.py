"""core.statements (hot statements, rows read as the ORM would, multi-row inserts) and
core.queue (a task row written with one insert)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from tests.cases.test_concurrency import race
from yiciban.cases.tasks import send_case_notices
from yiciban.core import statements
from yiciban.core.models import AuditEvent, Document, User
from yiciban.core.queue import enqueue, task_row
from yiciban.core.statements import Columns, Statement, insert_rows, insert_together, reserve_keys
from yiciban.ledger.models import PendingSeq

pytestmark = pytest.mark.django_db

_EVENT = Columns(AuditEvent, "a")
_EVENT_BY_ACTION = Statement(
    lambda quote, _variant: (
        f"SELECT {_EVENT.select(quote)} FROM {quote(AuditEvent._meta.db_table)} a "
        f"WHERE a.{quote('action')} = %s ORDER BY a.{quote('id')}"
    )
)
_IDS_IN = Statement(
    lambda quote, count: (
        f"SELECT {quote('id')} FROM {quote(User._meta.db_table)} "
        f"WHERE {quote('id')} IN ({', '.join(['%s'] * count)}) ORDER BY {quote('id')}"
    ),
    prepare=True,
)


def _events(action: str, n: int, actor=None) -> list[AuditEvent]:
    rows = [
        AuditEvent(
            actor=actor,
            action=action,
            object_type="test.thing",
            object_id=str(i),
            changes={"i": i, "名称": "中文", "nested": {"ok": True, "list": [1, 2.5, None]}},
            channel="cli",
        )
        for i in range(n)
    ]
    insert_rows(rows)
    return rows


def test_insert_rows_writes_every_row_in_one_statement_and_gives_ids():
    actor = User.objects.create_user("insert-rows", password="x")
    with CaptureQueriesContext(connection) as captured:
        rows = _events("test.insert_rows", 3, actor)
    assert len(captured.captured_queries) == 1
    assert all(r.pk for r in rows) and len({r.pk for r in rows}) == 3
    assert all(not r._state.adding for r in rows)
    for row in rows:
        stored = AuditEvent.objects.get(pk=row.pk)
        assert stored.changes == row.changes
        assert stored.actor_id == actor.pk
        # auto_now_add stamped by pre_save, as bulk_create does
        assert stored.occurred_at == row.occurred_at and row.occurred_at is not None
    insert_rows([])  # nothing to write: no statement


def test_columns_read_rows_exactly_as_the_orm():
    rows = _events("test.columns", 2)
    read = [_EVENT.load(values) for values in _EVENT_BY_ACTION.fetchall(["test.columns"])]
    assert [e.pk for e in read] == [r.pk for r in rows]
    for fast in read:
        plain = AuditEvent.objects.get(pk=fast.pk)
        for field in AuditEvent._meta.concrete_fields:
            assert getattr(fast, field.attname) == getattr(plain, field.attname), field.name
        assert isinstance(fast.occurred_at, dt.datetime) and timezone.is_aware(fast.occurred_at)
        assert isinstance(fast.changes, dict) and not fast._state.adding
    assert _EVENT_BY_ACTION.fetchone(["no such action"]) is None


def test_a_statement_is_built_once_per_database_and_variant():
    users = [User.objects.create_user(f"stmt-{i}", password="x") for i in range(3)]
    ids = [u.pk for u in users]
    assert [r[0] for r in _IDS_IN.fetchall(ids[:2], variant=2)] == ids[:2]
    assert [r[0] for r in _IDS_IN.fetchall(ids, variant=3)] == ids
    assert _IDS_IN.sql(variant=2) is _IDS_IN.sql(variant=2)  # kept, not rebuilt
    assert _IDS_IN.sql(variant=2) != _IDS_IN.sql(variant=3)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
def test_a_prepared_statement_is_prepared_once_per_connection_on_postgresql():
    user = User.objects.create_user("prepared", password="x")
    for _ in range(3):
        assert _IDS_IN.fetchall([user.pk], variant=1) == [(user.pk,)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert sum(1 for text in prepared if User._meta.db_table in text and "$1" in text) == 1
    # a statement not marked `prepare` is sent with client-side binding, not prepared
    _EVENT_BY_ACTION.fetchall(["test.not_prepared"])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%test.not_prepared%"],
        )
        assert cursor.fetchone()[0] == 0


def test_enqueue_writes_the_row_the_worker_runs():
    result_id = enqueue(send_case_notices, case_id=7, actor_id=None, notices=[{"k": "中文"}])
    row = DBTaskResult.objects.get(pk=uuid.UUID(result_id))
    assert row.status == "READY"
    assert row.task_path == "yiciban.cases.tasks.send_case_notices"
    assert row.args_kwargs == {
        "args": [],
        "kwargs": {"case_id": 7, "actor_id": None, "notices": [{"k": "中文"}]},
    }
    assert row.run_after == get_date_max()  # "no earliest time", as django_tasks_db stores it
    assert row.enqueued_at is not None and row.queue_name == "default"
    assert DBTaskResult.objects.ready().filter(pk=row.pk).exists()
    # what the worker does with it: the task and its arguments come back as enqueued
    task_result = row.task_result
    assert task_result.task.func is send_case_notices.func
    assert task_result.kwargs["case_id"] == 7


def test_enqueue_keeps_a_later_start():
    later = timezone.now() + dt.timedelta(hours=1)
    result_id = enqueue(
        send_case_notices.using(run_after=later), case_id=1, actor_id=None, notices=[]
    )
    row = DBTaskResult.objects.get(pk=uuid.UUID(result_id))
    assert row.run_after == later
    assert not DBTaskResult.objects.ready().filter(pk=row.pk).exists()


def _unsaved_events(action: str, n: int, actor) -> list[AuditEvent]:
    return [
        AuditEvent(actor=actor, action=action, object_type="t", object_id=str(i), changes={})
        for i in range(n)
    ]


def test_insert_together_writes_linked_rows_of_several_models():
    actor = User(username="together", password="x")
    events = _unsaved_events("test.together", 3, actor)
    task = task_row(send_case_notices, case_id=1, actor_id=None, notices=[])
    with CaptureQueriesContext(connection) as captured:
        reserve_keys([[actor], events])
        insert_together([[actor], events, [task]])
    if connection.vendor == "postgresql":
        # at most the keys, then every row: two statements whatever the number of models
        assert len(captured.captured_queries) <= 2
    with CaptureQueriesContext(connection) as after:
        assert all(e.actor is actor and e.actor_id == actor.pk for e in events)
    assert after.captured_queries == []  # the related object stays cached, as after save()
    stored = User.objects.get(username="together")
    assert stored.pk == actor.pk and not actor._state.adding
    rows = AuditEvent.objects.filter(action="test.together").order_by("object_id")
    assert [e.pk for e in rows] == [e.pk for e in events]
    assert {e.actor_id for e in rows} == {actor.pk}  # linked through the related object
    assert DBTaskResult.objects.filter(pk=task.pk).exists()


def test_insert_together_gives_keys_to_rows_without_them():
    actor = User.objects.create_user("together-returning", password="x")
    events = _unsaved_events("test.together.returning", 2, actor)
    others = _unsaved_events("test.together.returning2", 1, actor)
    insert_together([events, others])
    assert all(e.pk for e in events + others) and not events[0]._state.adding
    assert sorted(
        AuditEvent.objects.filter(action__startswith="test.together.returning").values_list(
            "pk", flat=True
        )
    ) == sorted(e.pk for e in events + others)
    assert AuditEvent.objects.get(pk=events[1].pk).object_id == "1"


def test_a_row_pointing_at_a_row_without_its_key_is_refused_on_every_database():
    actor = User(username="no-key", password="x")
    with pytest.raises(ValueError):
        insert_together([[actor], _unsaved_events("test.no_key", 1, actor)])
    assert not User.objects.filter(username="no-key").exists()


def test_rows_of_one_model_all_carry_their_keys_or_none_do():
    rows = _unsaved_events("test.mixed", 2, None)
    reserve_keys([rows[:1]])
    with pytest.raises(ValueError, match="with and without keys"):
        insert_together([rows])
    with pytest.raises(ValueError, match="with and without keys"):
        insert_rows(rows)
    assert not AuditEvent.objects.filter(action="test.mixed").exists()


def test_a_refused_row_leaves_nothing_of_the_write():
    actor = User(username="refused", password="x")
    reserve_keys([[actor]])
    with pytest.raises(IntegrityError), transaction.atomic():
        # the same queue row twice: the last group is refused, so is every other
        insert_together([[actor], [PendingSeq(seq=-5), PendingSeq(seq=-5)]])
    assert not User.objects.filter(username="refused").exists()
    assert not PendingSeq.objects.filter(seq=-5).exists()


def test_reserved_keys_are_never_given_again():
    first = _unsaved_events("test.reserve", 3, None)
    reserve_keys([first])
    second = _unsaved_events("test.reserve", 2, None)
    reserve_keys([second])
    keys = [e.pk for e in first + second]
    assert len(set(keys)) == 5 and keys == sorted(keys)
    later = _events("test.reserve.later", 1)[0]  # a key the database gives
    assert later.pk > max(keys)
    insert_together([first, second])
    assert AuditEvent.objects.filter(action="test.reserve").count() == 5
    reserve_keys([first])  # rows with keys keep them
    assert [e.pk for e in first] == keys[:3]


def _document(i: int) -> Document:
    return Document(sha256=f"{i:064x}", size=1, format="pdf", media_type="application/pdf")


def test_reserving_the_first_keys_of_a_table():
    if connection.vendor == "sqlite":
        # as on a new database: the table's AUTOINCREMENT counter has no row yet
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", ["core_document"])
    before = Document.objects.aggregate(top=Max("pk"))["top"] or 0
    rows = [_document(i) for i in range(2)]
    reserve_keys([rows])
    assert before < rows[0].pk < rows[1].pk
    insert_together([rows])
    assert Document.objects.filter(pk__in=[r.pk for r in rows]).count() == 2
    again = _document(5)
    again.save()
    assert again.pk > rows[1].pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="keys are pooled on PostgreSQL")
def test_keys_come_from_the_sequence_a_block_at_a_time():
    reserve_keys([_unsaved_events("test.pool", 1, None)])  # the pool holds a block now
    with CaptureQueriesContext(connection) as captured:
        rows = _unsaved_events("test.pool", 3, None)
        reserve_keys([rows])
    assert captured.captured_queries == []  # handed out from memory
    insert_together([rows])
    assert AuditEvent.objects.filter(action="test.pool").count() == 3
    # more than the block holds: one statement takes a new block
    many = _unsaved_events("test.pool.many", statements.KEY_BLOCK * 3, None)
    with CaptureQueriesContext(connection) as captured:
        reserve_keys([many])
    assert len(captured.captured_queries) == 1
    assert len({e.pk for e in many + rows}) == len(many) + 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_threads_never_get_the_same_key():
    def reserve() -> list[int]:
        keys = []
        for _ in range(20):
            rows = _unsaved_events("test.threads", 5, None)
            reserve_keys([rows])
            keys += [e.pk for e in rows]
        return keys

    outcomes = race(*[reserve for _ in range(4)])
    assert [error for _keys, error in outcomes] == [None] * 4
    found = [key for keys, _error in outcomes for key in keys]
    assert len(found) == 400 and len(set(found)) == 400


def test_insert_keeps_a_time_the_row_already_carries():
    when = timezone.now() - dt.timedelta(days=3)
    event = _unsaved_events("test.stamp", 1, None)[0]
    event.occurred_at = when
    insert_together([[event]])
    assert AuditEvent.objects.get(pk=event.pk).occurred_at == when
