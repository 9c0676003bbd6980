"""House delivery with title (交房即交证, 津市市): a developer's project, its units and buyers,
the project's stages, and findings of false materials (失信: no green channel)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiciban.accounts.models import Enterprise, Person
from yiciban.org.models import Region
from yiciban.sharing.models import SharedRecord


class Stage(models.TextChoices):
    CONSTRUCTION = "construction", _("已取得施工许可")
    PRESALE = "presale", _("已取得预售许可")
    COMPLETION_ACCEPTED = "completion_accepted", _("已竣工验收")
    COMPLETION_FILED = "completion_filed", _("已竣工验收备案")
    DELIVERED = "delivered", _("已交房交证")


DELIVERY_STALL = dt.timedelta(minutes=10)

# The one table of allowed stage changes: action -> (from, to). Each is a service.
TRANSITIONS: dict[str, tuple[str, str]] = {
    "presale_permit": (Stage.CONSTRUCTION, Stage.PRESALE),
    "completion_accept": (Stage.PRESALE, Stage.COMPLETION_ACCEPTED),
    "completion_file": (Stage.COMPLETION_ACCEPTED, Stage.COMPLETION_FILED),
    "deliver": (Stage.COMPLETION_FILED, Stage.DELIVERED),
}


class Project(models.Model):
    code = models.SlugField(_("项目编号"), max_length=40, unique=True)
    name = models.CharField(_("项目名称"), max_length=100)
    developer = models.ForeignKey(
        Enterprise, verbose_name=_("开发企业"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(Region, verbose_name=_("所在区划"), on_delete=models.PROTECT)
    address = models.CharField(_("项目坐落"), max_length=200)
    stage = models.CharField(_("阶段"), max_length=24, choices=Stage.choices)
    construction_permit_no = models.CharField(_("施工许可证号"), max_length=50)
    presale_permit_no = models.CharField(_("预售许可证号"), max_length=50, blank=True)
    completion_accepted_on = models.DateField(_("竣工验收日期"), null=True, blank=True)
    filing_requested_at = models.DateTimeField(_("申请备案时间"), null=True, blank=True)
    # the last completion-filing check: {"ok", "missing_contract": [...], "missing_tax": [...]}
    filing_check = models.JSONField(_("备案核验结果"), default=dict, blank=True)
    completion_filed_at = models.DateTimeField(_("竣工验收备案时间"), null=True, blank=True)
    first_registration_case = models.CharField(_("首次登记办件"), max_length=40, blank=True)
    first_registration_certificate = models.CharField(
        _("首次登记证明号"), max_length=60, blank=True
    )
    delivered_at = models.DateTimeField(_("交房交证时间"), null=True, blank=True)
    # 交房即交证 runs in the background (`yiciban worker`): who started it, when, how far it
    # got (registrations done of the project's first registration plus one per sold unit)
    # and why it stopped, if it did
    delivery_started_at = models.DateTimeField(_("交房即交证开始时间"), null=True, blank=True)
    delivery_started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("交房即交证办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    delivery_done = models.PositiveIntegerField(_("已办结登记"), default=0)
    delivery_total = models.PositiveIntegerField(_("登记总数"), default=0)
    delivery_error = models.CharField(_("交房即交证中断原因"), max_length=300, blank=True)
    delivery_progressed_at = models.DateTimeField(_("交房即交证最近进展"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("商品房项目")
        verbose_name_plural = _("商品房项目")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def _delivery_open(self) -> bool:
        # started, not finished, not stopped with a reason
        return (
            self.delivery_started_at is not None
            and self.delivered_at is None
            and not self.delivery_error
        )

    @property
    def delivery_stalled(self) -> bool:
        """Open, but no registration done for DELIVERY_STALL (one takes well under a
        second): the worker that had it was stopped, so the delivery may be started again
        (it goes on where it stopped)."""
        last = self.delivery_progressed_at or self.delivery_started_at
        return self._delivery_open and last < timezone.now() - DELIVERY_STALL

    @property
    def delivery_running(self) -> bool:
        """The worker is on it (or will be): open and not stalled."""
        return self._delivery_open and not self.delivery_stalled


class Unit(models.Model):
    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="units"
    )
    building = models.CharField(_("楼栋"), max_length=20)
    room = models.CharField(_("房号"), max_length=20)
    area_m2 = models.DecimalField(_("建筑面积（平方米）"), max_digits=8, decimal_places=2)
    buyer = models.ForeignKey(
        Person,
        verbose_name=_("购房人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    contract_no = models.CharField(_("合同备案号"), max_length=50, blank=True)
    price_yuan = models.PositiveBigIntegerField(_("成交价格（元）"), null=True, blank=True)
    contract_record = models.ForeignKey(
        SharedRecord,
        verbose_name=_("合同备案记录"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    transfer_case = models.CharField(_("转移登记办件"), max_length=40, blank=True)
    certificate_number = models.CharField(_("不动产权证书号"), max_length=60, blank=True)
    delivered_at = models.DateTimeField(_("交房时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["project", "building", "room"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "building", "room"], name="housing_unit_room"
            ),
            models.UniqueConstraint(
                fields=["contract_no"], condition=~Q(contract_no=""), name="housing_unit_contract"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.label}"

    @property
    def label(self) -> str:
        return f"{self.building}栋{self.room}"


class ProjectEvent(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.project} {self.kind}"


class FalseMaterialFinding(models.Model):
    """A party found to have filed false materials: blacklisted for green channels."""

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, null=True, blank=True)
    finding = models.CharField(_("认定事实"), max_length=300)
    archive_record_id = models.PositiveBigIntegerField(_("档案记录"))
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    found_at = models.DateTimeField(_("认定时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("提供虚假材料认定")
        verbose_name_plural = _("提供虚假材料认定")
        constraints = [
            models.CheckConstraint(
                condition=Q(enterprise__isnull=False, person__isnull=True)
                | Q(enterprise__isnull=True, person__isnull=False),
                name="housing_finding_one_party",
            )
        ]

    def __str__(self) -> str:
        return self.finding
