"""Automatic approval (秒批): the rules of an item's process template, evaluated on the
form data and the applicant's record with no person in the loop.

Rules are JsonLogic (the same evaluator as the catalogue's guidance, so a rule gives the
same answer in the browser). They read:

    form.<data element>      e.g. {"var": "form.venue.staff_with_health_certificate"}
    applicant.verified       the applicant is a registered person or enterprise
    applicant.blacklisted    an applicant-record provider reports serious dishonesty
    applicant.green_channel, applicant.flags
    materials.outstanding    required materials neither provided, reused, shared nor signed
    commitment.signed        the applicant signed the item's commitment

Every rule is evaluated (not only up to the first failure) so that the fallback to manual
review records all the reasons at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yiciban.catalog.formschema import ELEMENT_KEY
from yiciban.catalog.rules import holds


@dataclass(frozen=True)
class RuleResult:
    code: str
    passed: bool
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "passed": self.passed, "message": self.message}


@dataclass(frozen=True)
class RulesOutcome:
    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[str]:
        return [r.message for r in self.results if not r.passed]


def element_values(form_data: dict, schema: dict) -> dict[str, Any]:
    """{data element code: value} of a form: a bundle's merged form has one object per
    section whose properties carry `x-element`; an item's own form names elements on its
    properties."""
    values: dict[str, Any] = {}
    if not isinstance(form_data, dict):
        return values
    for name, prop in (schema or {}).get("properties", {}).items():
        if not isinstance(prop, dict) or name not in form_data:
            continue
        if prop.get("type") == "object" and "properties" in prop and ELEMENT_KEY not in prop:
            values.update(element_values(form_data[name], prop))
        else:
            values[prop.get(ELEMENT_KEY, name)] = form_data[name]
    return values


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """{"venue.kinds": [...]} -> {"venue": {"kinds": [...]}} so JsonLogic's dotted `var`
    reaches them."""
    tree: dict[str, Any] = {}
    for code, value in values.items():
        node = tree
        parts = code.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return tree


def rule_data(
    *, elements: dict[str, Any], applicant: dict, outstanding: int, commitment_signed: bool
) -> dict:
    return {
        "form": nested(elements),
        "applicant": applicant,
        "materials": {"outstanding": outstanding},
        "commitment": {"signed": commitment_signed},
    }


def evaluate(rules: list[dict], data: dict) -> RulesOutcome:
    results = []
    for rule in rules:
        try:
            passed = holds(rule["logic"], data)
        except Exception:  # a rule that cannot be evaluated never approves anything
            passed = False
        results.append(RuleResult(code=rule["code"], passed=passed, message=rule["message"]))
    return RulesOutcome(results=tuple(results))
