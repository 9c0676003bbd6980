"""Pages: "my archive" for applicants, and the late-records board for staff."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors


@login_required
@require_GET
def my_archive(request: HttpRequest) -> HttpResponse:
    views = [
        selectors.archive_read(request.user, a) for a in selectors.archives_of_user(request.user)
    ]
    return render(request, "archive/mine.html", {"views": views})


@login_required
@require_GET
def late_board(request: HttpRequest) -> HttpResponse:
    rows = selectors.timeliness_by_department(
        departments=selectors.timeliness_visible_departments(request.user)
    )
    return render(request, "archive/late.html", {"rows": rows})
