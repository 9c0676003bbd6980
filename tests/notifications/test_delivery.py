import datetime as dt
import email
import email.policy
import os
import socket
import stat

import pytest
from django.core import mail

from yiciban.core.errors import Conflict, NotFound, PermissionDenied
from yiciban.core.models import AuditEvent
from yiciban.notifications.gateways import (
    FileSmsGateway,
    HttpSmsGateway,
    PermanentDeliveryError,
    SmsGateway,
    TemporaryDeliveryError,
    get_sms_gateway,
)
from yiciban.notifications.models import OUTBOX_TRANSITIONS, OutboxMessage, OutboxStatus
from yiciban.notifications.services import (
    _outbox_claim,
    _outbox_settle,
    _transition,
    notification_send,
    outbox_message_deliver,
    outbox_message_requeue,
    outbox_retry_due,
    retry_delay,
)

from .conftest import pending_delivery_tasks, read_sms_file, ready_delivery_tasks, run_worker

PHONE = "13800138000"
START = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)  # a Monday, 09:00 in Shanghai


def send_sms(body="您的营业执照已核准，请到政务服务中心一窗领取。", **extra):
    return notification_send(
        actor=None,
        phone=PHONE,
        channels=["sms"],
        subject="审批结果通知",
        body=body,
        kind="cases.decided",
        **extra,
    )


def only_message() -> OutboxMessage:
    return OutboxMessage.objects.get()


