"""Reads the case pages need that the case engine's selectors do not offer: the guidance
answers carried in a catalogue link, one material of a case, and the bundles a counter
clerk may file for."""

from __future__ import annotations

import re
from typing import Any

from yiciban.catalog import selectors as catalog_selectors
from yiciban.core.errors import NotFound
from yiciban.org import selectors as org_selectors
from yiciban.org.models import Role

from .models import Case, CaseMaterial

INTEGER = re.compile(r"^[+-]?\d+$")
DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")


def _read(question_type: str, values: list[str]) -> tuple[bool, Any]:
    if question_type == "multi_choice":
        # the catalogue's links send an empty marker first, so "none" is an answer
        return bool(values), [v for v in values if v != ""]
    text = values[0].strip() if values else ""
    if text == "":
        return False, None
    if question_type == "boolean":
        return True, {"true": True, "false": False}.get(text, text)
    if question_type == "number":
        if INTEGER.match(text):
            return True, int(text)
        if DECIMAL.match(text):
            return True, float(text)
    return True, text


def answers_from_query(bundle_code: str, data) -> dict:
    """The guidance answers in a query string written by the catalogue's wizard (the same
    encoding as catalog.forms.answers_query); questions not answered are left out and an
    unknown bundle gives no answers (the preview then names the bundle as unknown)."""
    try:
        questions = catalog_selectors.compiled_bundle(bundle_code).questions
    except NotFound:
        return {}
    answers = {}
    for question in questions:
        answered, value = _read(question.type, data.getlist(question.code))
        if answered:
            answers[question.code] = value
    return answers


def case_material(case: Case, kind: str) -> CaseMaterial | None:
    """One material of a case (the case already checked as visible to the user)."""
    return case.materials.select_related("document").filter(kind_code=kind).first()


def bundles_for_counter(user) -> list[dict]:
    """The bundles in force in the places where the user is a counter clerk (or assisted-
    service agent), for assisted submission."""
    codes = set()
    for assignment in org_selectors.role_assignments_for(user).filter(
        role__in=(Role.COUNTER_CLERK, Role.ASSISTED_SERVICE_AGENT)
    ):
        region = assignment.region or assignment.department.region
        codes.add(region.code)
    rows = []
    for code in sorted(codes):
        for version in catalog_selectors.bundles_list(region=code, limit=50).items:
            rows.append({"code": version.bundle.code, "name": version.name})
    seen: set[str] = set()
    return [r for r in rows if not (r["code"] in seen or seen.add(r["code"]))]
