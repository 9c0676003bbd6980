from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市（州）")
    COUNTY = "county", _("县（市、区）")
    TOWNSHIP = "township", _("乡镇（街道）")
    VILLAGE = "village", _("村（社区）")


# How many leading digits of the 12-digit statistical code are significant at each level;
# the rest are zeros. A child's code starts with its parent's significant digits.
LEVEL_SIGNIFICANT_DIGITS = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}
LEVEL_ORDER = list(LEVEL_SIGNIFICANT_DIGITS)
PATH_SEPARATOR = "/"


class Region(models.Model):
    """An administrative region. `code` is the 12-digit statistical division code
    (GB/T 2260 six digits for province/city/county, padded with zeros; townships and
    villages carry their own 3+3 digits). `path` is the chain of codes from the root
    ("430000000000/430600000000/430623000000"), so "everything inside this county" is one
    indexed prefix query and a region's ancestors are read off its own row."""

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
        constraints = [
            # Only provinces are roots; everything else hangs in the tree.
            models.CheckConstraint(
                condition=Q(level=RegionLevel.PROVINCE, parent__isnull=True)
                | (~Q(level=RegionLevel.PROVINCE) & Q(parent__isnull=False)),
                name="org_region_root_is_province",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def gb2260_code(self) -> str:
        """The six-digit GB/T 2260 code of this region's county (or higher) level."""
        return self.code[:6]

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes from the root down to this region itself."""
        return self.path.split(PATH_SEPARATOR) if self.path else [self.code]


class DepartmentKind(models.TextChoices):
    """What a department does. The kind links the same department across counties, so a
    catalogue item can name "the market regulator" and each county resolves its own."""

    MARKET_REGULATION = "market_regulation", _("市场监督管理局")
    HEALTH = "health", _("卫生健康局")
    PUBLIC_SECURITY = "public_security", _("公安局")
    FIRE_RESCUE = "fire_rescue", _("消防救援大队")
    TAX = "tax", _("税务局")
    HUMAN_RESOURCES_SOCIAL_SECURITY = "human_resources_social_security", _("人力资源和社会保障局")
    HOUSING_FUND = "housing_fund", _("住房公积金管理部")
    NATURAL_RESOURCES = "natural_resources", _("自然资源局")
    HOUSING_CONSTRUCTION = "housing_construction", _("住房和城乡建设局")
    ECOLOGY_ENVIRONMENT = "ecology_environment", _("生态环境分局")
    TRANSPORT = "transport", _("交通运输局")
    AGRICULTURE_RURAL = "agriculture_rural", _("农业农村局")
    TOBACCO = "tobacco", _("烟草专卖局")
    CULTURE_TOURISM = "culture_tourism", _("文化旅游广电体育局")
    EMERGENCY_MANAGEMENT = "emergency_management", _("应急管理局")
    CIVIL_AFFAIRS = "civil_affairs", _("民政局")
    ADMINISTRATIVE_APPROVAL = "administrative_approval", _("行政审批服务局")
    COMMERCE = "commerce", _("商务局")
    WATER_RESOURCES = "water_resources", _("水利局")
    URBAN_MANAGEMENT = "urban_management", _("城市管理和综合执法局")
    MEDICAL_SECURITY = "medical_security", _("医疗保障局")
    EDUCATION = "education", _("教育局")
    DEVELOPMENT_REFORM = "development_reform", _("发展和改革局")
    GOVERNMENT_SERVICE = "government_service", _("政务服务中心")


class Department(models.Model):
    """A government department of one region (e.g. 华容县市场监督管理局)."""

    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="departments"
    )
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    kind = models.CharField(
        _("部门类别"), max_length=40, choices=DepartmentKind.choices, db_index=True
    )
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


# Roles that act for one department's decisions: they must be scoped to that department.
DEPARTMENT_ROLES = frozenset({Role.REVIEWER, Role.APPROVER, Role.INSPECTOR, Role.DEPARTMENT_ADMIN})
# Roles that serve every department of a place: scoped to a region (or to one department).
REGION_ROLES = frozenset(
    {
        Role.COUNTER_CLERK,
        Role.SUPERVISOR,
        Role.ASSISTED_SERVICE_AGENT,
        Role.OPENNESS_EDITOR,
        Role.HOTLINE_OPERATOR,
    }
)


class RoleAssignment(models.Model):
    """A staff member holds a role within a scope: a department (and so its region), or a
    region (for roles that serve every department there, such as counter clerks and
    supervisors), or — for platform admins only — everything (both empty). Exactly one of
    department and region is set for every role but platform_admin."""

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
    created_at = models.DateTimeField(_("授权时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        ordering = ["user_id", "role", "id"]
        constraints = [
            # NULLs are distinct in a plain unique index, so each scope shape gets its own
            # partial index (works on SQLite and PostgreSQL alike).
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=Q(department__isnull=False),
                name="org_roleassignment_unique_department",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=Q(region__isnull=False),
                name="org_roleassignment_unique_region",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(department__isnull=True, region__isnull=True),
                name="org_roleassignment_unique_platform",
            ),
            models.CheckConstraint(
                condition=Q(role=Role.PLATFORM_ADMIN, department__isnull=True, region__isnull=True)
                | (
                    ~Q(role=Role.PLATFORM_ADMIN)
                    & (
                        Q(department__isnull=False, region__isnull=True)
                        | Q(department__isnull=True, region__isnull=False)
                    )
                ),
                name="org_roleassignment_one_scope",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=sorted(DEPARTMENT_ROLES)) | Q(department__isnull=False),
                name="org_roleassignment_department_role_has_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.scope_label}"

    @property
    def scope_label(self) -> str:
        if self.department_id:
            return self.department.name
        if self.region_id:
            return self.region.name
        return str(_("全平台"))
