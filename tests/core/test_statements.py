"""core.statements (hot statements, rows read as the ORM would, multi-row inserts) and
core.queue (a task row written with one insert)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from yiciban.cases.tasks import send_case_notices
from yiciban.core.models import AuditEvent, User
from yiciban.core.queue import enqueue
from yiciban.core.statements import Columns, Statement, insert_rows

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
