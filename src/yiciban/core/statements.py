"""Hot statements: SQL written once per database, prepared on PostgreSQL where that pays.

A few statements run on every API request or every submission (token lookup, the
idempotency check, the applicant's person and documents, a submission's multi-row inserts,
audit events, licence verification). For them the ORM's work — building a queryset,
compiling it, instantiating through `RawQuerySet` — costs more than running the statement.
A `Statement` is the one way to write such a read or write: its SQL is built once per
database vendor (quoting names through the backend) and run through Django's cursor wrapper,
so query logging, `execute_wrapper`s and error translation are as for the ORM.

`Statement(..., prepare=True)` and `insert_rows` run, on PostgreSQL, through a server-binding
cursor with `prepare=True`: values travel as parameters and the server plans the statement
once per connection. That pays for the inserts (a submission's rows go as one JSON
parameter, not as a quoted literal psycopg escapes and the server parses) and for a join
(the token lookup); a one-row lookup by key is cheaper in Python with Django's default
client-side binding (measured: ≈ 0.1 ms a licence verification), so those are not prepared.
(A pooler in front of PostgreSQL must keep prepared statements per client: PgBouncer ≥ 1.21
with `max_prepared_statements`, or session pooling.) SQLite: the ordinary cursor.

`Columns` reads a model's rows out of such a statement exactly as the ORM would (the
backend's and the field's converters, then `Model.from_db`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Model

Quote = Callable[[str], str]


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS, prepare: bool = True):
    """A cursor whose statements PostgreSQL prepares (server-side binding); with
    `prepare=False`, or on another database, the ordinary cursor."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not prepare:
        with connection.cursor() as cursor:
            yield cursor
        return
    # what `connection.cursor()` does, with a server-binding cursor in place of Django's
    # default client-binding one (which cannot prepare)
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        psycopg_connection = connection.connection
        if psycopg_connection.prepare_threshold is None:
            # Django turns preparing off (for poolers in transaction mode); a threshold no
            # count reaches turns it on for explicit `prepare=True` only — Django's own
            # client-binding cursors never prepare.
            psycopg_connection.prepare_threshold = 2**31 - 1
        raw = _preparing_cursor_class()(psycopg_connection)
    cursor = connection._prepare_cursor(raw)
    with cursor:
        yield cursor


@functools.cache  # Django's psycopg classes exist only when psycopg is installed
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


class Statement:
    """One hot statement. `build(quote, variant)` returns its SQL with `%s` placeholders;
    it is called once per database vendor and variant (say, the number of ids of an IN
    list) and kept. `prepare`: run it as a prepared statement on PostgreSQL."""

    def __init__(self, build: Callable[[Quote, Any], str], *, prepare: bool = False):
        self._build = build
        self.prepare = prepare
        self._sql: dict[tuple[str, Any], str] = {}

    def sql(self, using: str = DEFAULT_DB_ALIAS, variant: Any = None) -> str:
        connection = connections[using]
        key = (connection.vendor, variant)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = self._build(connection.ops.quote_name, variant)
        return sql

    def fetchone(self, params: Sequence, *, using: str = DEFAULT_DB_ALIAS, variant=None):
        with prepared_cursor(using, self.prepare) as cursor:
            cursor.execute(self.sql(using, variant), params)
            return cursor.fetchone()

    def fetchall(self, params: Sequence, *, using: str = DEFAULT_DB_ALIAS, variant=None):
        with prepared_cursor(using, self.prepare) as cursor:
            cursor.execute(self.sql(using, variant), params)
            return cursor.fetchall()


