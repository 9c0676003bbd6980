"""Item forms as JSON Schema with `x-element` data-element keys: checking one form, checking
that forms agree on each data element, and merging fragments into one field.

Two schemas for one data element agree when their identity keywords (type, format, pattern,
enum, const, items, properties, and any keyword not listed below) are equal and their bounds
leave some value possible. Bounds narrow (the merged field takes the tightest), annotations
(title, description, default, examples, x-*) never conflict."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

ANNOTATION_KEYWORDS = frozenset(
    {"title", "description", "default", "examples", "$comment", "readOnly", "writeOnly"}
)
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")
BOUND_PAIRS = (
    ("minimum", "maximum"),
    ("exclusiveMinimum", "maximum"),
    ("minimum", "exclusiveMaximum"),
    ("exclusiveMinimum", "exclusiveMaximum"),
    ("minLength", "maxLength"),
    ("minItems", "maxItems"),
)
ELEMENT_KEY = "x-element"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class FormProblem:
    path: str  # inside the form schema, e.g. "properties.area.x-element"
    rule: str
    message: str


def _is_annotation(keyword: str) -> bool:
    return keyword in ANNOTATION_KEYWORDS or keyword.startswith("x-")


def _canonical(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        # enum order is presentation, not meaning
        return json.dumps(sorted(value, key=lambda v: json.dumps(v)), sort_keys=True)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def check_json_schema(schema: Any, path: str = "") -> list[FormProblem]:
    if not isinstance(schema, dict):
        return [FormProblem(path or "$", "not_object", "JSON Schema 必须是对象")]
    found = _schema_error(json.dumps(schema, sort_keys=True))
    if found is None:
        return []
    where, message = found
    return [
        FormProblem(
            ".".join(p for p in (path, where) if p) or "$",
            "invalid_json_schema",
            f"不是有效的 JSON Schema：{message}",
        )
    ]


@lru_cache(maxsize=4096)
def _schema_error(schema_json: str) -> tuple[str, str] | None:
    """(path, message) of the first metaschema violation, remembered per schema text: an
    import checks the same small fragments many times."""
    try:
        Draft202012Validator.check_schema(json.loads(schema_json))
    except SchemaError as exc:
        return ".".join(str(p) for p in exc.absolute_path), exc.message
    return None


def check_form(form: Any, elements: dict[str, dict]) -> list[FormProblem]:
    """Problems of one item form. `elements` maps data-element codes to their registry
    fragments."""
    if form in (None, {}):
        return []
    problems = check_json_schema(form)
    if problems:
        return problems
    if form.get("type") != "object":
        return [FormProblem("type", "form_not_object", "申请表的顶层类型必须是 object")]
    properties = form.get("properties", {})
    seen: dict[str, str] = {}
    for name, prop in properties.items():
        where = f"properties.{name}"
        element = prop.get(ELEMENT_KEY) if isinstance(prop, dict) else None
        if not element:
            problems.append(
                FormProblem(where, "missing_x_element", f"字段 {name} 未用 x-element 指明数据元")
            )
            continue
        if element not in elements:
            problems.append(
                FormProblem(
                    f"{where}.{ELEMENT_KEY}", "unknown_element", f"未登记的数据元：{element}"
                )
            )
            continue
        if element in seen:
            problems.append(
                FormProblem(
                    f"{where}.{ELEMENT_KEY}",
                    "duplicate_element",
                    f"字段 {seen[element]} 与 {name} 使用同一数据元 {element}",
                )
            )
            continue
        seen[element] = name
        _, conflicts = merge_fragments(
            [("数据元登记", elements[element]), ("本事项", effective_property(prop, elements))]
        )
        problems += [FormProblem(where, "element_schema_conflict", c) for c in conflicts]
    for name in form.get("required", []):
        if name not in properties:
            problems.append(FormProblem("required", "unknown_required", f"必填字段不存在：{name}"))
    return problems


def effective_property(prop: dict, elements: dict[str, dict]) -> dict:
    """The registry fragment of the property's element, overlaid with what the form says."""
    base = elements.get(prop.get(ELEMENT_KEY, ""), {})
    return {**base, **prop}


def form_elements(form: dict) -> list[tuple[str, str, dict, bool]]:
    """(property name, element code, property, required) in form order."""
    if not form:
        return []
    required = set(form.get("required", []))
    return [
        (name, prop[ELEMENT_KEY], prop, name in required)
        for name, prop in form.get("properties", {}).items()
        if isinstance(prop, dict) and prop.get(ELEMENT_KEY)
    ]


def merge_fragments(sources: Iterable[tuple[str, dict]]) -> tuple[dict, list[str]]:
    """Merge the schemas several sources give one data element. Returns the merged schema
    and the conflicts found (each naming the sources and the keyword)."""
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    conflicts: list[str] = []
    for source, fragment in sources:
        for keyword, value in fragment.items():
            if _is_annotation(keyword):
                merged.setdefault(keyword, value)
                continue
            if keyword in LOWER_BOUNDS:
                if keyword not in merged or value > merged[keyword]:
                    merged[keyword], origin[keyword] = value, source
                continue
            if keyword in UPPER_BOUNDS:
                if keyword not in merged or value < merged[keyword]:
                    merged[keyword], origin[keyword] = value, source
                continue
            if keyword in merged and _canonical(merged[keyword]) != _canonical(value):
                conflicts.append(
                    f"{keyword} 不一致：{origin[keyword]} 为 {_canonical(merged[keyword])}，"
                    f"{source} 为 {_canonical(value)}"
                )
                continue
            if keyword not in merged:
                merged[keyword], origin[keyword] = value, source
    for low, high in BOUND_PAIRS:
        if low in merged and high in merged:
            exclusive = low.startswith("exclusive") or high.startswith("exclusive")
            empty = merged[low] >= merged[high] if exclusive else merged[low] > merged[high]
            if empty:
                conflicts.append(
                    f"取值范围为空：{origin[low]} 要求 {low}={merged[low]}，"
                    f"{origin[high]} 要求 {high}={merged[high]}"
                )
    return merged, conflicts


def identity_changes(old: dict, new: dict) -> list[str]:
    """Identity keywords (see module doc) whose value differs between two schemas."""
    keywords = {
        k
        for k in (*old, *new)
        if not _is_annotation(k) and k not in LOWER_BOUNDS and k not in UPPER_BOUNDS
    }
    return sorted(k for k in keywords if _canonical(old.get(k)) != _canonical(new.get(k)))
