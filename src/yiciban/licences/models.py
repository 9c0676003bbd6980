"""Electronic licences (电子证照): the types a department issues and the licences it signed."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiciban.accounts.models import Enterprise, Person
from yiciban.org.models import Department, DepartmentKind


class LicenceType(models.Model):
    """A kind of licence (营业执照, 食品经营许可证 …): who issues it, how long it lasts and which
    fields it prints."""

    code = models.SlugField(_("编码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    department_kind = models.CharField(
        _("发证部门类别"), max_length=40, choices=DepartmentKind.choices
    )
    # Empty: valid for an unlimited period (长期), as a business licence usually is.
    validity_years = models.PositiveSmallIntegerField(_("有效期（年）"), null=True, blank=True)
    # The business licence carries the one QR code that lists every permit (一码涵盖).
    is_business_licence = models.BooleanField(_("营业执照"), default=False)
    # [{"code": "business_scope", "label": "经营范围"}, …] — printed in this order.
    fields = models.JSONField(_("证照字段"), default=list, blank=True)
    # Printed before the generated serial of a licence number (e.g. "JY" for 食品经营许可证).
    number_prefix = models.CharField(_("编号前缀"), max_length=8, blank=True)
    # The shared data category the archive offers this licence under (for reuse).
    data_category = models.CharField(_("共享数据类别"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class HolderKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    PERSON = "person", _("自然人")


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("有效")
    SUSPENDED = "suspended", _("暂停")
    REVOKED = "revoked", _("已撤销")
    # Never stored: a licence past its valid_until shows as expired from the next day on,
    # without a job having to run (see Licence.status_on).
    EXPIRED = "expired", _("已过期")


class SignatureAlgorithm(models.TextChoices):
    ED25519 = "Ed25519", "Ed25519"
    SM2 = "SM2", _("SM2（国密，SM3杂凑）")


class Licence(models.Model):
    number = models.CharField(_("证照编号"), max_length=40, unique=True)
    licence_type = models.ForeignKey(
        LicenceType, verbose_name=_("证照类型"), on_delete=models.PROTECT, related_name="licences"
    )
    holder_kind = models.CharField(_("持证主体类别"), max_length=12, choices=HolderKind.choices)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("持证企业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="licences",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("持证人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="licences",
    )
    holder_name = models.CharField(_("持证主体名称"), max_length=200)
    # USCC of an enterprise, or the masked resident ID of a person (never in clear).
    holder_identifier = models.CharField(_("主体标识"), max_length=18)
    issuing_department = models.ForeignKey(
        Department, verbose_name=_("发证部门"), on_delete=models.PROTECT, related_name="licences"
    )
    issued_on = models.DateField(_("发证日期"))
    valid_from = models.DateField(_("有效期自"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    fields = models.JSONField(_("证照内容"), default=dict, blank=True)
    # Raised by every change; a QR printed for an earlier version is reported as superseded.
    version = models.PositiveIntegerField(_("版本"), default=1)
    status = models.CharField(
        _("状态"), max_length=12, choices=LicenceStatus.choices, default=LicenceStatus.VALID
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    status_reason = models.CharField(_("状态变更原因"), max_length=300, blank=True)
    # Where the licence came from (a case output), for the archive's links.
    source_reference = models.CharField(_("来源"), max_length=100, blank=True)
    # Over signing.canonical_json(), base64url without padding, by key `key_name`/`key_id`:
    # Ed25519, or SM2 with SM3 (r ‖ s) — the issuing department's choice when first signed.
    signature = models.CharField(_("签名"), max_length=100)
    signature_algorithm = models.CharField(
        _("签名算法"),
        max_length=10,
        choices=SignatureAlgorithm.choices,
        default=SignatureAlgorithm.ED25519,
    )
    key_name = models.CharField(_("签名密钥"), max_length=64)
    key_id = models.CharField(_("密钥标识"), max_length=16)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["holder_kind", "holder_identifier"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(holder_kind=HolderKind.ENTERPRISE, enterprise__isnull=False, person=None)
                    | Q(holder_kind=HolderKind.PERSON, person__isnull=False, enterprise=None)
                ),
                name="licences_licence_one_holder",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="licences_licence_period_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(status=LicenceStatus.EXPIRED), name="licences_licence_expiry_derived"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.licence_type.name} {self.number}"

    def status_on(self, day: dt.date) -> str:
        """The status a verifier sees on `day`: revoked and suspended win over expiry."""
        if self.status == LicenceStatus.VALID and self.valid_until and day > self.valid_until:
            return LicenceStatus.EXPIRED
        return self.status


class LicenceCounter(models.Model):
    """The last serial given per number prefix, region and year; locked while a number is
    taken so two licences issued at once never get the same number."""

    prefix = models.CharField(max_length=30)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("证照编号计数器")
        verbose_name_plural = _("证照编号计数器")
        constraints = [models.UniqueConstraint(fields=["prefix"], name="licences_counter_prefix")]

    def __str__(self) -> str:
        return f"{self.prefix}:{self.last}"
