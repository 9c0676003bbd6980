"""The audit writer every service calls inside its transaction."""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection, models
from django.utils import timezone

from . import context
from .models import AuditEvent
from .statements import Statement


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    changes: dict[str, Any] | None = None,
    on_behalf_of: str = "",
) -> AuditEvent:
    """Write one audit event. Call it inside the service's transaction so the event and the
    change commit (or roll back) together. `changes` must hold no personal data in clear:
    pass masked values."""
    actor = actor if getattr(actor, "pk", None) else None
    values = _values(actor, action, obj, object_type, object_id, changes, on_behalf_of)
    if not connection.features.can_return_columns_from_insert:  # the ORM's way
        event = AuditEvent(*values)
        event.save(force_insert=True)
    else:
        # Every service writes one event per change: each value prepared by its field
        # (get_db_prep_save) as the ORM's insert does, then `from_db` makes the same
        # instance `objects.create` returns — building the model from keywords and
        # compiling the insert cost more than the write.
        fields = _checked_fields()
        prepared = [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
        values[0] = _INSERT.fetchone(prepared[1:])[0]
        event = AuditEvent.from_db(connection.alias, None, values)
    if actor is not None:
        _ACTOR.set_cached_value(event, actor)  # as create(actor=…) leaves it
    return event


def unsaved(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    on_behalf_of: str = "",
) -> AuditEvent:
    """The event `record` would write, not yet written: for a service that inserts it with
    its other rows (`core.statements.insert_together`)."""
    actor = actor if getattr(actor, "pk", None) else None
    event = AuditEvent(*_values(actor, action, obj, "", "", changes, on_behalf_of))
    if actor is not None:
        _ACTOR.set_cached_value(event, actor)
    return event


def _values(actor, action, obj, object_type, object_id, changes, on_behalf_of) -> list:
    """The event's values in the fields' (concrete, declaration) order."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    ctx = context.current()
    _checked_fields()  # raises if AuditEvent's fields no longer come in this order
    return [
        None,  # id, given by the database
        timezone.now(),  # occurred_at: auto_now_add, as the ORM's pre_save sets it
        actor.pk if actor is not None else None,
        on_behalf_of,
        action,
        object_type,
        str(object_id),
        changes or {},
        ctx.request_id,
        ctx.client_address,
        ctx.channel,
    ]


_ACTOR = AuditEvent._meta.get_field("actor")


@functools.cache
def _checked_fields() -> list:
    fields = list(AuditEvent._meta.concrete_fields)
    names = [f.attname for f in fields]
    expected = ["id", "occurred_at", "actor_id", "on_behalf_of", "action", "object_type"]
    expected += ["object_id", "changes", "request_id", "client_address", "channel"]
    if names != expected:  # record() lists the values in this order
        raise RuntimeError(f"AuditEvent's fields changed ({names}): update audit.record")
    return fields


def _insert_sql(quote, _variant) -> str:
    fields = _checked_fields()
    columns = ", ".join(quote(f.column) for f in fields[1:])
    return (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * (len(fields) - 1))}) RETURNING {quote(fields[0].column)}"
    )


_INSERT = Statement(_insert_sql, prepare=True)


def changed_fields(instance: models.Model, before: dict[str, Any], fields: list[str]) -> dict:
    """{field: [old, new]} for the fields that differ — for update services."""
    diff = {}
    for name in fields:
        new = getattr(instance, name)
        if before.get(name) != new:
            diff[name] = [_jsonable(before.get(name)), _jsonable(new)]
    return diff


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
