"""The hook through which the archive (一企一档, a higher layer) tells guidance what an
applicant has already given. The catalogue cannot import the archive, so the archive
registers a lookup here when it starts; with nothing registered nothing is reusable.

    from yiciban.catalog.reuse import register_archive_lookup
    register_archive_lookup(my_lookup)   # in the archive app's AppConfig.ready()

A lookup is called with the subject and the material kinds and data elements the bundle
needs, and answers with what it holds: `ArchiveHits(materials={kind: reference},
fields={element: value})`. It must answer only for that subject."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ArchiveSubject:
    kind: Literal["enterprise", "person"]
    # Unified social credit code of an enterprise, or a person's resident ID number.
    identifier: str

    def __repr__(self) -> str:  # never print a resident ID in clear
        return f"ArchiveSubject(kind={self.kind!r}, identifier=…{self.identifier[-4:]})"


@dataclass
class ArchiveHits:
    # material kind code -> a reference the case can attach (document id, licence number …)
    materials: dict[str, str] = field(default_factory=dict)
    # data element code -> value to prefill
    fields: dict[str, Any] = field(default_factory=dict)


ArchiveLookup = Callable[[ArchiveSubject, frozenset[str], frozenset[str]], ArchiveHits]

_lookups: list[ArchiveLookup] = []


def register_archive_lookup(lookup: ArchiveLookup) -> None:
    if lookup not in _lookups:
        _lookups.append(lookup)


def unregister_archive_lookup(lookup: ArchiveLookup) -> None:
    if lookup in _lookups:
        _lookups.remove(lookup)


def has_archive_lookup() -> bool:
    return bool(_lookups)


def lookup_archive(
    subject: ArchiveSubject, material_kinds: Iterable[str], elements: Iterable[str]
) -> ArchiveHits:
    """What every registered lookup holds for `subject`, restricted to what was asked."""
    wanted_materials = frozenset(material_kinds)
    wanted_fields = frozenset(elements)
    hits = ArchiveHits()
    for lookup in _lookups:
        found = lookup(subject, wanted_materials, wanted_fields)
        for kind, reference in found.materials.items():
            if kind in wanted_materials:
                hits.materials.setdefault(kind, reference)
        for element, value in found.fields.items():
            if element in wanted_fields:
                hits.fields.setdefault(element, value)
    return hits
