"""The one table of allowed transitions for cases, case items, tasks and inspections.
Every state change in services.py goes through `move`, which refuses anything not listed
here with Conflict (409) naming the current state."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiciban.core.errors import Conflict

from .models import CaseState, InspectionState, ItemState, TaskState

C, IS, T, N = CaseState, ItemState, TaskState, InspectionState

# (current state, action) -> allowed next states
CASE_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (C.SUBMITTED, "accept"): frozenset({C.IN_PROGRESS, C.READY_FOR_DELIVERY}),
    (C.SUBMITTED, "request_supplement"): frozenset({C.SUPPLEMENT_REQUESTED}),
    (C.SUBMITTED, "refuse_acceptance"): frozenset({C.NOT_ACCEPTED}),
    (C.SUBMITTED, "withdraw"): frozenset({C.WITHDRAWN}),
    (C.SUPPLEMENT_REQUESTED, "supplement_provide"): frozenset({C.SUBMITTED}),
    (C.SUPPLEMENT_REQUESTED, "refuse_acceptance"): frozenset({C.NOT_ACCEPTED}),
    (C.SUPPLEMENT_REQUESTED, "withdraw"): frozenset({C.WITHDRAWN}),
    (C.IN_PROGRESS, "all_decided"): frozenset({C.READY_FOR_DELIVERY}),
    (C.IN_PROGRESS, "withdraw"): frozenset({C.WITHDRAWN}),
    (C.READY_FOR_DELIVERY, "deliver"): frozenset({C.DELIVERED}),
}

ITEM_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # acceptance moves each item to its first waiting step, or decides it at once
    (IS.SUBMITTED, "accept"): frozenset({IS.REVIEWING, IS.INSPECTING, IS.APPROVING, IS.APPROVED}),
    (IS.SUBMITTED, "refuse_acceptance"): frozenset({IS.NOT_ACCEPTED}),
    (IS.SUBMITTED, "withdraw"): frozenset({IS.WITHDRAWN}),
    (IS.REVIEWING, "review"): frozenset({IS.INSPECTING, IS.APPROVING}),
    (IS.INSPECTING, "inspection_done"): frozenset({IS.APPROVING}),
    (IS.APPROVING, "approve"): frozenset({IS.APPROVED}),
    (IS.APPROVING, "refuse"): frozenset({IS.REFUSED}),
    (IS.REVIEWING, "withdraw"): frozenset({IS.WITHDRAWN}),
    (IS.INSPECTING, "withdraw"): frozenset({IS.WITHDRAWN}),
    (IS.APPROVING, "withdraw"): frozenset({IS.WITHDRAWN}),
}

TASK_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (T.OPEN, "claim"): frozenset({T.CLAIMED}),
    (T.OPEN, "complete"): frozenset({T.DONE}),
    (T.OPEN, "cancel"): frozenset({T.CANCELLED}),
    (T.CLAIMED, "release"): frozenset({T.OPEN}),
    (T.CLAIMED, "complete"): frozenset({T.DONE}),
    (T.CLAIMED, "cancel"): frozenset({T.CANCELLED}),
}

INSPECTION_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (N.SCHEDULED, "record"): frozenset({N.PASSED, N.FAILED, N.RECTIFICATION}),
    (N.RECTIFICATION, "reinspect"): frozenset({N.PASSED, N.FAILED}),
}

TABLES = {
    "case": (CASE_TRANSITIONS, CaseState),
    "item": (ITEM_TRANSITIONS, ItemState),
    "task": (TASK_TRANSITIONS, TaskState),
    "inspection": (INSPECTION_TRANSITIONS, InspectionState),
}
LABELS = {
    "case": gettext_lazy("办件"),
    "item": gettext_lazy("事项"),
    "task": gettext_lazy("任务"),
    "inspection": gettext_lazy("现场核查"),
}


def allowed(table: str, state: str, action: str) -> frozenset[str]:
    return TABLES[table][0].get((state, action), frozenset())


def can(table: str, state: str, action: str) -> bool:
    return bool(allowed(table, state, action))


def check(table: str, obj, action: str, target: str | None = None) -> None:
    """Raise Conflict unless `action` (to `target`, when given) is allowed from the
    object's current state."""
    transitions, states = TABLES[table]
    targets = transitions.get((obj.state, action), frozenset())
    if not targets or (target is not None and target not in targets):
        raise Conflict(
            _("%(what)s当前状态为“%(state)s”，不能执行“%(action)s”")
            % {
                "what": LABELS[table],
                "state": states(obj.state).label,
                "action": ACTION_LABELS.get(action, action),
            },
            code="invalid_state",
        )


def move(table: str, obj, action: str, target: str) -> None:
    """Check and apply one transition on the (locked) object; the caller saves it."""
    check(table, obj, action, target)
    obj.state = target


ACTION_LABELS = {
    "accept": gettext_lazy("受理"),
    "request_supplement": gettext_lazy("一次性告知补正"),
    "refuse_acceptance": gettext_lazy("不予受理"),
    "withdraw": gettext_lazy("撤回"),
    "supplement_provide": gettext_lazy("提交补正材料"),
    "all_decided": gettext_lazy("全部办结"),
    "deliver": gettext_lazy("出件"),
    "review": gettext_lazy("审查"),
    "inspection_done": gettext_lazy("完成现场核查"),
    "approve": gettext_lazy("准予"),
    "refuse": gettext_lazy("不予"),
    "claim": gettext_lazy("认领"),
    "release": gettext_lazy("退回待认领"),
    "complete": gettext_lazy("办结"),
    "cancel": gettext_lazy("取消"),
    "record": gettext_lazy("记录核查结果"),
    "reinspect": gettext_lazy("复查"),
}
