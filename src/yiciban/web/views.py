"""Pages of the faces layer: home, public reference tools, staff workbench, display
preferences. Thin: each parses a form, calls a core/org function and renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiciban.core.calendar import add_working_days
from yiciban.core.errors import ValidationFailed
from yiciban.core.identifiers import check_resident_id, check_uscc, mask_resident_id
from yiciban.org.selectors import role_assignments_for

from . import sections
from .context_processors import LARGE_TYPE_COOKIE, large_type_enabled
from .forms import DeadlineForm, ResidentIdForm, UsccForm

LARGE_TYPE_MAX_AGE = 365 * 24 * 3600  # remembered for a year on this device


@require_GET
def healthz(request):
    """Liveness and database reachability for load balancers and `make run`."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        db_ok = True
    except Exception:  # any driver error means "not healthy", reported, not raised
        db_ok = False
    return JsonResponse(
        {"status": "ok" if db_ok else "degraded", "database": db_ok}, status=200 if db_ok else 503
    )


@require_GET
def home(request):
    shown = sections.visible_sections(request.user)
    return render(request, "web/home.html", {"section_groups": sections.grouped(shown)})


@require_GET
def deadline_tool(request):
    # GET form: a computed deadline is a link a clerk can send to an applicant.
    form = DeadlineForm(request.GET if request.GET else None)
    result = None
    if form.is_bound and form.is_valid():
        start = form.cleaned_data["start"]
        working_days = form.cleaned_data["working_days"]
        try:
            due = add_working_days(start, working_days)
        except ValidationFailed as exc:
            form.add_error(None, exc.message)
        else:
            result = {
                "start": start,
                "working_days": working_days,
                "due": due.due,
                "provisional": due.provisional,
                "calendar_days": (due.due - start).days,
            }
    return render(request, "web/deadline_tool.html", {"form": form, "result": result})


@never_cache
@require_http_methods(["GET", "POST"])
def identifier_tool(request):
    uscc_form = UsccForm(request.GET if "uscc" in request.GET else None)
    uscc_result = None
    if uscc_form.is_bound and uscc_form.is_valid():
        code = uscc_form.cleaned_data["uscc"]
        uscc_result = {"value": code.upper(), "check": check_uscc(code)}

    resident_result = None
    resident_errors = None
    if request.method == "POST":
        submitted = ResidentIdForm(request.POST)
        if submitted.is_valid():
            number = submitted.cleaned_data["resident_id"]
            check = check_resident_id(number)
            reason = check.reason
            if check.rule == "birth_date":
                # The standard reason quotes digits 7–14, exactly what the mask hides.
                reason = _("第7至14位出生日期不是有效日期或不在合理范围内。")
            resident_result = {
                "masked": mask_resident_id(number),
                "valid": check.valid,
                "reason": reason,
            }
        else:
            resident_errors = submitted.errors.get("resident_id")
    # Always an empty form: the number typed must not come back in clear in the page.
    resident_form = ResidentIdForm()

    return render(
        request,
        "web/identifier_tool.html",
        {
            "uscc_form": uscc_form,
            "uscc_result": uscc_result,
            "resident_form": resident_form,
            "resident_result": resident_result,
            "resident_errors": resident_errors,
        },
    )


@login_required
@require_GET
def workbench(request):
    assignments = role_assignments_for(request.user)
    return render(request, "web/workbench.html", {"assignments": assignments})


@require_POST
def large_type(request):
    """Turns the 适老化 display (large type, high contrast) on or off for this browser with
    a cookie, so it works without JavaScript and is remembered on the next visit."""
    choice = request.POST.get("large_type")
    if choice not in ("on", "off"):
        return HttpResponseBadRequest(_("参数 large_type 应为 on 或 off。"))
    response = HttpResponseRedirect(_safe_next(request))
    if choice == "on":
        response.set_cookie(
            LARGE_TYPE_COOKIE,
            "1",
            max_age=LARGE_TYPE_MAX_AGE,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure(),
        )
        if not large_type_enabled(request):
            messages.success(request, _("已开启适老化模式：大字号、高对比度。"))
    else:
        response.delete_cookie(LARGE_TYPE_COOKIE, samesite="Lax")
        if large_type_enabled(request):
            messages.info(request, _("已恢复标准显示。"))
    return response


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("web:home")
