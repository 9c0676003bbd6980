"""Every write of the notifications app.

Other apps call `notification_send` inside their own transaction: the notification and its
outbox messages commit (or roll back) with the business change, and delivery is enqueued
only after the commit. The worker then runs `outbox_message_deliver` for each message."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core import audit
from yiciban.core.crypto import decrypt, encrypt, mask
from yiciban.core.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from yiciban.core.identifiers import mask_phone

from . import conf
from .gateways import PermanentDeliveryError, get_sms_gateway
from .mail import send_email
from .models import (
    CLAIMABLE_STATUSES,
    OUTBOX_TRANSITIONS,
    Channel,
    Notification,
    OutboxMessage,
    OutboxStatus,
)
from .tasks import deliver_outbox_message

logger = logging.getLogger(__name__)

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
KIND_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
SUBJECT_MAX_CHARS = 200
BODY_MAX_CHARS = 10_000
LINK_MAX_CHARS = 500
# Providers split long SMS into parts and refuse beyond a few hundred characters.
SMS_MAX_CHARS = 500
LAST_ERROR_MAX_CHARS = 500


# --- input checks ---------------------------------------------------------------------


def normalize_mobile_phone(value: str) -> str:
    """ "+86 138-0013-8000" → "13800138000"; the caller checks the result with MOBILE_RE."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits


