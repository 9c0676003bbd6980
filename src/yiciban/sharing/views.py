"""Pages: grants admin for category owners, the staff read log, and "who read my data" for
applicants. As thin as the API: parse, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiciban.core.errors import DomainError

from . import selectors, services

PAGE_SIZE = 50


def _show_error(request: HttpRequest, exc: DomainError) -> None:
    details = "；".join(str(e.message) for e in exc.errors) if exc.errors else ""
    messages.error(
        request,
        f"{exc.message}（{details}）" if details and details != str(exc.message) else exc.message,
    )


@login_required
@require_http_methods(["GET", "POST"])
def grants(request: HttpRequest) -> HttpResponse:
    choices = selectors.grant_form_choices(request.user)
    if request.method == "POST":
        grantor = selectors.active_department(request.POST.get("grantor"))
        if grantor is not None and grantor not in choices["administered"]:
            grantor = None
        grantee = selectors.active_department(request.POST.get("grantee"))
        if grantor is None or grantee is None:
            messages.error(request, _("请选择授权部门和被授权部门"))
        else:
            try:
                grant = services.grant_create(
                    actor=request.user,
                    category_code=request.POST.get("category", ""),
                    grantor=grantor,
                    grantee=grantee,
                    purpose=request.POST.get("purpose", ""),
                    valid_from=request.POST.get("valid_from", ""),
                    valid_until=request.POST.get("valid_until", ""),
                )
            except DomainError as exc:
                _show_error(request, exc)
            else:
                messages.success(
                    request,
                    _("已授权%(d)s读取“%(c)s”")
                    % {"d": grant.grantee.name, "c": grant.category.name},
                )
                return redirect("sharing:grants")
    context = {
        **choices,
        "given": selectors.grants_given_by(request.user)[:200],
        "held": selectors.grants_held_by(request.user)[:200],
        "today": timezone.localdate(),
        "form": request.POST if request.method == "POST" else {},
    }
    return render(request, "sharing/grants.html", context)


@login_required
@require_POST
def grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    try:
        grant = services.grant_revoke(
            actor=request.user, grant_id=grant_id, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        _show_error(request, exc)
    else:
        messages.success(request, _("已撤销授权：%(g)s") % {"g": str(grant)})
    return redirect("sharing:grants")


@login_required
@require_GET
def read_log(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.reads_visible_to(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "sharing/reads.html", {"page": page})


@login_required
@require_GET
def my_reads(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.reads_about_me(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "sharing/mine.html", {"page": page})
