"""The content of catalogue rows as plain dicts — the shape of the import/export format —
and back. One place, so that export, import, validation and publication comparisons agree
on what a version contains."""

from __future__ import annotations

from typing import Any

from .models import BundleVersion, DataElement, ItemVersion, MaterialKind, Theme

# Version fields copied 1:1 between the model and the format, in format order.
ITEM_VERSION_FIELDS = (
    "name",
    "short_name",
    "item_type",
    "audience",
    "legal_basis",
    "conditions",
    "legal_limit",
    "legal_limit_unit",
    "promised_limit",
    "promised_limit_unit",
    "fees",
    "channels",
    "levels",
    "visits_required",
    "approval_mode",
    "risk_tier",
    "process_template",
    "output_name",
    "output_licence_type",
    "keywords",
    "form_schema",
)
ITEM_VERSION_DEFAULTS: dict[str, Any] = {
    "short_name": "",
    "audience": "enterprise",
    "legal_basis": "",
    "conditions": [],
    "legal_limit": None,
    "legal_limit_unit": "working",
    "promised_limit": 0,
    "promised_limit_unit": "working",
    "fees": [],
    "channels": ["counter"],
    "levels": ["county"],
    "visits_required": 1,
    "output_name": "",
    "output_licence_type": "",
    "keywords": "",
    "form_schema": {},
}
MATERIAL_DEFAULTS = {"requirement": "required", "deferrable": False, "copies": "", "note": ""}
BUNDLE_VERSION_FIELDS = ("name", "summary", "promised_limit", "questionnaire")
MEMBER_DEFAULTS = {"role": "optional", "rule": None, "reason": "", "depends_on": []}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def theme_content(theme: Theme) -> dict:
    return {
        "code": theme.code,
        "name": theme.name,
        "audience": theme.audience,
        "order": theme.order,
        "description": theme.description,
    }


def element_content(element: DataElement) -> dict:
    return {
        "code": element.code,
        "label": element.label,
        "schema": element.schema,
        "description": element.description,
        "personal": element.personal,
    }


def material_kind_content(kind: MaterialKind) -> dict:
    return {
        "code": kind.code,
        "name": kind.name,
        "source": kind.source,
        "data_category": kind.data_category,
        "formats": list(kind.formats),
        "max_size_mb": kind.max_size_mb,
        "blank_form_url": kind.blank_form_url,
        "sample_url": kind.sample_url,
        "description": kind.description,
    }


def item_version_content(version: ItemVersion) -> dict:
    """Everything a version says, in format order. Uses prefetched materials when there."""
    content: dict[str, Any] = {
        "number": version.number,
        "status": version.status,
        "effective_from": _iso(version.effective_from),
        "effective_until": _iso(version.effective_until),
    }
    for name in ITEM_VERSION_FIELDS:
        content[name] = getattr(version, name)
    content["materials"] = [
        {
            "kind": material.kind.code,
            "requirement": material.requirement,
            "deferrable": material.deferrable,
            "copies": material.copies,
            "note": material.note,
        }
        for material in sorted(version.materials.all(), key=lambda m: (m.order, m.id))
    ]
    return content


def legal_content(content: dict) -> dict:
    """The part of a version that is immutable once published (no lifecycle fields)."""
    return {
        k: v
        for k, v in content.items()
        if k not in ("status", "effective_until", "number", "effective_from")
    }


def bundle_version_content(version: BundleVersion) -> dict:
    content: dict[str, Any] = {
        "number": version.number,
        "status": version.status,
        "effective_from": _iso(version.effective_from),
        "effective_until": _iso(version.effective_until),
    }
    for name in BUNDLE_VERSION_FIELDS:
        content[name] = getattr(version, name)
    content["members"] = [
        {
            "item": member.item.implementation_code,
            "role": member.role,
            "rule": member.rule,
            "reason": member.reason,
            "depends_on": list(member.depends_on),
        }
        for member in sorted(version.members.all(), key=lambda m: (m.order, m.id))
    ]
    return content


def flags(values: list[str]) -> str:
    """ ",online,counter," — lets `channel_flags__contains=",online,"` filter everywhere."""
    return "," + ",".join(values) + "," if values else ""
