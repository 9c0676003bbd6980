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

`insert_together` writes the new rows of several models — a submission's case, items,
materials, events, audit event, ledger entries and task — as one write: two statements on
PostgreSQL whatever the number of models (the keys, then every insert in one statement).

`Columns` reads a model's rows out of such a statement exactly as the ORM would (the
backend's and the field's converters, then `Model.from_db`)."""

from __future__ import annotations

import collections
import functools
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
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

    def execute(self, params: Sequence, *, using: str = DEFAULT_DB_ALIAS, variant=None) -> int:
        """Run a statement that returns no rows; the number of rows it wrote."""
        with prepared_cursor(using, self.prepare) as cursor:
            cursor.execute(self.sql(using, variant), params)
            return cursor.rowcount


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


# By (model, database vendor, rows carry their keys): how `insert_rows` writes the rows.
_INSERTERS: dict[tuple[type, str, bool], tuple[list, str, str, str]] = {}


def _json_ready(field):
    """How a column value travels inside the JSON document of a PostgreSQL insert."""
    if isinstance(field, (models.DateTimeField, models.DateField, models.TimeField)):
        return lambda value: value.isoformat() if value is not None else None
    if isinstance(field, (models.DecimalField, models.UUIDField)):
        return lambda value: str(value) if value is not None else None
    return None  # str, int, bool, None, and JSONField values (nested as they are)


def _insert_fields(model: type[Model], keyed: bool) -> list:
    # the database gives an auto-field key unless the rows carry one (`reserve_keys`); any
    # other key (a UUID, say) is always written
    return [
        f for f in model._meta.concrete_fields if keyed or not (f.primary_key and f.db_returning)
    ]


def _pg_insert(quote: Quote, model: type[Model], fields: list) -> str:
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    return (
        f"INSERT INTO {table} ({columns}) SELECT {columns} "
        f"FROM jsonb_populate_recordset(NULL::{table}, %s)"
    )


def _inserter(model: type[Model], connection, keyed: bool) -> tuple[list, str, str, str]:
    """How `insert_rows` writes `model`'s rows on this database: (readers of the fields'
    values, head, one row's placeholders, returning clause); built once."""
    key = (model, connection.vendor, keyed)
    inserter = _INSERTERS.get(key)
    if inserter is None:
        quote = connection.ops.quote_name
        fields = _insert_fields(model, keyed)
        returning = f" RETURNING {quote(model._meta.pk.column)}"
        if connection.vendor == "postgresql":
            inserter = (_readers(fields), _pg_insert(quote, model, fields), "", returning)
        else:
            table = quote(model._meta.db_table)
            columns = ", ".join(quote(f.column) for f in fields)
            inserter = (
                _readers(fields),
                f"INSERT INTO {table} ({columns}) VALUES ",
                "(" + ", ".join(["%s"] * len(fields)) + ")",
                returning,
            )
        _INSERTERS[key] = inserter
    return inserter


def _readers(fields) -> list:
    return [(f, f.attname, f.column, _stamp_kind(f), _json_ready(f)) for f in fields]


def _stamp_kind(field) -> str:
    """ "now": stamped on every write (auto_now); "added": stamped on insert unless the row
    already carries a time (auto_now_add — a service that quotes the time elsewhere, in a
    ledger entry say, stamps the row itself); "": not stamped."""
    if getattr(field, "auto_now", False):
        return "now"
    return "added" if getattr(field, "auto_now_add", False) else ""


def _value(obj: Model, f, attname: str, stamped: str):
    value = getattr(obj, attname)
    # pre_save only where it does something: the auto_now(_add) stamps
    if stamped == "now" or (stamped == "added" and value is None):
        value = f.pre_save(obj, True)
    return value


def _json_rows(objs: Sequence[Model], readers: list) -> str:
    """The rows as the one JSON parameter of a PostgreSQL insert."""
    rows = []
    for obj in objs:
        values = {}
        for f, attname, column, stamped, convert in readers:
            value = _value(obj, f, attname, stamped)
            values[column] = convert(value) if convert is not None else value
        rows.append(values)
    return orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()


