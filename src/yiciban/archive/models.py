"""One archive per subject (一企一档): the documents and records every department keeps about
an enterprise or a person, the rules on who may read which records, and the records a
department still owes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiciban.accounts.models import Enterprise, Person
from yiciban.core.models import Document
from yiciban.org.models import Department, DepartmentKind

RECORD_DEADLINE_WORKING_DAYS = 5


class SubjectKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    PERSON = "person", _("自然人")


class Archive(models.Model):
    """The one archive of a subject: an enterprise (by USCC) or a person (by the blind index
    of the resident ID — the ID itself is never stored here)."""

    kind = models.CharField(_("主体类别"), max_length=12, choices=SubjectKind.choices)
    # "enterprise:<USCC>" or "person:<blind index>": unique, so a subject has one archive.
    subject_key = models.CharField(_("主体键"), max_length=80, unique=True, editable=False)
    enterprise = models.OneToOneField(
        Enterprise, null=True, blank=True, on_delete=models.PROTECT, related_name="archive"
    )
    person = models.OneToOneField(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="archive"
    )
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("主体档案")
        verbose_name_plural = _("主体档案")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=SubjectKind.ENTERPRISE, enterprise__isnull=False, person=None)
                | Q(kind=SubjectKind.PERSON, person__isnull=False, enterprise=None),
                name="archive_archive_one_subject",
            )
        ]

    def __str__(self) -> str:
        return str(self.enterprise or self.person)

    @property
    def subject_name(self) -> str:
        return self.enterprise.name if self.enterprise_id else self.person.name


class Origin(models.TextChoices):
    """Where a document came from — its trust level, after the 电子证照 idea."""

    ISSUED = "issued", _("部门核发（可直接使用）")
    COUNTER_CHECKED = "counter_checked", _("窗口核验（可复用）")
    APPLICANT_UPLOADED = "applicant_uploaded", _("申请人上传（原件待核）")


# Documents another application may take without asking the applicant again.
REUSABLE_ORIGINS = frozenset({Origin.ISSUED, Origin.COUNTER_CHECKED})


class ArchiveDocument(models.Model):
    """A document kept in an archive. The bytes are a core.Document (content-addressed,
    immutable); the same bytes are kept once per archive."""

    archive = models.ForeignKey(Archive, on_delete=models.PROTECT, related_name="documents")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    title = models.CharField(_("名称"), max_length=120)
    # catalogue material kind code (e.g. "licence.business"), and its shared data category
    material_kind = models.CharField(_("材料目录编码"), max_length=80, blank=True)
    data_category = models.CharField(_("共享数据类别"), max_length=80, blank=True)
    origin = models.CharField(_("来源与可信度"), max_length=20, choices=Origin.choices)
    source_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateField(_("有效期自"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(_("归档时间"), auto_now_add=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(_("核验时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("档案材料")
        verbose_name_plural = _("档案材料")
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["archive", "sha256"], name="archive_document_once"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="archive_document_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def valid_on(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class RecordKind(models.TextChoices):
    APPLICATION = "application", _("申请")
    COMMITMENT = "commitment", _("承诺书")
    LICENCE = "licence", _("证照")
    DECISION = "decision", _("审批决定")
    INSPECTION = "inspection", _("检查结果")
    ANNUAL_REPORT = "annual_report", _("年度报告")
    PENALTY = "penalty", _("行政处罚")
    CREDIT = "credit", _("信用记录")


class ArchiveRecord(models.Model):
    """An event a department records about the subject. Records are never edited: a
    correction is a new record linking to the old one."""

    archive = models.ForeignKey(Archive, on_delete=models.PROTECT, related_name="records")
    kind = models.CharField(_("类别"), max_length=20, choices=RecordKind.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("记录部门"), on_delete=models.PROTECT, related_name="+"
    )
    event_date = models.DateField(_("事件日期"))
    recorded_on = models.DateField(_("记录日期"))
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    # the 5th working day after the event (core.deadlines); late when recorded after it
    due_on = models.DateField(_("应记录日期"))
    late = models.BooleanField(_("逾期记录"), default=False)
    summary = models.CharField(_("摘要"), max_length=300)
    payload = models.JSONField(_("内容"), default=dict, blank=True)
    # [{"type": "licence", "ref": "JY4311272026000001"}, {"type": "case", "ref": "…"}]
    links = models.JSONField(_("关联"), default=list, blank=True)
    documents = models.ManyToManyField(ArchiveDocument, blank=True, related_name="records")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("档案记录")
        verbose_name_plural = _("档案记录")
        ordering = ["-event_date", "-id"]
        indexes = [models.Index(fields=["department", "late"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(recorded_on__gte=models.F("event_date")),
                name="archive_record_not_before_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.event_date}"


class ExpectedRecord(models.Model):
    """A record a department owes: an event happened (an inspection, a licence issued) and
    its record must be filed within 5 working days. Filing the record fulfils it."""

    archive = models.ForeignKey(Archive, on_delete=models.PROTECT, related_name="expected")
    kind = models.CharField(_("类别"), max_length=20, choices=RecordKind.choices)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    event_date = models.DateField(_("事件日期"))
    due_on = models.DateField(_("应记录日期"))
    description = models.CharField(_("说明"), max_length=300)
    fulfilled_by = models.OneToOneField(
        ArchiveRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="expectation"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("待记录事项")
        verbose_name_plural = _("待记录事项")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["department", "fulfilled_by"])]

    def __str__(self) -> str:
        return f"{self.department} {self.get_kind_display()} {self.event_date}"


class SharingRule(models.Model):
    """Staff of a department (one named department, or every department of a kind) may read
    the records of one kind (or all kinds) in any archive. The producing department always
    reads its own records; the subject reads everything in its own archive."""

    viewer_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    viewer_department_kind = models.CharField(
        _("可查看的部门类别"), max_length=40, choices=DepartmentKind.choices, blank=True
    )
    # empty: every kind of record
    record_kind = models.CharField(
        _("记录类别"), max_length=20, choices=RecordKind.choices, blank=True
    )
    include_documents = models.BooleanField(_("含材料"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("共享规则")
        verbose_name_plural = _("共享规则")
        constraints = [
            models.CheckConstraint(
                condition=(Q(viewer_department__isnull=False) & Q(viewer_department_kind=""))
                | (Q(viewer_department__isnull=True) & ~Q(viewer_department_kind="")),
                name="archive_sharingrule_one_viewer",
            )
        ]

    def __str__(self) -> str:
        viewer = self.viewer_department or self.get_viewer_department_kind_display()
        return f"{viewer} → {self.get_record_kind_display() or _('全部记录')}"
