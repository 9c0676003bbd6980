"""The case engine's tables (SPEC §2, §8, §11): one case per application, one case item per
service item it asks for, the tasks of the back office, materials, commitments, the one
supplement notice, suspensions and extensions that move each item's clock, joint site
inspections, decisions, the delivery of every output together, and the full history.

State changes happen only in services.py, through the transition tables of transitions.py.
Deadline inputs (started_on, limit, unit, extension_days, suspensions) are stored; the due
date (`due_on`), the first day of the warning (`warn_from`) and `suspended` are copies the
services recompute whenever an input changes, so a queue of a million items is sorted and
its deadline status computed in SQL (see selectors.deadline_status_expression)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiciban.accounts.models import Authorisation, Enterprise, Person
from yiciban.catalog.models import BundleVersion, ItemVersion, MaterialKind
from yiciban.core.models import Document
from yiciban.org.models import Department, Region, ServicePoint

USER = settings.AUTH_USER_MODEL


class ApprovalFlow(models.TextChoices):
    """How a process template decides; mirrors the catalogue's approval modes."""

    STANDARD = "standard", _("一般审批（一审一核）")
    MERGED_REVIEW = "merged_review", _("核验合一")
    COMMITMENT = "commitment", _("告知承诺")
    FILING = "filing", _("备案")
    INSTANT = "instant", _("即办")
    AUTOMATIC = "automatic", _("秒批")


