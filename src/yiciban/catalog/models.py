"""The service catalogue (事项清单): items with their versioned implementation-list data,
materials, forms, data elements, and "one thing" bundles (一件事) with their guidance
questionnaires.

What an item *is* (its codes, department, where it can be done) lives on `Item`; what it
*requires* (conditions, materials, limits, form, approval mode …) lives on `ItemVersion`,
which is immutable once published so a case can pin the version it was filed under."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiciban.org.models import Department, Region, ServicePoint


class Audience(models.TextChoices):
    PERSON = "person", _("个人")
    ENTERPRISE = "enterprise", _("法人")
    BOTH = "both", _("个人和法人")


class ItemType(models.TextChoices):
    """Item types of the national basic directory; the two-digit code is the first part of
    the basic code (GB/T 39554 style)."""

    LICENSING = "licensing", _("行政许可")
    PENALTY = "penalty", _("行政处罚")
    ENFORCEMENT = "enforcement", _("行政强制")
    LEVY = "levy", _("行政征收")
    PAYMENT = "payment", _("行政给付")
    INSPECTION = "inspection", _("行政检查")
    CONFIRMATION = "confirmation", _("行政确认")
    AWARD = "award", _("行政奖励")
    ADJUDICATION = "adjudication", _("行政裁决")
    OTHER_POWER = "other_power", _("其他行政权力")
    PUBLIC_SERVICE = "public_service", _("公共服务")


ITEM_TYPE_CODES = {
    ItemType.LICENSING: "01",
    ItemType.PENALTY: "02",
    ItemType.ENFORCEMENT: "03",
    ItemType.LEVY: "04",
    ItemType.PAYMENT: "05",
    ItemType.INSPECTION: "06",
    ItemType.CONFIRMATION: "07",
    ItemType.AWARD: "08",
    ItemType.ADJUDICATION: "09",
    ItemType.OTHER_POWER: "10",
    ItemType.PUBLIC_SERVICE: "11",
}


class DayUnit(models.TextChoices):
    WORKING = "working", _("工作日")
    NATURAL = "natural", _("自然日")


class ApprovalMode(models.TextChoices):
    STANDARD = "standard", _("一般审批（一审一核）")
    MERGED_REVIEW = "merged_review", _("核验合一")
    COMMITMENT = "commitment", _("告知承诺")
    FILING = "filing", _("备案")
    INSTANT = "instant", _("即办")
    AUTOMATIC = "automatic", _("秒批")


class RiskTier(models.TextChoices):
    NONE = "none", _("无风险")
    GENERAL = "general", _("一般风险")
    HIGH = "high", _("高风险")


# The risk tier decides which approval modes an item may use (怀化高新区: no-risk exempt,
# general-risk commitment, high-risk strict review). A general-risk item may keep strict
# review; a high-risk item may never be relaxed; a no-risk item is not reviewed at all.
ALLOWED_MODES: dict[str, frozenset[str]] = {
    RiskTier.NONE: frozenset({ApprovalMode.FILING, ApprovalMode.INSTANT, ApprovalMode.AUTOMATIC}),
    RiskTier.GENERAL: frozenset(
        {ApprovalMode.COMMITMENT, ApprovalMode.MERGED_REVIEW, ApprovalMode.STANDARD}
    ),
    RiskTier.HIGH: frozenset({ApprovalMode.STANDARD}),
}


class Channel(models.TextChoices):
    ONLINE = "online", _("网上办理")
    COUNTER = "counter", _("窗口办理")
    KIOSK = "kiosk", _("自助终端")
    CROSS_PROVINCE = "cross_province", _("跨省通办")


class Level(models.TextChoices):
    COUNTY = "county", _("县级")
    TOWNSHIP = "township", _("乡镇（街道）")
    VILLAGE = "village", _("村（社区）")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤销")


# The one table of allowed version transitions (items and bundles alike).
VERSION_TRANSITIONS: dict[str, frozenset[str]] = {
    VersionStatus.DRAFT: frozenset({VersionStatus.PUBLISHED}),
    VersionStatus.PUBLISHED: frozenset({VersionStatus.WITHDRAWN}),
    VersionStatus.WITHDRAWN: frozenset(),
}


class MaterialSource(models.TextChoices):
    APPLICANT = "applicant", _("申请人提供")
    GOVERNMENT = "government", _("政府部门核发（可共享获取）")
    ARCHIVE = "archive", _("可从档案复用")


class Requirement(models.TextChoices):
    REQUIRED = "required", _("必要")
    OPTIONAL = "optional", _("非必要")


class MemberRole(models.TextChoices):
    BASE = "base", _("基础事项")
    OPTIONAL = "optional", _("可选事项")


class Theme(models.Model):
    """A browsing category: a life event (人生事件) for people, a theme (企业主题) for
    enterprises."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    audience = models.CharField(_("服务对象"), max_length=12, choices=Audience.choices)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    description = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("主题")
        verbose_name_plural = _("主题")
        ordering = ["audience", "order", "code"]

    def __str__(self) -> str:
        return self.name


