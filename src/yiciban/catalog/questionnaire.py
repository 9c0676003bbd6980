"""Guidance questionnaires (智能导办): the shape of a question, checking a questionnaire
when it is saved, and checking answers against it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from yiciban.core.errors import FieldError

from .rules import check_rule

QUESTION_TYPES = ("boolean", "single_choice", "multi_choice", "number", "text")
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TEXT_MAX_LENGTH = 200


@dataclass(frozen=True)
class Question:
    code: str
    label: str
    type: str
    choices: tuple[tuple[str, str], ...]
    help_text: str
    required: bool
    show_if: Any
    minimum: float | None
    maximum: float | None

    @property
    def choice_values(self) -> frozenset[str]:
        return frozenset(value for value, _label in self.choices)

    def label_of(self, value: Any) -> str:
        if self.type == "boolean":
            return _("是") if value else _("否")
        if self.type in ("single_choice", "multi_choice"):
            labels = dict(self.choices)
            values = value if isinstance(value, list) else [value]
            return "、".join(labels.get(v, str(v)) for v in values)
        return str(value)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "type": self.type,
            "choices": [{"value": v, "label": label} for v, label in self.choices],
            "help_text": self.help_text,
            "required": self.required,
            "show_if": self.show_if,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }


QUESTION_KEYS = (
    "code",
    "label",
    "type",
    "choices",
    "help_text",
    "required",
    "show_if",
    "minimum",
    "maximum",
)


def normalize_question(question: dict) -> dict:
    """The stored form of a question: keys in a fixed order, code, label and type always,
    other keys only when they say something (so every way of writing the same question
    stores the same thing). Unknown keys are kept, last, for the checks to report."""
    known = {
        key: question[key]
        for key in QUESTION_KEYS
        if key in question
        and (
            key in ("code", "label", "type")
            or (
                question[key] not in (None, "", [])
                and not (key == "required" and question[key] is False)
            )
        )
    }
    return known | {k: v for k, v in question.items() if k not in QUESTION_KEYS}


def parse_questions(raw: list[dict]) -> tuple[Question, ...]:
    """Questions from their stored form (already checked by `check_questionnaire`)."""
    return tuple(
        Question(
            code=q["code"],
            label=q["label"],
            type=q["type"],
            choices=tuple((c["value"], c["label"]) for c in q.get("choices", [])),
            help_text=q.get("help_text", ""),
            required=bool(q.get("required", False)),
            show_if=q.get("show_if"),
            minimum=q.get("minimum"),
            maximum=q.get("maximum"),
        )
        for q in raw
    )


def check_questionnaire(raw: Any) -> list[FieldError]:
    """Every problem of a stored questionnaire; fields are paths inside it
    (`questionnaire[2].choices[0].value`)."""
    errors: list[FieldError] = []
    if not isinstance(raw, list):
        return [FieldError("questionnaire", "not_list", _("导办问题必须是列表"))]
    seen: set[str] = set()
    for index, question in enumerate(raw):
        where = f"questionnaire[{index}]"
        if not isinstance(question, dict):
            errors.append(FieldError(where, "not_object", _("每个问题必须是对象")))
            continue
        code = question.get("code")
        if not isinstance(code, str) or not CODE_PATTERN.match(code):
            errors.append(
                FieldError(
                    f"{where}.code",
                    "pattern",
                    _("问题编码须为小写字母开头的字母、数字、下划线（最长40位）：%(code)s")
                    % {"code": code},
                )
            )
            continue
        if code in seen:
            errors.append(
                FieldError(f"{where}.code", "duplicate", _("问题编码重复：%(c)s") % {"c": code})
            )
        seen.add(code)
        if not isinstance(question.get("label"), str) or not question.get("label"):
            errors.append(FieldError(f"{where}.label", "required", _("问题须有题干")))
        qtype = question.get("type")
        if qtype not in QUESTION_TYPES:
            errors.append(
                FieldError(
                    f"{where}.type",
                    "choice",
                    _("问题类型须为 %(types)s 之一：%(t)s")
                    % {"types": "、".join(QUESTION_TYPES), "t": qtype},
                )
            )
            continue
        choices = question.get("choices", [])
        if qtype in ("single_choice", "multi_choice"):
            errors += _check_choices(choices, where)
        elif choices:
            errors.append(
                FieldError(f"{where}.choices", "not_allowed", _("只有选择题可以设置选项"))
            )
        for bound in ("minimum", "maximum"):
            value = question.get(bound)
            if value is not None and (qtype != "number" or not _is_number(value)):
                errors.append(
                    FieldError(f"{where}.{bound}", "not_allowed", _("只有数字题可以设置上下限"))
                )
        show_if = question.get("show_if")
        if show_if is not None:
            # A question may depend only on questions asked before it.
            for problem in check_rule(show_if, known_vars=seen - {code}):
                errors.append(
                    FieldError(f"{where}.show_if.{problem.path}", problem.rule, problem.message)
                )
        unknown = set(question) - set(QUESTION_KEYS)
        for key in sorted(unknown):
            errors.append(
                FieldError(f"{where}.{key}", "unknown_key", _("未知属性：%(k)s") % {"k": key})
            )
    return errors


def _check_choices(choices: Any, where: str) -> list[FieldError]:
    if not isinstance(choices, list) or not choices:
        return [FieldError(f"{where}.choices", "required", _("选择题至少要有一个选项"))]
    errors = []
    values: set[str] = set()
    for index, choice in enumerate(choices):
        here = f"{where}.choices[{index}]"
        if not isinstance(choice, dict) or not isinstance(choice.get("value"), str):
            errors.append(FieldError(here, "not_object", _("选项须为 {value, label} 对象")))
            continue
        if choice["value"] in values:
            errors.append(
                FieldError(
                    f"{here}.value", "duplicate", _("选项值重复：%(v)s") % {"v": choice["value"]}
                )
            )
        values.add(choice["value"])
        if not isinstance(choice.get("label"), str) or not choice["label"]:
            errors.append(FieldError(f"{here}.label", "required", _("选项须有文字")))
    return errors


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_answers(questions: tuple[Question, ...], answers: Any) -> list[FieldError]:
    """Answers that break the questionnaire's types or choices, each naming its question
    as `answers.<code>`. Missing answers are not errors: guidance works on partial answers."""
    if not isinstance(answers, dict):
        return [FieldError("answers", "not_object", _("答案必须是对象"))]
    by_code = {q.code: q for q in questions}
    errors: list[FieldError] = []
    for code, value in answers.items():
        field = f"answers.{code}"
        question = by_code.get(code)
        if question is None:
            errors.append(
                FieldError(field, "unknown_question", _("没有这个问题：%(c)s") % {"c": code})
            )
            continue
        if value is None:
            continue
        if question.type == "boolean" and not isinstance(value, bool):
            errors.append(
                FieldError(field, "type", _("“%(q)s”须回答是或否") % {"q": question.label})
            )
        elif question.type == "single_choice":
            if not isinstance(value, str) or value not in question.choice_values:
                errors.append(_bad_choice(field, question, value))
        elif question.type == "multi_choice":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors.append(
                    FieldError(field, "type", _("“%(q)s”须为选项值列表") % {"q": question.label})
                )
            elif len(set(value)) != len(value):
                errors.append(
                    FieldError(field, "duplicate", _("“%(q)s”的选项重复") % {"q": question.label})
                )
            else:
                for v in value:
                    if v not in question.choice_values:
                        errors.append(_bad_choice(field, question, v))
        elif question.type == "number":
            if not _is_number(value):
                errors.append(
                    FieldError(field, "type", _("“%(q)s”须为数字") % {"q": question.label})
                )
            elif question.minimum is not None and value < question.minimum:
                errors.append(
                    FieldError(
                        field,
                        "minimum",
                        _("“%(q)s”不能小于 %(m)s") % {"q": question.label, "m": question.minimum},
                    )
                )
            elif question.maximum is not None and value > question.maximum:
                errors.append(
                    FieldError(
                        field,
                        "maximum",
                        _("“%(q)s”不能大于 %(m)s") % {"q": question.label, "m": question.maximum},
                    )
                )
        elif question.type == "text":
            if not isinstance(value, str):
                errors.append(
                    FieldError(field, "type", _("“%(q)s”须为文字") % {"q": question.label})
                )
            elif len(value) > TEXT_MAX_LENGTH:
                errors.append(
                    FieldError(
                        field,
                        "max_length",
                        _("“%(q)s”最多 %(n)s 字") % {"q": question.label, "n": TEXT_MAX_LENGTH},
                    )
                )
    return errors


def _bad_choice(field: str, question: Question, value: Any) -> FieldError:
    return FieldError(
        field,
        "choice",
        _("“%(q)s”没有选项 %(v)s，可选：%(all)s")
        % {"q": question.label, "v": value, "all": "、".join(v for v, _l in question.choices)},
    )
