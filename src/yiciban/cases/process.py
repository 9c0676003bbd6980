"""Process templates as data (流程模板).

A template is a list of steps; each step names the role that acts and the actions it may
take. The engine knows these step kinds:

  accept               counter clerk checks completeness (受理): starts every item's clock
  review               reviewer gives an opinion (审查)
  inspect              inspector visits the site, jointly for several items (现场核查)
  approve              approver decides; must not be the item's reviewer (一审一核)
  review_approve       one person checks and decides (核验合一)
  decide_at_counter    decided when accepted: instant items (即办) and filings (备案)
  approve_on_commitment decided on the signed commitment (告知承诺) when accepted
  rules                decided by the template's rules (秒批), no person in the loop
  post_check           after a commitment approval, an inspector checks within N days
  deliver              every output handed over together (一窗出件)

A template whose deciding step may fail to decide (rules that fail, a commitment that was
not signed, an applicant who may not use commitments) names `fallback_steps`, the manual
path taken instead, and the reason is recorded on the item.

The built-in templates below are stored as version 1 the first time they are needed; an
administrator publishes a new version with services.process_template_publish, and each case
item keeps the version it started under. Item versions of the catalogue name their template
by code (`process_template`); an unknown code falls back to the template of the item's
approval mode."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yiciban.catalog.rules import check_rule
from yiciban.core.errors import FieldError
from yiciban.org.models import Role

from .models import ApprovalFlow, ItemState, ProcessTemplate

SYSTEM = "system"  # a step no person performs

# step kind -> (default role, allowed actions)
STEP_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "accept": (
        Role.COUNTER_CLERK,
        ("accept", "accept_with_deferrals", "request_supplement", "refuse_acceptance"),
    ),
    "review": (Role.REVIEWER, ("claim", "review", "suspend", "extend")),
    "inspect": (
        Role.INSPECTOR,
        ("claim", "inspection_schedule", "inspection_record", "inspection_reinspect"),
    ),
    "approve": (Role.APPROVER, ("claim", "approve", "refuse", "suspend", "extend")),
    "review_approve": (Role.APPROVER, ("claim", "approve", "refuse", "suspend", "extend")),
    "decide_at_counter": (Role.COUNTER_CLERK, ("accept",)),
    "approve_on_commitment": (SYSTEM, ()),
    "rules": (SYSTEM, ()),
    "post_check": (Role.INSPECTOR, ("claim", "post_check_record")),
    "deliver": (Role.COUNTER_CLERK, ("deliver",)),
}
# Steps at which an item waits for a person, and the item state while it waits.
WAITING_STEPS = {
    "review": ItemState.REVIEWING,
    "inspect": ItemState.INSPECTING,
    "approve": ItemState.APPROVING,
    "review_approve": ItemState.APPROVING,
}
# Steps that decide at acceptance without a task.
DECIDING_STEPS = frozenset({"decide_at_counter", "approve_on_commitment", "rules"})
DEFAULT_POST_CHECK_DAYS = 20

MANUAL_FALLBACK = [
    {
        "key": "review",
        "label": "审查",
        "role": "reviewer",
        "actions": list(STEP_KINDS["review"][1]),
    },
    {
        "key": "approve",
        "label": "审批",
        "role": "approver",
        "actions": list(STEP_KINDS["approve"][1]),
    },
]


def _step(key: str, label: str) -> dict:
    role, actions = STEP_KINDS[key]
    return {"key": key, "label": label, "role": str(role), "actions": list(actions)}


ACCEPT = _step("accept", "受理")
DELIVER = _step("deliver", "出件")

BUILTIN_TEMPLATES: dict[str, dict[str, Any]] = {
    "standard_review": {
        "name": "一般审批：受理—审查—审批—出件",
        "flow": ApprovalFlow.STANDARD,
        "steps": [ACCEPT, _step("review", "审查"), _step("approve", "审批"), DELIVER],
    },
    "review_with_inspection": {
        "name": "一般审批含现场核查：受理—审查—现场核查—审批—出件",
        "flow": ApprovalFlow.STANDARD,
        "steps": [
            ACCEPT,
            _step("review", "审查"),
            _step("inspect", "现场核查"),
            _step("approve", "审批"),
            DELIVER,
        ],
    },
    "merged_review": {
        "name": "核验合一：受理—核验并决定—出件",
        "flow": ApprovalFlow.MERGED_REVIEW,
        "steps": [ACCEPT, _step("review_approve", "核验并决定"), DELIVER],
    },
    "commitment_review": {
        "name": "告知承诺：受理即凭承诺决定—出件—事后核查",
        "flow": ApprovalFlow.COMMITMENT,
        "steps": [
            ACCEPT,
            _step("approve_on_commitment", "凭承诺决定"),
            DELIVER,
            _step("post_check", "承诺事项核查"),
        ],
        "fallback_steps": MANUAL_FALLBACK,
        "post_check_days": DEFAULT_POST_CHECK_DAYS,
    },
    "filing": {
        "name": "备案：受理即备案—出件",
        "flow": ApprovalFlow.FILING,
        "steps": [ACCEPT, _step("decide_at_counter", "备案"), DELIVER],
    },
    "instant": {
        "name": "即办：窗口当场办结—出件",
        "flow": ApprovalFlow.INSTANT,
        "steps": [ACCEPT, _step("decide_at_counter", "当场办结"), DELIVER],
    },
    "automatic_approval": {
        "name": "秒批：规则自动决定—出件（不符合规则转人工审查）",
        "flow": ApprovalFlow.AUTOMATIC,
        "steps": [_step("rules", "规则校验"), DELIVER],
        "fallback_steps": MANUAL_FALLBACK,
        # JsonLogic over {"form": {element…}, "applicant": {…}, "materials": {…},
        # "commitment": {"signed": bool}} (see rules.py)
        "rules": [
            {
                "code": "applicant_verified",
                "logic": {"var": "applicant.verified"},
                "message": "申请人未完成实名认证",
            },
            {
                "code": "not_blacklisted",
                "logic": {"!": [{"var": "applicant.blacklisted"}]},
                "message": "申请人被列入严重失信名单，不适用秒批",
            },
            {
                "code": "materials_complete",
                "logic": {"===": [{"var": "materials.outstanding"}, 0]},
                "message": "尚有必要材料未提交或容缺待补",
            },
            {
                "code": "commitment_signed",
                "logic": {"var": "commitment.signed"},
                "message": "申请人未签署告知承诺书",
            },
            {
                "code": "staff_health_certificates",
                "logic": {
                    "or": [
                        {"===": [{"var": "form.venue.staff_with_health_certificate"}, None]},
                        {">": [{"var": "form.venue.staff_with_health_certificate"}, 0]},
                    ]
                },
                "message": "从业人员须持有有效健康合格证明",
            },
        ],
    },
}

FLOW_DEFAULT_TEMPLATE = {
    ApprovalFlow.STANDARD: "standard_review",
    ApprovalFlow.MERGED_REVIEW: "merged_review",
    ApprovalFlow.COMMITMENT: "commitment_review",
    ApprovalFlow.FILING: "filing",
    ApprovalFlow.INSTANT: "instant",
    ApprovalFlow.AUTOMATIC: "automatic_approval",
}


def check_definition(definition: Any) -> list[FieldError]:
    """Everything wrong with a template definition; an empty list means usable."""
    if not isinstance(definition, dict):
        return [FieldError("definition", "not_object", _("模板定义必须是对象"))]
    errors: list[FieldError] = []
    steps = definition.get("steps")
    if not isinstance(steps, list) or not steps:
        return [FieldError("definition.steps", "required", _("模板至少要有一个环节"))]
    errors += _check_steps(steps, "definition.steps")
    keys = [s.get("key") for s in steps if isinstance(s, dict)]
    deciding = [k for k in keys if k in DECIDING_STEPS or k in ("approve", "review_approve")]
    if len(deciding) != 1 and not errors:
        errors.append(
            FieldError("definition.steps", "one_decision", _("模板必须恰有一个作出决定的环节"))
        )
    if "deliver" not in keys and not errors:
        errors.append(FieldError("definition.steps", "deliver", _("模板须有出件环节")))
    may_fail = any(k in ("rules", "approve_on_commitment") for k in keys)
    fallback = definition.get("fallback_steps")
    if may_fail:
        if not isinstance(fallback, list) or not fallback:
            errors.append(
                FieldError(
                    "definition.fallback_steps",
                    "required",
                    _("秒批或告知承诺模板须规定转人工审查的环节"),
                )
            )
        else:
            errors += _check_steps(fallback, "definition.fallback_steps")
            fallback_keys = [s.get("key") for s in fallback if isinstance(s, dict)]
            if not any(k in ("approve", "review_approve") for k in fallback_keys):
                errors.append(
                    FieldError(
                        "definition.fallback_steps", "one_decision", _("转人工环节须包含审批")
                    )
                )
    rules = definition.get("rules", [])
    if "rules" in keys:
        if not isinstance(rules, list) or not rules:
            errors.append(FieldError("definition.rules", "required", _("秒批模板须有规则")))
        else:
            for index, rule in enumerate(rules):
                where = f"definition.rules[{index}]"
                if not isinstance(rule, dict) or not rule.get("code") or not rule.get("message"):
                    errors.append(FieldError(where, "shape", _("规则须有 code、logic 与 message")))
                    continue
                errors += [
                    FieldError(f"{where}.logic{'.' + p.path if p.path else ''}", p.rule, p.message)
                    for p in check_rule(rule.get("logic"))
                ]
    days = definition.get("post_check_days")
    if "post_check" in keys and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
        errors.append(
            FieldError(
                "definition.post_check_days", "min_value", _("事后核查期限须为正整数（工作日）")
            )
        )
    return errors


def _check_steps(steps: list, where: str) -> list[FieldError]:
    errors: list[FieldError] = []
    roles = {str(r) for r in Role.values} | {SYSTEM}
    for index, step in enumerate(steps):
        path = f"{where}[{index}]"
        if not isinstance(step, dict) or step.get("key") not in STEP_KINDS:
            errors.append(
                FieldError(
                    f"{path}.key",
                    "choice",
                    _("环节须为以下之一：%(k)s") % {"k": "、".join(STEP_KINDS)},
                )
            )
            continue
        if step.get("role") not in roles:
            errors.append(FieldError(f"{path}.role", "choice", _("未知的角色")))
        allowed = set(STEP_KINDS[step["key"]][1])
        actions = step.get("actions", [])
        if not isinstance(actions, list) or any(a not in allowed for a in actions):
            errors.append(
                FieldError(
                    f"{path}.actions",
                    "choice",
                    _("该环节可用的操作为：%(a)s") % {"a": "、".join(sorted(allowed)) or "无"},
                )
            )
    return errors


def builtin_definition(code: str) -> dict:
    spec = BUILTIN_TEMPLATES[code]
    return {k: v for k, v in spec.items() if k not in ("name", "flow")}


def current_template(code: str) -> ProcessTemplate | None:
    """The newest version of template `code`; a built-in one is stored on first use."""
    template = ProcessTemplate.objects.filter(code=code).order_by("-version").first()
    if template is not None or code not in BUILTIN_TEMPLATES:
        return template
    spec = BUILTIN_TEMPLATES[code]
    try:
        with transaction.atomic():
            return ProcessTemplate.objects.create(
                code=code,
                version=1,
                name=spec["name"],
                flow=spec["flow"],
                definition=builtin_definition(code),
            )
    except IntegrityError:  # another request stored it first
        return ProcessTemplate.objects.filter(code=code).order_by("-version").first()


def template_for(code: str, approval_mode: str) -> ProcessTemplate:
    """The template an item version names, or that of its approval mode."""
    template = current_template(code) if code else None
    if template is None:
        template = current_template(FLOW_DEFAULT_TEMPLATE.get(approval_mode, "standard_review"))
    return template


def work_steps(template: ProcessTemplate, *, fallback: bool) -> list[dict]:
    """The steps an item goes through after acceptance (fallback: the manual path)."""
    if fallback:
        return list(template.definition.get("fallback_steps", []))
    return [s for s in template.steps if s["key"] not in ("accept", "deliver", "post_check")]


def deciding_step(template: ProcessTemplate) -> str:
    """The key of the step that decides on the template's main path."""
    for step in work_steps(template, fallback=False):
        if step["key"] in DECIDING_STEPS or step["key"] in ("approve", "review_approve"):
            return step["key"]
    return "approve"


def step_after(template: ProcessTemplate, key: str, *, fallback: bool) -> dict | None:
    steps = work_steps(template, fallback=fallback)
    keys = [s["key"] for s in steps]
    if key not in keys:
        return None
    index = keys.index(key)
    return steps[index + 1] if index + 1 < len(steps) else None


def step_definition(template: ProcessTemplate, key: str, *, fallback: bool) -> dict | None:
    for step in work_steps(template, fallback=fallback):
        if step["key"] == key:
            return step
    return None


def has_post_check(template: ProcessTemplate) -> bool:
    return any(s["key"] == "post_check" for s in template.steps)


def post_check_days(template: ProcessTemplate) -> int:
    return int(template.definition.get("post_check_days", DEFAULT_POST_CHECK_DAYS))