def mask_email(address: str) -> str:
    """zhangsan@example.com → zh******@example.com"""
    local, _sep, domain = address.rpartition("@")
    return mask(local, keep_start=min(2, len(local) // 2), keep_end=0) + "@" + domain


def _check_channels(channels: Sequence[str] | str, errors: list[FieldError]) -> list[str]:
    if isinstance(channels, str):
        channels = (channels,)
    chosen: list[str] = []
    for channel in channels:
        if channel not in Channel.values:
            errors.append(
                FieldError(
                    "channels",
                    "unknown_channel",
                    _("未知的通知渠道“%(c)s”，可用：in_app、sms、email") % {"c": channel},
                )
            )
        elif channel not in chosen:
            chosen.append(channel)
    if not chosen and not errors:
        errors.append(FieldError("channels", "required", _("至少选择一个通知渠道")))
    return chosen


def _check_link(link: str, errors: list[FieldError]) -> str:
    link = (link or "").strip()
    if not link:
        return ""
    if len(link) > LINK_MAX_CHARS:
        errors.append(
            FieldError("link", "max_length", _("链接不能超过%(n)d个字符") % {"n": LINK_MAX_CHARS})
        )
    # Rendered as href on the inbox page: only site paths and web addresses, never
    # "javascript:" or a protocol-relative "//other.host".
    elif not (
        (link.startswith("/") and not link.startswith("//"))
        or link.startswith(("https://", "http://"))
    ):
        errors.append(FieldError("link", "scheme", _("链接须为站内路径（以/开头）或http(s)网址")))
    return link


def _absolute_link(link: str) -> str:
    """The link as an SMS or e-mail can carry it, or "" when it cannot be made absolute."""
    if not link or link.startswith(("https://", "http://")):
        return link
    base = conf.public_url()
    return f"{base}{link}" if base else ""


def _sms_text(body: str, link: str) -> str:
    absolute = _absolute_link(link)
    return f"{body} {absolute}" if absolute else body


def _email_body(body: str, link: str) -> str:
    absolute = _absolute_link(link)
    return f"{body}\n\n{absolute}\n" if absolute else body


# --- sending --------------------------------------------------------------------------


def notification_send(
    *,
    actor,
    recipient_user=None,
    phone: str = "",
    email: str = "",
    channels: Sequence[str] = (Channel.IN_APP,),
    subject: str,
    body: str,
    kind: str,
    link: str = "",
    related: models.Model | None = None,
) -> Notification:
    """Create a notification and one outbox message per SMS/e-mail channel. Call it inside
    your own transaction; delivery is enqueued when that transaction commits."""
    errors: list[FieldError] = []
    chosen = _check_channels(channels, errors)
    subject = (subject or "").strip()
    body = (body or "").strip()
    kind = (kind or "").strip()

    if not kind:
        errors.append(FieldError("kind", "required", _("请填写消息类别")))
    elif len(kind) > 64 or not KIND_RE.match(kind):
        errors.append(
            FieldError("kind", "format", _("消息类别须为小写英文代码，如 cases.accepted"))
        )
    if not subject:
        errors.append(FieldError("subject", "required", _("请填写消息标题")))
    elif len(subject) > SUBJECT_MAX_CHARS:
        errors.append(
            FieldError(
                "subject", "max_length", _("标题不能超过%(n)d个字符") % {"n": SUBJECT_MAX_CHARS}
            )
        )
    if not body:
        errors.append(FieldError("body", "required", _("请填写消息内容")))
    elif len(body) > BODY_MAX_CHARS:
        errors.append(
            FieldError("body", "max_length", _("内容不能超过%(n)d个字符") % {"n": BODY_MAX_CHARS})
        )
    link = _check_link(link, errors)

    if recipient_user is not None and getattr(recipient_user, "pk", None) is None:
        errors.append(FieldError("recipient_user", "unsaved", _("接收人不是已保存的用户")))
    if Channel.IN_APP in chosen and recipient_user is None:
        errors.append(FieldError("recipient_user", "required", _("站内消息需要指定接收用户")))

    destinations: dict[str, tuple[str, str]] = {}  # channel → (clear, masked)
    if Channel.SMS in chosen:
        number = normalize_mobile_phone(phone)
        if not number:
            errors.append(FieldError("phone", "required", _("短信渠道需要手机号码")))
        elif not MOBILE_RE.match(number):
            errors.append(
                FieldError("phone", "mobile_format", _("手机号码应为11位大陆手机号（1开头）"))
            )
        else:
            destinations[Channel.SMS] = (number, mask_phone(number))
            if body and len(_sms_text(body, link)) > SMS_MAX_CHARS:
                errors.append(
                    FieldError(
                        "body",
                        "sms_too_long",
                        _("短信内容不能超过%(n)d个字符") % {"n": SMS_MAX_CHARS},
                    )
                )
    if Channel.EMAIL in chosen:
        address = (email or "").strip()
        if not address:
            errors.append(FieldError("email", "required", _("邮件渠道需要电子邮箱地址")))
        else:
            try:
                validate_email(address)
            except DjangoValidationError:
                errors.append(FieldError("email", "email_format", _("电子邮箱地址格式不正确")))
            else:
                destinations[Channel.EMAIL] = (address, mask_email(address))

    if related is not None and getattr(related, "pk", None) is None:
        errors.append(FieldError("related", "unsaved", _("关联对象尚未保存")))

    if errors:
        raise ValidationFailed(errors[0].message, errors)

    now = timezone.now()
    with transaction.atomic():
        notification = Notification.objects.create(
            recipient=recipient_user,
            in_app=Channel.IN_APP in chosen,
            kind=kind,
            subject=subject,
            body=body,
            link=link,
            related_type=related._meta.label_lower if related is not None else "",
            related_id=str(related.pk) if related is not None else "",
        )
        messages = [
            OutboxMessage.objects.create(
                notification=notification,
                channel=channel,
                destination_encrypted=encrypt(clear),
                destination_masked=masked,
                status=OutboxStatus.QUEUED,
                next_attempt_at=now,
            )
            for channel, (clear, masked) in destinations.items()
        ]
        audit.record(
            actor=actor,
            action="notifications.notification_send",
            obj=notification,
            changes={
                "kind": kind,
                "channels": chosen,
                "recipient_user": getattr(recipient_user, "pk", None),
                "destinations": {ch: masked for ch, (_clear, masked) in destinations.items()},
                "related": f"{notification.related_type}:{notification.related_id}"
                if related is not None
                else "",
            },
        )
        for message in messages:
            _enqueue_delivery(message.pk)
    return notification


def notification_mark_read(*, actor, notification_id: int) -> Notification:
    """Mark one's own notification read. Marking it again keeps the first reading time."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None:
            raise NotFound(_("消息不存在"))
        if getattr(actor, "pk", None) is None or notification.recipient_id != actor.pk:
            raise PermissionDenied(_("只能标记本人的消息"))
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
            audit.record(
                actor=actor,
                action="notifications.notification_mark_read",
                obj=notification,
                changes={"read_at": [None, notification.read_at.isoformat()]},
            )
    return notification


def notification_mark_all_read(*, actor) -> int:
    """Mark every unread in-app notification of the actor read; returns how many."""
    if getattr(actor, "pk", None) is None:
        raise PermissionDenied(_("请先登录"))
    with transaction.atomic():
        now = timezone.now()
        count = Notification.objects.filter(
            recipient=actor, in_app=True, read_at__isnull=True
        ).update(read_at=now)
        if count:
            audit.record(
                actor=actor,
                action="notifications.notification_mark_all_read",
                object_type=Notification._meta.label_lower,
                object_id=f"recipient:{actor.pk}",
                changes={"count": count, "read_at": now.isoformat()},
            )
    return count


# --- delivery -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    """What a worker needs to send one message, taken in the claim transaction."""

    message_id: int
    attempt: int
    channel: str
    destination_encrypted: str
    destination_masked: str
    subject: str
    body: str
    link: str


def _enqueue_delivery(message_id: int, run_after: dt.datetime | None = None) -> None:
    task = deliver_outbox_message
    if run_after is not None:
        task = task.using(run_after=run_after)
    # robust: the business change has committed; if enqueueing fails the message stays
    # due in the outbox and `outbox_retry_due` enqueues it later.
    transaction.on_commit(lambda: task.enqueue(message_id), robust=True)


def _transition(message: OutboxMessage, new_status: str) -> str:
    old_status = message.status
    if new_status not in OUTBOX_TRANSITIONS[old_status]:
        raise Conflict(
            _("待发消息状态为“%(old)s”，不能变为“%(new)s”")
            % {
                "old": OutboxStatus(old_status).label,
                "new": OutboxStatus(new_status).label,
            },
            code="invalid_transition",
        )
    message.status = new_status
    return old_status


def retry_delay(attempt: int) -> dt.timedelta:
    """Exponential backoff after the given failed attempt (1-based): base, 2×base, 4×base,
    … capped."""
    return min(conf.retry_base() * (2 ** max(attempt - 1, 0)), conf.retry_cap())


def _outbox_claim(message_id: int) -> _Claim | None:
    now = timezone.now()
    with transaction.atomic():
        # skip_locked: a second worker that reaches the same row while the first holds it
        # moves on instead of waiting and then sending the message a second time.
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status__in=CLAIMABLE_STATUSES, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return None
        _transition(message, OutboxStatus.SENDING)
        message.attempts += 1
        message.claimed_at = now
        message.save(update_fields=["status", "attempts", "claimed_at", "updated_at"])
        notification = message.notification
        return _Claim(
            message_id=message.pk,
            attempt=message.attempts,
            channel=message.channel,
            destination_encrypted=message.destination_encrypted,
            destination_masked=message.destination_masked,
            subject=notification.subject,
            body=notification.body,
            link=notification.link,
        )


def _send(claim: _Claim, destination: str) -> str:
    if claim.channel == Channel.SMS:
        return get_sms_gateway().send(destination, _sms_text(claim.body, claim.link))
    if claim.channel == Channel.EMAIL:
        return send_email(
            address=destination,
            subject=claim.subject,
            body=_email_body(claim.body, claim.link),
        )
    raise PermanentDeliveryError(f"channel {claim.channel!r} is not delivered by the outbox")


def _error_text(exc: BaseException, destination: str, masked: str) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if destination:
        # Gateways may echo the number or address back; never store it in clear.
        text = text.replace(destination, masked)
    return text[:LAST_ERROR_MAX_CHARS]


def outbox_message_deliver(*, message_id: int) -> str:
    """Claim, send and settle one outbox message; returns the resulting status, or
    "skipped" when the message is not claimable (already sent, being sent by another
    worker, not yet due, or gone).

    Two short transactions around the send rather than one: holding a row lock (and, on
    SQLite, the database write lock) across a network call would stall every other writer
    for as long as a slow gateway takes."""
    claim = _outbox_claim(message_id)
    if claim is None:
        return "skipped"
    destination = ""
    try:
        try:
            destination = decrypt(claim.destination_encrypted)
        except (ValueError, InvalidTag) as exc:
            raise PermanentDeliveryError("destination cannot be decrypted") from exc
        provider_message_id = _send(claim, destination)
    except Exception as exc:  # any failure but a permanent one may pass on a (bounded) retry
        error = _error_text(exc, destination, claim.destination_masked)
        # The scrubbed text only, no traceback: exception messages may carry the address.
        logger.warning(
            "outbox message %s (%s → %s) attempt %s failed: %s",
            claim.message_id,
            claim.channel,
            claim.destination_masked,
            claim.attempt,
            error,
        )
        return _outbox_settle(claim, error=error, permanent=isinstance(exc, PermanentDeliveryError))
    return _outbox_settle(claim, provider_message_id=provider_message_id)


def _outbox_settle(
    claim: _Claim,
    *,
    provider_message_id: str = "",
    error: str = "",
    permanent: bool = False,
) -> str:
    now = timezone.now()
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=claim.message_id)
        if message.status != OutboxStatus.SENDING or message.attempts != claim.attempt:
            # The sweeper took the message back after the lease ran out; the newer claim
            # owns it now and will settle it.
            logger.warning(
                "outbox message %s: attempt %s finished after its lease was taken over",
                claim.message_id,
                claim.attempt,
            )
            return "lease_lost"
        if not error:
            old = _transition(message, OutboxStatus.SENT)
            message.sent_at = now
            message.provider_message_id = provider_message_id[:200]
            message.last_error = ""
        elif permanent or message.attempts >= conf.max_attempts():
            old = _transition(message, OutboxStatus.DEAD)
            message.last_error = error
        else:
            old = _transition(message, OutboxStatus.FAILED)
            message.last_error = error
            message.next_attempt_at = now + retry_delay(message.attempts)
            _enqueue_delivery(message.pk, run_after=message.next_attempt_at)
        message.save()
        audit.record(
            actor=None,
            action="notifications.outbox_message_deliver",
            obj=message,
            changes={
                "status": [old, message.status],
                "attempt": message.attempts,
                "channel": message.channel,
                "destination": message.destination_masked,
                "error": message.last_error,
            },
        )
    return message.status


def outbox_retry_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """The sweeper (run from cron or a timer): takes back messages whose worker vanished
    mid-send (still "sending" after the lease) and re-enqueues due messages whose own
    deferred task did not run (lost enqueue, wiped task table). Returns how many it
    enqueued. Safe to run often and from several hosts: the claim decides who sends."""
    now = now or timezone.now()
    enqueued: list[int] = []
    with transaction.atomic():
        stale = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxStatus.SENDING, claimed_at__lte=now - conf.sending_lease())
            .order_by("claimed_at")[:limit]
        )
        for message in stale:
            exhausted = message.attempts >= conf.max_attempts()
            old = _transition(message, OutboxStatus.DEAD if exhausted else OutboxStatus.FAILED)
            message.last_error = "worker did not finish the attempt within the lease"
            message.next_attempt_at = now
            message.save()
            audit.record(
                actor=None,
                action="notifications.outbox_message_deliver",
                obj=message,
                changes={
                    "status": [old, message.status],
                    "attempt": message.attempts,
                    "channel": message.channel,
                    "destination": message.destination_masked,
                    "error": message.last_error,
                },
            )
            if not exhausted:
                enqueued.append(message.pk)
        enqueued += list(
            OutboxMessage.objects.filter(
                status__in=CLAIMABLE_STATUSES, next_attempt_at__lte=now - conf.sweep_grace()
            )
            .exclude(pk__in=enqueued)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[: max(limit - len(enqueued), 0)]
        )
        for message_id in enqueued:
            _enqueue_delivery(message_id)
    return len(enqueued)


def outbox_message_requeue(*, actor, message_id: int) -> OutboxMessage:
    """Give a dead message a fresh set of attempts, after an administrator fixed the cause
    (gateway credentials, a corrected address is a new notification instead)."""
    if not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("只有平台管理员可以重新发送已放弃的消息"))
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise NotFound(_("待发消息不存在"))
        old = _transition(message, OutboxStatus.QUEUED)
        previous_attempts = message.attempts
        message.attempts = 0
        message.next_attempt_at = timezone.now()
        message.claimed_at = None
        message.save()
        audit.record(
            actor=actor,
            action="notifications.outbox_message_requeue",
            obj=message,
            changes={"status": [old, message.status], "attempts": [previous_attempts, 0]},
        )
        _enqueue_delivery(message.pk)
    return message
