import json

import pytest
from django.db import transaction

from yiciban.core.crypto import decrypt
from yiciban.core.errors import NotFound, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.notifications.models import Notification, OutboxMessage, OutboxStatus
from yiciban.notifications.selectors import notifications_for
from yiciban.notifications.services import (
    mask_email,
    normalize_mobile_phone,
    notification_mark_all_read,
    notification_mark_read,
    notification_send,
)

from .conftest import pending_delivery_tasks

PHONE = "13800138000"


def send(**overrides):
    params = {
        "actor": None,
        "subject": "您的申请已受理",
        "body": "您提交的“开办餐饮店”一件事已受理，办件编号 430623-20250303-0001。",
        "kind": "cases.accepted",
    }
    params.update(overrides)
    return notification_send(**params)


@pytest.mark.django_db
def test_in_app_notification_lands_in_the_recipients_inbox_only(make_user):
    zhangsan, other = make_user("zhangsan"), make_user()
    notification = send(recipient_user=zhangsan, link="/cases/1/")
    assert list(notifications_for(zhangsan)) == [notification]
    assert list(notifications_for(other)) == []
    assert notification.in_app and notification.read_at is None
    assert notification.outbox_messages.count() == 0


@pytest.mark.django_db
def test_sms_and_email_become_encrypted_outbox_messages(
    make_user, django_capture_on_commit_callbacks
):
    zhangsan = make_user("zhangsan")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = send(
            actor=zhangsan,
            recipient_user=zhangsan,
            phone="+86 138-0013-8000",
            email="zhangsan@example.com",
            channels=["in_app", "sms", "email"],
        )
    messages = {m.channel: m for m in notification.outbox_messages.all()}
    assert set(messages) == {"sms", "email"}
    sms, email = messages["sms"], messages["email"]
    assert PHONE not in sms.destination_encrypted
    assert decrypt(sms.destination_encrypted) == PHONE
    assert sms.destination_masked == "138****8000"
    assert "zhangsan@example.com" not in email.destination_encrypted
    assert decrypt(email.destination_encrypted) == "zhangsan@example.com"
    assert email.destination_masked == "zh******@example.com"
    assert {m.status for m in messages.values()} == {OutboxStatus.QUEUED}
    # one delivery task per message, enqueued after the commit
    assert len(callbacks) == 2
    assert sorted(t.args_kwargs["args"][0] for t in pending_delivery_tasks()) == sorted(
        m.pk for m in messages.values()
    )


@pytest.mark.django_db
def test_audit_event_holds_masked_destinations_only(make_user):
    clerk = make_user("clerk")
    notification = send(
        actor=clerk, phone=PHONE, email="lisi@example.com", channels=["sms", "email"]
    )
    event = AuditEvent.objects.get(action="notifications.notification_send")
    assert event.actor == clerk
    assert event.object_id == str(notification.pk)
    dumped = json.dumps(event.changes, ensure_ascii=False)
    assert PHONE not in dumped and "lisi@example.com" not in dumped
    assert event.changes["destinations"] == {"sms": "138****8000", "email": "li**@example.com"}
    assert event.changes["channels"] == ["sms", "email"]


@pytest.mark.django_db
def test_related_object_is_recorded_as_type_and_id(make_user):
    user = make_user()
    notification = send(recipient_user=user, related=user)
    assert (notification.related_type, notification.related_id) == ("core.user", str(user.pk))


@pytest.mark.django_db
def test_a_single_channel_given_as_a_string_is_accepted():
    notification = send(phone=PHONE, channels="sms")
    assert [m.channel for m in notification.outbox_messages.all()] == ["sms"]
    assert notification.in_app is False


