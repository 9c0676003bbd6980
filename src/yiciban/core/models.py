from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """One login for everybody: staff (whose roles live in `org`) and applicants (whose
    person record lives in `accounts`). Custom from the first migration so it can grow."""

    display_name = models.CharField(_("显示名称"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class AuditEvent(models.Model):
    """Append-only record of every write a service makes. Never updated, never deleted by
    the application (the admin shows it read-only)."""

    occurred_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # e.g. an agent acting for an enterprise: "enterprise:91430…" / "person:42"
    on_behalf_of = models.CharField(_("代表"), max_length=100, blank=True)
    action = models.CharField(_("动作"), max_length=100, db_index=True)  # e.g. "org.staff_assign"
    object_type = models.CharField(_("对象类型"), max_length=100)
    object_id = models.CharField(_("对象编号"), max_length=100)
    changes = models.JSONField(_("变更字段"), default=dict, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    client_address = models.GenericIPAddressField(_("客户端地址"), null=True, blank=True)
    channel = models.CharField(_("渠道"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class CalendarYear(models.Model):
    """One year of the working-day calendar. `official` means its holidays and make-up
    working days follow a published State Council notice; a year without an official row
    is answered by the provisional rule (see core.calendar) and marked provisional."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    official = models.BooleanField(_("已按国务院通知确认"), default=False)
    # e.g. "国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）"
    source = models.CharField(_("来源"), max_length=200, blank=True)
    note = models.TextField(_("备注"), blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("工作日历年度")
        verbose_name_plural = _("工作日历年度")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("放假")
    MAKEUP_WORKDAY = "makeup_workday", _("调休上班")


class CalendarDay(models.Model):
    """A day that differs from the Monday–Friday rule (a weekday off, a weekend make-up
    working day) or is part of a named holiday period. Every other day follows the rule, so
    a year holds some thirty rows, not 365."""

    calendar_year = models.ForeignKey(
        CalendarYear, verbose_name=_("年度"), on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField(_("日期"), unique=True)
    # Stored beside `kind` so that queries on working days need no knowledge of the kinds;
    # the constraint keeps the two in step.
    working = models.BooleanField(_("上班"))
    kind = models.CharField(_("类别"), max_length=20, choices=CalendarDayKind.choices)
    name = models.CharField(_("节日名称"), max_length=100)  # 春节, 国庆节 …
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日与调休日")
        verbose_name_plural = _("节假日与调休日")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind=CalendarDayKind.HOLIDAY, working=False)
                    | models.Q(kind=CalendarDayKind.MAKEUP_WORKDAY, working=True)
                ),
                name="core_calendarday_kind_matches_working",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.name}（{self.get_kind_display()}）"


class Document(models.Model):
    """One upload: who gave which bytes, when. The bytes live once on disk under their
    SHA-256 (see core.documents), so two uploads of the same file share one stored copy and
    a stored file is never overwritten; the row records the upload itself. The original file
    name is kept for display only — the format was found by sniffing the content."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True, editable=False)
    size = models.PositiveBigIntegerField(_("大小（字节）"), editable=False)
    format = models.CharField(_("格式"), max_length=10, editable=False)  # pdf, png, jpg, ofd …
    media_type = models.CharField(_("媒体类型"), max_length=100, editable=False)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("文件")
        verbose_name_plural = _("文件")
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            # the same person uploading the same bytes again gets their first upload back
            models.UniqueConstraint(
                fields=["uploaded_by", "sha256"], name="core_document_one_per_uploader"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name or self.sha256[:12]}（{self.format}）"

    @property
    def storage_name(self) -> str:
        """Path below MEDIA_ROOT: documents/ab/cd/<sha256>."""
        return f"documents/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"