class DataElement(models.Model):
    """One standard field (`enterprise.uscc`, `premises.area_m2`, …). Item forms name it in
    `x-element`; the merged form asks it once."""

    code = models.CharField(_("编码"), max_length=80, unique=True)
    label = models.CharField(_("名称"), max_length=80)
    schema = models.JSONField(_("JSON Schema 片段"))
    description = models.CharField(_("说明"), max_length=300, blank=True)
    # Personal data is masked in lists and never copied into audit changes.
    personal = models.BooleanField(_("个人信息"), default=False)

    class Meta:
        verbose_name = _("数据元")
        verbose_name_plural = _("数据元")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.label}（{self.code}）"

    @property
    def value_type(self) -> str:
        return str(self.schema.get("type", ""))


class MaterialKind(models.Model):
    """One kind of material in the shared material list (材料目录). Items reference it, so
    the same material asked by several items is recognised and asked once."""

    code = models.CharField(_("编码"), max_length=80, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    source = models.CharField(_("来源"), max_length=12, choices=MaterialSource.choices)
    # For government-issued materials: the shared data category it can be fetched from.
    data_category = models.CharField(_("共享数据类别"), max_length=80, blank=True)
    formats = models.JSONField(_("接收格式"), default=list, blank=True)
    max_size_mb = models.PositiveSmallIntegerField(_("大小上限（MB）"), default=10)
    blank_form_url = models.CharField(_("空白表格"), max_length=300, blank=True)
    sample_url = models.CharField(_("示例样表"), max_length=300, blank=True)
    description = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("材料目录")
        verbose_name_plural = _("材料目录")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source="government") | ~Q(data_category=""),
                name="catalog_materialkind_government_has_category",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def fetchable(self) -> bool:
        """Issued by a government body and available from a shared data category: the
        platform fetches it, the applicant never submits it."""
        return self.source == MaterialSource.GOVERNMENT and bool(self.data_category)


