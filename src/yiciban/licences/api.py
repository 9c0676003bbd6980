"""Licences API (mounted at /api/v1/licences): public verification and permit list, and the
issuing department's writes."""

from __future__ import annotations

import datetime as dt
import json

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.security import django_auth

from yiciban.accounts.models import Enterprise, Person
from yiciban.core.errors import ValidationFailed
from yiciban.core.responses import api_json
from yiciban.org.models import Department

from . import selectors, services, signing
from .models import LicenceType

router = Router(tags=["licences"])


class VerificationOut(Schema):
    number: str
    type: str
    type_name: str
    holder_kind: str
    holder_name: str
    holder_identifier: str
    issuing_department: str
    issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date | None
    version: int
    status: str
    status_label: str
    status_changed_at: dt.datetime | None
    status_reason: str
    signature_valid: bool
    signature_algorithm: str
    token_given: bool
    token_ok: bool
    token_reason: str
    superseded: bool


class PermitOut(Schema):
    number: str
    type: str
    type_name: str
    issuing_department: str
    valid_from: dt.date
    valid_until: dt.date | None
    status: str
    status_label: str
    status_changed_at: dt.datetime | None
    version: int


class PermitListOut(Schema):
    uscc: str
    holder_name: str
    business_licence: str | None
    business_licence_status: str | None
    valid_count: int
    permits: list[PermitOut]


class LicenceOut(Schema):
    number: str
    type: str
    holder_kind: str
    holder_name: str
    holder_identifier: str
    issuing_department_id: int
    issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date | None
    fields: dict[str, str]
    version: int
    status: str
    status_reason: str
    key_id: str
    signature: str


class LicencePage(Schema):
    count: int
    items: list[LicenceOut]


class IssueIn(Schema):
    type: str = Field(..., max_length=60)
    issuing_department_id: int
    enterprise_uscc: str | None = Field(None, max_length=18)
    person_id: int | None = None
    fields: dict[str, str] = {}
    issued_on: dt.date | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


class ChangeIn(Schema):
    fields: dict[str, str] | None = None
    valid_until: dt.date | None = None
    reason: str = Field(..., max_length=300)
    expected_version: int | None = None


class ReasonIn(Schema):
    reason: str = Field(..., max_length=300)


def _licence_out(licence) -> dict:
    return {
        "number": licence.number,
        "type": licence.licence_type.code,
        "holder_kind": licence.holder_kind,
        "holder_name": licence.holder_name,
        "holder_identifier": licence.holder_identifier,
        "issuing_department_id": licence.issuing_department_id,
        "issued_on": licence.issued_on,
        "valid_from": licence.valid_from,
        "valid_until": licence.valid_until,
        "fields": licence.fields,
        "version": licence.version,
        "status": licence.status,
        "status_reason": licence.status_reason,
        "key_id": licence.key_id,
        "signature": licence.signature,
    }


def _number_in_token(token: str) -> str:
    """The licence number a token names (read before verification only to find the licence;
    the verification itself then checks the signature)."""
    try:
        claims = json.loads(signing.b64url_decode(token.split(".")[1]))
        number = claims["no"]
        if not isinstance(number, str) or not number:
            raise ValueError("no")
    except (IndexError, KeyError, TypeError, ValueError):
        raise ValidationFailed.on_field("token", "malformed", _("二维码令牌无法识别")) from None
    return number


def _verification_response(request, verification: selectors.Verification) -> HttpResponse:
    """The answer rendered by the API's own renderer, without ninja validating a dict we
    built to VerificationOut ourselves (the busiest public read; tests check the body
    against the schema)."""
    return api_json(request, verification.as_dict())


@router.get("/verify", response=VerificationOut, summary="核验证照（凭二维码令牌，公开）")
def verify_by_token(request: HttpRequest, token: str = Query(..., max_length=1000)):
    return _verification_response(request, selectors.licence_verify(_number_in_token(token), token))


@router.get("/verify/{number}", response=VerificationOut, summary="核验证照（公开）")
def verify(request: HttpRequest, number: str, t: str = Query("", max_length=1000)):
    return _verification_response(request, selectors.licence_verify(number, t))


@router.get(
    "/enterprises/{uscc}/permits", response=PermitListOut, summary="企业全部许可证（一码涵盖）"
)
def permits(request: HttpRequest, uscc: str):
    return selectors.permit_list(uscc)


@router.get("", response=LicencePage, auth=django_auth, summary="我可查看的证照")
def licence_list(
    request: HttpRequest,
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0),
):
    rows = selectors.licences_visible_to(request.user).order_by("-issued_on", "-id")
    return {
        "count": rows.count(),
        "items": [_licence_out(x) for x in rows[offset : offset + limit]],
    }


@router.post("", response={201: LicenceOut}, auth=django_auth, summary="签发证照")
def issue(request: HttpRequest, payload: IssueIn):
    licence_type = LicenceType.objects.filter(code=payload.type).first()
    if licence_type is None:
        raise ValidationFailed.on_field("type", "exists", _("证照类型不存在"))
    department = (
        Department.objects.select_related("region").filter(pk=payload.issuing_department_id).first()
    )
    if department is None:
        raise ValidationFailed.on_field("issuing_department_id", "exists", _("部门不存在"))
    enterprise = person = None
    if payload.enterprise_uscc:
        enterprise = Enterprise.objects.filter(uscc=payload.enterprise_uscc.upper()).first()
        if enterprise is None:
            raise ValidationFailed.on_field("enterprise_uscc", "exists", _("企业不存在"))
    if payload.person_id is not None:
        person = Person.objects.filter(pk=payload.person_id).first()
        if person is None:
            raise ValidationFailed.on_field("person_id", "exists", _("自然人不存在"))
    licence = services.licence_issue(
        actor=request.user,
        licence_type=licence_type,
        issuing_department=department,
        enterprise=enterprise,
        person=person,
        fields=payload.fields,
        issued_on=payload.issued_on,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
    )
    return Status(201, _licence_out(licence))


@router.post("/{number}/change", response=LicenceOut, auth=django_auth, summary="变更证照")
def change(request: HttpRequest, number: str, payload: ChangeIn):
    licence = selectors.licence_for_user(request.user, number)
    return _licence_out(
        services.licence_change(
            actor=request.user,
            licence=licence,
            fields=payload.fields,
            valid_until=payload.valid_until,
            reason=payload.reason,
            expected_version=payload.expected_version,
        )
    )


@router.post("/{number}/suspend", response=LicenceOut, auth=django_auth, summary="暂停证照")
def suspend(request: HttpRequest, number: str, payload: ReasonIn):
    licence = selectors.licence_for_user(request.user, number)
    return _licence_out(
        services.licence_suspend(actor=request.user, licence=licence, reason=payload.reason)
    )


@router.post("/{number}/reinstate", response=LicenceOut, auth=django_auth, summary="恢复证照")
def reinstate(request: HttpRequest, number: str, payload: ReasonIn):
    licence = selectors.licence_for_user(request.user, number)
    return _licence_out(
        services.licence_reinstate(actor=request.user, licence=licence, reason=payload.reason)
    )


@router.post("/{number}/revoke", response=LicenceOut, auth=django_auth, summary="撤销证照")
def revoke(request: HttpRequest, number: str, payload: ReasonIn):
    licence = selectors.licence_for_user(request.user, number)
    return _licence_out(
        services.licence_revoke(actor=request.user, licence=licence, reason=payload.reason)
    )
