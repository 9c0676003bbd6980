"""Smart guidance (智能导办) for a bundle: answers → applicable items with reasons, one
notice (一单告知), one merged form (一个表单), the bundle's promised limit and the
reduction against applying item by item.

A published bundle version is compiled once into plain immutable Python data (questions,
members with their current item versions, materials, form fields, dependency order). What
depends only on *which* members apply — notice, merged schema, limit, reduction — is
computed once per set of applicable members and memoised on the compiled bundle; per request
only the questionnaire checks, the visibility rules, one JsonLogic rule per member and the
reasons are evaluated. Results are shared between requests: callers must not mutate them."""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from yiciban.core.errors import ValidationFailed

from . import reuse
from .formschema import ELEMENT_KEY, SCHEMA_DIALECT, merge_fragments
from .questionnaire import Question, check_answers
from .rules import holds

# Distinct sets of applicable members remembered per compiled bundle; beyond this the memo
# starts afresh (a bundle with 25 optional items has 2^25 possible sets).
MEMO_LIMIT = 4096


@dataclass(frozen=True)
class MaterialNeed:
    kind: str
    name: str
    source: str
    data_category: str
    fetchable: bool
    formats: tuple[str, ...]
    max_size_mb: int
    blank_form_url: str
    sample_url: str
    requirement: str
    deferrable: bool
    copies: str
    note: str


@dataclass(frozen=True)
class FormField:
    element: str
    prop: dict
    required: bool


@dataclass(frozen=True)
class CompiledMember:
    index: int
    code: str
    item_id: int
    version_id: int
    version_number: int
    name: str
    department: str
    department_id: int
    role: str
    rule: Any
    rule_vars: tuple[str, ...]
    reason: str
    depends_on: tuple[int, ...]
    promised_limit: int
    promised_limit_unit: str
    approval_mode: str
    approval_mode_label: str
    output_name: str
    visits_required: int
    fees: tuple
    conditions: tuple[str, ...]
    materials: tuple[MaterialNeed, ...]
    fields: tuple[FormField, ...]


@dataclass
class CompiledBundle:
    code: str
    version_id: int
    version_number: int
    name: str
    summary: str
    declared_limit: int | None
    questions: tuple[Question, ...]
    members: tuple[CompiledMember, ...]
    base_index: int
    topo_order: tuple[int, ...]
    element_labels: dict[str, str]
    element_fragments: dict[str, dict]
    unavailable: tuple[str, ...] = ()
    revision: int = 0
    day: Any = None
    _memo: dict[int, dict] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def core(self, mask: int) -> dict:
        """The parts of a guidance result fixed by the set of applicable members."""
        found = self._memo.get(mask)
        if found is None:
            found = build_core(self, mask)
            with self._lock:
                if len(self._memo) >= MEMO_LIMIT:
                    self._memo.clear()
                self._memo[mask] = found
        return found

    def forget(self) -> None:
        with self._lock:
            self._memo.clear()


