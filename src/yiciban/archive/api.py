"""Archive API (mounted at /api/v1/archive): a subject's archive for its owner and for
authorised staff, records, documents, and the timeliness board."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import django_auth

from yiciban.accounts.selectors import enterprise_by_uscc
from yiciban.core.errors import NotFound, ValidationFailed
from yiciban.org.models import Department

from . import selectors, services
from .models import ArchiveDocument

router = Router(tags=["archive"], auth=django_auth)


class RecordOut(Schema):
    id: int
    kind: str
    department: str
    event_date: dt.date
    recorded_on: dt.date
    due_on: dt.date
    late: bool
    summary: str
    payload: dict[str, Any]
    links: list[dict[str, str]]


class DocumentOut(Schema):
    id: int
    title: str
    sha256: str
    material_kind: str
    data_category: str
    origin: str
    valid_from: dt.date | None
    valid_until: dt.date | None


class LicenceBrief(Schema):
    number: str
    type_name: str
    status: str
    valid_until: dt.date | None


class ArchiveOut(Schema):
    kind: str
    subject_name: str
    full_view: bool
    records_count: int
    records: list[RecordOut]
    documents: list[DocumentOut]
    licences: list[LicenceBrief]


class RecordIn(Schema):
    kind: str = Field(..., max_length=20)
    department_id: int
    event_date: dt.date
    summary: str = Field(..., max_length=300)
    payload: dict[str, Any] = {}
    links: list[dict[str, str]] = []


class TimelinessOut(Schema):
    department_id: int
    department: str
    recorded: int
    late: int
    missing: int
    pending: int


class TimelinessPage(Schema):
    count: int
    items: list[TimelinessOut]


def _record_out(record) -> dict:
    return {
        "id": record.pk,
        "kind": record.kind,
        "department": record.department.name,
        "event_date": record.event_date,
        "recorded_on": record.recorded_on,
        "due_on": record.due_on,
        "late": record.late,
        "summary": record.summary,
        "payload": record.payload,
        "links": record.links,
    }


def _archive_out(view, limit: int, offset: int) -> dict:
    return {
        "kind": view.archive.kind,
        "subject_name": view.archive.subject_name,
        "full_view": view.full,
        "records_count": view.records.count(),
        "records": [_record_out(r) for r in view.records[offset : offset + limit]],
        "documents": list(view.documents),
        "licences": [
            {
                "number": lic.number,
                "type_name": lic.licence_type.name,
                "status": lic.status_on(timezone.localdate()),
                "valid_until": lic.valid_until,
            }
            for lic in view.licences
        ],
    }


@router.get("/enterprises/{uscc}", response=ArchiveOut, summary="企业档案（一企一档）")
def enterprise_archive(
    request: HttpRequest,
    uscc: str,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
):
    archive = selectors.archive_by_uscc(uscc)
    return _archive_out(selectors.archive_read(request.user, archive), limit, offset)


@router.get("/mine", response=list[ArchiveOut], summary="我的档案")
def my_archives(request: HttpRequest):
    return [
        _archive_out(selectors.archive_read(request.user, a), 50, 0)
        for a in selectors.archives_of_user(request.user)
    ]


@router.post("/enterprises/{uscc}/records", response={201: RecordOut}, summary="部门登记档案记录")
def add_record(request: HttpRequest, uscc: str, payload: RecordIn):
    enterprise = enterprise_by_uscc(uscc)
    department = Department.objects.filter(pk=payload.department_id).first()
    if department is None:
        raise ValidationFailed.on_field("department_id", "exists", _("部门不存在"))
    record = services.archive_record_add(
        actor=request.user,
        archive=services.archive_open(enterprise=enterprise),
        kind=payload.kind,
        department=department,
        event_date=payload.event_date,
        summary=payload.summary,
        payload=payload.payload,
        links=payload.links,
    )
    return Status(201, _record_out(record))


@router.post("/enterprises/{uscc}/documents", response={201: DocumentOut}, summary="上传档案材料")
def add_document(
    request: HttpRequest,
    uscc: str,
    file: File[UploadedFile],
    title: Form[str],
    origin: Form[str] = "applicant_uploaded",
    material_kind: Form[str] = "",
    source_department_id: Form[int | None] = None,
    valid_until: Form[dt.date | None] = None,
):
    enterprise = enterprise_by_uscc(uscc)
    department = None
    if source_department_id is not None:
        department = Department.objects.filter(pk=source_department_id).first()
        if department is None:
            raise ValidationFailed.on_field("source_department_id", "exists", _("部门不存在"))
    item = services.archive_document_add(
        actor=request.user,
        archive=services.archive_open(enterprise=enterprise),
        content=file,
        filename=file.name or "",
        title=title,
        origin=origin,
        material_kind=material_kind,
        source_department=department,
        valid_until=valid_until,
    )
    return Status(201, item)


@router.post("/documents/{int:document_id}/check", response=DocumentOut, summary="窗口核验原件")
def check_document(request: HttpRequest, document_id: int):
    item = ArchiveDocument.objects.select_related("archive").filter(pk=document_id).first()
    if item is None:
        raise NotFound(_("材料不存在"), code="archive_document_not_found")
    return services.archive_document_check(actor=request.user, item=item)


@router.get("/timeliness", response=TimelinessPage, summary="各部门记录及时性")
def timeliness(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
):
    rows = selectors.timeliness_by_department(
        departments=selectors.timeliness_visible_departments(request.user)
    )
    return {
        "count": len(rows),
        "items": [
            {
                "department_id": r.department.pk,
                "department": r.department.name,
                "recorded": r.recorded,
                "late": r.late,
                "missing": r.missing,
                "pending": r.pending,
            }
            for r in rows[offset : offset + limit]
        ],
    }
