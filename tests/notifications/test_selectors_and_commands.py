import datetime as dt
import json
from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command

from yiciban.notifications.models import OutboxMessage, OutboxStatus
from yiciban.notifications.selectors import (
    notifications_for,
    outbox_status_summary,
    unread_count_for,
)
from yiciban.notifications.services import notification_send

from .conftest import pending_delivery_tasks


def send(**extra):
    return notification_send(
        actor=None, subject="通知", body="内容", kind="tests.selectors", **extra
    )


@pytest.mark.django_db
def test_notifications_for_is_own_in_app_only(make_user):
    user, other = make_user(), make_user()
    shown = send(recipient_user=user)
    send(recipient_user=user, phone="13800138000", channels=["sms"])  # SMS only: not inbox
    send(recipient_user=other)
    assert list(notifications_for(user)) == [shown]
    assert unread_count_for(user) == 1
    assert list(notifications_for(AnonymousUser())) == []
    assert unread_count_for(AnonymousUser()) == 0


@pytest.mark.django_db
def test_outbox_summary_counts_by_channel_and_status(time_machine):
    start = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)
    time_machine.move_to(start, tick=False)
    send(phone="13800138000", email="a@example.com", channels=["sms", "email"])
    send(phone="13800138001", channels=["sms"])
    OutboxMessage.objects.filter(channel="email").update(status=OutboxStatus.DEAD)
    summary = outbox_status_summary(now=start + dt.timedelta(minutes=5))
    assert summary.counts["sms"] == {
        "queued": 2,
        "sending": 0,
        "sent": 0,
        "failed": 0,
        "dead": 0,
    }
    assert summary.counts["email"]["dead"] == 1
    assert summary.dead == 1
    assert summary.due_now == 2
    assert summary.oldest_due_since == start


@pytest.mark.django_db
def test_outbox_status_command_prints_the_summary():
    send(phone="13800138000", channels=["sms"])
    out = StringIO()
    call_command("outbox_status", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["counts"]["sms"]["queued"] == 1
    assert data["due_now"] == 1
    text = StringIO()
    call_command("outbox_status", stdout=text)
    assert "sms    queued=1" in text.getvalue()


@pytest.mark.django_db
def test_outbox_retry_due_command_enqueues_overdue_messages(
    time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC), tick=False)
    send(phone="13800138000", channels=["sms"])  # its own task was never enqueued
    time_machine.shift(dt.timedelta(minutes=2))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("outbox_retry_due", stdout=out)
    assert out.getvalue().strip() == "enqueued 1 outbox message(s)"
    assert pending_delivery_tasks().count() == 1