def topological_order(depends_on: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    """Member indexes so that every member comes after those it depends on; None when the
    dependencies form a cycle."""
    order: list[int] = []
    state = [0] * len(depends_on)  # 0 new, 1 on the stack, 2 done

    def visit(node: int) -> bool:
        if state[node] == 2:
            return True
        if state[node] == 1:
            return False
        state[node] = 1
        for dep in depends_on[node]:
            if not visit(dep):
                return False
        state[node] = 2
        order.append(node)
        return True

    for node in range(len(depends_on)):
        if not visit(node):
            return None
    return tuple(order)


def _strongest_requirement(a: str, b: str) -> str:
    return "required" if "required" in (a, b) else "optional"


def build_core(bundle: CompiledBundle, mask: int) -> dict:
    applicable = [m for m in bundle.members if mask >> m.index & 1]
    base = bundle.members[bundle.base_index]

    items = [
        {
            "code": m.code,
            "item_version_id": m.version_id,
            "version": m.version_number,
            "name": m.name,
            "department": m.department,
            "role": m.role,
            "approval_mode": m.approval_mode,
            "approval_mode_label": m.approval_mode_label,
            "promised_limit": m.promised_limit,
            "promised_limit_unit": m.promised_limit_unit,
            "output_name": m.output_name,
            "visits_required": m.visits_required,
            "fees": list(m.fees),
        }
        for m in applicable
    ]

    conditions: dict[str, list[str]] = {}
    for m in applicable:
        for text in m.conditions:
            conditions.setdefault(text.strip(), []).append(m.code)

    materials: dict[str, dict] = {}
    materials_separate = 0
    for m in applicable:
        for need in m.materials:
            if need.requirement == "required":
                materials_separate += 1
            entry = materials.get(need.kind)
            who = {
                "code": m.code,
                "name": m.name,
                "requirement": need.requirement,
                "deferrable": need.deferrable,
                "copies": need.copies,
                "note": need.note,
            }
            if entry is None:
                materials[need.kind] = {
                    "kind": need.kind,
                    "name": need.name,
                    "source": need.source,
                    "data_category": need.data_category,
                    "fetchable": need.fetchable,
                    "formats": list(need.formats),
                    "max_size_mb": need.max_size_mb,
                    "blank_form_url": need.blank_form_url,
                    "sample_url": need.sample_url,
                    "requirement": need.requirement,
                    # deferrable only when every item needing it allows deferral
                    "deferrable": need.deferrable,
                    "submit": not need.fetchable,
                    "reusable": False,
                    "items": [who],
                }
            else:
                entry["requirement"] = _strongest_requirement(
                    entry["requirement"], need.requirement
                )
                entry["deferrable"] = entry["deferrable"] and need.deferrable
                entry["items"].append(who)
    materials_bundle = sum(
        1 for e in materials.values() if e["requirement"] == "required" and e["submit"]
    )

    # Fields: who asks each data element, in order of first appearance (base first).
    users: dict[str, list[int]] = {}
    props: dict[str, list[tuple[str, dict]]] = {}
    required: set[str] = set()
    fields_separate = 0
    for m in applicable:
        for f in m.fields:
            fields_separate += 1
            users.setdefault(f.element, []).append(m.index)
            props.setdefault(f.element, []).append((m.name, f.prop))
            if f.required:
                required.add(f.element)

    def merged_property(element: str) -> dict:
        sources = [("数据元登记", bundle.element_fragments.get(element, {}))] + props[element]
        merged, _conflicts = merge_fragments(sources)  # conflicts are refused at publication
        merged["title"] = bundle.element_labels.get(element, merged.get("title", element))
        merged[ELEMENT_KEY] = element
        merged["x-items"] = [bundle.members[i].code for i in users[element]]
        return merged

    shared = [e for e, who in users.items() if base.index in who or len(who) > 1]
    sections: dict[str, Any] = {
        "base": {
            "type": "object",
            "title": _("基本信息（%(name)s）") % {"name": base.name},
            "properties": {e: merged_property(e) for e in shared},
            "required": [e for e in shared if e in required],
        }
    }
    section_index = [{"key": "base", "title": sections["base"]["title"], "items": [base.code]}]
    shared_set = set(shared)
    for m in applicable:
        if m.index == base.index:
            continue
        own = [f.element for f in m.fields if f.element not in shared_set]
        if not own:
            continue
        title = _("%(name)s（子表）") % {"name": m.name}
        sections[m.code] = {
            "type": "object",
            "title": title,
            "properties": {e: merged_property(e) for e in own},
            "required": [e for e in own if e in required],
        }
        section_index.append({"key": m.code, "title": title, "items": [m.code]})
    merged_schema = {
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "title": _("%(name)s 合并申请表") % {"name": bundle.name},
        "properties": sections,
        "required": ["base"],
        "x-sections": section_index,
    }

    # Promised limit: longest path through the dependency graph; members that do not apply
    # take no time but still pass on the waiting of their own prerequisites.
    finish: dict[int, int] = {}
    previous: dict[int, int | None] = {}
    for index in bundle.topo_order:
        member = bundle.members[index]
        start, before = 0, None
        for dep in member.depends_on:
            if before is None or finish[dep] > start:
                start, before = finish[dep], dep
        duration = member.promised_limit if mask >> index & 1 else 0
        finish[index] = start + duration
        previous[index] = before
    end = max(applicable, key=lambda m: (finish[m.index], -m.index)) if applicable else None
    path: list[str] = []
    node = end.index if end else None
    while node is not None:
        if mask >> node & 1:
            path.append(bundle.members[node].code)
        node = previous[node]
    path.reverse()
    bundle_days = finish[end.index] if end else 0
    separate_days = sum(m.promised_limit for m in applicable)

    return {
        "items": items,
        "notice": {
            "conditions": [{"text": t, "items": codes} for t, codes in conditions.items()],
            "materials": list(materials.values()),
        },
        "merged_schema": merged_schema,
        "promised_limit": {
            "days": bundle_days,
            "unit": "working",
            "critical_path": path,
            "declared": bundle.declared_limit,
            "separate_days": separate_days,
        },
        "reduction": {
            "materials_separate": materials_separate,
            "materials_bundle": materials_bundle,
            "materials_saved": materials_separate - materials_bundle,
            "fields_separate": fields_separate,
            "fields_bundle": len(users),
            "fields_saved": fields_separate - len(users),
            "days_separate": separate_days,
            "days_bundle": bundle_days,
        },
        # what the archive lookup is asked about; not part of the result
        "_material_kinds": frozenset(k for k, e in materials.items() if e["submit"]),
        "_elements": frozenset(users),
        "_encoded": {},  # JSON text of the shared parts, filled by evaluate_json
    }


def applicable_mask(bundle: CompiledBundle, data: dict[str, Any]) -> int:
    mask = 0
    for m in bundle.members:
        if m.role == "base" or holds(m.rule, data):
            mask |= 1 << m.index
    return mask


def visible_answers(
    questions: tuple[Question, ...], answers: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Answers to the questions that are shown, in order (a question's rule sees only the
    answers shown before it), and the codes of the visible questions."""
    visible: dict[str, Any] = {}
    shown: list[str] = []
    for question in questions:
        if question.show_if is None or holds(question.show_if, visible):
            shown.append(question.code)
            value = answers.get(question.code)
            if value is not None:
                visible[question.code] = value
    return visible, shown


def evaluate(
    bundle: CompiledBundle, answers: dict[str, Any], subject: reuse.ArchiveSubject | None = None
) -> dict:
    return _evaluate(bundle, answers, subject)[0]


# Parts of a result that come unchanged from the memoised core; their JSON text is
# produced once per core and spliced into every response that shares them.
SHARED_PARTS = ("notice", "merged_schema", "promised_limit", "reduction")


def evaluate_json(
    bundle: CompiledBundle, answers: dict[str, Any], subject: reuse.ArchiveSubject | None = None
) -> bytes:
    """The result of `evaluate` as UTF-8 JSON. The large shared parts (notice, merged
    schema) are encoded once per set of applicable members instead of on every request."""
    result, core = _evaluate(bundle, answers, subject)
    encoded = core["_encoded"]
    pieces = []
    for key, value in result.items():
        if key in SHARED_PARTS and value is core[key]:
            text = encoded.get(key)
            if text is None:
                text = encoded[key] = _dumps(value)
        else:
            text = _dumps(value)
        pieces.append(f"{_dumps(key)}:{text}")
    return ("{" + ",".join(pieces) + "}").encode()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _evaluate(
    bundle: CompiledBundle, answers: dict[str, Any], subject: reuse.ArchiveSubject | None
) -> tuple[dict, dict]:
    errors = check_answers(bundle.questions, answers)
    if errors:
        raise ValidationFailed(_("答案不符合导办问题"), errors)
    data, shown = visible_answers(bundle.questions, answers)
    mask = applicable_mask(bundle, data)
    core = bundle.core(mask)
    by_code = {q.code: q for q in bundle.questions}

    items = []
    for entry, member in zip(
        core["items"], (m for m in bundle.members if mask >> m.index & 1), strict=True
    ):
        because = [
            {
                "question": code,
                "label": by_code[code].label,
                "answer": data[code],
                "answer_label": by_code[code].label_of(data[code]),
            }
            for code in member.rule_vars
            if code in data
        ]
        reason = member.reason or (
            _("基础事项，必须办理") if member.role == "base" else _("无论如何回答都需办理")
        )
        items.append({**entry, "reason": reason, "because": because})

    shown_set = set(shown)
    result = {
        "bundle": {
            "code": bundle.code,
            "version": bundle.version_number,
            "bundle_version_id": bundle.version_id,
            "name": bundle.name,
        },
        "visible_questions": shown,
        "unanswered": [code for code in shown if code not in data],
        "complete": all(
            q.code in data for q in bundle.questions if q.required and q.code in shown_set
        ),
        "ignored_answers": sorted(
            code for code, value in answers.items() if value is not None and code not in data
        ),
        "items": items,
        "not_applicable": [
            {"code": m.code, "name": m.name} for m in bundle.members if not mask >> m.index & 1
        ],
        "unavailable": list(bundle.unavailable),
        "notice": core["notice"],
        "merged_schema": core["merged_schema"],
        "promised_limit": core["promised_limit"],
        "reduction": core["reduction"],
        "prefill": {},
    }
    if subject is not None and reuse.has_archive_lookup():
        _apply_archive(result, core, subject)
    return result, core


def _apply_archive(result: dict, core: dict, subject: reuse.ArchiveSubject) -> None:
    hits = reuse.lookup_archive(subject, core["_material_kinds"], core["_elements"])
    if not hits.materials and not hits.fields:
        return
    notice = dict(result["notice"])
    materials = []
    for entry in notice["materials"]:
        if entry["kind"] in hits.materials:
            entry = {
                **entry,
                "submit": False,
                "reusable": True,
                "archive_reference": hits.materials[entry["kind"]],
            }
        materials.append(entry)
    notice["materials"] = materials
    result["notice"] = notice
    reduction = dict(result["reduction"])
    reduction["materials_after_reuse"] = sum(
        1 for e in materials if e["requirement"] == "required" and e["submit"]
    )
    reduction["fields_after_reuse"] = reduction["fields_bundle"] - len(hits.fields)
    result["reduction"] = reduction
    result["prefill"] = copy.deepcopy(hits.fields)