@pytest.mark.django_db
def test_callers_rollback_leaves_no_notification_and_no_task(make_user):
    user = make_user()
    with pytest.raises(RuntimeError), transaction.atomic():
        send(recipient_user=user, phone=PHONE, channels=["in_app", "sms"])
        raise RuntimeError("the business change failed after the notice was written")
    assert Notification.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert pending_delivery_tasks().count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"channels": ["fax"]}, "channels", "unknown_channel"),
        ({"channels": []}, "channels", "required"),
        ({"channels": ["sms"]}, "phone", "required"),
        ({"channels": ["sms"], "phone": "12345678901"}, "phone", "mobile_format"),
        ({"channels": ["sms"], "phone": "1380013800"}, "phone", "mobile_format"),
        ({"channels": ["sms"], "phone": "0730-1234567"}, "phone", "mobile_format"),
        ({"channels": ["email"], "email": " "}, "email", "required"),
        ({"channels": ["email"], "email": "zhangsan@"}, "email", "email_format"),
        ({"channels": ["email"], "email": "a@b.com\nBcc: x@y.com"}, "email", "email_format"),
        ({"channels": ["in_app"]}, "recipient_user", "required"),
        ({"subject": "  "}, "subject", "required"),
        ({"subject": "长" * 201}, "subject", "max_length"),
        ({"body": ""}, "body", "required"),
        ({"kind": ""}, "kind", "required"),
        ({"kind": "Cases Accepted"}, "kind", "format"),
        ({"link": "javascript:alert(1)"}, "link", "scheme"),
        ({"link": "//evil.example/x"}, "link", "scheme"),
        ({"channels": ["sms"], "phone": PHONE, "body": "字" * 501}, "body", "sms_too_long"),
    ],
)
@pytest.mark.django_db
def test_bad_input_is_refused_naming_field_and_rule(overrides, field, rule):
    overrides.setdefault("channels", ["sms"] if "phone" in overrides else ["email"])
    with pytest.raises(ValidationFailed) as caught:
        send(**{"phone": "", "email": "ok@example.com", **overrides})
    assert (field, rule) in [(e.field, e.rule) for e in caught.value.errors]
    assert Notification.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_unsaved_related_object_and_recipient_are_refused(make_user):
    from yiciban.core.models import User

    with pytest.raises(ValidationFailed) as caught:
        send(recipient_user=User(username="ghost"), related=User(username="ghost2"))
    assert {(e.field, e.rule) for e in caught.value.errors} == {
        ("recipient_user", "unsaved"),
        ("related", "unsaved"),
    }


@pytest.mark.django_db
def test_all_errors_are_reported_together():
    with pytest.raises(ValidationFailed) as caught:
        send(channels=["sms", "email", "pigeon"], phone="123", email="nope", subject="")
    fields = {e.field for e in caught.value.errors}
    assert {"channels", "phone", "email", "subject"} <= fields


def test_phone_normalization_and_masking():
    assert normalize_mobile_phone("+86 138 0013 8000") == PHONE
    assert normalize_mobile_phone("0086-13800138000") == PHONE
    assert normalize_mobile_phone("8613800138000") == PHONE
    assert normalize_mobile_phone("13800138000") == PHONE
    assert mask_email("a@example.com") == "*@example.com"
    assert mask_email("zhangsan@example.com") == "zh******@example.com"


# --- reading --------------------------------------------------------------------------


@pytest.mark.django_db
def test_recipient_marks_read_once_and_the_time_is_kept(make_user, time_machine):
    user = make_user()
    notification = send(recipient_user=user)
    time_machine.move_to("2025-03-03 09:00:00+08:00", tick=False)
    first = notification_mark_read(actor=user, notification_id=notification.pk)
    time_machine.move_to("2025-03-04 09:00:00+08:00", tick=False)
    again = notification_mark_read(actor=user, notification_id=notification.pk)
    assert first.read_at == again.read_at
    assert first.read_at.isoformat() == "2025-03-03T01:00:00+00:00"
    assert AuditEvent.objects.filter(action="notifications.notification_mark_read").count() == 1


@pytest.mark.django_db
def test_only_the_recipient_may_mark_read(make_user):
    owner, other = make_user(), make_user()
    notification = send(recipient_user=owner)
    with pytest.raises(PermissionDenied):
        notification_mark_read(actor=other, notification_id=notification.pk)
    with pytest.raises(PermissionDenied):
        notification_mark_read(actor=None, notification_id=notification.pk)
    with pytest.raises(NotFound):
        notification_mark_read(actor=owner, notification_id=notification.pk + 999)
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.django_db
def test_mark_all_read_touches_only_own_unread(make_user):
    owner, other = make_user(), make_user()
    mine = [send(recipient_user=owner) for _ in range(3)]
    theirs = send(recipient_user=other)
    notification_mark_read(actor=owner, notification_id=mine[0].pk)
    assert notification_mark_all_read(actor=owner) == 2
    assert notification_mark_all_read(actor=owner) == 0
    assert not Notification.objects.filter(recipient=owner, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    with pytest.raises(PermissionDenied):
        notification_mark_all_read(actor=None)
