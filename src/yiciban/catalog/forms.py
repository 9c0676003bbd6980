"""Forms of the catalogue pages: the search box, and the guidance questionnaire read from a
posted form or a query string.

The questionnaire form only *reads* answers (true/false, choice values, numbers); whether
they fit the questionnaire is decided by the catalogue's own check (the same one the API
uses), whose errors are put back next to their questions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from yiciban.core.errors import FieldError

from .questionnaire import Question

INTEGER = re.compile(r"^[+-]?\d+$")
DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
TRUE, FALSE = "true", "false"


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("搜索事项"),
        required=False,
        max_length=100,
        strip=True,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("例如：开饭店、营业执照、新生儿落户")}
        ),
        error_messages={"max_length": _("关键词最多 %(limit_value)s 个字")},
    )


def _read_number(text: str) -> Any:
    if INTEGER.match(text):
        return int(text)
    if DECIMAL.match(text):
        return float(text)
    return text  # not a number: the questionnaire check names the question


def _read(question: Question, data: QueryDict) -> tuple[bool, Any]:
    """(answered, value) of one question in the submitted data."""
    if question.type == "multi_choice":
        values = data.getlist(question.code)
        if not values:
            return False, None
        # The form sends an empty marker before the boxes, so "none ticked" is an answer
        # ("none of these"), distinct from a question never shown.
        return True, [v for v in values if v != ""]
    raw = data.get(question.code, "")
    text = raw.strip() if isinstance(raw, str) else raw
    if text == "":
        return False, None
    if question.type == "boolean":
        return True, {TRUE: True, FALSE: False}.get(text, text)
    if question.type == "number":
        return True, _read_number(text)
    return True, text


class AnswersForm:
    """Answers to a bundle's questionnaire from form data (POST body or query string)."""

    def __init__(self, questions: Iterable[Question], data: QueryDict | None = None):
        self.questions = tuple(questions)
        self.is_bound = data is not None
        self.answers: dict[str, Any] = {}
        # what the visitor typed, to show back in the form even when it is wrong
        self.raw: dict[str, Any] = {}
        self.errors: dict[str, list[str]] = {}
        if data is None:
            return
        for question in self.questions:
            answered, value = _read(question, data)
            if answered:
                self.answers[question.code] = value
                self.raw[question.code] = (
                    data.getlist(question.code)
                    if question.type == "multi_choice"
                    else data.get(question.code, "").strip()
                )

    def add_errors(self, errors: Iterable[FieldError]) -> None:
        """Puts the questionnaire check's errors (`answers.<code>`) next to their question."""
        for error in errors:
            code = error.field.removeprefix("answers.")
            self.errors.setdefault(code, []).append(str(error.message))

    def valid_answers(self) -> dict[str, Any]:
        """The answers without those in error: guidance still runs on what is right."""
        return {code: value for code, value in self.answers.items() if code not in self.errors}


def answers_query(answers: dict[str, Any], codes: Iterable[str] | None = None) -> str:
    """A query string for `answers` (only `codes` when given, in that order), read back by
    AnswersForm — so a notice can be printed, bookmarked or sent as a link."""
    pairs: list[tuple[str, str]] = []
    for code in codes if codes is not None else answers:
        if code not in answers:
            continue
        value = answers[code]
        if isinstance(value, bool):
            pairs.append((code, TRUE if value else FALSE))
        elif isinstance(value, list):
            # the empty marker keeps "none of these" apart from "not answered"
            pairs += [(code, "")] + [(code, str(v)) for v in value]
        else:
            pairs.append((code, str(value)))
    return urlencode(pairs)
