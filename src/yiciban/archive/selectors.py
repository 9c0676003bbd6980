"""Reads of archives, already filtered by who may see what."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.accounts.models import Enterprise, Person
from yiciban.accounts.selectors import (
    id_number_index,
    in_force_on,
    person_can_act_for,
    person_for_user,
)
from yiciban.core.errors import NotFound
from yiciban.licences import selectors as licence_selectors
from yiciban.org.models import Department, Role
from yiciban.org.selectors import departments_covered, has_role, is_platform_admin

from .models import Archive, ArchiveDocument, ArchiveRecord, ExpectedRecord, SharingRule

STAFF_ROLES = (Role.REVIEWER, Role.APPROVER, Role.INSPECTOR, Role.DEPARTMENT_ADMIN)


def subject_key_for(*, enterprise: Enterprise | None = None, person: Person | None = None) -> str:
    if enterprise is not None:
        return f"enterprise:{enterprise.uscc}"
    return f"person:{person.id_number_index}"


def subject_key_for_identifier(kind: str, identifier: str) -> str:
    """From a USCC or a clear resident ID (as the catalogue's reuse hook passes them)."""
    if kind == "enterprise":
        return f"enterprise:{identifier.strip().upper()}"
    return f"person:{id_number_index(identifier)}"


def _is_subject(user, archive: Archive) -> bool:
    person = person_for_user(user)
    if person is None:
        return False
    if archive.person_id is not None:
        return archive.person_id == person.pk
    return person_can_act_for(person, archive.enterprise)


def _is_supervisor_for(user, archive: Archive) -> bool:
    subject = archive.enterprise or archive.person
    region = getattr(subject, "region", None)
    return region is not None and has_role(user, Role.SUPERVISOR, region=region)


def can_read_all(user, archive: Archive) -> bool:
    """The subject (and those acting for it), platform admins and the supervisors of the
    subject's region read the whole archive."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        is_platform_admin(user) or _is_subject(user, archive) or _is_supervisor_for(user, archive)
    )


def staff_departments(user) -> list[Department]:
    found: dict[int, Department] = {}
    for role in STAFF_ROLES:
        for department in departments_covered(user, role):
            found[department.pk] = department
    return list(found.values())


def _rules_for(departments: list[Department]) -> QuerySet[SharingRule]:
    return SharingRule.objects.filter(
        Q(viewer_department__in=departments)
        | Q(viewer_department_kind__in={d.kind for d in departments})
    )


@dataclass
class ArchiveView:
    archive: Archive
    full: bool  # the reader sees everything
    records: QuerySet[ArchiveRecord]
    documents: QuerySet[ArchiveDocument]
    licences: list


def archive_read(user, archive: Archive) -> ArchiveView:
    """What `user` may see of `archive`: everything for the subject, admins and
    supervisors; for department staff their own department's records plus the kinds the
    sharing rules open to their department. Nobody else sees anything (403 is not used:
    the archive's existence is not revealed, 404)."""
    records = archive.records.select_related("department").order_by("-event_date", "-id")
    docs = archive.documents.select_related("source_department")
    subject_licences = (
        licence_selectors.licences_of_enterprise(archive.enterprise)
        if archive.enterprise_id
        else licence_selectors.licences_of_person(archive.person)
    )
    if can_read_all(user, archive):
        return ArchiveView(archive, True, records, docs, list(subject_licences))
    departments = staff_departments(user) if getattr(user, "is_authenticated", False) else []
    if not departments:
        raise NotFound(_("档案不存在或无权查看"), code="archive_not_found")
    rules = list(_rules_for(departments))
    own_ids = {d.pk for d in departments}
    involved = (
        records.filter(department__in=departments).exists()
        or docs.filter(source_department__in=departments).exists()
        or any(lic.issuing_department_id in own_ids for lic in subject_licences)
    )
    if not rules and not involved:
        # a department with no part in this subject and no sharing rule learns nothing
        raise NotFound(_("档案不存在或无权查看"), code="archive_not_found")
    condition = Q(department__in=departments)
    for rule in rules:
        condition |= Q(kind=rule.record_kind) if rule.record_kind else Q(pk__isnull=False)
    shared_records = records.filter(condition)
    # documents: those attached to records they may read, when a rule opens documents; and
    # those their own department issued
    doc_condition = Q(source_department__in=departments)
    with_docs = [r for r in rules if r.include_documents]
    if with_docs:
        doc_condition |= Q(
            records__in=shared_records.filter(
                Q(kind__in=[r.record_kind for r in with_docs if r.record_kind])
                | (
                    Q(pk__isnull=False)
                    if any(not r.record_kind for r in with_docs)
                    else Q(pk__in=[])
                )
            )
        )
    licences = [lic for lic in subject_licences if lic.issuing_department_id in own_ids]
    if any(not r.record_kind or r.record_kind == "licence" for r in rules):
        licences = list(subject_licences)
    return ArchiveView(
        archive, False, shared_records, docs.filter(doc_condition).distinct(), licences
    )


def archive_by_uscc(uscc: str) -> Archive:
    archive = (
        Archive.objects.select_related("enterprise__region")
        .filter(subject_key=f"enterprise:{uscc.strip().upper()}")
        .first()
    )
    if archive is None:
        raise NotFound(_("档案不存在或无权查看"), code="archive_not_found")
    return archive


def held_sha256(archive: Archive, digests: list[str]) -> set[str]:
    """Which of `digests` the archive already keeps (for filing without duplicates)."""
    return set(
        ArchiveDocument.objects.filter(archive=archive, sha256__in=digests).values_list(
            "sha256", flat=True
        )
    )


def archives_of_user(user) -> QuerySet[Archive]:
    """The archives of the applicant behind `user`: their own and those of the enterprises
    they act for."""
    person = person_for_user(user)
    if person is None:
        return Archive.objects.none()
    enterprises = Enterprise.objects.filter(
        authorisations__in=person.authorisations.filter(in_force_on())
    )
    return (
        Archive.objects.select_related("enterprise", "person")
        .filter(Q(person=person) | Q(enterprise__in=enterprises))
        .distinct()
    )


@dataclass
class DepartmentTimeliness:
    department: Department
    recorded: int
    late: int
    missing: int  # expected, not recorded, and past due
    pending: int  # expected, not recorded, not yet due


def timeliness_by_department(
    *, departments: QuerySet[Department] | None = None, today: dt.date | None = None
) -> list[DepartmentTimeliness]:
    """Per department: records filed, filed late (after the 5th working day), and expected
    records still missing — the bulletin's timeliness rule."""
    today = today or timezone.localdate()
    departments = departments if departments is not None else Department.objects.all()
    recorded = dict(
        ArchiveRecord.objects.filter(department__in=departments)
        .values("department")
        .annotate(n=Count("id"), late_n=Count("id", filter=Q(late=True)))
        .values_list("department", "n")
    )
    late = dict(
        ArchiveRecord.objects.filter(department__in=departments, late=True)
        .values("department")
        .annotate(n=Count("id"))
        .values_list("department", "n")
    )
    open_expectations = ExpectedRecord.objects.filter(
        department__in=departments, fulfilled_by__isnull=True
    )
    missing = dict(
        open_expectations.filter(due_on__lt=today)
        .values("department")
        .annotate(n=Count("id"))
        .values_list("department", "n")
    )
    pending = dict(
        open_expectations.filter(due_on__gte=today)
        .values("department")
        .annotate(n=Count("id"))
        .values_list("department", "n")
    )
    ids = set(recorded) | set(missing) | set(pending)
    rows = [
        DepartmentTimeliness(
            department=department,
            recorded=recorded.get(department.pk, 0),
            late=late.get(department.pk, 0),
            missing=missing.get(department.pk, 0),
            pending=pending.get(department.pk, 0),
        )
        for department in Department.objects.filter(pk__in=ids).select_related("region")
    ]
    rows.sort(key=lambda r: (-r.missing, -r.late, r.department.name))
    return rows


def late_and_missing(
    *, department: Department, today: dt.date | None = None
) -> tuple[QuerySet[ArchiveRecord], QuerySet[ExpectedRecord]]:
    """The department's late records and its missing ones (expected, past due, unfiled)."""
    today = today or timezone.localdate()
    late = ArchiveRecord.objects.filter(department=department, late=True).select_related("archive")
    missing = ExpectedRecord.objects.filter(
        department=department, fulfilled_by__isnull=True, due_on__lt=today
    ).select_related("archive")
    return late, missing


def timeliness_visible_departments(user) -> QuerySet[Department]:
    """Platform admins and supervisors see every department of their scope; department
    staff see their own."""
    if is_platform_admin(user):
        return Department.objects.all()
    supervised = departments_covered(user, Role.SUPERVISOR)
    own = [d.pk for d in staff_departments(user)]
    return Department.objects.filter(Q(pk__in=supervised.values("pk")) | Q(pk__in=own))
