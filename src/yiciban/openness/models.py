"""Government openness (政务公开, SPEC §9): columns and articles at three levels, the search
index, subscriptions, hall display screens, disclosure requests (依申请公开) and the
suggestion box (意见箱). Workflows live in services.py; the allowed transitions in
transitions.py."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiciban.org.models import Department, Region, ServicePoint

# --- publishing -------------------------------------------------------------------------


class ColumnKind(models.TextChoices):
    # The five columns of every public-affairs board (一栏, 五类公开) …
    PARTY_AFFAIRS = "party_affairs", _("党务公开")
    PUBLIC_AFFAIRS = "public_affairs", _("事务公开")
    POLICY = "policy", _("政策公开")
    FINANCE = "finance", _("财务公开")
    ORGANISATION = "organisation", _("机构公开")
    # … and the special columns of the five key domains (五大重点领域).
    EPIDEMIC = "epidemic", _("疫情防控")
    SIX_STABILITIES = "six_stabilities", _("六稳六保")
    BUDGET_ACCOUNTS = "budget_accounts", _("财政预决算")
    PROCUREMENT = "procurement", _("政府采购")
    LIVELIHOOD_FUNDS = "livelihood_funds", _("民生资金")
    SERVICE_INFO = "service_info", _("办事服务")
    SUPERVISION_INFO = "supervision_info", _("监管信息")


BASIC_COLUMN_KINDS = (
    ColumnKind.PARTY_AFFAIRS,
    ColumnKind.PUBLIC_AFFAIRS,
    ColumnKind.POLICY,
    ColumnKind.FINANCE,
    ColumnKind.ORGANISATION,
)
SPECIAL_COLUMN_KINDS = tuple(k for k in ColumnKind if k not in BASIC_COLUMN_KINDS)


class PublishingMode(models.TextChoices):
    UNIFIED = "unified", _("县级统一发布")
    SELF = "self", _("乡镇自主公开")


class RegionPublishing(models.Model):
    """The publishing mode a township (and its villages) runs under. Absent means
    自主公开: the township's own editors publish; under 统一发布 only county editors do."""

    region = models.OneToOneField(
        Region, verbose_name=_("乡镇（街道）"), on_delete=models.CASCADE, related_name="+"
    )
    mode = models.CharField(_("发布模式"), max_length=10, choices=PublishingMode.choices)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("发布模式")
        verbose_name_plural = _("发布模式")

    def __str__(self) -> str:
        return f"{self.region.name} · {self.get_mode_display()}"


class Column(models.Model):
    """A column (栏目) of one region's openness portal."""

    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("栏目类别"), max_length=30, choices=ColumnKind.choices)
    name = models.CharField(_("栏目名称"), max_length=50)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("公开栏目")
        verbose_name_plural = _("公开栏目")
        ordering = ["region__code", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="openness_column_region_kind")
        ]

    def __str__(self) -> str:
        return f"{self.region.name} · {self.name}"

    @property
    def is_special(self) -> bool:
        return self.kind in SPECIAL_COLUMN_KINDS


class ArticleKind(models.TextChoices):
    INFORMATION = "information", _("公开信息")
    POLICY = "policy", _("政策文件")
    INTERPRETATION = "interpretation", _("政策解读")
    NOTICE = "notice", _("通知公告")


class BodyFormat(models.TextChoices):
    MARKDOWN = "markdown", _("Markdown")
    HTML = "html", _("HTML")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审核")
    RETURNED = "returned", _("已退回修改")
    SCHEDULED = "scheduled", _("待发布")
    PUBLISHED = "published", _("已发布")
    WITHDRAWAL_SCHEDULED = "withdrawal_scheduled", _("待撤回")
    WITHDRAWN = "withdrawn", _("已撤回")


# Statuses in which an article may be public (subject to its publish/withdraw times).
PUBLIC_STATUSES = (
    ArticleStatus.SCHEDULED,
    ArticleStatus.PUBLISHED,
    ArticleStatus.WITHDRAWAL_SCHEDULED,
)


