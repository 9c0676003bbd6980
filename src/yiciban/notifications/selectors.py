"""Reads of the notifications app, already limited to what the caller may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core.errors import PermissionDenied

from .models import CLAIMABLE_STATUSES, OUTBOX_CHANNELS, Notification, OutboxMessage, OutboxStatus


def notifications_for(user) -> QuerySet[Notification]:
    """The user's own in-app notifications, newest first (nobody else's, ever)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user, in_app=True).order_by("-created_at", "-id")


def unread_count_for(user) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()


@dataclass(frozen=True)
class OutboxSummary:
    # {"sms": {"queued": 3, "sent": 120, ...}, "email": {...}}: every status present, 0 if none
    counts: dict[str, dict[str, int]]
    # messages whose next attempt is due now but no worker has taken yet
    due_now: int
    # when the longest-waiting due message became due (None when nothing waits)
    oldest_due_since: dt.datetime | None
    dead: int


def outbox_status_summary(*, now: dt.datetime | None = None) -> OutboxSummary:
    """Counts by channel and status and the backlog, for supervisors and monitoring.
    Holds no personal data."""
    now = now or timezone.now()
    counts = {
        channel.value: {status.value: 0 for status in OutboxStatus} for channel in OUTBOX_CHANNELS
    }
    rows = OutboxMessage.objects.values("channel", "status").annotate(n=Count("id"))
    for row in rows.order_by():
        counts[row["channel"]][row["status"]] = row["n"]
    due = OutboxMessage.objects.filter(
        status__in=CLAIMABLE_STATUSES, next_attempt_at__lte=now
    ).aggregate(n=Count("id"), oldest=Min("next_attempt_at"))
    return OutboxSummary(
        counts=counts,
        due_now=due["n"],
        oldest_due_since=due["oldest"],
        dead=sum(by_status[OutboxStatus.DEAD] for by_status in counts.values()),
    )


def outbox_status_summary_for(user) -> OutboxSummary:
    """The summary for a staff member; applicants and the public get 403 (it shows the
    platform's delivery health, which is staff business, though it holds no personal data)."""
    if not (getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False)):
        raise PermissionDenied(_("只有工作人员可以查看消息发送情况"))
    return outbox_status_summary()
