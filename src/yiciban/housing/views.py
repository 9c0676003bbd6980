"""Pages of house delivery with title: the project list, one project page whose panels
follow the reader's part (developer, housing bureau, tax bureau, registration office), the
project registration form, and the buyer's mobile-first progress page."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiciban.accounts import selectors as account_selectors
from yiciban.core.errors import DomainError, NotFound

from . import selectors, services


def _error(request: HttpRequest, exc: DomainError) -> None:
    details = "；".join(str(e.message) for e in exc.errors)
    text = str(exc.message)
    messages.error(request, f"{text}（{details}）" if details and details != text else text)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    projects = selectors.projects_visible_to(request.user)
    if not projects.exists() and selectors.units_of_buyer(request.user).exists():
        return redirect("housing:mine")
    can_register = selectors.can_register(request.user)
    return render(
        request, "housing/projects.html", {"projects": projects, "can_register": can_register}
    )


def _parse_unit_lines(text: str) -> list:
    units = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) == 3:
            units.append({"building": parts[0], "room": parts[1], "area_m2": parts[2]})
        elif line.strip():
            units.append(line.strip())  # reported as a bad unit by the service
    return units


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    if not selectors.can_register(request.user):
        raise Http404
    if request.method == "POST":
        try:
            project = services.project_register(
                actor=request.user,
                code=request.POST.get("code", "").strip(),
                name=request.POST.get("name", ""),
                developer_uscc=request.POST.get("developer_uscc", ""),
                region_code=request.POST.get("region_code", ""),
                address=request.POST.get("address", ""),
                construction_permit_no=request.POST.get("construction_permit_no", ""),
                units=_parse_unit_lines(request.POST.get("units", "")),
            )
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("项目已登记"))
            return redirect("housing:project", code=project.code)
    return render(
        request,
        "housing/project_new.html",
        {"form": request.POST, "regions": selectors.registrable_regions(request.user)},
    )


def _project(request: HttpRequest, code: str):
    try:
        return selectors.project_for(request.user, code)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def project_detail(request: HttpRequest, code: str) -> HttpResponse:
    project = _project(request, code)
    view = selectors.project_view(request.user, project)
    if not view["roles"] and not view["developer"]:
        raise Http404
    return render(request, "housing/project.html", view)


ACTIONS = {
    "presale": lambda r, p: services.presale_permit_record(
        actor=r.user, project_id=p.pk, permit_no=r.POST.get("permit_no", "")
    ),
    "contract": lambda r, p: services.unit_contract_file(
        actor=r.user,
        unit_id=_unit_of(p, r.POST.get("unit")),
        buyer_id_number=r.POST.get("buyer_id_number", "").strip().upper(),
        contract_no=r.POST.get("contract_no", ""),
        price_yuan=_int(r.POST.get("price_yuan")),
    ),
    "tax": lambda r, p: services.deed_tax_record(
        actor=r.user,
        unit_id=_unit_of(p, r.POST.get("unit")),
        amount_yuan=_int(r.POST.get("amount_yuan")),
        receipt_no=r.POST.get("receipt_no", ""),
    ),
    "accept": lambda r, p: services.completion_accept_record(
        actor=r.user, project_id=p.pk, accepted_on=_day(r.POST.get("accepted_on"))
    ),
    "request": lambda r, p: services.completion_filing_request(actor=r.user, project_id=p.pk),
    "file": lambda r, p: services.completion_file(actor=r.user, project_id=p.pk),
    "deliver": lambda r, p: services.project_delivery_start(actor=r.user, project_id=p.pk),
    "finding": lambda r, p: services.project_finding_record(
        actor=r.user,
        project_id=p.pk,
        by=r.POST.get("department") or "housing",
        party=r.POST.get("party", ""),
        unit_id=_int(r.POST.get("unit")),
        finding=r.POST.get("finding", ""),
    ),
}

DONE = {
    "presale": _("预售许可已记录"),
    "contract": _("合同已备案"),
    "tax": _("契税缴纳已记录"),
    "accept": _("竣工验收已记录"),
    "request": _("已申请竣工验收备案"),
    "deliver": _("已开始交房即交证：首次登记和全部转移登记在后台办理，进度见本页"),
    "finding": _("已记录提供虚假材料的认定，该主体不再适用绿色通道"),
}


def _unit_of(project, value) -> int:
    unit_id = _int(value)
    if unit_id is None or not project.units.filter(pk=unit_id).exists():
        raise NotFound(_("没有这套房屋"), code="no_unit")
    return unit_id


def _day(value):
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return None


@login_required
@require_POST
def project_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    project = _project(request, code)
    if action not in ACTIONS:
        raise Http404
    try:
        result = ACTIONS[action](request, project)
    except DomainError as exc:
        _error(request, exc)
    else:
        if action == "file":
            if result.ok:
                messages.success(request, _("核验通过，竣工验收备案已完成"))
            else:
                messages.error(
                    request,
                    _("核验未通过，备案已退回开发企业：未备案合同 %(c)s；未缴契税 %(t)s")
                    % {
                        "c": "、".join(result.missing_contract) or _("无"),
                        "t": "、".join(result.missing_tax) or _("无"),
                    },
                )
        else:
            messages.success(request, DONE[action])
    return redirect("housing:project", code=project.code)


@login_required
@require_GET
def my_homes(request: HttpRequest) -> HttpResponse:
    units = [
        {"unit": u, "progress": selectors.buyer_progress(u), "licence": selectors.certificate_of(u)}
        for u in selectors.units_of_buyer(request.user)
    ]
    person = account_selectors.person_for_user(request.user)
    return render(request, "housing/mine.html", {"units": units, "person": person})
