"""JsonLogic rules over guidance answers: checking and evaluating.

Rules are evaluated with panzi-json-logic, which follows the reference JavaScript
implementation (json-logic-js) operator by operator, so a rule gives the same answer on the
server and in the browser. Only the operators of the standard set are accepted, and `var`
may name only questions of the bundle's questionnaire: a rule that would behave differently
elsewhere, or that reads something the applicant never answered, is refused when saved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from json_logic import jsonLogic
from json_logic.builtins import to_bool

# The operators of json-logic-js (jsonlogic.com/operations.html), without `log`, which
# writes to the console and has no place in a stored rule.
STANDARD_OPERATORS = frozenset(
    {
        "var",
        "missing",
        "missing_some",
        "if",
        "?:",
        "==",
        "===",
        "!=",
        "!==",
        "!",
        "!!",
        "or",
        "and",
        ">",
        ">=",
        "<",
        "<=",
        "max",
        "min",
        "+",
        "-",
        "*",
        "/",
        "%",
        "map",
        "reduce",
        "filter",
        "all",
        "none",
        "some",
        "merge",
        "in",
        "cat",
        "substr",
    }
)
# Operators whose second operand runs against each element of a list, not the answers.
SCOPED_OPERATORS = frozenset({"map", "reduce", "filter", "all", "none", "some"})


@dataclass(frozen=True)
class RuleProblem:
    path: str  # JSON path inside the rule, e.g. "and[1].==[0]"
    rule: str  # machine name of what is wrong
    message: str


def check_rule(logic: Any, known_vars: Iterable[str] | None = None) -> list[RuleProblem]:
    """Every way `logic` breaks the standard JsonLogic grammar, or names a variable outside
    `known_vars` (when given). An empty list means the rule is valid."""
    problems: list[RuleProblem] = []
    known = set(known_vars) if known_vars is not None else None
    _check(logic, "", known, problems, scoped=False)
    return problems


def _check(node: Any, path: str, known: set[str] | None, out: list, *, scoped: bool) -> None:
    if isinstance(node, list):
        for index, child in enumerate(node):
            _check(child, f"{path}[{index}]", known, out, scoped=scoped)
        return
    if node is None or isinstance(node, str | int | float | bool):
        return
    if not isinstance(node, dict):
        out.append(RuleProblem(path or "$", "not_json", f"不是 JSON 值：{node!r}"))
        return
    if len(node) != 1:
        out.append(
            RuleProblem(
                path or "$",
                "one_operator",
                f"每个规则对象只能有一个运算符，实际有 {len(node)} 个：{sorted(node)}",
            )
        )
        return
    operator, args = next(iter(node.items()))
    here = f"{path}.{operator}" if path else operator
    if operator not in STANDARD_OPERATORS:
        out.append(RuleProblem(here, "unknown_operator", f"不是标准 JsonLogic 运算符：{operator}"))
        return
    arg_list = args if isinstance(args, list) else [args]
    if operator == "var":
        _check_var(arg_list, here, known, out, scoped=scoped)
        for index, child in enumerate(arg_list[1:], start=1):
            _check(child, f"{here}[{index}]", known, out, scoped=scoped)
        return
    if operator in ("missing", "missing_some") and not scoped and known is not None:
        names = arg_list[1] if operator == "missing_some" and len(arg_list) > 1 else arg_list
        if isinstance(names, list):
            for name in names:
                if isinstance(name, str) and name.split(".")[0] not in known:
                    out.append(RuleProblem(here, "unknown_variable", f"未定义的问题：{name}"))
    if operator in SCOPED_OPERATORS:
        if arg_list:
            _check(arg_list[0], f"{here}[0]", known, out, scoped=scoped)
        for index, child in enumerate(arg_list[1:], start=1):
            _check(child, f"{here}[{index}]", known, out, scoped=True)
        return
    for index, child in enumerate(arg_list):
        _check(child, f"{here}[{index}]", known, out, scoped=scoped)


def _check_var(args: list, path: str, known: set[str] | None, out: list, *, scoped: bool) -> None:
    if not args:
        return  # {"var": []} is the whole data object
    name = args[0]
    if isinstance(name, dict | list):
        _check(name, f"{path}[0]", known, out, scoped=scoped)
        return
    if not isinstance(name, str | int):
        out.append(RuleProblem(path, "bad_variable", f"变量名必须是字符串：{name!r}"))
        return
    if scoped or known is None or name == "":
        return
    root = str(name).split(".")[0]
    if root not in known:
        out.append(RuleProblem(path, "unknown_variable", f"未定义的问题：{name}"))


def rule_variables(logic: Any) -> list[str]:
    """Question codes the rule reads (outside scoped sub-rules), in order of appearance."""
    found: list[str] = []
    _collect(logic, found)
    return found


def _collect(node: Any, found: list[str]) -> None:
    if isinstance(node, list):
        for child in node:
            _collect(child, found)
        return
    if not isinstance(node, dict) or len(node) != 1:
        return
    operator, args = next(iter(node.items()))
    arg_list = args if isinstance(args, list) else [args]
    if operator == "var":
        if arg_list and isinstance(arg_list[0], str) and arg_list[0]:
            root = arg_list[0].split(".")[0]
            if root not in found:
                found.append(root)
        return
    if operator in SCOPED_OPERATORS:
        if arg_list:
            _collect(arg_list[0], found)
        return
    for child in arg_list:
        _collect(child, found)


def evaluate(logic: Any, data: dict[str, Any]) -> Any:
    return jsonLogic(logic, data)


def holds(logic: Any, data: dict[str, Any]) -> bool:
    """JsonLogic truthiness of the rule's result ([] and "" and 0 are false, as in JS)."""
    if logic is None:
        return True
    return to_bool(jsonLogic(logic, data))
