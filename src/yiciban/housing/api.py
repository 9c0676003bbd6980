"""/api/v1/housing — house delivery with title (交房即交证). Session or bearer token (staff API
tokens of the case engine, attached in yiciban/api.py). Each party gets only their part, as
on the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.security import django_auth
from pydantic import Field

from yiciban.core.errors import NotFound

from . import selectors, services
from .models import Project

# Bearer tokens (the case engine's) are attached by the assembled API when it mounts this.
router = Router(tags=["housing"], auth=django_auth)


class UnitIn(Schema):
    building: str = Field(..., min_length=1, max_length=20)
    room: str = Field(..., min_length=1, max_length=20)
    area_m2: str = Field(..., min_length=1, max_length=12)


class ProjectIn(Schema):
    code: str = Field(..., min_length=3, max_length=40)
    name: str = Field(..., min_length=1, max_length=100)
    developer_uscc: str = Field(..., min_length=18, max_length=18)
    region_code: str = Field(..., min_length=6, max_length=12)
    address: str = Field(..., min_length=1, max_length=200)
    construction_permit_no: str = Field(..., min_length=1, max_length=50)
    units: list[UnitIn] = Field(..., min_length=1, max_length=services.MAX_UNITS)


class PermitIn(Schema):
    permit_no: str = Field(..., min_length=1, max_length=50)


class AcceptIn(Schema):
    accepted_on: dt.date


class ContractIn(Schema):
    buyer_id_number: str = Field(..., min_length=18, max_length=18)
    contract_no: str = Field(..., min_length=1, max_length=50)
    price_yuan: int = Field(..., gt=0)


class TaxIn(Schema):
    amount_yuan: int = Field(..., gt=0)
    receipt_no: str = Field(..., min_length=1, max_length=50)


class FindingIn(Schema):
    department: str = Field("housing", pattern="^(housing|registry)$")
    party: str = Field(..., pattern="^(developer|buyer)$")
    unit_id: int | None = None
    finding: str = Field(..., min_length=1, max_length=300)


class UnitOut(Schema):
    id: int
    label: str
    area_m2: str
    sold: bool
    buyer: str = ""
    contract_no: str = ""
    certificate_number: str = ""


class DeliveryOut(Schema):
    """交房即交证 in the background: registrations done of total; `running` while the worker
    is on it; `stalled` when it made no progress for 10 minutes (its worker was stopped);
    `error` why it stopped. Start it again to go on after a stop or a stall."""

    started_at: dt.datetime | None
    running: bool
    stalled: bool
    done: int
    total: int
    error: str


class ProjectOut(Schema):
    code: str
    name: str
    developer: str
    stage: str
    stage_label: str
    counts: dict[str, int]
    filing_check: dict[str, Any]
    first_registration_certificate: str
    delivery: DeliveryOut
    units: list[UnitOut] = []


class CheckOut(Schema):
    ok: bool
    sold: int
    missing_contract: list[str]
    missing_tax: list[str]
    reads: int


class HomeOut(Schema):
    project: str
    unit: str
    progress: list[dict[str, Any]]
    certificate_number: str


def _project(request, code: str) -> Project:
    return selectors.project_for(request.user, code)


def _out(request, project: Project) -> dict:
    view = selectors.project_view(request.user, project)
    if not view["roles"] and not view["developer"]:
        raise NotFound(_("没有这个项目"), code="no_project")
    staff = bool(view["roles"])
    return {
        "code": project.code,
        "name": project.name,
        "developer": project.developer.name,
        "stage": project.stage,
        "stage_label": project.get_stage_display(),
        "counts": view["counts"],
        "filing_check": view["check"],
        "first_registration_certificate": project.first_registration_certificate,
        "delivery": view["delivery"],
        "units": [
            {
                "id": row["unit"].pk,
                "label": row["unit"].label,
                "area_m2": str(row["unit"].area_m2),
                "sold": bool(row["unit"].buyer_id),
                "buyer": f"{row['buyer']} {row['buyer_id']}".strip() if staff else "",
                "contract_no": row["unit"].contract_no if staff else "",
                "certificate_number": row["unit"].certificate_number if staff else "",
            }
            for row in view.get("units", [])
        ],
    }


def _unit(project: Project, unit_id: int) -> int:
    if not project.units.filter(pk=unit_id).exists():
        raise NotFound(_("没有这套房屋"), code="no_unit")
    return unit_id


@router.get("/projects", response=list[ProjectOut])
def projects(request: HttpRequest):
    return [_out(request, p) for p in selectors.projects_visible_to(request.user)[:200]]


@router.post("/projects", response={201: ProjectOut})
def project_register(request: HttpRequest, payload: ProjectIn):
    project = services.project_register(
        actor=request.user,
        code=payload.code,
        name=payload.name,
        developer_uscc=payload.developer_uscc,
        region_code=payload.region_code,
        address=payload.address,
        construction_permit_no=payload.construction_permit_no,
        units=[u.dict() for u in payload.units],
    )
    return Status(201, _out(request, selectors.project_for(request.user, project.code)))


@router.get("/projects/{code}", response=ProjectOut)
def project(request: HttpRequest, code: str):
    return _out(request, _project(request, code))


@router.post("/projects/{code}/presale-permit", response=ProjectOut)
def presale(request: HttpRequest, code: str, payload: PermitIn):
    project = _project(request, code)
    services.presale_permit_record(
        actor=request.user, project_id=project.pk, permit_no=payload.permit_no
    )
    return _out(request, _project(request, code))


@router.post("/projects/{code}/units/{unit_id}/contract", response=UnitOut)
def contract(request: HttpRequest, code: str, unit_id: int, payload: ContractIn):
    project = _project(request, code)
    unit = services.unit_contract_file(
        actor=request.user,
        unit_id=_unit(project, unit_id),
        buyer_id_number=payload.buyer_id_number,
        contract_no=payload.contract_no,
        price_yuan=payload.price_yuan,
    )
    return {
        "id": unit.pk,
        "label": unit.label,
        "area_m2": str(unit.area_m2),
        "sold": True,
        "contract_no": unit.contract_no,
    }


@router.post("/projects/{code}/units/{unit_id}/deed-tax", response={201: dict[str, Any]})
def deed_tax(request: HttpRequest, code: str, unit_id: int, payload: TaxIn):
    project = _project(request, code)
    record = services.deed_tax_record(
        actor=request.user,
        unit_id=_unit(project, unit_id),
        amount_yuan=payload.amount_yuan,
        receipt_no=payload.receipt_no,
    )
    return Status(201, {"record_id": record.pk, "ledger_seq": record.ledger_seq})


@router.post("/projects/{code}/completion-acceptance", response=ProjectOut)
def completion_accept(request: HttpRequest, code: str, payload: AcceptIn):
    project = _project(request, code)
    services.completion_accept_record(
        actor=request.user, project_id=project.pk, accepted_on=payload.accepted_on
    )
    return _out(request, _project(request, code))


@router.post("/projects/{code}/completion-filing-request", response=ProjectOut)
def filing_request(request: HttpRequest, code: str):
    project = _project(request, code)
    services.completion_filing_request(actor=request.user, project_id=project.pk)
    return _out(request, _project(request, code))


@router.post("/projects/{code}/completion-filing", response=CheckOut)
def completion_file(request: HttpRequest, code: str):
    """Checks contracts and deed tax of every sold unit before filing; `ok` false lists
    the units that block it (the project stays where it was)."""
    project = _project(request, code)
    check = services.completion_file(actor=request.user, project_id=project.pk)
    return check.as_dict()


@router.post("/projects/{code}/delivery", response={202: ProjectOut})
def deliver(request: HttpRequest, code: str):
    """Starts 交房即交证: 202, the registrations run in the background; follow `delivery`
    on `GET /projects/{code}` until the stage is `delivered` (or `delivery.error` says why
    it stopped — post again to go on)."""
    project = _project(request, code)
    services.project_delivery_start(actor=request.user, project_id=project.pk)
    return Status(202, _out(request, _project(request, code)))


@router.post("/projects/{code}/findings", response={201: dict[str, Any]})
def finding(request: HttpRequest, code: str, payload: FindingIn):
    project = _project(request, code)
    row = services.project_finding_record(
        actor=request.user,
        project_id=project.pk,
        by=payload.department,
        party=payload.party,
        unit_id=payload.unit_id,
        finding=payload.finding,
    )
    return Status(201, {"id": row.pk, "archive_record_id": row.archive_record_id})


@router.get("/mine", response=list[HomeOut])
def my_homes(request: HttpRequest):
    """The buyer's units with their progress (mobile page: /housing/mine/)."""
    return [
        {
            "project": u.project.name,
            "unit": u.label,
            "progress": selectors.buyer_progress(u),
            "certificate_number": u.certificate_number,
        }
        for u in selectors.units_of_buyer(request.user)
    ]
