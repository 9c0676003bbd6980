"""Rules an item version or bundle version must satisfy, checked on plain dicts (the shape
of the import/export format) so that services, the admin and the importer apply exactly the
same rules. Each problem carries a path relative to the checked dict, the rule and a
message; callers prefix the path with where the dict came from."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from .formschema import check_form, check_json_schema, form_elements, merge_fragments
from .guidance import topological_order
from .models import (
    ALLOWED_MODES,
    ITEM_TYPE_CODES,
    ApprovalMode,
    Audience,
    Channel,
    DayUnit,
    ItemType,
    Level,
    MemberRole,
    Requirement,
    RiskTier,
    VersionStatus,
)
from .questionnaire import check_questionnaire
from .rules import check_rule

BASIC_CODE = re.compile(r"^\d{12}$")
BUSINESS_ITEM_CODE = re.compile(r"^\d{3}$")
ELEMENT_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MATERIAL_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
REGION_CODE = re.compile(r"^\d{6}(\d{6})?$")
MAX_LIMIT_DAYS = 365


@dataclass(frozen=True)
class Problem:
    path: str
    rule: str
    message: str


def implementation_code_for(uscc: str, basic_code: str, business_item_code: str) -> str:
    """实施编码 in the GB/T 39554 style: the implementing body's unified social credit code,
    the basic code, and the three-digit business item (业务办理项) code."""
    return f"{uscc}{basic_code}{business_item_code}"


def _choice(value: Any, choices, path: str, label: str) -> list[Problem]:
    if value not in choices.values:
        return [
            Problem(
                path,
                "choice",
                _("%(label)s须为 %(all)s 之一，实际为 %(v)s")
                % {"label": label, "all": "、".join(choices.values), "v": value},
            )
        ]
    return []


def _int(value: Any, path: str, label: str, *, allow_none: bool = False) -> list[Problem]:
    if value is None and allow_none:
        return []
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return [Problem(path, "type", _("%(label)s须为非负整数") % {"label": label})]
    if value > MAX_LIMIT_DAYS and path.endswith("limit"):
        return [
            Problem(path, "maximum", _("%(label)s不能超过 %(n)s 天") % {"label": label, "n": 365})
        ]
    return []


def _date(value: Any, path: str) -> list[Problem]:
    if value is None:
        return []
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return [Problem(path, "date", _("日期须为 YYYY-MM-DD 格式：%(v)s") % {"v": value})]
    return []


def check_item_version(
    version: dict,
    *,
    basic_code: str,
    elements: dict[str, dict],
    material_kinds: Iterable[str],
) -> list[Problem]:
    """Everything one item version must satisfy by itself (not against other items)."""
    p: list[Problem] = []
    kinds = set(material_kinds)
    if not isinstance(version.get("name"), str) or not version["name"].strip():
        p.append(Problem("name", "required", _("事项名称不能为空")))
    p += _choice(version.get("status"), VersionStatus, "status", _("状态"))
    p += _choice(version.get("item_type"), ItemType, "item_type", _("事项类型"))
    if version.get("item_type") in ITEM_TYPE_CODES and not basic_code.startswith(
        ITEM_TYPE_CODES[version["item_type"]]
    ):
        p.append(
            Problem(
                "item_type",
                "basic_code_type_mismatch",
                _("基本编码 %(code)s 的前两位应为事项类型代码 %(t)s")
                % {"code": basic_code, "t": ITEM_TYPE_CODES[version["item_type"]]},
            )
        )
    p += _choice(version.get("audience"), Audience, "audience", _("服务对象"))
    for key, label in (
        ("legal_limit_unit", _("法定时限单位")),
        ("promised_limit_unit", _("承诺时限单位")),
    ):
        p += _choice(version.get(key), DayUnit, key, label)
    p += _int(version.get("legal_limit"), "legal_limit", _("法定时限"), allow_none=True)
    p += _int(version.get("promised_limit"), "promised_limit", _("承诺时限"))
    p += _int(version.get("visits_required"), "visits_required", _("到现场次数"))
    legal, promised = version.get("legal_limit"), version.get("promised_limit")
    if (
        isinstance(legal, int)
        and isinstance(promised, int)
        and version.get("legal_limit_unit") == version.get("promised_limit_unit")
        and promised > legal
    ):
        p.append(
            Problem(
                "promised_limit",
                "promised_exceeds_legal",
                _("承诺时限 %(p)s 天不能超过法定时限 %(l)s 天") % {"p": promised, "l": legal},
            )
        )
    mode, risk = version.get("approval_mode"), version.get("risk_tier")
    p += _choice(mode, ApprovalMode, "approval_mode", _("审批方式"))
    p += _choice(risk, RiskTier, "risk_tier", _("风险等级"))
    if risk in ALLOWED_MODES and mode in ApprovalMode.values and mode not in ALLOWED_MODES[risk]:
        p.append(
            Problem(
                "approval_mode",
                "mode_not_allowed_by_risk",
                _("%(risk)s事项只能采用：%(modes)s")
                % {
                    "risk": RiskTier(risk).label,
                    "modes": "、".join(
                        str(ApprovalMode(m).label) for m in sorted(ALLOWED_MODES[risk])
                    ),
                },
            )
        )
    if mode in (ApprovalMode.INSTANT, ApprovalMode.AUTOMATIC) and promised not in (0, None):
        p.append(
            Problem(
                "promised_limit",
                "instant_takes_no_days",
                _("即办、秒批事项的承诺时限应为 0 个工作日（当场办结）"),
            )
        )
    if not isinstance(version.get("process_template"), str) or not IDENTIFIER.match(
        version.get("process_template") or ""
    ):
        p.append(
            Problem(
                "process_template", "pattern", _("流程模板须为小写字母、数字、下划线组成的名称")
            )
        )
    licence_type = version.get("output_licence_type", "")
    if licence_type and not IDENTIFIER.match(licence_type):
        p.append(
            Problem("output_licence_type", "pattern", _("证照类型编码须为小写字母、数字、下划线"))
        )
    for key, choices, label in (
        ("channels", Channel, _("办理渠道")),
        ("levels", Level, _("办理层级")),
    ):
        values = version.get(key)
        if not isinstance(values, list) or not values:
            p.append(Problem(key, "required", _("%(label)s至少选一项") % {"label": label}))
            continue
        for index, value in enumerate(values):
            p += _choice(value, choices, f"{key}[{index}]", label)
        if len(set(values)) != len(values):
            p.append(Problem(key, "duplicate", _("%(label)s有重复") % {"label": label}))
    conditions = version.get("conditions")
    if not isinstance(conditions, list) or not all(
        isinstance(c, str) and c.strip() for c in conditions
    ):
        p.append(Problem("conditions", "type", _("受理条件须为非空文字的列表")))
    p += _check_fees(version.get("fees"))
    p += _date(version.get("effective_from"), "effective_from")
    p += _date(version.get("effective_until"), "effective_until")
    if version.get("status") != VersionStatus.DRAFT and not version.get("effective_from"):
        p.append(Problem("effective_from", "required", _("已发布的版本必须有生效日期")))
    if (
        version.get("effective_from")
        and version.get("effective_until")
        and not p_has(p, "effective_from", "effective_until")
        and version["effective_until"] <= version["effective_from"]
    ):
        p.append(Problem("effective_until", "date_order", _("失效日期须晚于生效日期")))
    p += _check_materials(version.get("materials"), kinds)
    for problem in check_form(version.get("form_schema") or {}, elements):
        p.append(Problem(f"form_schema.{problem.path}", problem.rule, problem.message))
    return p


def p_has(problems: list[Problem], *paths: str) -> bool:
    return any(problem.path in paths for problem in problems)


def _check_fees(fees: Any) -> list[Problem]:
    if not isinstance(fees, list):
        return [Problem("fees", "type", _("收费须为列表"))]
    p = []
    for index, fee in enumerate(fees):
        where = f"fees[{index}]"
        if not isinstance(fee, dict) or not isinstance(fee.get("name"), str) or not fee["name"]:
            p.append(Problem(where, "required", _("收费项目须有名称")))
            continue
        amount = fee.get("amount")
        if not isinstance(amount, str) or not re.match(r"^\d+(\.\d{1,2})?$", amount):
            p.append(
                Problem(f"{where}.amount", "amount", _('金额须为以元计的数字文字，如 "10.00"'))
            )
    return p


def _check_materials(materials: Any, kinds: set[str]) -> list[Problem]:
    if not isinstance(materials, list):
        return [Problem("materials", "type", _("申请材料须为列表"))]
    p = []
    seen: set[str] = set()
    for index, material in enumerate(materials):
        where = f"materials[{index}]"
        kind = material.get("kind") if isinstance(material, dict) else None
        if kind not in kinds:
            p.append(
                Problem(
                    f"{where}.kind",
                    "unknown_material_kind",
                    _("材料目录中没有：%(k)s") % {"k": kind},
                )
            )
            continue
        if kind in seen:
            p.append(
                Problem(f"{where}.kind", "duplicate", _("同一材料重复列出：%(k)s") % {"k": kind})
            )
        seen.add(kind)
        p += _choice(material.get("requirement"), Requirement, f"{where}.requirement", _("必要性"))
        if not isinstance(material.get("deferrable"), bool):
            p.append(Problem(f"{where}.deferrable", "type", _("可容缺须为是或否")))
    return p


def check_element(element: dict) -> list[Problem]:
    p = []
    code = element.get("code")
    if not isinstance(code, str) or not ELEMENT_CODE.match(code):
        p.append(
            Problem(
                "code",
                "pattern",
                _("数据元编码须为点分小写名称，如 enterprise.uscc：%(c)s") % {"c": code},
            )
        )
    if not element.get("label"):
        p.append(Problem("label", "required", _("数据元须有名称")))
    schema = element.get("schema")
    for problem in check_json_schema(schema):
        p.append(Problem(f"schema.{problem.path}".rstrip("."), problem.rule, problem.message))
    if isinstance(schema, dict) and "type" not in schema:
        p.append(Problem("schema.type", "required", _("数据元的 JSON Schema 须指明 type")))
    return p


def cross_item_conflicts(
    form: dict, others: Iterable[tuple[str, dict]], elements: dict[str, dict]
) -> list[Problem]:
    """Conflicts between this form and the forms of other (published) items over the same
    data elements. `others` are (label naming the other item, its form)."""
    mine = {element: prop for _name, element, prop, _req in form_elements(form)}
    if not mine:
        return []
    by_element: dict[str, list[tuple[str, dict]]] = {}
    for label, other_form in others:
        for _name, element, prop, _req in form_elements(other_form):
            if element in mine:
                by_element.setdefault(element, []).append((label, prop))
    problems = []
    for name, element, prop, _req in form_elements(form):
        for label, other_prop in by_element.get(element, []):
            _merged, conflicts = merge_fragments(
                [
                    ("数据元登记", elements.get(element, {})),
                    (_("本事项"), prop),
                    (label, other_prop),
                ]
            )
            for conflict in conflicts:
                problems.append(
                    Problem(
                        f"form_schema.properties.{name}",
                        "element_schema_conflict",
                        _("数据元 %(e)s 与 %(other)s 的定义冲突：%(c)s")
                        % {"e": element, "other": label, "c": conflict},
                    )
                )
    return problems


def check_bundle_version(
    version: dict,
    *,
    member_items: dict[str, dict | None],
) -> list[Problem]:
    """Rules of one bundle version. `member_items` maps each member's item code to the
    content of that item's current published version (None when it has none)."""
    p: list[Problem] = []
    if not version.get("name"):
        p.append(Problem("name", "required", _("一件事名称不能为空")))
    p += _choice(version.get("status"), VersionStatus, "status", _("状态"))
    p += _date(version.get("effective_from"), "effective_from")
    p += _date(version.get("effective_until"), "effective_until")
    if version.get("status") != VersionStatus.DRAFT and not version.get("effective_from"):
        p.append(Problem("effective_from", "required", _("已发布的版本必须有生效日期")))
    p += _int(version.get("promised_limit"), "promised_limit", _("承诺时限"), allow_none=True)
    questionnaire = version.get("questionnaire", [])
    for error in check_questionnaire(questionnaire):
        p.append(Problem(error.field, error.rule, error.message))
    codes = {q.get("code") for q in questionnaire if isinstance(q, dict)}
    members = version.get("members") or []
    if not members:
        p.append(Problem("members", "required", _("一件事至少要有一个事项")))
    bases = [i for i, m in enumerate(members) if m.get("role") == MemberRole.BASE]
    if len(bases) != 1:
        p.append(
            Problem(
                "members",
                "one_base",
                _("一件事须有且只有一个基础事项，实际 %(n)s 个") % {"n": len(bases)},
            )
        )
    index_of: dict[str, int] = {}
    for index, member in enumerate(members):
        where = f"members[{index}]"
        code = member.get("item")
        if code in index_of:
            p.append(Problem(f"{where}.item", "duplicate", _("事项重复：%(c)s") % {"c": code}))
            continue
        index_of[code] = index
        if code not in member_items:
            p.append(
                Problem(f"{where}.item", "unknown_item", _("没有这个事项：%(c)s") % {"c": code})
            )
        p += _choice(member.get("role"), MemberRole, f"{where}.role", _("角色"))
        rule = member.get("rule")
        if rule is not None:
            if member.get("role") == MemberRole.BASE:
                p.append(
                    Problem(
                        f"{where}.rule", "base_has_no_rule", _("基础事项总是适用，不能设置规则")
                    )
                )
            for problem in check_rule(rule, known_vars=codes):
                p.append(Problem(f"{where}.rule.{problem.path}", problem.rule, problem.message))
    deps: list[tuple[int, ...]] = []
    for index, member in enumerate(members):
        wanted = []
        for position, code in enumerate(member.get("depends_on") or []):
            if code not in index_of:
                p.append(
                    Problem(
                        f"members[{index}].depends_on[{position}]",
                        "unknown_member",
                        _("前置事项不在本一件事中：%(c)s") % {"c": code},
                    )
                )
            else:
                wanted.append(index_of[code])
        deps.append(tuple(wanted))
    if len(deps) == len(members) and topological_order(deps) is None:
        p.append(Problem("members", "dependency_cycle", _("前置事项形成循环")))
    elif version.get("status") != VersionStatus.DRAFT:
        p += _check_limits(version, members, member_items, deps)
    return p