@pytest.fixture
def at_start(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


# --- gateways -------------------------------------------------------------------------


def test_shipped_gateways_satisfy_the_protocol(settings, sms_file):
    assert isinstance(FileSmsGateway(), SmsGateway)
    assert isinstance(HttpSmsGateway(url="http://127.0.0.1:9/"), SmsGateway)
    assert isinstance(get_sms_gateway(), FileSmsGateway)


def test_file_gateway_appends_what_would_be_sent(sms_file):
    gateway = FileSmsGateway()
    first = gateway.send(PHONE, "您的申请已受理。")
    second = gateway.send("13912345678", "请于3个工作日内补正材料。")
    lines = read_sms_file(sms_file)
    assert [(x["id"], x["phone"], x["text"]) for x in lines] == [
        (first, PHONE, "您的申请已受理。"),
        (second, "13912345678", "请于3个工作日内补正材料。"),
    ]
    # it holds numbers in clear, so only its owner may read it
    assert stat.S_IMODE(os.stat(sms_file).st_mode) == 0o600


def test_file_gateway_reports_an_unwritable_file_as_temporary(settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    settings.YICIBAN_SMS_FILE = str(blocker / "sms.jsonl")
    with pytest.raises(TemporaryDeliveryError):
        FileSmsGateway().send(PHONE, "测试")


def test_http_gateway_posts_json_with_key_and_returns_provider_id(sms_provider):
    message_id = HttpSmsGateway().send(PHONE, "您的申请已受理。")
    assert message_id == "prov-1"
    (request,) = sms_provider.requests
    assert request["path"] == "/v1/sms"
    assert request["json"] == {"phone": PHONE, "text": "您的申请已受理。"}
    assert request["headers"]["Authorization"] == "Bearer test-key-123"
    assert request["headers"]["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("status", "payload", "error"),
    [
        (500, {"error": "internal"}, TemporaryDeliveryError),
        (503, {}, TemporaryDeliveryError),
        (429, {"error": "rate limited"}, TemporaryDeliveryError),
        (400, {"error": "invalid phone"}, PermanentDeliveryError),
        (401, {"error": "bad key"}, PermanentDeliveryError),
        (200, {"status": "ok"}, PermanentDeliveryError),  # accepted without an id
    ],
)
def test_http_gateway_sorts_provider_answers(sms_provider, status, payload, error):
    sms_provider.reply((status, payload))
    with pytest.raises(error):
        HttpSmsGateway().send(PHONE, "测试")


def test_http_gateway_unreachable_provider_is_temporary():
    url = f"http://127.0.0.1:{closed_port()}/sms"
    with pytest.raises(TemporaryDeliveryError):
        HttpSmsGateway(url=url, key="k", timeout=2).send(PHONE, "x")


def test_http_gateway_without_url_is_a_temporary_configuration_error(settings):
    settings.YICIBAN_SMS_HTTP_URL = ""
    with pytest.raises(TemporaryDeliveryError):
        HttpSmsGateway()


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- delivery through the worker ------------------------------------------------------


@pytest.mark.django_db
def test_worker_delivers_sms_through_file_gateway(sms_file, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_sms(link="https://zwfw.example.gov.cn/cases/1/")
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    message = only_message()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    (line,) = read_sms_file(sms_file)
    assert line["phone"] == PHONE
    assert line["text"] == (
        "您的营业执照已核准，请到政务服务中心一窗领取。 https://zwfw.example.gov.cn/cases/1/"
    )
    assert message.provider_message_id == line["id"]
    event = AuditEvent.objects.get(action="notifications.outbox_message_deliver")
    assert event.changes["status"] == ["sending", "sent"]
    assert event.channel == "task"
    assert PHONE not in str(event.changes)


@pytest.mark.django_db
def test_relative_link_is_made_absolute_with_public_url_or_left_out(
    settings, sms_file, django_capture_on_commit_callbacks
):
    settings.YICIBAN_PUBLIC_URL = ""
    with django_capture_on_commit_callbacks(execute=True):
        send_sms(body="无地址时不带链接。", link="/cases/7/")
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    settings.YICIBAN_PUBLIC_URL = "https://zwfw.example.gov.cn/"
    with django_capture_on_commit_callbacks(execute=True):
        send_sms(body="有地址时带链接。", link="/cases/7/")
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    texts = sorted(line["text"] for line in read_sms_file(sms_file))
    assert texts == ["无地址时不带链接。", "有地址时带链接。 https://zwfw.example.gov.cn/cases/7/"]


@pytest.mark.django_db
def test_email_arrives_at_a_real_smtp_server_with_chinese_intact(
    smtp_sink, settings, django_capture_on_commit_callbacks
):
    settings.YICIBAN_PUBLIC_URL = "https://zwfw.example.gov.cn"
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            actor=None,
            email="zhangsan@example.com",
            channels=["email"],
            subject="【一次办】补正材料通知：华容县市场监督管理局",
            body="张三您好：\n请补正《食品经营许可证》申请的营业场所平面图。",
            kind="cases.supplement_requested",
            link="/cases/12/",
        )
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    message = only_message()
    assert message.status == OutboxStatus.SENT, message.last_error
    (envelope,) = smtp_sink.envelopes
    assert envelope.rcpt_tos == ["zhangsan@example.com"]
    assert envelope.mail_from == "noreply@yiciban.test"
    received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert received["To"] == "zhangsan@example.com"
    # Python folds a long encoded subject onto a continuation line; the unfolded value then
    # starts with that line's space, which mail readers drop.
    assert received["Subject"].strip() == "【一次办】补正材料通知：华容县市场监督管理局"
    assert received["From"].addresses[0].display_name == "一次办"
    body = received.get_body(preferencelist=("plain",))
    assert body.get_content_charset() == "utf-8"
    # SMTP carries lines as CRLF
    assert body.get_content().replace("\r\n", "\n").strip() == (
        "张三您好：\n请补正《食品经营许可证》申请的营业场所平面图。\n\n"
        "https://zwfw.example.gov.cn/cases/12/"
    )
    assert received["Message-ID"] == message.provider_message_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reply", "status"),
    [("550 5.1.1 mailbox unavailable", "dead"), ("451 4.3.0 try again later", "failed")],
)
def test_smtp_refusals_are_sorted_into_dead_and_retry(
    smtp_sink, reply, status, django_capture_on_commit_callbacks
):
    smtp_sink.rcpt_reply = reply
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            actor=None,
            email="nobody@example.com",
            channels=["email"],
            subject="测试",
            body="测试",
            kind="tests.smtp",
        )
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    message = only_message()
    assert message.status == status
    assert "nobody@example.com" not in message.last_error
    assert smtp_sink.envelopes == []


@pytest.mark.django_db
def test_unreachable_smtp_server_is_retried(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            actor=None,
            email="a@example.com",
            channels=["email"],
            subject="测试",
            body="测试",
            kind="tests.smtp",
        )
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    message = only_message()
    assert message.status == OutboxStatus.FAILED
    assert "SMTP unavailable" in message.last_error