def _mark_saved(objs: Sequence[Model], using: str) -> None:
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


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
    keyed = _keyed(objs)
    readers, head, row, returning = _inserter(model, connection, keyed)
    if connection.vendor == "postgresql":
        # one parameter whatever the number of rows: the statement text stays the same
        sql = head + returning
        params = [_json_rows(objs, readers)]
    else:
        sql = head + ", ".join([row] * len(objs)) + returning
        params = [
            f.get_db_prep_save(_value(obj, f, attname, stamped), connection)
            for obj in objs
            for f, attname, _column, stamped, _convert in readers
        ]
    with prepared_cursor(using) as cursor:
        cursor.execute(sql, params)
        ids = cursor.fetchall()
    if model._meta.pk.db_returning and not keyed:  # else the instance has its key already
        for obj, (pk,) in zip(objs, ids, strict=True):
            obj.pk = pk
    _mark_saved(objs, using)


def reserve_keys(groups: Sequence[Sequence[Model]], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Give every new row of the groups (each group one model) that has no key yet the key
    the database would give it, before it is written — so that rows can refer to each other
    and be written together (`insert_together`). PostgreSQL: `nextval` of each model's
    sequence, taken a block at a time (`KEY_BLOCK`) and handed out from memory, so most
    writes need no statement for their keys. SQLite: the table's AUTOINCREMENT counter
    (`sqlite_sequence`) is moved on, which is what an insert does. A key is never given
    twice on either."""
    wanted = []
    for group in groups:
        if group and type(group[0])._meta.pk.db_returning:
            missing = [obj for obj in group if obj.pk is None]
            if missing:
                wanted.append((type(group[0]), missing))
    if not wanted:
        return
    connection = connections[using]
    if connection.vendor == "postgresql":
        reserved = _pooled_keys(using, [(model, len(missing)) for model, missing in wanted])
    elif connection.vendor == "sqlite":
        reserved = [_sqlite_reserve(model, len(missing), using) for model, missing in wanted]
    else:
        raise ImproperlyConfigured(
            f"yiciban runs on PostgreSQL or SQLite, not {connection.vendor} (DATABASE_URL)"
        )
    for (_model, missing), keys in zip(wanted, reserved, strict=True):
        for obj, pk in zip(missing, keys, strict=True):
            obj.pk = pk


# PostgreSQL keys are taken from the sequences a block at a time and handed out from this
# process's memory, as Hibernate's pooled optimizer or a sequence's own CACHE do: keys stay
# unique, but across processes they are not in the order the rows were written, and keys a
# process took and did not use are a gap, as rolled-back `nextval`s are. A block is
# KEY_BLOCK times the rows a write asks for. Resetting a sequence below keys handed out
# (`setval`, a restore into a running site) needs the processes restarted.
KEY_BLOCK = 32
_KEY_POOLS: dict[tuple, collections.deque] = {}
_KEY_POOLS_LOCK = threading.Lock()


def _pooled_keys(using: str, wanted: list[tuple[type[Model], int]]) -> list[list[int]]:
    database = connections[using].settings_dict["NAME"]
    pools = [(model, count, (using, database, model)) for model, count in wanted]
    while True:
        with _KEY_POOLS_LOCK:
            short = [
                (model, count)
                for model, count, key in pools
                if len(_KEY_POOLS.get(key, ())) < count
            ]
            if not short:
                taken = []
                for _model, count, key in pools:
                    pool = _KEY_POOLS[key]
                    taken.append([pool.popleft() for _ in range(count)])
                return taken
        # outside the lock: another thread may take keys meanwhile, hence the loop
        fetched = _RESERVE.fetchone(
            [count * KEY_BLOCK for _model, count in short],
            using=using,
            variant=tuple(model for model, _count in short),
        )
        with _KEY_POOLS_LOCK:
            for (model, _count), keys in zip(short, fetched, strict=True):
                _KEY_POOLS.setdefault((using, database, model), collections.deque()).extend(keys)


def _sqlite_reserve(model: type[Model], count: int, using: str) -> list[int]:
    table = model._meta.db_table
    # one transaction: the counter row is read and moved under SQLite's write lock
    with transaction.atomic(using, savepoint=False), connections[using].cursor() as cursor:
        cursor.execute(
            "UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s RETURNING seq",
            [count, table],
        )
        row = cursor.fetchone()
        if row is not None:
            last = row[0]
        else:  # nothing inserted into the table yet (or its counter was reset)
            quote = connections[using].ops.quote_name
            pk = quote(model._meta.pk.column)
            cursor.execute(f"SELECT coalesce(max({pk}), 0) FROM {quote(table)}")
            last = cursor.fetchone()[0] + count
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, last])
    return list(range(last - count + 1, last + 1))


def insert_together(groups: Sequence[Sequence[Model]], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert the new rows of several models as one write, group after group (each group
    one model). A row may point at another row of the write through its related object
    (`CaseItem(case=case)`) once that row has its key (`reserve_keys`): the foreign key is
    filled in as `save()` does, and a related object without a key is refused (ValueError)
    on every database. A group without keys gets them from the database.

    PostgreSQL: ONE statement inserts every group (a data-modifying `WITH` per group, each
    group's rows one JSON parameter, prepared), atomic by itself — so a caller outside a
    transaction needs none, and the round trips are one whatever the number of models.
    Elsewhere: `insert_rows` per group in one transaction (the caller's, if any)."""
    groups = [list(group) for group in groups if group]
    if not groups:
        return
    keyed = [_keyed(group) for group in groups]  # refused before anything is written
    for group in groups:
        _link_related(group)
    connection = connections[using]
    if connection.vendor != "postgresql":
        with transaction.atomic(using, savepoint=False):
            for group in groups:
                insert_rows(group, using=using)
        return
    shape, params = [], []
    for group, carries_keys in zip(groups, keyed, strict=True):
        model = type(group[0])
        shape.append((model, carries_keys))
        params.append(_json_rows(group, _inserter(model, connection, carries_keys)[0]))
    returned = _TOGETHER.fetchall(params, using=using, variant=tuple(shape))
    if returned:
        by_group: dict[int, list] = {}
        for position, pk in returned:
            by_group.setdefault(position, []).append(pk)
        for position, keys in by_group.items():
            for obj, pk in zip(groups[position], keys, strict=True):
                obj.pk = pk
    for group in groups:
        _mark_saved(group, using)


def _keyed(objs: Sequence[Model]) -> bool:
    """Whether the new rows carry their auto keys (given by `reserve_keys`): all or none."""
    keyed = objs[0].pk is not None
    if any((obj.pk is not None) != keyed for obj in objs):
        raise ValueError(f"{type(objs[0]).__name__} rows with and without keys in one insert")
    return keyed and type(objs[0])._meta.pk.db_returning


def _link_related(objs: Sequence[Model]) -> None:
    """What `save()` does first (`Model._prepare_related_fields_for_save`), for the foreign
    keys only: a related object given its key since it was assigned passes that key to the
    foreign-key column; a related object without one is refused — the same ValueError."""
    model = type(objs[0])
    if model._meta.private_fields:  # a generic relation: Django's own, complete step
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="insert_together")
        return
    for f, attname, target in _foreign_keys(model):
        for obj in objs:
            if not f.is_cached(obj):
                continue
            related = f.get_cached_value(obj)
            if related is None:
                continue
            key = getattr(related, target)
            if key is None:
                raise ValueError(
                    f"insert_together() prohibited to prevent data loss due to unsaved "
                    f"related object '{f.name}'."
                )
            if getattr(obj, attname) is None:
                # past the descriptor, which would drop the cached related object
                obj.__dict__[attname] = key


