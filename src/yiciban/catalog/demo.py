"""The demo catalogue: demo/catalog/*.yaml turned into one catalogue document and imported
through the ordinary import service, so the demo obeys every rule a province's file does.

The demo files are written for people: an item names its department by kind within the
file's place (the implementation code is computed from that department's unified social
credit code), materials are codes with a suffix (`?` optional, `~` deferrable), a form is a
list of data elements (`!` required), and bundles name items as "place/key". Importing twice
changes nothing: published versions are compared, not rewritten."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from yiciban.org.models import Department
from yiciban.org.selectors import department_by_kind

from .importexport import FORMAT_NAME, FORMAT_VERSION
from .services import catalog_import
from .validation import implementation_code_for

ITEM_FIELDS = (
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
)
# keys a file's `defaults` may give to every item
ITEM_DEFAULT_KEYS = (*ITEM_FIELDS, "effective_from", "service_points", "cross_province_partners")


def _material(spec: str | dict) -> dict:
    if isinstance(spec, dict):
        return spec
    requirement, deferrable = "required", False
    while spec[-1] in "?~":
        if spec[-1] == "?":
            requirement = "optional"
        else:
            deferrable = True
        spec = spec[:-1]
    return {
        "kind": spec,
        "requirement": requirement,
        "deferrable": deferrable,
        "copies": "",
        "note": "",
    }


def _form(fields: list[str], labels: dict[str, str]) -> dict:
    properties: dict[str, dict] = {}
    required: list[str] = []
    for spec in fields:
        element = spec.rstrip("!")
        name = element.replace(".", "_")
        properties[name] = {"title": labels.get(element, element), "x-element": element}
        if spec.endswith("!"):
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def _department(place: str, kind: str, cache: dict) -> Department:
    if (place, kind) not in cache:
        cache[place, kind] = department_by_kind(place, kind)
    return cache[place, kind]


def build_document(directory: Path) -> dict:
    """The demo catalogue in `directory` as an import document (the org demo's departments
    must exist)."""
    registry = yaml.safe_load((directory / "registry.yaml").read_text("utf-8"))
    labels = {e["code"]: e["label"] for e in registry["data_elements"]}
    departments: dict = {}
    codes: dict[str, str] = {}  # "place/key" -> implementation code
    items: list[dict] = []
    for path in sorted(directory.glob("items-*.yaml")):
        spec = yaml.safe_load(path.read_text("utf-8"))
        place, defaults = spec["place"], spec.get("defaults", {})
        for entry in spec["items"]:
            entry = {**{k: v for k, v in defaults.items() if k in ITEM_DEFAULT_KEYS}, **entry}
            department = _department(place, entry["department"], departments)
            business = entry.get("business_item_code", "000")
            code = implementation_code_for(department.uscc, entry["basic_code"], business)
            codes[f"{place}/{entry['key']}"] = code
            version: dict[str, Any] = {
                "number": 1,
                "status": "published",
                "effective_from": str(entry["effective_from"]),
                "effective_until": None,
            }
            version.update({k: entry[k] for k in ITEM_FIELDS if k in entry})
            version["materials"] = [_material(m) for m in entry.get("materials", [])]
            version["form_schema"] = _form(entry.get("form", []), labels)
            items.append(
                {
                    "implementation_code": code,
                    "basic_code": entry["basic_code"],
                    "business_item_code": business,
                    "department": f"{place}:{entry['department']}",
                    "themes": entry.get("themes", []),
                    "service_points": entry.get("service_points", []),
                    "cross_province_partners": entry.get("cross_province_partners", []),
                    "versions": [version],
                }
            )
    spec = yaml.safe_load((directory / "bundles.yaml").read_text("utf-8"))
    bundles = []
    for entry in spec["bundles"]:
        members = [
            {
                **member,
                "item": codes.get(member["item"], member["item"]),
                "depends_on": [codes.get(d, d) for d in member.get("depends_on", [])],
            }
            for member in entry["members"]
        ]
        bundles.append(
            {
                "code": entry["code"],
                "region": entry["region"],
                "audience": entry["audience"],
                "themes": entry.get("themes", []),
                "versions": [
                    {
                        "number": 1,
                        "status": "published",
                        "effective_from": str(entry.get("effective_from", spec["effective_from"])),
                        "effective_until": None,
                        "name": entry["name"],
                        "summary": entry.get("summary", ""),
                        "promised_limit": entry.get("promised_limit"),
                        "questionnaire": entry.get("questionnaire", []),
                        "members": members,
                    }
                ],
            }
        )
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "themes": registry["themes"],
        "data_elements": registry["data_elements"],
        "material_kinds": registry["material_kinds"],
        "items": items,
        "bundles": bundles,
    }


def load(report) -> None:
    document = build_document(Path(report.directory) / "catalog")
    counts = catalog_import(
        actor=None, data=json.dumps(document, ensure_ascii=False).encode(), fmt="json"
    )
    for name, key in (
        ("catalog themes", "themes_created"),
        ("catalog data elements", "data_elements_created"),
        ("catalog material kinds", "material_kinds_created"),
        ("catalog items", "items_created"),
        ("catalog item versions", "item_versions_created"),
        ("catalog bundles", "bundles_created"),
    ):
        created = counts.get(key, 0)
        report.count(name, created=False)
        for _n in range(created):
            report.count(name)