@pytest.mark.django_db
def test_email_with_djangos_test_backend(django_capture_on_commit_callbacks):
    # Apps' own tests run with the locmem backend: the message is in mail.outbox.
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            actor=None,
            email="wangwu@example.com",
            channels=["email"],
            subject="办结通知",
            body="您的申请已办结。",
            kind="cases.delivered",
        )
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    (sent,) = mail.outbox
    assert sent.to == ["wangwu@example.com"]
    assert sent.subject == "办结通知"
    assert only_message().status == OutboxStatus.SENT


# --- retries, backoff and dead letters -------------------------------------------------


@pytest.mark.django_db
def test_temporary_failures_back_off_exponentially_then_succeed(
    sms_provider, at_start, django_capture_on_commit_callbacks
):
    sms_provider.reply((503, {"error": "busy"}), (503, {"error": "busy"}))
    with django_capture_on_commit_callbacks(execute=True):
        send_sms()

    def work():
        with django_capture_on_commit_callbacks(execute=True):
            run_worker()
        return only_message()

    message = work()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert message.next_attempt_at == START + dt.timedelta(seconds=60)
    assert "503" in message.last_error
    # the retry is a deferred task: nothing runs before it is due
    assert ready_delivery_tasks().count() == 0
    at_start.move_to(START + dt.timedelta(seconds=59), tick=False)
    assert work().attempts == 1

    at_start.move_to(START + dt.timedelta(seconds=60), tick=False)
    message = work()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 2)
    assert message.next_attempt_at == START + dt.timedelta(seconds=60 + 120)

    at_start.move_to(START + dt.timedelta(seconds=180), tick=False)
    message = work()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 3)
    assert message.provider_message_id == "prov-3"
    assert message.last_error == ""
    assert len(sms_provider.requests) == 3
    statuses = [
        e.changes["status"]
        for e in AuditEvent.objects.filter(action="notifications.outbox_message_deliver").order_by(
            "id"
        )
    ]
    assert statuses == [["sending", "failed"], ["sending", "failed"], ["sending", "sent"]]


def test_backoff_doubles_and_is_capped(settings):
    settings.YICIBAN_OUTBOX_RETRY_BASE_SECONDS = 30
    settings.YICIBAN_OUTBOX_RETRY_MAX_SECONDS = 200
    assert [retry_delay(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 200, 200]


@pytest.mark.django_db
def test_message_is_dead_lettered_after_max_attempts(
    settings, sms_provider, at_start, django_capture_on_commit_callbacks
):
    settings.YICIBAN_OUTBOX_MAX_ATTEMPTS = 3
    sms_provider.reply(*[(500, {"error": "down"})] * 5)
    with django_capture_on_commit_callbacks(execute=True):
        send_sms()
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            run_worker()
        at_start.shift(dt.timedelta(hours=1))
    message = only_message()
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 3)
    assert "500" in message.last_error
    assert len(sms_provider.requests) == 3
    assert pending_delivery_tasks().count() == 0
    # the sweeper leaves dead messages alone
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_retry_due() == 0


@pytest.mark.django_db
def test_permanent_failure_is_dead_at_once_without_the_number_in_the_error(
    sms_provider, django_capture_on_commit_callbacks
):
    sms_provider.reply((400, {"error": f"number {PHONE} is not a mobile number"}))
    with django_capture_on_commit_callbacks(execute=True):
        send_sms()
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    message = only_message()
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 1)
    assert PHONE not in message.last_error
    assert "138****8000" in message.last_error
    assert pending_delivery_tasks().count() == 0


@pytest.mark.django_db
def test_unexpected_gateway_error_is_retried(settings, django_capture_on_commit_callbacks):
    settings.YICIBAN_SMS_GATEWAY = "tests.notifications.doubles.BrokenGateway"
    with django_capture_on_commit_callbacks(execute=True):
        send_sms()
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    message = only_message()
    assert message.status == OutboxStatus.FAILED
    assert message.last_error == "RuntimeError: unexpected bug in gateway"


