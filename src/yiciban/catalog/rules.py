"""JsonLogic rules over guidance answers: checking and evaluating.

Rules are evaluated with panzi-json-logic, which follows the reference JavaScript
implementation (json-logic-js) operator by operator, so a rule gives the same answer on the
server and in the browser. Only the operators of the standard set are accepted, and `var`
may name only questions of the bundle's questionnaire: a rule that would behave differently
elsewhere, or that reads something the applicant never answered, is refused when saved."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from json_logic import jsonLogic
from json_logic.builtins import BUILTINS, to_bool, to_string

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


# --- loose equality as JavaScript's `==` -------------------------------------------------
# panzi-json-logic's `==` converts null to 0 (so `0 == null` is true) and "" to NaN (so
# `"" == 0` is false); JavaScript answers the opposite in both cases, and a rule such as
# {"==": [{"var": "employees"}, 0]} would then hold for an unanswered question on the server
# but not in json-logic-js. The two operators below follow ECMA-262 §7.2.15
# (IsLooselyEqual) and §7.2.16 (IsStrictlyEqual) for JSON values.

_JS_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_JS_RADIX = {"0x": 16, "0o": 8, "0b": 2}


def js_number_of_string(text: str) -> float:
    """ECMA-262 StringToNumber: blank is 0, decimal, 0x/0o/0b, ±Infinity, anything else NaN
    (no underscores, no "inf", unlike Python's float())."""
    stripped = text.strip()
    if not stripped:
        return 0.0
    if stripped in ("Infinity", "+Infinity"):
        return math.inf
    if stripped == "-Infinity":
        return -math.inf
    radix = _JS_RADIX.get(stripped[:2].lower())
    if radix:
        try:
            return float(int(stripped[2:], radix)) if "_" not in stripped else math.nan
        except ValueError:
            return math.nan
    return float(stripped) if _JS_DECIMAL.match(stripped) else math.nan


def _js_primitive(value: Any) -> Any:
    # ToPrimitive of an array is its join(","), of a plain object "[object Object]".
    return to_string(value) if isinstance(value, list | dict) else value


def js_loose_equals(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None  # null == undefined only; never 0, "" or false
    a_is_object, b_is_object = isinstance(a, list | dict), isinstance(b, list | dict)
    if a_is_object and b_is_object:
        return a is b  # two objects are equal only when they are the same object
    if isinstance(a, bool):
        a = 1 if a else 0
    if isinstance(b, bool):
        b = 1 if b else 0
    if a_is_object or b_is_object:
        return js_loose_equals(_js_primitive(a), _js_primitive(b))
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    a = js_number_of_string(a) if isinstance(a, str) else a
    b = js_number_of_string(b) if isinstance(b, str) else b
    return a == b  # NaN is unequal to everything, itself included, as in JS


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "object"


def js_strict_equals(a: Any, b: Any) -> bool:
    # Python's True == 1 would make {"===": [true, 1]} hold; in JS the types differ.
    if _js_type(a) != _js_type(b):
        return False
    return a is b if isinstance(a, list | dict) else a == b


OPERATIONS = {
    **BUILTINS,
    "==": lambda data=None, a=None, b=None, *_ignored: js_loose_equals(a, b),
    "!=": lambda data=None, a=None, b=None, *_ignored: not js_loose_equals(a, b),
    "===": lambda data=None, a=None, b=None, *_ignored: js_strict_equals(a, b),
    "!==": lambda data=None, a=None, b=None, *_ignored: not js_strict_equals(a, b),
}


def evaluate(logic: Any, data: dict[str, Any]) -> Any:
    return jsonLogic(logic, data, OPERATIONS)


def holds(logic: Any, data: dict[str, Any]) -> bool:
    """JsonLogic truthiness of the rule's result ([] and "" and 0 are false, as in JS)."""
    if logic is None:
        return True
    return to_bool(jsonLogic(logic, data, OPERATIONS))
