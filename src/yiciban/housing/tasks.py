"""Background work of house delivery (Django Tasks, database queue; `yiciban worker`)."""

from __future__ import annotations

import uuid

from django_tasks import task

from yiciban.core.context import RequestContext, bound


@task()
def deliver_project(*, project_id: int) -> dict:
    """交房即交证 of a project, as the staff member who started it
    (`services.project_delivery_start`); progress and failures are kept on the project."""
    from . import services
    from .models import Project

    project = Project.objects.select_related("delivery_started_by").get(pk=project_id)
    with bound(RequestContext(request_id=uuid.uuid4().hex, channel="task")):
        project = services.project_deliver(actor=project.delivery_started_by, project_id=project_id)
    return {"project": project.code, "stage": project.stage}
