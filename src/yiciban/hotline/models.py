"""12345 hotline: the knowledge base (with its own BM25 inverted index), tickets (工单) with
their dispatches to departments, and the machine clients of the Open311 GeoReport v2 API.

Workflows live in services.py; the allowed ticket transitions are the table TRANSITIONS
there."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiciban.core import crypto
from yiciban.org.models import Department, Region

# --- knowledge base ---------------------------------------------------------------------


class KnowledgeSource(models.TextChoices):
    CURATED = "curated", _("人工编写")
    ITEM_GUIDE = "item_guide", _("办事指南")
    POLICY = "policy", _("政策文件")


class KnowledgeStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class KnowledgeEntry(models.Model):
    """One question and its answer. Entries fed from item guides or policies carry the
    source's id in `source_ref`, so feeding the same source again updates the entry."""

    region = models.ForeignKey(
        Region, verbose_name=_("适用区划"), on_delete=models.PROTECT, related_name="+"
    )
    question = models.CharField(_("问题"), max_length=300)
    answer = models.TextField(_("答复口径"))
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    tags = models.JSONField(_("标签"), default=list, blank=True)
    source = models.CharField(
        _("来源"), max_length=20, choices=KnowledgeSource.choices, default=KnowledgeSource.CURATED
    )
    source_ref = models.CharField(_("来源编号"), max_length=100, blank=True)
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    valid_until = models.DateField(_("失效日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=KnowledgeStatus.choices, default=KnowledgeStatus.DRAFT
    )
    # Weighted token count of the indexed text (0 while not in the index); BM25 needs it.
    index_length = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("知识库条目")
        verbose_name_plural = _("知识库条目")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_ref"],
                condition=~models.Q(source_ref=""),
                name="hotline_knowledge_source_ref_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="hotline_knowledge_validity_order",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "region"]),
            # What a search checks of each matching entry (validity, region, department),
            # by id: read from this index alone instead of the wide rows with the answers.
            models.Index(
                fields=["id", "valid_from", "valid_until", "region", "department"],
                name="hotline_entry_filter",
            ),
        ]

    def __str__(self) -> str:
        return self.question


