"""The audit writer every service calls inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from . import context
from .models import AuditEvent


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
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    ctx = context.current()
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        on_behalf_of=on_behalf_of,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=changes or {},
        request_id=ctx.request_id,
        client_address=ctx.client_address,
        channel=ctx.channel,
    )


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
