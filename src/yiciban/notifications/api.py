"""/api/v1/notifications — the signed-in user's inbox, and the outbox health for staff."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.security import django_auth
from pydantic import Field

from . import selectors, services

router = Router(tags=["notifications"], auth=django_auth)


class NotificationOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    link: str
    related_type: str
    related_id: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    count: int
    unread: int
    items: list[NotificationOut]


class PageParams(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class OutboxSummaryOut(Schema):
    counts: dict[str, dict[str, int]]
    due_now: int
    oldest_due_since: dt.datetime | None
    dead: int


@router.get("", response=NotificationPage, summary="我的消息")
def list_notifications(request: HttpRequest, page: Query[PageParams]):
    notifications = selectors.notifications_for(request.auth)
    return {
        "count": notifications.count(),
        "unread": selectors.unread_count_for(request.auth),
        "items": list(notifications[page.offset : page.offset + page.limit]),
    }


@router.post("/{int:notification_id}/read", response=NotificationOut, summary="标记为已读")
def mark_read(request: HttpRequest, notification_id: int):
    return services.notification_mark_read(actor=request.auth, notification_id=notification_id)


@router.get("/outbox/summary", response=OutboxSummaryOut, summary="消息发送情况")
def outbox_summary(request: HttpRequest):
    return selectors.outbox_status_summary_for(request.auth)