class Columns:
    """All concrete columns of `model` under the table alias `alias`: the select list for
    a `Statement`, and the instance made from the slice of a row that holds them."""

    def __init__(self, model: type[Model], alias: str):
        self.model, self.alias = model, alias
        self.fields = model._meta.concrete_fields
        self.names = [f.attname for f in self.fields]
        self._converters: dict[str, list] = {}  # by connection alias

    def __len__(self) -> int:
        return len(self.fields)

    def select(self, quote: Quote) -> str:
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)

    def _converters_for(self, using: str) -> list:
        converters = self._converters.get(using)
        if converters is None:
            connection = connections[using]
            converters = []
            for f in self.fields:
                col = f.get_col(self.alias)
                # as the SQL compiler does: the backend's converters, then the field's
                found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                converters.append((col, found))
            self._converters[using] = converters
        return converters

    def load(self, values: Sequence, *, using: str = DEFAULT_DB_ALIAS) -> Model:
        connection = connections[using]
        row = []
        for value, (col, converters) in zip(values, self._converters_for(using), strict=True):
            for convert in converters:
                value = convert(value, col, connection)
            row.append(value)
        return self.model.from_db(using, self.names, row)


# By (model, database vendor): how `insert_rows` writes that model's rows.
_INSERTERS: dict[tuple[type, str], tuple[list, list, str, str, str]] = {}


def _json_ready(field):
    """How a column value travels inside the JSON document of a PostgreSQL insert."""
    if isinstance(field, (models.DateTimeField, models.DateField, models.TimeField)):
        return lambda value: value.isoformat() if value is not None else None
    if isinstance(field, (models.DecimalField, models.UUIDField)):
        return lambda value: str(value) if value is not None else None
    return None  # str, int, bool, None, and JSONField values (nested as they are)


def insert_rows(objs: Sequence[Model], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert new instances of one model with one statement and give them their ids. What
    `bulk_create` does for a service's rows, without compiling a query each time (field
    defaults and `auto_now(_add)` stamps come from the instances and `pre_save`, as there).
    PostgreSQL: the rows go as one JSON parameter of a prepared statement,
    `INSERT … SELECT … FROM jsonb_populate_recordset(NULL::table, %s) RETURNING id`;
    SQLite: `INSERT … VALUES (…), (…) RETURNING id`."""
    if not objs:
        return
    connection = connections[using]
    model = type(objs[0])
    key = (model, connection.vendor)
    inserter = _INSERTERS.get(key)
    if inserter is None:
        quote = connection.ops.quote_name
        # the database gives an auto-field key; any other key (a UUID, say) is written
        fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning)]
        table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
        returning = f" RETURNING {quote(model._meta.pk.column)}"
        if connection.vendor == "postgresql":
            inserter = (
                fields,
                [
                    (
                        f,
                        f.attname,
                        f.column,
                        bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)),
                        _json_ready(f),
                    )
                    for f in fields
                ],
                f"INSERT INTO {table} ({columns}) SELECT {columns} "
                f"FROM jsonb_populate_recordset(NULL::{table}, %s)",
                "",
                returning,
            )
        else:
            inserter = (
                fields,
                [],
                f"INSERT INTO {table} ({columns}) VALUES ",
                "(" + ", ".join(["%s"] * len(fields)) + ")",
                returning,
            )
        _INSERTERS[key] = inserter
    fields, ready, head, row, returning = inserter
    if ready:
        rows = []
        for obj in objs:
            values = {}
            for f, attname, column, stamped, convert in ready:
                # pre_save only where it does something (the auto_now(_add) stamps)
                value = f.pre_save(obj, True) if stamped else getattr(obj, attname)
                values[column] = convert(value) if convert is not None else value
            rows.append(values)
        # one parameter whatever the number of rows: the statement text stays the same
        sql = head + returning
        params = [orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()]
    else:
        sql = head + ", ".join([row] * len(objs)) + returning
        params = [
            f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields
        ]
    with prepared_cursor(using) as cursor:
        cursor.execute(sql, params)
        ids = cursor.fetchall()
    key_given = not model._meta.pk.db_returning  # a UUID, say: the instance has it already
    for obj, (pk,) in zip(objs, ids, strict=True):
        if not key_given:
            obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