class Item(models.Model):
    """A service item as implemented by one department (实施清单 entry). Its codes and
    department never change; its content lives in versions."""

    implementation_code = models.CharField(_("实施编码"), max_length=40, unique=True)
    basic_code = models.CharField(_("基本编码"), max_length=20, db_index=True)
    business_item_code = models.CharField(_("业务办理项编码"), max_length=3, default="000")
    department = models.ForeignKey(
        Department, verbose_name=_("实施部门"), on_delete=models.PROTECT, related_name="+"
    )
    # Denormalised from the newest published version so lists and the admin need no join.
    name = models.CharField(_("事项名称"), max_length=200)
    themes = models.ManyToManyField(Theme, verbose_name=_("主题"), blank=True, related_name="items")
    # Where it can be done is operational, not legal content: not versioned.
    service_points = models.ManyToManyField(
        ServicePoint, verbose_name=_("可办网点"), blank=True, related_name="+"
    )
    # Partner regions of cross-province agreements: [{"code": "330211", "name": "…"}]
    cross_province_partners = models.JSONField(_("跨省通办合作地区"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("事项")
        verbose_name_plural = _("事项")
        ordering = ["department__region__code", "basic_code", "implementation_code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.department}）"


class ItemVersion(models.Model):
    """The implementation-list data of one item, as published at one time."""

    item = models.ForeignKey(
        Item, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    effective_until = models.DateField(_("失效日期"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    name = models.CharField(_("事项名称"), max_length=200)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    item_type = models.CharField(_("事项类型"), max_length=20, choices=ItemType.choices)
    audience = models.CharField(
        _("服务对象"), max_length=12, choices=Audience.choices, default=Audience.ENTERPRISE
    )
    legal_basis = models.TextField(_("设定依据"), blank=True)
    conditions = models.JSONField(_("受理条件"), default=list, blank=True)
    legal_limit = models.PositiveSmallIntegerField(_("法定时限"), null=True, blank=True)
    legal_limit_unit = models.CharField(
        _("法定时限单位"), max_length=8, choices=DayUnit.choices, default=DayUnit.WORKING
    )
    promised_limit = models.PositiveSmallIntegerField(_("承诺时限"), default=0)
    promised_limit_unit = models.CharField(
        _("承诺时限单位"), max_length=8, choices=DayUnit.choices, default=DayUnit.WORKING
    )
    # [{"name": "…", "amount": "0.00", "basis": "…"}]; empty means 不收费
    fees = models.JSONField(_("收费"), default=list, blank=True)
    channels = models.JSONField(_("办理渠道"), default=list, blank=True)
    levels = models.JSONField(_("办理层级"), default=list, blank=True)
    # Flat copies of the two lists above: filterable on every database (SQLite has no JSON
    # containment lookup).
    channel_flags = models.CharField(max_length=80, blank=True, editable=False, db_index=True)
    level_flags = models.CharField(max_length=40, blank=True, editable=False)
    visits_required = models.PositiveSmallIntegerField(_("到现场次数"), default=1)
    approval_mode = models.CharField(_("审批方式"), max_length=16, choices=ApprovalMode.choices)
    risk_tier = models.CharField(_("风险等级"), max_length=8, choices=RiskTier.choices)
    process_template = models.CharField(_("流程模板"), max_length=60)
    output_name = models.CharField(_("办理结果"), max_length=120, blank=True)
    output_licence_type = models.CharField(_("证照类型编码"), max_length=60, blank=True)
    keywords = models.CharField(_("检索关键词"), max_length=300, blank=True)
    form_schema = models.JSONField(_("申请表（JSON Schema）"), default=dict, blank=True)

    class Meta:
        verbose_name = _("事项版本")
        verbose_name_plural = _("事项版本")
        ordering = ["item", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="catalog_itemversion_number"),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status="draft"),
                name="catalog_itemversion_one_draft",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(effective_from__isnull=False),
                name="catalog_itemversion_published_has_date",
            ),
            models.CheckConstraint(
                condition=Q(risk_tier="none", approval_mode__in=sorted(ALLOWED_MODES["none"]))
                | Q(risk_tier="general", approval_mode__in=sorted(ALLOWED_MODES["general"]))
                | Q(risk_tier="high", approval_mode__in=sorted(ALLOWED_MODES["high"])),
                name="catalog_itemversion_mode_allowed_by_risk",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class ItemMaterial(models.Model):
    """One material an item version asks for."""

    version = models.ForeignKey(
        ItemVersion, verbose_name=_("事项版本"), on_delete=models.CASCADE, related_name="materials"
    )
    kind = models.ForeignKey(
        MaterialKind, verbose_name=_("材料"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.PositiveSmallIntegerField(_("序号"), default=0)
    requirement = models.CharField(
        _("必要性"), max_length=10, choices=Requirement.choices, default=Requirement.REQUIRED
    )
    # 容缺: may follow after acceptance; a key material (the default) may not.
    deferrable = models.BooleanField(_("可容缺"), default=False)
    copies = models.CharField(_("份数与形式"), max_length=60, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "kind"], name="catalog_itemmaterial_kind"),
        ]

    def __str__(self) -> str:
        return str(self.kind)


class Bundle(models.Model):
    """A "one thing" (一件事): several items of several departments applied for at once."""

    code = models.SlugField(_("编码"), max_length=60, unique=True)
    region = models.ForeignKey(
        Region, verbose_name=_("实施区域"), on_delete=models.PROTECT, related_name="+"
    )
    audience = models.CharField(_("服务对象"), max_length=12, choices=Audience.choices)
    themes = models.ManyToManyField(
        Theme, verbose_name=_("主题"), blank=True, related_name="bundles"
    )
    name = models.CharField(_("名称"), max_length=100)  # of the newest published version
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")
        ordering = ["region__code", "code"]

    def __str__(self) -> str:
        return self.name


class BundleVersion(models.Model):
    bundle = models.ForeignKey(
        Bundle, verbose_name=_("一件事"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    effective_until = models.DateField(_("失效日期"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("名称"), max_length=100)
    summary = models.CharField(_("简介"), max_length=300, blank=True)
    # The promise made for the whole bundle (e.g. 企业开办 2 working days); when set, the
    # longest path through the members may not exceed it.
    promised_limit = models.PositiveSmallIntegerField(
        _("承诺时限（工作日）"), null=True, blank=True
    )
    # [{"code", "label", "type", "choices": [{"value", "label"}], "help_text", "required",
    #   "show_if": JsonLogic, "minimum", "maximum"}]
    questionnaire = models.JSONField(_("导办问题"), default=list, blank=True)

    class Meta:
        verbose_name = _("一件事版本")
        verbose_name_plural = _("一件事版本")
        ordering = ["bundle", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["bundle", "number"], name="catalog_bundleversion_number"
            ),
            models.UniqueConstraint(
                fields=["bundle"],
                condition=Q(status="draft"),
                name="catalog_bundleversion_one_draft",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(effective_from__isnull=False),
                name="catalog_bundleversion_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class BundleMember(models.Model):
    version = models.ForeignKey(
        BundleVersion,
        verbose_name=_("一件事版本"),
        on_delete=models.CASCADE,
        related_name="members",
    )
    item = models.ForeignKey(
        Item, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.PositiveSmallIntegerField(_("序号"), default=0)
    role = models.CharField(
        _("角色"), max_length=10, choices=MemberRole.choices, default=MemberRole.OPTIONAL
    )
    # JsonLogic over the guidance answers; null means "always applies".
    rule = models.JSONField(_("适用规则（JsonLogic）"), null=True, blank=True)
    reason = models.CharField(_("适用理由"), max_length=300, blank=True)
    # Implementation codes of members that must finish first; the bundle's promised limit is
    # the longest path through this graph.
    depends_on = models.JSONField(_("前置事项"), default=list, blank=True)

    class Meta:
        verbose_name = _("一件事事项")
        verbose_name_plural = _("一件事事项")
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "item"], name="catalog_bundlemember_item"),
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(role="base"),
                name="catalog_bundlemember_one_base",
            ),
        ]

    def __str__(self) -> str:
        return str(self.item)


class CatalogRevision(models.Model):
    """One row whose number grows with every publication or catalogue import. Compiled
    bundles cached in a process are valid while the number they were built at is current."""

    number = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("目录修订号")
        verbose_name_plural = _("目录修订号")

    def __str__(self) -> str:
        return str(self.number)
