"""Who is acting, for whom, and from where — set once per request (or per CLI command /
task) and read by the audit writer, so services do not have to thread it through."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_address: str | None = None
    channel: str = "web"  # web | api | cli | task | kiosk


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "yiciban_request_context", default=None
)


def current() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        return RequestContext(request_id=uuid.uuid4().hex, channel="cli")
    return ctx


@contextmanager
def bound(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def with_channel(channel: str) -> RequestContext:
    return replace(current(), channel=channel)
