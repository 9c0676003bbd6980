"""Pure checks: JsonLogic rules, form schemas and questionnaires."""

import pytest

from yiciban.catalog.formschema import check_form, identity_changes, merge_fragments
from yiciban.catalog.questionnaire import check_answers, check_questionnaire, parse_questions
from yiciban.catalog.rules import check_rule, evaluate, holds, rule_variables


def rules_of(problems):
    return [p.rule for p in problems]


def test_check_rule_accepts_standard_jsonlogic():
    rule = {
        "and": [
            {"var": "sells_food"},
            {"some": [{"var": "food"}, {"in": [{"var": ""}, ["a", "b"]]}]},
            {">=": [{"var": "area"}, 100]},
        ]
    }
    assert check_rule(rule, known_vars={"sells_food", "food", "area"}) == []
    assert rule_variables(rule) == ["sells_food", "food", "area"]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"regex": ["a", "b"]}, "unknown_operator"),
        ({"log": "x"}, "unknown_operator"),
        ({"var": "nope"}, "unknown_variable"),
        ({"==": [1, 1], "!=": [1, 2]}, "one_operator"),
        ({"var": 1.5}, "bad_variable"),
        ({"missing": ["nope"]}, "unknown_variable"),
    ],
)
def test_check_rule_refuses(rule, expected):
    assert expected in rules_of(check_rule(rule, known_vars={"x"}))


def test_truthiness_follows_json_logic_js():
    assert holds(None, {}) is True  # no rule: always applies
    assert holds({"var": "x"}, {"x": []}) is False  # empty array is false in JsonLogic
    assert holds({"var": "x"}, {"x": "0"}) is True  # non-empty string is true
    assert holds({"in": ["a", {"var": "x"}]}, {}) is False  # missing answer
    assert holds({"<": [{"var": "n"}, 5]}, {"n": 3}) is True


# What json-logic-js (that is, JavaScript's == and ===) answers; panzi-json-logic alone
# answers the first and several of the string cases the other way.
JS_EQUALITY = [
    ("==", 0, None, False),
    ("==", None, None, True),
    ("==", False, None, False),
    ("==", "", None, False),
    ("==", "", 0, True),
    ("==", " ", 0, True),
    ("==", "0x10", 16, True),
    ("==", "1e3", 1000, True),
    ("==", "1_000", 1000, False),
    ("==", "inf", 0, False),
    ("==", False, 0, True),
    ("==", False, "", True),
    ("==", True, "1", True),
    ("==", True, "true", False),
    ("==", [1], 1, True),
    ("==", [1, 2], "1,2", True),
    ("==", [], False, True),
    ("==", [1], [1], False),  # two literals are two objects
    ("!=", 0, None, True),
    ("===", 1, 1.0, True),
    ("===", True, 1, False),
    ("===", "1", 1, False),
    ("===", None, None, True),
    ("!==", True, 1, True),
]


@pytest.mark.parametrize(("operator", "left", "right", "expected"), JS_EQUALITY)
def test_equality_follows_javascript(operator, left, right, expected):
    assert evaluate({operator: [left, right]}, {}) is expected
    assert evaluate({operator: [right, left]}, {}) is expected  # symmetric


def test_unanswered_number_question_is_not_zero():
    rule = {"if": [{"==": [{"var": "employees"}, 0]}, "none", "unknown or some"]}
    assert evaluate(rule, {}) == "unknown or some"
    assert evaluate(rule, {"employees": 0}) == "none"
    assert holds({"==": [{"var": "employees"}, 0]}, {}) is False


def test_merge_fragments_narrows_bounds_and_reports_conflicts():
    merged, conflicts = merge_fragments(
        [("a", {"type": "number", "minimum": 0}), ("b", {"minimum": 10, "maximum": 50})]
    )
    assert conflicts == [] and merged == {"type": "number", "minimum": 10, "maximum": 50}
    _m, conflicts = merge_fragments([("a", {"minimum": 60}), ("b", {"maximum": 50})])
    assert len(conflicts) == 1 and "取值范围为空" in conflicts[0]
    _m, conflicts = merge_fragments([("a", {"enum": ["x", "y"]}), ("b", {"enum": ["y", "x"]})])
    assert conflicts == []  # enum order does not matter
    _m, conflicts = merge_fragments([("a", {"format": "date"}), ("b", {"format": "date-time"})])
    assert "format" in conflicts[0]
    assert identity_changes({"type": "string", "maxLength": 5}, {"type": "string"}) == []
    assert identity_changes({"type": "string"}, {"type": "number"}) == ["type"]


def test_check_form():
    elements = {"a.b": {"type": "string"}, "a.c": {"type": "number"}}
    good = {
        "type": "object",
        "properties": {"b": {"x-element": "a.b"}, "c": {"x-element": "a.c", "minimum": 1}},
        "required": ["b"],
    }
    assert check_form(good, elements) == []
    bad = {
        "type": "object",
        "properties": {
            "b": {"x-element": "a.b"},
            "b2": {"x-element": "a.b"},
            "d": {"x-element": "a.d"},
            "e": {"title": "no element"},
        },
        "required": ["zzz"],
    }
    assert sorted(rules_of(check_form(bad, elements))) == [
        "duplicate_element",
        "missing_x_element",
        "unknown_element",
        "unknown_required",
    ]
    assert rules_of(check_form({"type": "object", "properties": 3}, elements)) == [
        "invalid_json_schema"
    ]


def test_questionnaire_checks():
    errors = check_questionnaire(
        [
            {"code": "ok", "label": "好", "type": "boolean"},
            {"code": "ok", "label": "重复", "type": "boolean"},
            {"code": "Bad-Code", "label": "x", "type": "boolean"},
            {"code": "pick", "label": "选", "type": "single_choice"},
            {"code": "n", "label": "数", "type": "text", "minimum": 1},
            {"code": "later", "label": "后", "type": "boolean", "show_if": {"var": "after"}},
            {"code": "after", "label": "更后", "type": "boolean", "colour": "red"},
        ]
    )
    assert [(e.field, e.rule) for e in errors] == [
        ("questionnaire[1].code", "duplicate"),
        ("questionnaire[2].code", "pattern"),
        ("questionnaire[3].choices", "required"),
        ("questionnaire[4].minimum", "not_allowed"),
        ("questionnaire[5].show_if.var", "unknown_variable"),  # may only look back
        ("questionnaire[6].colour", "unknown_key"),
    ]


def test_check_answers_accepts_partial_answers():
    questions = parse_questions(
        [
            {"code": "a", "label": "A", "type": "boolean", "required": True},
            {"code": "b", "label": "B", "type": "text"},
        ]
    )
    assert check_answers(questions, {}) == []
    assert check_answers(questions, {"a": None, "b": "好"}) == []
    assert [e.rule for e in check_answers(questions, {"b": "长" * 201})] == ["max_length"]
    assert [e.rule for e in check_answers(questions, [])] == ["not_object"]