@pytest.mark.django_db
def test_undecryptable_destination_is_dead(sms_file, django_capture_on_commit_callbacks):
    send_sms()
    OutboxMessage.objects.update(destination_encrypted="v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert outbox_message_deliver(message_id=only_message().pk) == OutboxStatus.DEAD
    assert "cannot be decrypted" in only_message().last_error
    assert read_sms_file(sms_file) == []


@pytest.mark.django_db
def test_delivering_a_sent_or_unknown_message_does_nothing(sms_file):
    send_sms()
    message_id = only_message().pk
    assert outbox_message_deliver(message_id=message_id) == OutboxStatus.SENT
    assert outbox_message_deliver(message_id=message_id) == "skipped"
    assert outbox_message_deliver(message_id=message_id + 100) == "skipped"
    assert len(read_sms_file(sms_file)) == 1


# --- the sweeper ----------------------------------------------------------------------


@pytest.mark.django_db
def test_sweeper_enqueues_a_message_whose_task_was_lost(
    sms_file, at_start, django_capture_on_commit_callbacks
):
    send_sms()  # on-commit callbacks not run: as if the process died right after commit
    assert pending_delivery_tasks().count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_retry_due() == 0  # within the grace period its own task may still come
    at_start.shift(dt.timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_retry_due() == 1
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    assert only_message().status == OutboxStatus.SENT
    assert len(read_sms_file(sms_file)) == 1


@pytest.mark.django_db
def test_sweeper_takes_back_a_message_whose_worker_died(
    sms_file, at_start, django_capture_on_commit_callbacks
):
    send_sms()
    message_id = only_message().pk
    dead_workers_claim = _outbox_claim(message_id)  # claimed, then the process was killed
    assert only_message().status == OutboxStatus.SENDING
    at_start.shift(dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_retry_due() == 0  # a send may legitimately still be running
    at_start.shift(dt.timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_retry_due() == 1
    message = only_message()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    message = only_message()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
    # had the first worker come back after all, its late result changes nothing
    assert _outbox_settle(dead_workers_claim, error="late", permanent=True) == "lease_lost"
    assert only_message().status == OutboxStatus.SENT


@pytest.mark.django_db
def test_sweeper_dead_letters_a_vanished_last_attempt(settings, sms_file, at_start):
    settings.YICIBAN_OUTBOX_MAX_ATTEMPTS = 1
    send_sms()
    _outbox_claim(only_message().pk)
    at_start.shift(dt.timedelta(hours=1))
    assert outbox_retry_due() == 0
    assert only_message().status == OutboxStatus.DEAD


# --- requeue and the transition table -------------------------------------------------


@pytest.mark.django_db
def test_admin_requeues_a_dead_message(make_user, sms_provider, django_capture_on_commit_callbacks):
    admin = make_user("admin", is_superuser=True, is_staff=True)
    clerk = make_user("clerk", is_staff=True)
    sms_provider.reply((401, {"error": "bad key"}))
    with django_capture_on_commit_callbacks(execute=True):
        send_sms()
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    message = only_message()
    assert message.status == OutboxStatus.DEAD
    with pytest.raises(PermissionDenied):
        outbox_message_requeue(actor=clerk, message_id=message.pk)
    with pytest.raises(NotFound):
        outbox_message_requeue(actor=admin, message_id=message.pk + 1)
    with django_capture_on_commit_callbacks(execute=True):
        requeued = outbox_message_requeue(actor=admin, message_id=message.pk)
    assert (requeued.status, requeued.attempts) == (OutboxStatus.QUEUED, 0)
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    assert only_message().status == OutboxStatus.SENT
    with pytest.raises(Conflict):  # only dead messages can be requeued
        outbox_message_requeue(actor=admin, message_id=message.pk)
    assert AuditEvent.objects.filter(
        action="notifications.outbox_message_requeue", actor=admin
    ).exists()


def test_transition_table_refuses_moves_it_does_not_list():
    statuses = list(OutboxStatus)
    for old in statuses:
        for new in statuses:
            message = OutboxMessage(status=old)
            if new in OUTBOX_TRANSITIONS[old]:
                assert _transition(message, new) == old
                assert message.status == new
            else:
                with pytest.raises(Conflict):
                    _transition(message, new)
                assert message.status == old
    assert OUTBOX_TRANSITIONS[OutboxStatus.SENT] == frozenset()