@functools.cache
def _foreign_keys(model: type[Model]) -> list[tuple]:
    return [
        (f, f.attname, f.target_field.attname) for f in model._meta.concrete_fields if f.is_relation
    ]


def _reserve_sql(quote, models_) -> str:
    # pg_get_serial_sequence names the sequence of identity and serial columns alike
    arrays = ", ".join(
        f"ARRAY(SELECT nextval(pg_get_serial_sequence('{m._meta.db_table}', "
        f"'{m._meta.pk.column}')) FROM generate_series(1, %s))"
        for m in models_
    )
    return f"SELECT {arrays}"


def _together_sql(quote, shape) -> str:
    """`WITH g0 AS (INSERT …), g1 AS (INSERT … RETURNING id), … SELECT` the keys the
    database gave (group position, key), for the groups written without keys."""
    ctes, returning = [], []
    for position, (model, keyed) in enumerate(shape):
        sql = _pg_insert(quote, model, _insert_fields(model, keyed))
        if not keyed and model._meta.pk.db_returning:
            pk = quote(model._meta.pk.column)
            sql += f" RETURNING {pk}"
            returning.append(f"SELECT {position}, {pk} FROM g{position}")
        ctes.append(f"g{position} AS ({sql})")
    # every data-modifying WITH runs to completion whether or not the SELECT reads it
    select = " UNION ALL ".join(returning) if returning else "SELECT 0, 0 WHERE false"
    return f"WITH {', '.join(ctes)} {select}"


_RESERVE = Statement(_reserve_sql, prepare=True)
_TOGETHER = Statement(_together_sql, prepare=True)
