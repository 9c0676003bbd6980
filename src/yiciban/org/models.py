from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市（州）")
    COUNTY = "county", _("县（市、区）")
    TOWNSHIP = "township", _("乡镇（街道）")
    VILLAGE = "village", _("村（社区）")


class Region(models.Model):
    """An administrative region. `code` is the 12-digit statistical division code
    (GB/T 2260 six digits for province/city/county, padded with zeros; townships and
    villages carry their own 3+3 digits). `path` is the chain of codes from the root, so
    "everything inside this county" is one indexed prefix query."""

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("路径"), max_length=80, db_index=True, editable=False)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def gb2260_code(self) -> str:
        """The six-digit GB/T 2260 code of this region's county (or higher) level."""
        return self.code[:6]


class Department(models.Model):
    """A government department of one region (e.g. 华容县市场监督管理局)."""

    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="departments"
    )
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    # kind links the same department across counties: "market_regulation", "health", …
    kind = models.CharField(_("部门类别"), max_length=40, db_index=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["region__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="org_department_region_kind"),
        ]

    def __str__(self) -> str:
        return self.name


class PointKind(models.TextChoices):
    COUNTY_HALL = "county_hall", _("县级政务服务大厅")
    TOWNSHIP_CENTRE = "township_centre", _("乡镇（街道）便民服务中心")
    VILLAGE_STATION = "village_station", _("村（社区）便民服务站")
    PARK_HALL = "park_hall", _("园区政务服务大厅")
    CROSS_PROVINCE_WINDOW = "cross_province_window", _("跨省通办窗口")
    KIOSK_24H = "kiosk_24h", _("24小时自助服务终端")


class ServicePoint(models.Model):
    """Where people are served: halls, stations, windows, kiosks (SPEC §8)."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=30, choices=PointKind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("服务区域"), on_delete=models.PROTECT, related_name="service_points"
    )
    address = models.CharField(_("地址"), max_length=200)
    opening_hours = models.CharField(_("办公时间"), max_length=200)
    phone = models.CharField(_("咨询电话"), max_length=40, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("服务网点")
        verbose_name_plural = _("服务网点")
        ordering = ["region__code", "kind", "name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    COUNTER_CLERK = "counter_clerk", _("综合受理员")
    REVIEWER = "reviewer", _("审查员")
    APPROVER = "approver", _("审批员")
    INSPECTOR = "inspector", _("勘验员")
    ASSISTED_SERVICE_AGENT = "assisted_service_agent", _("帮办代办员")
    OPENNESS_EDITOR = "openness_editor", _("政务公开编辑")
    HOTLINE_OPERATOR = "hotline_operator", _("12345话务员")
    SUPERVISOR = "supervisor", _("监督员")
    DEPARTMENT_ADMIN = "department_admin", _("部门管理员")
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")


class RoleAssignment(models.Model):
    """A staff member holds a role within a scope: a department (and so its region), or a
    region (for roles that serve every department there, such as counter clerks and
    supervisors), or — for platform admins only — everything (both empty)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作人员"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("区域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    service_point = models.ForeignKey(
        ServicePoint,
        verbose_name=_("所在网点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "department", "region"],
                name="org_roleassignment_unique",
            ),
        ]

    def __str__(self) -> str:
        scope = self.department or self.region or _("全平台")
        return f"{self.user} · {self.get_role_display()} · {scope}"
