"""What ninja would render for an answer, for tests of answers written without it
(`core.responses.api_json`)."""

from __future__ import annotations

import datetime as dt
import json

from ninja.responses import NinjaJSONEncoder


def as_declared(schema, body: dict):
    """`body` validated against the declared `schema` and encoded as ninja would, date-times
    as instants (see `instants`)."""
    rendered = json.dumps(schema.model_validate(body).model_dump(), cls=NinjaJSONEncoder)
    return instants(json.loads(rendered))


def instants(value):
    """Date-times as the instants they name. Ninja writes a time to the millisecond, so
    12:00:01.000456 goes out as "12:00:01.000Z"; read back it is 12:00:01, which ninja
    writes "12:00:01Z" — the same instant, another text (about one time in a thousand)."""
    if isinstance(value, dict):
        return {k: instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [instants(v) for v in value]
    if isinstance(value, str) and len(value) > 10 and value[10:11] == "T":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value
