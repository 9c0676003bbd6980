"""/api/v1/sharing — data sharing between departments (walk-through: docs/sharing.md).

Authentication: the Django session, or `Authorization: Bearer <token>` (staff API tokens;
the assembled API attaches the token check, since tokens belong to a higher layer).
Departments are named by their unified social credit code; subjects by USCC (enterprise)
or resident ID number (person). Every error is RFC 9457 problem details."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.security import django_auth
from pydantic import Field

from . import selectors, services
from .models import Grant, ReadLog, SharedRecord

router = Router(tags=["sharing"], auth=django_auth)


class PageParams(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class CategoryOut(Schema):
    code: str
    name: str
    owner_kind: str
    subject_kind: str
    description: str


class GrantIn(Schema):
    category: str = Field(..., min_length=1, max_length=80)
    grantor_uscc: str = Field(..., min_length=18, max_length=18)
    grantee_uscc: str = Field(..., min_length=18, max_length=18)
    purpose: str = Field(..., min_length=1, max_length=200)
    valid_from: dt.date
    valid_until: dt.date


class RevokeIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


class GrantOut(Schema):
    id: int
    category: str
    grantor: str
    grantee: str
    purpose: str
    valid_from: dt.date
    valid_until: dt.date
    state: str
    revoked_at: dt.datetime | None
    ledger_seq: int


class RecordIn(Schema):
    category: str = Field(..., min_length=1, max_length=80)
    producer_uscc: str = Field(..., min_length=18, max_length=18)
    subject_kind: Literal["enterprise", "person"]
    subject: str = Field(..., min_length=1, max_length=40)
    reference: str = Field(..., min_length=1, max_length=80)
    payload: dict[str, Any]


class RecordOut(Schema):
    id: int
    category: str
    producer: str
    reference: str
    payload: dict[str, Any]
    payload_sha256: str
    published_at: dt.datetime
    ledger_seq: int


class ReadIn(Schema):
    grant_id: int = Field(..., ge=1)
    category: str = Field(..., min_length=1, max_length=80)
    subject_kind: Literal["enterprise", "person"]
    subject: str = Field(..., min_length=1, max_length=40)
    purpose: str = Field("", max_length=200)


class ProofOut(Schema):
    seq: int
    kind: str
    payload_sha256: str
    index: int | None
    integrated: bool
    tree_size: int | None = None
    leaf_hash: str | None = None
    hashes: list[str] | None = None
    checkpoint: str | None = None


class ReadOut(Schema):
    read_id: int
    grant_id: int
    purpose: str
    read_at: dt.datetime
    records: list[RecordOut]
    proof: ProofOut


class ReadLogOut(Schema):
    id: int
    category: str
    department: str
    reader: str
    purpose: str
    subject: str
    records: int
    read_at: dt.datetime
    ledger_seq: int


class ReadLogPage(Schema):
    total: int
    items: list[ReadLogOut]


def _grant_out(grant: Grant) -> dict:

    return {
        "id": grant.pk,
        "category": grant.category.code,
        "grantor": grant.grantor.name,
        "grantee": grant.grantee.name,
        "purpose": grant.purpose,
        "valid_from": grant.valid_from,
        "valid_until": grant.valid_until,
        "state": grant.state_on(timezone.localdate()),
        "revoked_at": grant.revoked_at,
        "ledger_seq": grant.ledger_seq,
    }


def _record_out(record: SharedRecord) -> dict:
    return {
        "id": record.pk,
        "category": record.category.code,
        "producer": record.producer.name,
        "reference": record.reference,
        "payload": record.payload,
        "payload_sha256": record.payload_sha256,
        "published_at": record.published_at,
        "ledger_seq": record.ledger_seq,
    }


def _read_out(read: ReadLog) -> dict:
    return {
        "id": read.pk,
        "category": read.grant.category.code,
        "department": read.department.name,
        "reader": read.reader.display_name or read.reader.get_username(),
        "purpose": read.purpose,
        "subject": read.subject_label,
        "records": len(read.record_ids),
        "read_at": read.read_at,
        "ledger_seq": read.ledger_seq,
    }


@router.get("/categories", response=list[CategoryOut])
def categories(request: HttpRequest):
    return list(selectors.categories())


@router.post("/records", response={201: RecordOut})
def publish(request: HttpRequest, payload: RecordIn):
    record = services.record_publish(
        actor=request.user,
        category_code=payload.category,
        producer=selectors.department_by_uscc(payload.producer_uscc, "producer"),
        subject=services.resolve_subject(payload.subject_kind, payload.subject),
        reference=payload.reference,
        payload=payload.payload,
    )
    return Status(201, _record_out(record))


@router.get("/grants", response=list[GrantOut])
def grants(request: HttpRequest, side: Literal["held", "given"] = "held"):
    """`held`: grants my departments may read under; `given`: grants my departments gave."""
    if side == "given":
        found = selectors.grants_given_by(request.user)
    else:
        found = selectors.grants_held_by(request.user)
    return [_grant_out(g) for g in found]


@router.post("/grants", response={201: GrantOut})
def grant_create(request: HttpRequest, payload: GrantIn):
    grant = services.grant_create(
        actor=request.user,
        category_code=payload.category,
        grantor=selectors.department_by_uscc(payload.grantor_uscc, "grantor"),
        grantee=selectors.department_by_uscc(payload.grantee_uscc, "grantee"),
        purpose=payload.purpose,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
    )
    return Status(201, _grant_out(grant))


@router.post("/grants/{grant_id}/revoke", response=GrantOut)
def grant_revoke(request: HttpRequest, grant_id: int, payload: RevokeIn):
    grant = services.grant_revoke(actor=request.user, grant_id=grant_id, reason=payload.reason)
    return _grant_out(grant)


@router.post("/reads", response={201: ReadOut})
def read(request: HttpRequest, payload: ReadIn):
    """Read a category's records about one subject under a grant. The read is recorded and
    on the ledger; `proof.integrated` is false until the ledger has integrated the entry —
    then GET /reads/{read_id}/proof gives the inclusion proof."""
    result = services.record_read(
        actor=request.user,
        grant_id=payload.grant_id,
        category_code=payload.category,
        subject=services.resolve_subject(payload.subject_kind, payload.subject),
        purpose=payload.purpose,
    )
    return Status(
        201,
        {
            "read_id": result.read.pk,
            "grant_id": result.read.grant_id,
            "purpose": result.read.purpose,
            "read_at": result.read.read_at,
            "records": [_record_out(r) for r in result.records],
            "proof": result.proof,
        },
    )


@router.get("/reads", response=ReadLogPage)
def read_log(request: HttpRequest, page: Query[PageParams]):
    reads = selectors.reads_visible_to(request.user)
    items = reads[page.offset : page.offset + page.limit]
    return {"total": reads.count(), "items": [_read_out(r) for r in items]}


@router.get("/reads/{read_id}/proof", response=ProofOut)
def read_proof(request: HttpRequest, read_id: int):
    read = selectors.read_for(request.user, read_id)
    return selectors.ledger_proof(read.ledger_seq)


@router.get("/mine/reads", response=ReadLogPage)
def reads_about_me(request: HttpRequest, page: Query[PageParams]):
    """谁查看了我的数据: reads of my data, or of my enterprises' data."""
    reads = selectors.reads_about_me(request.user)
    items = reads[page.offset : page.offset + page.limit]
    return {"total": reads.count(), "items": [_read_out(r) for r in items]}