def _check_limits(version, members, member_items, deps) -> list[Problem]:
    """A published bundle needs every member published, in working days, and — when it
    promises a limit — a longest path (all members applying) within that promise."""
    p: list[Problem] = []
    limits = []
    for index, member in enumerate(members):
        content = member_items.get(member.get("item"))
        if content is None:
            p.append(
                Problem(
                    f"members[{index}].item",
                    "item_not_published",
                    _("事项 %(c)s 没有现行有效的已发布版本") % {"c": member.get("item")},
                )
            )
            limits.append(0)
            continue
        if content.get("promised_limit_unit") != DayUnit.WORKING:
            p.append(
                Problem(
                    f"members[{index}].item",
                    "limit_unit_not_working_days",
                    _("一件事的事项承诺时限须以工作日计：%(c)s") % {"c": member.get("item")},
                )
            )
        limits.append(content.get("promised_limit") or 0)
    order = topological_order(deps) or ()
    finish: dict[int, int] = {}
    for index in order:
        finish[index] = limits[index] + max((finish[d] for d in deps[index]), default=0)
    longest = max(finish.values(), default=0)
    declared = version.get("promised_limit")
    if isinstance(declared, int) and not p and longest > declared:
        p.append(
            Problem(
                "promised_limit",
                "promise_shorter_than_path",
                _("承诺 %(d)s 个工作日，但事项全部适用时最长路径为 %(l)s 个工作日")
                % {"d": declared, "l": longest},
            )
        )
    return p
