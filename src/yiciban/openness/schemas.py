"""Request and response shapes of /api/v1/openness."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from ninja import Schema
from pydantic import Field

from .models import Article, ArticleKind, ColumnKind, DisclosureRequest, Suggestion


class PageParams(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class ScopeParams(PageParams):
    region: str | None = Field(None, description="区划代码（12位或6位）：含其下级")
    level: str | None = Field(None, description="county / township / village")
    column: str | None = Field(None, description="栏目类别，如 policy、finance")


class FeedParams(ScopeParams):
    kind: str | None = Field(None, description="information / policy / interpretation / notice")
    since: dt.datetime | None = Field(None, description="只返回此时刻（含）以后发布的信息")


class SearchParams(ScopeParams):
    q: str = Field(..., min_length=1, max_length=100)


class RegionOut(Schema):
    code: str
    name: str
    level: str


class ColumnOut(Schema):
    id: int
    kind: str
    name: str
    special: bool
    region: RegionOut

    @staticmethod
    def resolve_special(obj) -> bool:
        return obj.is_special


class ColumnPage(Schema):
    count: int
    items: list[ColumnOut]


class ArticleSummaryOut(Schema):
    id: int
    title: str
    summary: str
    kind: str
    kind_label: str
    column: str
    column_name: str
    region: RegionOut
    document_number: str
    publish_at: dt.datetime | None
    interprets: int | None
    url: str

    @staticmethod
    def resolve_kind_label(obj: Article) -> str:
        return str(ArticleKind(obj.kind).label)

    @staticmethod
    def resolve_column(obj: Article) -> str:
        return obj.column.kind

    @staticmethod
    def resolve_column_name(obj: Article) -> str:
        return obj.column.name

    @staticmethod
    def resolve_interprets(obj: Article) -> int | None:
        return obj.interprets_id

    @staticmethod
    def resolve_url(obj: Article) -> str:
        return reverse("openness:article", args=[obj.pk])


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    sha256: str
    url: str

    @staticmethod
    def resolve_url(obj) -> str:
        return obj.file.url


class ArticleOut(ArticleSummaryOut):
    issuing_body: str
    body_html: str
    attachments: list[AttachmentOut]
    interpretations: list[int]

    @staticmethod
    def resolve_attachments(obj: Article) -> list:
        return list(obj.attachments.all())

    @staticmethod
    def resolve_interpretations(obj: Article) -> list[int]:
        from .selectors import interpretations_of

        return list(interpretations_of(obj).values_list("pk", flat=True))


class ArticlePage(Schema):
    count: int
    items: list[ArticleSummaryOut]


class StaffArticleOut(ArticleOut):
    status: str
    version: int
    mode: str
    body_format: str
    body_source: str
    show_on_screen: bool
    withdraw_at: dt.datetime | None
    withdraw_reason: str
    review_comment: str
    created_by: str
    updated_at: dt.datetime

    @staticmethod
    def resolve_created_by(obj: Article) -> str:
        return str(obj.created_by)


class StaffArticlePage(Schema):
    count: int
    items: list[StaffArticleOut]


class SearchHitOut(Schema):
    article: ArticleSummaryOut
    score: float
    excerpt: str


class SearchPageOut(Schema):
    count: int
    terms: list[str]
    items: list[SearchHitOut]


class ArticleIn(Schema):
    column_id: int
    title: str = Field(..., max_length=400)
    body: str = ""
    body_format: str = "markdown"
    kind: str = ArticleKind.INFORMATION
    summary: str = ""
    document_number: str = ""
    issuing_body: str = ""
    interprets_id: int | None = None
    show_on_screen: bool = False


class ArticlePatch(Schema):
    version: int | None = Field(None, description="所见版本；他人已修改时返回409")
    title: str | None = Field(None, max_length=400)
    body: str | None = None
    body_format: str | None = None
    kind: str | None = None
    summary: str | None = None
    document_number: str | None = None
    issuing_body: str | None = None
    interprets_id: int | None = None
    show_on_screen: bool | None = None


class ApproveIn(Schema):
    publish_at: dt.datetime | None = None
    comment: str = ""
    version: int | None = Field(None, description="所见版本；他人已修改时返回409")


class ReturnIn(Schema):
    comment: str
    version: int | None = None


class WithdrawIn(Schema):
    reason: str
    at: dt.datetime | None = None
    version: int | None = None


class ColumnIn(Schema):
    region: str
    kind: ColumnKind
    name: str = ""


class PublishingModeIn(Schema):
    mode: str


class PublishingModeOut(Schema):
    region: str
    mode: str

    @staticmethod
    def resolve_region(obj) -> str:
        return obj.region.code


class ScreenIn(Schema):
    title: str
    article_ids: list[int] = []
    slide_seconds: int = 15
    refresh_seconds: int = 120
    auto_fill_limit: int = 10


class SlideOut(Schema):
    id: int | None
    kind: str
    kind_label: str
    column: str
    region: str
    title: str
    text: str
    date: str
    seconds: int | None


class PlaylistOut(Schema):
    screen: str
    title: str
    slide_seconds: int
    refresh_seconds: int
    version: str
    generated_at: str
    slides: list[SlideOut]


# --- subscriptions ---------------------------------------------------------------------


class SubscriptionIn(Schema):
    region: str
    columns: list[ColumnKind] = Field(..., min_length=1)
    channel: str
    address: str = Field(..., max_length=200)


class SubscriptionOut(Schema):
    id: int
    status: str
    channel: str
    address: str
    region: RegionOut
    columns: list[str]
    confirm_expires_at: dt.datetime

    @staticmethod
    def resolve_address(obj) -> str:
        return obj.address_masked

    @staticmethod
    def resolve_columns(obj) -> list[str]:
        return list(obj.columns.values_list("kind", flat=True))


class ConfirmCodeIn(Schema):
    code: str = Field(..., max_length=12)


class ConfirmLinkIn(Schema):
    token: str = Field(..., max_length=100)


class UnsubscribeIn(Schema):
    signature: str = Field(..., max_length=100)


# --- disclosure requests -----------------------------------------------------------------


class DisclosureIn(Schema):
    region: str
    department_id: int | None = None
    requester_category: str
    requester_name: str = Field(..., max_length=200)
    id_number: str = Field("", max_length=40)
    contact_name: str = Field("", max_length=100)
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=200)
    address: str = Field("", max_length=400)
    description: str = Field(..., max_length=10000)
    delivery_method: str
    channel: str = "online"
    received_on: dt.date | None = None


class DeadlineOut(Schema):
    due: dt.date | None
    provisional: bool
    status: str
    remaining: int | None


class DisclosureFiledOut(Schema):
    number: str
    query_code: str
    status: str
    received_on: dt.date
    deadline: DeadlineOut


class DisclosurePublicOut(Schema):
    """What the requester sees with number and query code."""

    number: str
    status: str
    status_label: str
    received_on: dt.date
    correction_items: list[str]
    correction_due_on: dt.date | None
    extension_days: int
    extension_reason: str
    answer_type: str
    answer_type_label: str
    answer_reason: str
    answer_reason_label: str
    answer_text: str
    answered_on: dt.date | None
    deadline: DeadlineOut

    @staticmethod
    def resolve_status_label(obj: DisclosureRequest) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_answer_type_label(obj: DisclosureRequest) -> str:
        return obj.get_answer_type_display() if obj.answer_type else ""

    @staticmethod
    def resolve_answer_reason_label(obj: DisclosureRequest) -> str:
        return obj.get_answer_reason_display() if obj.answer_reason else ""

    @staticmethod
    def resolve_deadline(obj: DisclosureRequest) -> dict:
        from .selectors import disclosure_deadline

        return disclosure_deadline(obj).__dict__


class ConsultationOut(Schema):
    party_kind: str
    party_name: str
    started_on: dt.date
    ended_on: dt.date | None


class DisclosureStaffOut(DisclosurePublicOut):
    region: RegionOut
    department: str
    requester_category: str
    requester_name: str
    id_number: str
    phone: str
    email: str
    description: str
    delivery_method: str
    channel: str
    clock_started_on: dt.date
    extension_approved_by: str
    extension_approved_on: dt.date | None
    corrected_on: dt.date | None
    answered_late: bool
    consultations: list[ConsultationOut]

    @staticmethod
    def resolve_department(obj: DisclosureRequest) -> str:
        return obj.department.name if obj.department else ""

    @staticmethod
    def resolve_id_number(obj: DisclosureRequest) -> str:
        return obj.id_number_masked

    @staticmethod
    def resolve_phone(obj: DisclosureRequest) -> str:
        return obj.phone_masked

    @staticmethod
    def resolve_email(obj: DisclosureRequest) -> str:
        return obj.email_masked

    @staticmethod
    def resolve_extension_approved_by(obj: DisclosureRequest) -> str:
        return str(obj.extension_approved_by) if obj.extension_approved_by else ""

    @staticmethod
    def resolve_consultations(obj: DisclosureRequest) -> list:
        return list(obj.consultations.all())


class DisclosureStaffPage(Schema):
    count: int
    items: list[DisclosureStaffOut]


class StatusParams(PageParams):
    status: str | None = None


class RequesterQuery(Schema):
    query_code: str = Field(..., min_length=4, max_length=20)


class RequesterCorrectionIn(Schema):
    query_code: str = Field(..., max_length=20)
    description: str = Field(..., max_length=10000)


class CorrectionIn(Schema):
    items: list[str] = Field(..., min_length=1)
    correction_days: int = 15


class StaffCorrectedIn(Schema):
    description: str = Field(..., max_length=10000)
    corrected_on: dt.date | None = None


class ConsultationIn(Schema):
    party_kind: str
    party_name: str
    started_on: dt.date | None = None
    note: str = ""


class ConsultationEndIn(Schema):
    ended_on: dt.date | None = None


class ExtensionIn(Schema):
    days: int
    reason: str


class AnswerIn(Schema):
    answer_type: str
    answer_reason: str = ""
    answer_text: str
    answered_on: dt.date | None = None


class StatisticsParams(Schema):
    year: int
    region: str


class StatisticsRowOut(Schema):
    key: str
    label: str
    depth: int
    values: dict[str, int] | None


class StatisticsOut(Schema):
    year: int
    region: RegionOut
    columns: list[dict[str, str]]
    rows: list[StatisticsRowOut]


# --- suggestions -----------------------------------------------------------------------------


class SuggestionIn(Schema):
    content: str = Field(..., max_length=4000)
    region: str | None = None
    service_point: str | None = None
    department_id: int | None = None
    channel: str = "online"
    suggester_name: str = Field("", max_length=100)
    contact: str = Field("", max_length=200)
    publish_consent: bool = False


class SuggestionPublicOut(Schema):
    number: str
    region: RegionOut
    service_point: str
    department: str
    content: str
    received_on: dt.date
    answer_text: str
    answered_on: dt.date | None

    @staticmethod
    def resolve_service_point(obj: Suggestion) -> str:
        return obj.service_point.name if obj.service_point else ""

    @staticmethod
    def resolve_department(obj: Suggestion) -> str:
        return obj.department.name if obj.department else ""

    @staticmethod
    def resolve_answer_text(obj: Suggestion) -> str:
        # Published answers only; until then the public sees that it was received.
        return obj.answer_text if obj.is_published else ""


class SuggestionFiledOut(Schema):
    number: str
    status: str
    received_on: dt.date
    due_on: dt.date


class SuggestionPage(Schema):
    count: int
    items: list[SuggestionPublicOut]


class SuggestionStaffOut(SuggestionPublicOut):
    status: str
    channel: str
    suggester_name: str
    contact: str
    publish_consent: bool
    answer_limit_days: int
    answered_late: bool
    deadline: DeadlineOut

    @staticmethod
    def resolve_answer_text(obj: Suggestion) -> str:
        return obj.answer_text

    @staticmethod
    def resolve_contact(obj: Suggestion) -> str:
        return obj.contact_masked

    @staticmethod
    def resolve_deadline(obj: Suggestion) -> dict:
        from .selectors import suggestion_deadline

        return suggestion_deadline(obj).__dict__


class SuggestionStaffPage(Schema):
    count: int
    items: list[SuggestionStaffOut]


class AssignIn(Schema):
    department_id: int


class SuggestionAnswerIn(Schema):
    answer_text: str