class ProcessTemplate(models.Model):
    """One version of a process template (流程模板): its steps, each naming the role that
    acts and the actions it may take. Never edited: a change is a new version, and a case
    item keeps the version it started under. See process.py for the step vocabulary."""

    code = models.CharField(_("编码"), max_length=60)
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("名称"), max_length=100)
    flow = models.CharField(_("审批方式"), max_length=16, choices=ApprovalFlow.choices)
    definition = models.JSONField(_("定义"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        USER,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("流程模板")
        verbose_name_plural = _("流程模板")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="cases_template_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code} v{self.version}）"

    @property
    def steps(self) -> list[dict]:
        return list(self.definition.get("steps", []))


class CaseChannel(models.TextChoices):
    ONLINE = "online", _("网上申请")
    COUNTER = "counter", _("窗口申请")
    KIOSK = "kiosk", _("自助终端")


class CaseState(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("待补正")
    IN_PROGRESS = "in_progress", _("办理中")
    READY_FOR_DELIVERY = "ready_for_delivery", _("待出件")
    DELIVERED = "delivered", _("已出件")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")


class ItemState(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    REVIEWING = "reviewing", _("审查中")
    INSPECTING = "inspecting", _("现场核查中")
    APPROVING = "approving", _("待审批")
    APPROVED = "approved", _("准予办理")
    REFUSED = "refused", _("不予办理")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")


DECIDED_ITEM_STATES = frozenset({ItemState.APPROVED, ItemState.REFUSED})
CLOSED_ITEM_STATES = DECIDED_ITEM_STATES | {ItemState.NOT_ACCEPTED, ItemState.WITHDRAWN}
# Items whose clock runs: accepted and not yet decided.
RUNNING_ITEM_STATES = (ItemState.REVIEWING, ItemState.INSPECTING, ItemState.APPROVING)


class CaseNumberCounter(models.Model):
    """The last sequence number given in a county on a day. A submission takes the next
    number with one upsert statement (services._next_number), in its own short transaction;
    a submission that fails afterwards leaves a gap, but a number is never given twice."""

    region_code = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("办件编号计数器")
        verbose_name_plural = _("办件编号计数器")
        constraints = [
            models.UniqueConstraint(fields=["region_code", "day"], name="cases_counter_day"),
        ]

    def __str__(self) -> str:
        return f"{self.region_code}-{self.day:%Y%m%d}: {self.last}"


class Case(models.Model):
    """One application (one case number, one status page) for a bundle or a single item."""

    # Indexes: a submission writes this row, so it carries only the indexes a query uses.
    # A foreign key marked db_index=False either leads a composite index below or points at
    # a row that is never looked up from here and never deleted (published versions,
    # templates and kinds are immutable; users and service points are deactivated): a
    # refused delete (PROTECT) then scans instead of probing, once, for an operator.
    number = models.CharField(_("办件编号"), max_length=24, unique=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("办理地"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the leading column of cases_case_counter
    )
    bundle_version = models.ForeignKey(
        BundleVersion,
        verbose_name=_("一件事版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    item_version = models.ForeignKey(
        ItemVersion,
        verbose_name=_("事项版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    title = models.CharField(_("办件名称"), max_length=200)
    applicant_person = models.ForeignKey(
        Person,
        verbose_name=_("申请人（自然人）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    applicant_enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("申请人（企业）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acting_person = models.ForeignKey(
        Person,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acting_authorisation = models.ForeignKey(
        Authorisation,
        verbose_name=_("授权依据"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    submitted_by = models.ForeignKey(
        USER,
        verbose_name=_("提交账号"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the leading column of cases_case_submitter
    )
    assisted_by = models.ForeignKey(
        USER,
        verbose_name=_("代办/受理人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    channel = models.CharField(_("申请渠道"), max_length=10, choices=CaseChannel.choices)
    service_point = models.ForeignKey(
        ServicePoint,
        verbose_name=_("网点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    answers = models.JSONField(_("导办答案"), default=dict, blank=True)
    form_data = models.JSONField(_("申请表"), default=dict, blank=True)
    state = models.CharField(
        _("状态"), max_length=24, choices=CaseState.choices, default=CaseState.SUBMITTED
    )
    green_channel = models.BooleanField(_("绿色通道"), default=False)
    green_channel_reason = models.CharField(_("绿色通道理由"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True, editable=False)
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        USER,
        verbose_name=_("受理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    decided_at = models.DateTimeField(_("全部办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("出件时间"), null=True, blank=True)
    closed_reason = models.TextField(_("不予受理或撤回理由"), blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="cases_case_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(applicant_person__isnull=False) | Q(applicant_enterprise__isnull=False),
                name="cases_case_has_applicant",
            ),
            models.CheckConstraint(
                condition=Q(bundle_version__isnull=True, item_version__isnull=False)
                | Q(bundle_version__isnull=False, item_version__isnull=True),
                name="cases_case_bundle_or_item",
            ),
        ]
        indexes = [
            # the counter's queue: a county's cases awaiting acceptance, oldest first
            models.Index(fields=["region", "state", "submitted_at"], name="cases_case_counter"),
            models.Index(fields=["submitted_by", "submitted_at"], name="cases_case_submitter"),
            # (a person's and an enterprise's cases: their foreign keys' own indexes)
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def applicant_label(self) -> str:
        if self.applicant_enterprise_id:
            return self.applicant_enterprise.name
        return self.applicant_person.name if self.applicant_person_id else ""

    @property
    def on_behalf_of(self) -> str:
        """For the audit trail: whom the submitter acts for."""
        if self.applicant_enterprise_id:
            return f"enterprise:{self.applicant_enterprise.uscc}"
        if self.applicant_person_id:
            return f"person:{self.applicant_person_id}"
        return ""


class CaseItem(models.Model):
    """One service item of a case, pinned to the item version it was filed under."""

    # Indexes: as on Case, only those a query uses (db_index=False: see there).
    case = models.ForeignKey(
        Case,
        verbose_name=_("办件"),
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,  # the leading column of cases_item_once
    )
    position = models.PositiveSmallIntegerField(_("序号"), default=0)
    item_version = models.ForeignKey(
        ItemVersion,
        verbose_name=_("事项版本"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    code = models.CharField(_("实施编码"), max_length=40)
    name = models.CharField(_("事项名称"), max_length=200)
    role = models.CharField(_("角色"), max_length=10, default="base")  # base / optional
    depends_on = models.JSONField(_("前置事项"), default=list, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("承办部门"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the leading column of cases_item_board
    )
    process_template = models.ForeignKey(
        ProcessTemplate,
        verbose_name=_("流程模板"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=ItemState.choices, default=ItemState.SUBMITTED
    )
    step = models.CharField(_("当前环节"), max_length=30, default="accept")
    # The template's fallback path is in use (a rule failed, or no commitment was signed).
    on_fallback = models.BooleanField(_("转人工审查"), default=False)
    fallback_reason = models.TextField(_("转人工审查原因"), blank=True)
    green_channel = models.BooleanField(_("绿色通道"), default=False)
    # clock inputs
    started_on = models.DateField(_("计时起点"), null=True, blank=True)
    limit = models.PositiveSmallIntegerField(_("时限"), default=0)
    unit = models.CharField(_("时限单位"), max_length=8, default="working")
    extension_days = models.PositiveSmallIntegerField(_("延长天数"), default=0)
    # clock outputs, recomputed by the services
    due_on = models.DateField(_("到期日"), null=True, blank=True)
    warn_from = models.DateField(_("预警起始日"), null=True, blank=True)
    due_provisional = models.BooleanField(_("到期日依据暂定日历"), default=False)
    suspended = models.BooleanField(_("中止计时"), default=False)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    on_time = models.BooleanField(_("按时办结"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("办件事项")
        verbose_name_plural = _("办件事项")
        ordering = ["case", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "item_version"], name="cases_item_once"),
        ]
        indexes = [
            # the supervisor's board: a department's running items by due date
            models.Index(
                fields=["department", "state", "suspended", "due_on"], name="cases_item_board"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.name}"


class TaskKind(models.TextChoices):
    REVIEW = "review", _("审查")
    INSPECT = "inspect", _("现场核查")
    APPROVE = "approve", _("审批")
    POST_CHECK = "post_check", _("承诺事项核查")


class TaskState(models.TextChoices):
    OPEN = "open", _("待认领")
    CLAIMED = "claimed", _("办理中")
    DONE = "done", _("已办结")
    CANCELLED = "cancelled", _("已取消")


ACTIVE_TASK_STATES = (TaskState.OPEN, TaskState.CLAIMED)


class Task(models.Model):
    """One step of the back office on one case item, for a role in a department. The queue
    sorts on the copies of the item's clock kept here (a post-check carries its own)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    case_item = models.ForeignKey(CaseItem, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(_("类型"), max_length=12, choices=TaskKind.choices)
    role = models.CharField(_("角色"), max_length=30)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=TaskState.choices, default=TaskState.OPEN
    )
    assignee = models.ForeignKey(
        USER,
        verbose_name=_("办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    # optimistic check: a client sends the version it saw; any change bumps it
    version = models.PositiveIntegerField(_("版本"), default=1)
    due_on = models.DateField(_("到期日"), null=True, blank=True)
    warn_from = models.DateField(_("预警起始日"), null=True, blank=True)
    suspended = models.BooleanField(_("中止计时"), default=False)
    green_channel = models.BooleanField(_("绿色通道"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        USER,
        verbose_name=_("办结人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(_("结果"), max_length=20, blank=True)
    comment = models.TextField(_("意见"), blank=True)

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case_item", "kind"],
                condition=Q(state__in=["open", "claimed"]),
                name="cases_task_one_active_per_kind",
            ),
        ]
        indexes = [
            # the department queue: active tasks of a role, most urgent first
            models.Index(
                fields=["department", "role", "suspended", "due_on", "-green_channel", "id"],
                condition=Q(state__in=["open", "claimed"]),
                name="cases_task_queue",
            ),
            models.Index(fields=["assignee", "state"], name="cases_task_assignee"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.case_item}"


class MaterialStatus(models.TextChoices):
    PROVIDED = "provided", _("已提交")
    REUSED = "reused", _("档案复用")
    SHARED = "shared", _("共享获取")
    SIGNED = "signed", _("已网签")
    DEFERRED = "deferred", _("容缺后补")
    MISSING = "missing", _("未提交")


SATISFIED_MATERIAL = (
    MaterialStatus.PROVIDED,
    MaterialStatus.REUSED,
    MaterialStatus.SHARED,
    MaterialStatus.SIGNED,
)


class CaseMaterial(models.Model):
    """One material of the case's notice (asked once however many items need it)."""

    # Indexes: as on Case, only those a query uses (db_index=False: see there).
    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="materials",
        db_index=False,  # the leading column of cases_material_once
    )
    kind = models.ForeignKey(
        MaterialKind,
        verbose_name=_("材料"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    kind_code = models.CharField(_("材料编码"), max_length=80)
    name = models.CharField(_("材料名称"), max_length=120)
    requirement = models.CharField(_("必要性"), max_length=10)
    deferrable = models.BooleanField(_("可容缺"), default=False)
    items = models.JSONField(_("所需事项"), default=list)  # implementation codes
    status = models.CharField(_("状态"), max_length=10, choices=MaterialStatus.choices)
    document = models.ForeignKey(
        Document,
        verbose_name=_("文件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    reference = models.CharField(_("复用或共享来源"), max_length=200, blank=True)
    due_on = models.DateField(_("补交期限"), null=True, blank=True)
    provided_at = models.DateTimeField(_("提交时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        ordering = ["case", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="cases_material_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_status_display()}）"

    @property
    def outstanding(self) -> bool:
        return self.requirement == "required" and self.status not in SATISFIED_MATERIAL


class Commitment(models.Model):
    """A signed commitment (告知承诺书) for one item. The signature is, for now, the recorded
    acceptance of the exact text (its SHA-256) by a signed-in person; cryptographic signing
    comes with the licences issue."""

    # Indexes: as on Case, only those a query uses (db_index=False: see there).
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="commitments")
    case_item = models.OneToOneField(CaseItem, on_delete=models.CASCADE, related_name="commitment")
    text = models.TextField(_("承诺内容"))
    text_sha256 = models.CharField(max_length=64)
    signer = models.ForeignKey(
        Person,
        verbose_name=_("承诺人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    signed_by = models.ForeignKey(
        USER,
        verbose_name=_("签署账号"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    signed_at = models.DateTimeField(_("签署时间"), auto_now_add=True)
    method = models.CharField(_("签署方式"), max_length=30, default="recorded_acceptance")

    class Meta:
        verbose_name = _("告知承诺书")
        verbose_name_plural = _("告知承诺书")

    def __str__(self) -> str:
        return f"{self.case_item}（{self.signed_at:%Y-%m-%d}）"


class SupplementNotice(models.Model):
    """The ONE supplement notice (一次性告知) of a case: everything missing, at once."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="supplement_notice")
    issued_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("告知时间"), auto_now_add=True)
    message = models.TextField(_("说明"), blank=True)
    # [{"kind": code, "name": …, "reason": …}] and [{"field": "form.base.x", "reason": …}]
    missing = models.JSONField(_("需补正内容"))
    due_on = models.DateField(_("补正期限"))
    resolved_at = models.DateTimeField(_("补正完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("一次性告知书")
        verbose_name_plural = _("一次性告知书")

    def __str__(self) -> str:
        return f"{self.case.number} 一次性告知"


class SuspensionKind(models.TextChoices):
    CORRECTION = "correction", _("补正材料")
    INSPECTION = "inspection", _("现场核查整改")
    EXPERT_REVIEW = "expert_review", _("专家评审")
    HEARING = "hearing", _("听证")


class Suspension(models.Model):
    """A period (first and last day inclusive) that does not count towards an item's
    limit. An open suspension (no end) stops the clock until it is ended."""

    case_item = models.ForeignKey(CaseItem, on_delete=models.CASCADE, related_name="suspensions")
    kind = models.CharField(_("类型"), max_length=16, choices=SuspensionKind.choices)
    reason = models.TextField(_("理由"))
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"), null=True, blank=True)
    started_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("中止计时")
        verbose_name_plural = _("中止计时")
        ordering = ["case_item", "start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case_item"],
                condition=Q(end__isnull=True),
                name="cases_suspension_one_open",
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="cases_suspension_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start}–{self.end or '…'}"


class Extension(models.Model):
    case_item = models.ForeignKey(CaseItem, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField(_("延长天数"))
    reason = models.TextField(_("理由"))
    approved_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(_("批准时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("延长期限")
        verbose_name_plural = _("延长期限")

    def __str__(self) -> str:
        return f"{self.case_item} +{self.days}"


class InspectionState(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    RECTIFICATION = "rectification", _("整改中")
    PASSED = "passed", _("核查通过")
    FAILED = "failed", _("核查不通过")


class Inspection(models.Model):
    """One joint site inspection for several items of a case: one visit, at most one
    rectification notice, at most one re-inspection."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="inspections")
    items = models.ManyToManyField(CaseItem, related_name="inspections")
    state = models.CharField(
        _("状态"),
        max_length=14,
        choices=InspectionState.choices,
        default=InspectionState.SCHEDULED,
    )
    scheduled_for = models.DateTimeField(_("核查时间"))
    scheduled_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("安排说明"), blank=True)
    visited_at = models.DateTimeField(_("核查完成时间"), null=True, blank=True)
    visited_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    findings = models.TextField(_("核查情况"), blank=True)
    rectification_notice = models.TextField(_("整改通知"), blank=True)
    rectification_due = models.DateField(_("整改期限"), null=True, blank=True)
    reinspected_at = models.DateTimeField(_("复查时间"), null=True, blank=True)
    reinspected_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reinspection_findings = models.TextField(_("复查情况"), blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("联合现场核查")
        verbose_name_plural = _("联合现场核查")
        ordering = ["case", "scheduled_for"]

    def __str__(self) -> str:
        return f"{self.case.number} 现场核查 {self.scheduled_for:%Y-%m-%d}"


class DecisionOutcome(models.TextChoices):
    APPROVE = "approve", _("准予")
    REFUSE = "refuse", _("不予")


class DecisionBasis(models.TextChoices):
    MANUAL = "manual", _("审查审批")
    MERGED = "merged", _("核验合一")
    AUTOMATIC = "automatic", _("系统秒批")
    COMMITMENT = "commitment", _("告知承诺")
    INSTANT = "instant", _("即办")
    FILING = "filing", _("备案")


class Decision(models.Model):
    case_item = models.OneToOneField(CaseItem, on_delete=models.CASCADE, related_name="decision")
    outcome = models.CharField(_("结论"), max_length=8, choices=DecisionOutcome.choices)
    basis = models.CharField(_("决定方式"), max_length=12, choices=DecisionBasis.choices)
    reasons = models.TextField(_("理由"), blank=True)
    legal_basis = models.TextField(_("法律依据"), blank=True)
    appeal_info = models.TextField(_("救济途径"), blank=True)
    rule_results = models.JSONField(_("规则校验结果"), default=list, blank=True)
    decided_by = models.ForeignKey(
        USER,
        verbose_name=_("决定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("决定时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("决定")
        verbose_name_plural = _("决定")

    def __str__(self) -> str:
        return f"{self.case_item}：{self.get_outcome_display()}"


class DeliveryMethod(models.TextChoices):
    COUNTER = "counter", _("窗口领取")
    MAIL = "mail", _("邮寄送达")
    ELECTRONIC = "electronic", _("电子送达")


class Delivery(models.Model):
    """一窗出件: every output of the case, handed over together."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="delivery")
    method = models.CharField(_("出件方式"), max_length=12, choices=DeliveryMethod.choices)
    delivered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    delivered_at = models.DateTimeField(_("出件时间"), auto_now_add=True)
    service_point = models.ForeignKey(
        ServicePoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.CharField(_("领取人或收件信息"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("出件")
        verbose_name_plural = _("出件")

    def __str__(self) -> str:
        return f"{self.case.number} 出件"


class OutputKind(models.TextChoices):
    LICENCE = "licence", _("证照")
    FILING_RECEIPT = "filing_receipt", _("备案回执")
    REFUSAL = "refusal", _("不予许可决定书")


class CaseOutput(models.Model):
    """One output delivered: a licence record (or the e-licence a registered issuer made),
    a filing receipt, or a refusal decision with its legal basis and how to appeal."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="outputs")
    case_item = models.OneToOneField(CaseItem, on_delete=models.CASCADE, related_name="output")
    kind = models.CharField(_("类型"), max_length=16, choices=OutputKind.choices)
    name = models.CharField(_("名称"), max_length=120)
    licence_type = models.CharField(_("证照类型编码"), max_length=60, blank=True)
    number = models.CharField(_("编号"), max_length=60)
    # what an output issuer (licences app) returned, e.g. the e-licence's identifier
    reference = models.CharField(_("电子证照标识"), max_length=200, blank=True)
    issued_at = models.DateTimeField(_("出具时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("办理结果")
        verbose_name_plural = _("办理结果")
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.name} {self.number}"


class CaseEvent(models.Model):
    """The case's full history: who did what, when, why, and on whose behalf."""

    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # the leading column of cases_event_case
    )
    case_item = models.ForeignKey(
        CaseItem, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=40)
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.CharField(_("代表"), max_length=100, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    channel = models.CharField(_("渠道"), max_length=20, blank=True)
    occurred_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("办件记录")
        verbose_name_plural = _("办件记录")
        ordering = ["case", "occurred_at", "id"]
        indexes = [models.Index(fields=["case", "occurred_at"], name="cases_event_case")]

    def __str__(self) -> str:
        return f"{self.case.number} {self.kind}"


class ApiToken(models.Model):
    """A bearer token for the API (machine clients, staff tools, applicants' apps). Only its
    SHA-256 is kept; the token itself is shown once when made."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["user", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"
