"""The allowed transitions of articles and disclosure requests, each in one table. A service
looks its action up here (after locking the row); an action not allowed from the current
status is a Conflict (409)."""

from __future__ import annotations

from yiciban.core.errors import Conflict

from .models import ArticleStatus as A
from .models import DisclosureStatus as D
from .models import SuggestionStatus as S

# action: (statuses it may start from, status it leads to)
ARTICLE_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({A.DRAFT, A.RETURNED}), A.SUBMITTED),
    "return": (frozenset({A.SUBMITTED}), A.RETURNED),
    # approve leads to SCHEDULED; when the publication time has come it continues at once
    # with "publish" in the same transaction.
    "approve": (frozenset({A.SUBMITTED}), A.SCHEDULED),
    "publish": (frozenset({A.SCHEDULED}), A.PUBLISHED),
    "schedule_withdrawal": (frozenset({A.PUBLISHED}), A.WITHDRAWAL_SCHEDULED),
    "withdraw": (
        frozenset({A.SUBMITTED, A.SCHEDULED, A.PUBLISHED, A.WITHDRAWAL_SCHEDULED}),
        A.WITHDRAWN,
    ),
}

# Statuses in which the text of an article may still be changed.
ARTICLE_EDITABLE = frozenset({A.DRAFT, A.RETURNED})

DISCLOSURE_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "request_correction": (frozenset({D.RECEIVED}), D.CORRECTION_REQUESTED),
    "correct": (frozenset({D.CORRECTION_REQUESTED}), D.RECEIVED),
    "abandon": (frozenset({D.CORRECTION_REQUESTED}), D.ABANDONED),
    "consult": (frozenset({D.RECEIVED}), D.CONSULTING),
    "end_consultation": (frozenset({D.CONSULTING}), D.RECEIVED),
    "answer": (frozenset({D.RECEIVED, D.CONSULTING}), D.ANSWERED),
}

SUGGESTION_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "answer": (frozenset({S.RECEIVED}), S.ANSWERED),
}

# The extension is not a status of its own: it may be granted while the clock runs.
DISCLOSURE_EXTENDABLE = frozenset({D.RECEIVED, D.CONSULTING})


def next_status(table: dict[str, tuple[frozenset[str], str]], action: str, current: str) -> str:
    sources, target = table[action]
    if current not in sources:
        raise Conflict(
            f"当前状态为“{_label(current)}”，不能执行此操作。", code="invalid_transition"
        )
    return target


def _label(status: str) -> str:
    for choices in (A, D, S):
        if status in choices.values:
            return str(choices(status).label)
    return status
