"""The archive's answer to the catalogue's reuse hook (catalog.reuse): which of the asked
materials and fields the subject's archive already holds, still valid today.

Materials match by catalogue material kind, or by shared data category (a kind's category
is looked up in the catalogue); only documents issued by an authority or checked at a
counter count — an applicant's own upload waits for its original to be checked. Valid
licences of the subject match by their type's data category, and their fields prefill the
data elements their type maps them to (`{"code": …, "element": "enterprise.business_scope"}`).
"""

from __future__ import annotations

from django.utils import timezone

from yiciban.accounts.models import Enterprise
from yiciban.catalog.models import MaterialKind
from yiciban.catalog.reuse import ArchiveHits, ArchiveSubject
from yiciban.licences import selectors as licence_selectors

from .models import REUSABLE_ORIGINS, Archive
from .selectors import subject_key_for_identifier

# Data elements an enterprise's own registration answers.
ENTERPRISE_ELEMENTS = {
    "enterprise.name": lambda e: e.name,
    "enterprise.uscc": lambda e: e.uscc,
    "enterprise.address": lambda e: e.registered_address,
}


def archive_lookup(
    subject: ArchiveSubject, material_kinds: frozenset[str], elements: frozenset[str]
) -> ArchiveHits:
    hits = ArchiveHits()
    today = timezone.localdate()
    archive = (
        Archive.objects.select_related("enterprise", "person")
        .filter(subject_key=subject_key_for_identifier(subject.kind, subject.identifier))
        .first()
    )
    enterprise = archive.enterprise if archive else None
    person = archive.person if archive else None
    if archive is None and subject.kind == "enterprise":
        # licences may exist before anything was filed in the archive
        enterprise = Enterprise.objects.filter(uscc=subject.identifier.strip().upper()).first()
    if enterprise is None and person is None:
        return hits
    categories = dict(
        MaterialKind.objects.filter(code__in=material_kinds)
        .exclude(data_category="")
        .values_list("code", "data_category")
    )
    if archive is not None:
        documents = [
            d
            for d in archive.documents.filter(origin__in=REUSABLE_ORIGINS).order_by("-added_at")
            if d.valid_on(today)
        ]
        for kind in material_kinds:
            for document in documents:
                if document.material_kind == kind or (
                    kind in categories and document.data_category == categories[kind]
                ):
                    hits.materials[kind] = f"document:{document.document_id}"
                    break
    by_category = licence_selectors.valid_licences_by_category(
        enterprise=enterprise, person=person, today=today
    )
    for kind in material_kinds:
        licence = by_category.get(categories.get(kind, ""))
        if kind not in hits.materials and licence is not None:
            hits.materials[kind] = f"licence:{licence.number}"
    for licence in by_category.values():
        for spec in licence.licence_type.fields:
            element = spec.get("element")
            if element in elements and spec["code"] in licence.fields:
                hits.fields.setdefault(element, licence.fields[spec["code"]])
    if enterprise is not None:
        for element, read in ENTERPRISE_ELEMENTS.items():
            if element in elements:
                hits.fields.setdefault(element, read(enterprise))
    return hits