class KnowledgePosting(models.Model):
    """The inverted index: one row per (term, entry) with the field-weighted term frequency
    and the entry's weighted length copied in, so ranking reads this table alone. Only
    published entries are indexed; services rewrite an entry's rows whenever it changes."""

    term = models.CharField(max_length=64)
    entry = models.ForeignKey(KnowledgeEntry, on_delete=models.CASCADE, related_name="postings")
    weight = models.PositiveIntegerField()
    entry_length = models.PositiveIntegerField()
    # The BM25 term part × 1000 at write time: the order in which a common word's postings
    # are read when a query caps them (yiciban.core.search).
    impact = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("知识库索引项")
        verbose_name_plural = _("知识库索引项")
        indexes = [
            # Every column, `term` first then impact descending: ranking reads postings from
            # this index alone (no table lookups), a word's postings in full or its best N by
            # impact, on SQLite and PostgreSQL alike. One row per (term, entry) is kept by the
            # indexer, which deletes an entry's rows before writing them.
            models.Index(
                fields=["term", "-impact", "entry", "weight", "entry_length"],
                name="hotline_posting_impact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.entry_id}"


class KnowledgeIndexStats(models.Model):
    """Corpus statistics for BM25 (one row, id=1), kept in step by the indexing services in
    the same transaction as the postings. `synonyms_stamp` (a random number drawn at every
    synonym change, so a rolled-back change can never be mistaken for a later one) tells
    every process when to reload its synonym table and tokenizer words."""

    document_count = models.PositiveIntegerField(default=0)
    total_length = models.PositiveBigIntegerField(default=0)
    synonyms_stamp = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("知识库索引统计")
        verbose_name_plural = _("知识库索引统计")

    def __str__(self) -> str:
        return f"{self.document_count} / {self.total_length}"


class SynonymGroup(models.Model):
    """Words that mean the same to a caller (营业执照/执照/工商登记/营业证). Applied at query
    time: a query word finds entries that use any word of its group."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    terms = models.JSONField(_("同义词"), default=list)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("同义词组")
        verbose_name_plural = _("同义词组")
        ordering = ["name"]

    def __str__(self) -> str:
        return "/".join(self.terms)


class SynonymTerm(models.Model):
    """One word of a group; a word belongs to at most one group."""

    group = models.ForeignKey(SynonymGroup, on_delete=models.CASCADE, related_name="term_rows")
    term = models.CharField(max_length=30, unique=True)

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")

    def __str__(self) -> str:
        return self.term


# --- tickets ----------------------------------------------------------------------------


class TicketKind(models.TextChoices):
    CONSULTATION = "consultation", _("咨询")
    COMPLAINT = "complaint", _("投诉")
    REQUEST = "request", _("求助")
    SUGGESTION = "suggestion", _("建议")


class TicketStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    DISPATCHED = "dispatched", _("已派单")
    RETURNED = "returned", _("已退回")
    ANSWERED = "answered", _("已答复")
    CLOSED = "closed", _("已办结")


class TicketAction(models.TextChoices):
    REGISTER = "register", _("登记")
    ANSWER_FROM_KNOWLEDGE = "answer_from_knowledge", _("知识库直接答复")
    DISPATCH = "dispatch", _("派单")
    RETURN = "return", _("退回")
    ANSWER = "answer", _("部门答复")
    FOLLOW_UP = "follow_up", _("回访")
    REOPEN = "reopen", _("重办")


class TicketChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    ONLINE = "online", _("网上")
    API = "api", _("接口")


class Satisfaction(models.TextChoices):
    """The five levels of GB/T 39735 (政务服务评价工作指南)."""

    VERY_SATISFIED = "very_satisfied", _("非常满意")
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
    VERY_DISSATISFIED = "very_dissatisfied", _("非常不满意")


DISSATISFIED_LEVELS = frozenset({Satisfaction.DISSATISFIED, Satisfaction.VERY_DISSATISFIED})


class TicketCategory(models.Model):
    """A kind of matter the hotline takes (an Open311 "service"): its code is the
    service_code, it belongs to one ticket kind and suggests the responsible department.
    `attributes` holds Open311 attribute definitions asked from API clients."""

    code = models.SlugField(_("编码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("工单类型"), max_length=20, choices=TicketKind.choices)
    group = models.CharField(_("分组"), max_length=40, blank=True)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    default_department_kind = models.CharField(_("默认承办部门类别"), max_length=40, blank=True)
    location_required = models.BooleanField(_("须填写地点"), default=False)
    attributes = models.JSONField(_("补充信息项"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("工单分类")
        verbose_name_plural = _("工单分类")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class TicketTimeLimit(models.Model):
    """Working days a department has to answer, per ticket kind (editable; the defaults in
    services.DEFAULT_TIME_LIMITS apply to a kind without a row)."""

    kind = models.CharField(_("工单类型"), max_length=20, choices=TicketKind.choices, unique=True)
    working_days = models.PositiveSmallIntegerField(_("办理时限（工作日）"))

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.working_days}"


class ApiClient(models.Model):
    """A machine client of the Open311 API (a city 12345 platform, an app). Only a hash of
    its key is stored; the key is shown once when created."""

    name = models.CharField(_("名称"), max_length=100)
    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+"
    )
    key_prefix = models.CharField(_("密钥前缀"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口客户端")
        verbose_name_plural = _("接口客户端")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.key_prefix}…）"


class Ticket(models.Model):
    """A 12345 ticket (工单). The caller's phone is stored encrypted, with a blind index to
    find earlier calls from the same number and a masked copy for screens."""

    number = models.CharField(_("工单编号"), max_length=20, unique=True, editable=False)
    region = models.ForeignKey(
        Region, verbose_name=_("受理区划"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        TicketCategory, verbose_name=_("分类"), on_delete=models.PROTECT, related_name="tickets"
    )
    kind = models.CharField(_("工单类型"), max_length=20, choices=TicketKind.choices)
    channel = models.CharField(_("渠道"), max_length=10, choices=TicketChannel.choices)
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=TicketStatus.choices,
        default=TicketStatus.REGISTERED,
        db_index=True,
    )
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("诉求内容"))
    address = models.CharField(_("地点"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    media_url = models.URLField(_("附件链接"), max_length=500, blank=True)
    attributes = models.JSONField(_("补充信息"), default=dict, blank=True)

    caller_name = models.CharField(_("来电人"), max_length=50, blank=True)
    caller_phone_encrypted = models.TextField(blank=True, editable=False)
    caller_phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    caller_phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True, editable=False)
    caller_email_encrypted = models.TextField(blank=True, editable=False)
    caller_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hotline_tickets",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("话务员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    api_client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )

    department = models.ForeignKey(
        Department,
        verbose_name=_("承办部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    knowledge_entry = models.ForeignKey(
        KnowledgeEntry,
        verbose_name=_("引用知识"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    answer = models.TextField(_("答复内容"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    satisfaction = models.CharField(
        _("满意度"), max_length=30, choices=Satisfaction.choices, blank=True
    )
    follow_up_note = models.CharField(_("回访记录"), max_length=500, blank=True)
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["region", "status"]),
            models.Index(fields=["department", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def caller_phone(self) -> str:
        """Clear number — to send the SMS and for the operator's return call only."""
        return crypto.decrypt(self.caller_phone_encrypted) if self.caller_phone_encrypted else ""

    @property
    def caller_email(self) -> str:
        return crypto.decrypt(self.caller_email_encrypted) if self.caller_email_encrypted else ""

    @property
    def is_open(self) -> bool:
        return self.status not in (TicketStatus.ANSWERED, TicketStatus.CLOSED)


class AssignmentOutcome(models.TextChoices):
    OPEN = "open", _("办理中")
    RETURNED = "returned", _("已退回")
    ANSWERED = "answered", _("已答复")


class TicketAssignment(models.Model):
    """One dispatch of a ticket to a department (派单), with the inputs of its deadline
    clock (core.deadlines.Clock) and its outcome. The supervisor board counts these."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(
        Department, verbose_name=_("承办部门"), on_delete=models.PROTECT, related_name="+"
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dispatched_at = models.DateTimeField(_("派单时间"), auto_now_add=True)
    started_on = models.DateField(_("起算日期"))
    limit_days = models.PositiveSmallIntegerField(_("时限（工作日）"))
    unit = models.CharField(max_length=10, default="working")
    extension_days = models.PositiveSmallIntegerField(default=0)
    instructions = models.CharField(_("派单意见"), max_length=500, blank=True)
    outcome = models.CharField(
        _("结果"),
        max_length=10,
        choices=AssignmentOutcome.choices,
        default=AssignmentOutcome.OPEN,
        db_index=True,
    )
    closed_on = models.DateField(_("退回或答复日期"), null=True, blank=True)
    return_reason = models.CharField(_("退回理由"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("派单记录")
        verbose_name_plural = _("派单记录")
        ordering = ["-dispatched_at", "-id"]
        indexes = [models.Index(fields=["department", "outcome"])]

    def __str__(self) -> str:
        return f"{self.ticket.number} → {self.department}"


class TicketEvent(models.Model):
    """The ticket's history as shown on its page (the audit log keeps the full record)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=30, choices=TicketAction.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工单记录")
        verbose_name_plural = _("工单记录")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action}"
