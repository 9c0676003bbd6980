"""Data sharing between departments (数据共享): categories of records, the records a producing
department publishes, grants that let another department read a category, and the log of
every read. Every publish, grant, revoke and read is also an entry on the ledger; the row
keeps the entry's `ledger_seq` so a proof can be fetched later."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiciban.accounts.models import Enterprise, Person
from yiciban.org.models import Department, DepartmentKind


class SubjectKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    PERSON = "person", _("自然人")


class DataCategory(models.Model):
    """A kind of record that departments share (不动产交易, 契税缴纳, 户籍 …). The owner
    kind says which department publishes it and grants reads of it."""

    code = models.SlugField(_("编码"), max_length=80, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    owner_kind = models.CharField(
        _("数据提供部门类别"), max_length=40, choices=DepartmentKind.choices
    )
    subject_kind = models.CharField(_("数据主体"), max_length=12, choices=SubjectKind.choices)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("共享数据类别")
        verbose_name_plural = _("共享数据类别")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SubjectMixin(models.Model):
    """A record's or a read's subject: one enterprise or one person."""

    subject_kind = models.CharField(_("数据主体"), max_length=12, choices=SubjectKind.choices)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("自然人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True

    @property
    def subject_label(self) -> str:
        if self.enterprise_id:
            return f"{self.enterprise.name}（{self.enterprise.uscc}）"
        return f"{self.person.name}（{self.person.id_number_masked}）"


def _one_subject(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(
            Q(subject_kind="enterprise", enterprise__isnull=False, person__isnull=True)
            | Q(subject_kind="person", person__isnull=False, enterprise__isnull=True)
        ),
        name=name,
    )


class SharedRecord(SubjectMixin):
    """One record published by a producing department into a category."""

    category = models.ForeignKey(
        DataCategory, verbose_name=_("数据类别"), on_delete=models.PROTECT, related_name="records"
    )
    producer = models.ForeignKey(
        Department, verbose_name=_("提供部门"), on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(_("业务编号"), max_length=80)
    payload = models.JSONField(_("数据内容"), default=dict)
    payload_sha256 = models.CharField(_("内容摘要"), max_length=64)
    published_at = models.DateTimeField(_("发布时间"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    ledger_seq = models.BigIntegerField(_("账本序号"))

    class Meta:
        verbose_name = _("共享数据记录")
        verbose_name_plural = _("共享数据记录")
        ordering = ["-published_at", "-id"]
        constraints = [
            _one_subject("sharing_record_one_subject"),
            models.UniqueConstraint(
                fields=["category", "producer", "reference"], name="sharing_record_reference"
            ),
        ]
        indexes = [
            models.Index(fields=["category", "enterprise"], name="sharing_rec_cat_ent"),
            models.Index(fields=["category", "person"], name="sharing_rec_cat_person"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.reference}"


class Grant(models.Model):
    """授权: a department may read one category for one purpose, from a date until a date,
    until revoked."""

    category = models.ForeignKey(
        DataCategory, verbose_name=_("数据类别"), on_delete=models.PROTECT, related_name="grants"
    )
    grantor = models.ForeignKey(
        Department, verbose_name=_("授权部门"), on_delete=models.PROTECT, related_name="+"
    )
    grantee = models.ForeignKey(
        Department,
        verbose_name=_("被授权部门"),
        on_delete=models.PROTECT,
        related_name="sharing_grants",
    )
    purpose = models.CharField(_("用途"), max_length=200)
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("有效期至"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("授权时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoke_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    ledger_seq = models.BigIntegerField(_("账本序号"))
    revoke_ledger_seq = models.BigIntegerField(_("撤销账本序号"), null=True, blank=True)

    class Meta:
        verbose_name = _("共享授权")
        verbose_name_plural = _("共享授权")
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="sharing_grant_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.grantee} · {self.category}"

    def state_on(self, day) -> str:
        if self.revoked_at:
            return "revoked"
        if day < self.valid_from:
            return "not_yet"
        if day > self.valid_until:
            return "expired"
        return "valid"


class ReadLog(SubjectMixin):
    """One read under a grant: who, which grant, for what purpose, whose data, which records."""

    grant = models.ForeignKey(
        Grant, verbose_name=_("授权"), on_delete=models.PROTECT, related_name="reads"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("查询部门"), on_delete=models.PROTECT, related_name="+"
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("查询人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    purpose = models.CharField(_("用途"), max_length=200)
    record_ids = models.JSONField(_("读取的记录"), default=list)
    read_at = models.DateTimeField(_("查询时间"))
    ledger_seq = models.BigIntegerField(_("账本序号"))

    class Meta:
        verbose_name = _("共享查询记录")
        verbose_name_plural = _("共享查询记录")
        ordering = ["-read_at", "-id"]
        constraints = [_one_subject("sharing_read_one_subject")]
        indexes = [
            models.Index(fields=["person", "-read_at"], name="sharing_read_person"),
            models.Index(fields=["enterprise", "-read_at"], name="sharing_read_enterprise"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.read_at:%Y-%m-%d %H:%M}"
