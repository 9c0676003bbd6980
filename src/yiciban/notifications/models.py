"""Notifications and their outbox.

A Notification is what the platform tells someone (shown in their inbox when the in-app
channel is chosen). Each SMS or e-mail to send is one OutboxMessage: written in the same
transaction as the business change that caused it, then delivered by the background worker
with retries, so a notice is never lost because a gateway was down and never sent for a
change that rolled back."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("站内消息")
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


# Channels that go through the outbox (in-app needs no delivery: the row is the message).
OUTBOX_CHANNELS = (Channel.SMS, Channel.EMAIL)


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("失败待重试")
    DEAD = "dead", _("已放弃")


# The one table of allowed outbox transitions:
#   queued  → sending        a worker claims the message
#   sending → sent           the gateway accepted it
#   sending → failed         temporary error (or the worker vanished): retry scheduled
#   sending → dead           permanent error, or the last allowed attempt failed
#   failed  → sending        a worker claims the retry when it is due
#   dead    → queued         an administrator sends it again after fixing the cause
OUTBOX_TRANSITIONS: dict[str, frozenset[str]] = {
    OutboxStatus.QUEUED: frozenset({OutboxStatus.SENDING}),
    OutboxStatus.SENDING: frozenset({OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.DEAD}),
    OutboxStatus.FAILED: frozenset({OutboxStatus.SENDING}),
    OutboxStatus.DEAD: frozenset({OutboxStatus.QUEUED}),
    OutboxStatus.SENT: frozenset(),
}

# Statuses a worker may claim from.
CLAIMABLE_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.FAILED)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        # A sent notice is evidence that the applicant was told; keep it if the login goes.
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    in_app = models.BooleanField(_("站内显示"), default=False)
    kind = models.CharField(_("类别"), max_length=64, db_index=True)  # e.g. "cases.accepted"
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    link = models.CharField(_("链接"), max_length=500, blank=True)
    # The object the notice is about, as in the audit log: "cases.case" + "42". A plain pair
    # rather than a generic foreign key so a lower layer never imports the higher app.
    related_type = models.CharField(_("关联对象类型"), max_length=100, blank=True)
    related_id = models.CharField(_("关联对象编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "in_app", "-created_at"], name="notif_inbox_idx"),
            models.Index(fields=["related_type", "related_id"], name="notif_related_idx"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class OutboxMessage(models.Model):
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("消息"),
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    # Phone numbers and e-mail addresses are both personal data: stored encrypted
    # (core.crypto) and decrypted only by the worker at the moment of sending; screens, the
    # admin and errors use the masked copy.
    destination_encrypted = models.TextField(_("接收地址（加密）"))
    destination_masked = models.CharField(_("接收地址"), max_length=120)
    status = models.CharField(
        _("状态"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"))
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    provider_message_id = models.CharField(_("服务商消息编号"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            # the sweeper's query: due messages in a claimable status
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel__in=[c.value for c in OUTBOX_CHANNELS]),
                name="outbox_channel_delivered",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=OutboxStatus.values), name="outbox_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.destination_masked}"