class Article(models.Model):
    column = models.ForeignKey(
        Column, verbose_name=_("栏目"), on_delete=models.PROTECT, related_name="articles"
    )
    # Copied from the column so portal queries by level and region need no join.
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(
        _("信息类型"), max_length=20, choices=ArticleKind.choices, default=ArticleKind.INFORMATION
    )
    title = models.CharField(_("标题"), max_length=200)
    summary = models.CharField(_("摘要"), max_length=500, blank=True)
    document_number = models.CharField(_("文号"), max_length=60, blank=True)
    issuing_body = models.CharField(_("发布机构"), max_length=100, blank=True)
    body_format = models.CharField(
        _("正文格式"), max_length=10, choices=BodyFormat.choices, default=BodyFormat.MARKDOWN
    )
    body_source = models.TextField(_("正文原稿"), blank=True)
    # Rendered from body_source and sanitised on every save; the only body ever shown.
    body_html = models.TextField(_("正文"), blank=True, editable=False)
    interprets = models.ForeignKey(
        "self",
        verbose_name=_("所解读的政策"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interpretations",
    )
    show_on_screen = models.BooleanField(_("在显示屏滚动播放"), default=False)
    mode = models.CharField(_("发布模式"), max_length=10, choices=PublishingMode.choices)
    status = models.CharField(
        _("状态"), max_length=24, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    publish_at = models.DateTimeField(_("计划发布时间"), null=True, blank=True)
    withdraw_at = models.DateTimeField(_("计划撤回时间"), null=True, blank=True)
    withdraw_reason = models.CharField(_("撤回原因"), max_length=300, blank=True)
    published_at = models.DateTimeField(_("发布记录时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回记录时间"), null=True, blank=True)
    review_comment = models.CharField(_("审核意见"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("起草人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Raised by every change; a client that sends the version it saw gets a Conflict when
    # someone else changed the article first (two reviewers, approve against withdraw).
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    # Weighted token count, the document length of the BM25 formula (search.py).
    search_length = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("公开信息")
        verbose_name_plural = _("公开信息")
        ordering = ["-publish_at", "-id"]
        indexes = [
            # Covers the visibility filter and the BM25 document length, so the collection
            # statistics of a search are read from the index alone.
            models.Index(
                fields=["status", "publish_at", "withdraw_at", "search_length"],
                name="openness_article_visible",
            ),
            models.Index(fields=["region", "status"], name="openness_article_region"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interprets__isnull=True) | models.Q(kind="interpretation"),
                name="openness_article_only_interpretations_link",
            )
        ]

    def __str__(self) -> str:
        return self.title


class ArticleAttachment(models.Model):
    article = models.ForeignKey(
        Article, verbose_name=_("公开信息"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("文件"), upload_to="openness/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("类型"), max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class SearchPosting(models.Model):
    """One term of one article in the inverted index that yiciban.core.search ranks with
    BM25: the weighted term frequency, the article's weighted length copied in (so ranking
    reads this table alone) and the impact (the BM25 term part × 1000 at write time, the
    order in which a common word's postings are read when a query caps them)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=40)
    tf = models.PositiveIntegerField()
    doc_length = models.PositiveIntegerField(default=0)
    impact = models.PositiveIntegerField(default=0)

    class Meta:
        # Covering index: a query term's postings are read from the index alone, in full or
        # best first by impact. index_article deletes an article's postings before writing
        # them, so each (term, article) pair occurs once.
        indexes = [
            models.Index(
                fields=["term", "-impact", "article", "tf", "doc_length"],
                name="openness_posting_impact",
            )
        ]

    def __str__(self) -> str:
        return f"{self.term}×{self.tf}"


def new_search_revision() -> str:
    return secrets.token_hex(16)


class SearchIndexStats(models.Model):
    """BM25 collection statistics of the article index (one row, id=1), kept in step by
    search.index_article in the same transaction as the postings."""

    document_count = models.PositiveIntegerField(default=0)
    total_length = models.PositiveBigIntegerField(default=0)
    # Changed (search.touch) whenever an article is written, published or withdrawn: the
    # search page's result cache is keyed on it. Random, not a counter, so a rolled-back
    # or re-created row never repeats an earlier revision.
    revision = models.CharField(max_length=32, default=new_search_revision, editable=False)

    def __str__(self) -> str:
        return f"{self.document_count} / {self.total_length}"


# --- subscriptions ---------------------------------------------------------------------


class SubscriptionChannel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", _("待确认")
    ACTIVE = "active", _("已订阅")
    ENDED = "ended", _("已退订")


class Subscription(models.Model):
    """A person's subscription to columns of one region. The address is kept encrypted
    (it is needed to send) with a blind index for finding the same address again."""

    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+"
    )
    columns = models.ManyToManyField(Column, verbose_name=_("订阅栏目"), related_name="+")
    channel = models.CharField(_("方式"), max_length=10, choices=SubscriptionChannel.choices)
    address_encrypted = models.TextField(editable=False)
    address_index = models.CharField(max_length=64, db_index=True, editable=False)
    address_masked = models.CharField(_("地址"), max_length=100)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.PENDING,
    )
    # Only hashes of the code and the link token are stored: a database reader cannot
    # confirm anyone's subscription. The unsubscribe link is signed (services.py), so it
    # needs no stored secret and stays the same for the life of the subscription.
    confirm_code_hash = models.CharField(max_length=64, editable=False)
    confirm_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    confirm_expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("订阅")
        verbose_name_plural = _("订阅")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.region.name} · {self.get_channel_display()} · {self.address_masked}"


# --- hall display screens --------------------------------------------------------------


class DisplayScreen(models.Model):
    """The information screen (一屏) of a service point's hall."""

    service_point = models.OneToOneField(
        ServicePoint, verbose_name=_("服务网点"), on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(_("屏幕标题"), max_length=100)
    slide_seconds = models.PositiveSmallIntegerField(_("每页停留秒数"), default=15)
    refresh_seconds = models.PositiveSmallIntegerField(_("刷新间隔秒数"), default=120)
    # Besides the chosen items, the newest on-screen articles of the point's region and
    # the regions above it fill the playlist up to this many (0 = only chosen items).
    auto_fill_limit = models.PositiveSmallIntegerField(_("自动补充条数"), default=10)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("信息发布显示屏")
        verbose_name_plural = _("信息发布显示屏")

    def __str__(self) -> str:
        return self.title


class DisplayItem(models.Model):
    screen = models.ForeignKey(DisplayScreen, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    article = models.ForeignKey(
        Article, verbose_name=_("公开信息"), on_delete=models.CASCADE, related_name="+"
    )
    seconds = models.PositiveSmallIntegerField(_("停留秒数"), null=True, blank=True)

    class Meta:
        verbose_name = _("播放条目")
        verbose_name_plural = _("播放条目")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.article_id}"


# --- disclosure requests (依申请公开) -----------------------------------------------------


class RequesterCategory(models.TextChoices):
    # The requester columns of the annual report table (国办公开办函〔2021〕30号).
    NATURAL_PERSON = "natural_person", _("自然人")
    COMMERCIAL_ENTERPRISE = "commercial_enterprise", _("商业企业")
    RESEARCH_INSTITUTION = "research_institution", _("科研机构")
    SOCIAL_WELFARE_ORG = "social_welfare_org", _("社会公益组织")
    LEGAL_SERVICE_ORG = "legal_service_org", _("法律服务机构")
    OTHER_ORG = "other_org", _("其他")


class DisclosureChannel(models.TextChoices):
    ONLINE = "online", _("网络")
    ON_SITE = "on_site", _("当面")
    MAIL = "mail", _("信函")


class DeliveryMethod(models.TextChoices):
    PAPER = "paper", _("纸质文本")
    EMAIL = "email", _("电子邮件")
    ONLINE = "online", _("网上查阅")
    ON_SITE = "on_site", _("当面领取")


class DisclosureStatus(models.TextChoices):
    RECEIVED = "received", _("办理中")
    CORRECTION_REQUESTED = "correction_requested", _("待补正")
    CONSULTING = "consulting", _("征求第三方意见中")
    ANSWERED = "answered", _("已答复")
    ABANDONED = "abandoned", _("逾期未补正")


class AnswerType(models.TextChoices):
    # The six results of the 2019 Regulations (arts. 36–38) as the annual report counts them.
    DISCLOSED = "disclosed", _("予以公开")
    PARTLY_DISCLOSED = "partly_disclosed", _("部分公开")
    NOT_DISCLOSED = "not_disclosed", _("不予公开")
    UNABLE_TO_PROVIDE = "unable_to_provide", _("无法提供")
    NOT_PROCESSED = "not_processed", _("不予处理")
    OTHER = "other", _("其他处理")


class AnswerReason(models.TextChoices):
    # 不予公开
    STATE_SECRET = "state_secret", _("属于国家秘密")
    PROHIBITED_BY_LAW = "prohibited_by_law", _("其他法律行政法规禁止公开")
    ENDANGERS_SECURITY = "endangers_security", _("危及“三安全一稳定”")
    THIRD_PARTY_RIGHTS = "third_party_rights", _("保护第三方合法权益")
    INTERNAL_AFFAIRS = "internal_affairs", _("属于三类内部事务信息")
    PROCESS_INFORMATION = "process_information", _("属于四类过程性信息")
    ENFORCEMENT_FILE = "enforcement_file", _("属于行政执法案卷")
    ADMINISTRATIVE_QUERY = "administrative_query", _("属于行政查询事项")
    # 无法提供
    NOT_HELD = "not_held", _("本机关不掌握相关政府信息")
    NEEDS_CREATION = "needs_creation", _("没有现成信息需要另行制作")
    STILL_UNCLEAR = "still_unclear", _("补正后申请内容仍不明确")
    # 不予处理
    PETITION_COMPLAINT = "petition_complaint", _("信访举报投诉类申请")
    REPEATED = "repeated", _("重复申请")
    PUBLICATION = "publication", _("要求提供公开出版物")
    MASS_REPEATED = "mass_repeated", _("无正当理由大量反复申请")
    CONFIRM_OR_REISSUE = "confirm_or_reissue", _("要求行政机关确认或重新出具已获取信息")
    # 其他处理
    OVERDUE_CORRECTION = "overdue_correction", _("申请人无正当理由逾期不补正、行政机关不再处理")
    UNPAID_FEE = "unpaid_fee", _("申请人逾期未按收费通知要求缴纳费用、行政机关不再处理")
    OTHER = "other", _("其他")


REASONS_BY_ANSWER = {
    AnswerType.DISCLOSED: (),
    AnswerType.PARTLY_DISCLOSED: (),
    AnswerType.NOT_DISCLOSED: (
        AnswerReason.STATE_SECRET,
        AnswerReason.PROHIBITED_BY_LAW,
        AnswerReason.ENDANGERS_SECURITY,
        AnswerReason.THIRD_PARTY_RIGHTS,
        AnswerReason.INTERNAL_AFFAIRS,
        AnswerReason.PROCESS_INFORMATION,
        AnswerReason.ENFORCEMENT_FILE,
        AnswerReason.ADMINISTRATIVE_QUERY,
    ),
    AnswerType.UNABLE_TO_PROVIDE: (
        AnswerReason.NOT_HELD,
        AnswerReason.NEEDS_CREATION,
        AnswerReason.STILL_UNCLEAR,
    ),
    AnswerType.NOT_PROCESSED: (
        AnswerReason.PETITION_COMPLAINT,
        AnswerReason.REPEATED,
        AnswerReason.PUBLICATION,
        AnswerReason.MASS_REPEATED,
        AnswerReason.CONFIRM_OR_REISSUE,
    ),
    AnswerType.OTHER: (
        AnswerReason.OVERDUE_CORRECTION,
        AnswerReason.UNPAID_FEE,
        AnswerReason.OTHER,
    ),
}


class DisclosureRequest(models.Model):
    number = models.CharField(_("申请编号"), max_length=32, unique=True, editable=False)
    region = models.ForeignKey(
        Region, verbose_name=_("受理区划"), on_delete=models.PROTECT, related_name="+"
    )
    # The body that holds the information and answers; empty = the region's government.
    department = models.ForeignKey(
        Department,
        verbose_name=_("承办机关"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requester_category = models.CharField(
        _("申请人类别"), max_length=30, choices=RequesterCategory.choices
    )
    requester_name = models.CharField(_("申请人姓名或名称"), max_length=100)
    # Persons: resident ID (encrypted, masked for display); organisations: their USCC.
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_masked = models.CharField(_("证件号码"), max_length=40, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    email_encrypted = models.TextField(blank=True, editable=False)
    email_masked = models.CharField(_("电子邮箱"), max_length=100, blank=True)
    address_encrypted = models.TextField(blank=True, editable=False)
    requester_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    description = models.TextField(_("所需信息的名称、文号或便于查询的其他特征性描述"))
    delivery_method = models.CharField(
        _("获取信息的方式"), max_length=10, choices=DeliveryMethod.choices
    )
    channel = models.CharField(_("提交方式"), max_length=10, choices=DisclosureChannel.choices)
    received_on = models.DateField(_("收到申请日期"))
    # Hash of the code the requester uses to follow the request without an account.
    query_code_hash = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        _("状态"),
        max_length=24,
        choices=DisclosureStatus.choices,
        default=DisclosureStatus.RECEIVED,
    )
    # Inputs of the deadline clock (core.deadlines.Clock).
    clock_started_on = models.DateField(_("答复期限起算日"))
    limit_days = models.PositiveSmallIntegerField(_("答复期限（工作日）"), default=20)
    extension_days = models.PositiveSmallIntegerField(_("延长工作日"), default=0)
    extension_reason = models.CharField(_("延长理由"), max_length=500, blank=True)
    extension_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("延长批准人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    extension_approved_on = models.DateField(_("延长批准日期"), null=True, blank=True)
    # 补正 (art. 30): at most once, listing everything to correct.
    correction_items = models.JSONField(_("补正事项"), default=list, blank=True)
    correction_requested_on = models.DateField(_("告知补正日期"), null=True, blank=True)
    correction_due_on = models.DateField(_("补正期限"), null=True, blank=True)
    corrected_on = models.DateField(_("收到补正日期"), null=True, blank=True)
    answer_type = models.CharField(
        _("答复类型"), max_length=20, choices=AnswerType.choices, blank=True
    )
    answer_reason = models.CharField(
        _("答复理由"), max_length=30, choices=AnswerReason.choices, blank=True
    )
    answer_text = models.TextField(_("答复内容"), blank=True)
    answered_on = models.DateField(_("答复（办结）日期"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("答复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_late = models.BooleanField(_("逾期答复"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("依申请公开")
        verbose_name_plural = _("依申请公开")
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["region", "received_on"], name="openness_disclosure_rcv")]

    def __str__(self) -> str:
        return self.number


class ConsultationParty(models.TextChoices):
    THIRD_PARTY = "third_party", _("第三方")
    OTHER_AGENCY = "other_agency", _("其他机关")


class DisclosureConsultation(models.Model):
    """Time spent consulting a third party or another agency (art. 32–33): it does not
    count towards the answer deadline."""

    request = models.ForeignKey(
        DisclosureRequest, on_delete=models.CASCADE, related_name="consultations"
    )
    party_kind = models.CharField(_("征求对象"), max_length=20, choices=ConsultationParty.choices)
    party_name = models.CharField(_("名称"), max_length=100)
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("征求意见")
        verbose_name_plural = _("征求意见")
        ordering = ["started_on", "id"]

    def __str__(self) -> str:
        return f"{self.party_name} {self.started_on}"


# --- suggestion box (意见箱) -------------------------------------------------------------


class SuggestionChannel(models.TextChoices):
    BOX = "box", _("意见箱（网点）")
    ONLINE = "online", _("网上")


class SuggestionStatus(models.TextChoices):
    RECEIVED = "received", _("待答复")
    ANSWERED = "answered", _("已答复")


class Suggestion(models.Model):
    number = models.CharField(_("编号"), max_length=32, unique=True, editable=False)
    channel = models.CharField(_("来源"), max_length=10, choices=SuggestionChannel.choices)
    service_point = models.ForeignKey(
        ServicePoint,
        verbose_name=_("服务网点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    suggester_name = models.CharField(_("姓名"), max_length=50, blank=True)
    contact_encrypted = models.TextField(blank=True, editable=False)
    contact_masked = models.CharField(_("联系方式"), max_length=100, blank=True)
    content = models.TextField(_("意见建议"))
    publish_consent = models.BooleanField(_("同意公开答复"), default=False)
    received_on = models.DateField(_("收到日期"))
    answer_limit_days = models.PositiveSmallIntegerField(_("答复期限（工作日）"))
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=SuggestionStatus.choices,
        default=SuggestionStatus.RECEIVED,
    )
    answer_text = models.TextField(_("答复"), blank=True)
    answered_on = models.DateField(_("答复日期"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("答复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_late = models.BooleanField(_("逾期答复"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("意见建议")
        verbose_name_plural = _("意见建议")
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def is_published(self) -> bool:
        return self.status == SuggestionStatus.ANSWERED and self.publish_consent
