"""Every write of the case engine. Each service is one transaction: it locks what it
changes (case, then item, then task — always in that order), checks the transition table,
writes the change, the case event, the audit event and the applicant's notification
together, or nothing at all.

Applicant: case_submit, case_supplement_provide, case_material_provide, case_withdraw.
Counter (综合受理): case_accept, case_accept_with_deferrals, case_request_supplement,
case_refuse_acceptance, case_deliver.
Back office: task_claim, task_release, item_review, item_approve, item_refuse,
inspection_schedule, inspection_record, inspection_reinspect, post_check_record,
suspension_start, suspension_end, extension_grant.
Administration: process_template_publish, api_token_create, api_token_revoke."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import secrets
from collections.abc import Iterable, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker

from yiciban.accounts import selectors as account_selectors
from yiciban.accounts.models import Authorisation, Enterprise, Person
from yiciban.archive import selectors as archive_selectors
from yiciban.archive import services as archive_services
from yiciban.archive.models import Origin as ArchiveOrigin
from yiciban.catalog import reuse
from yiciban.catalog import selectors as catalog_selectors
from yiciban.catalog import services as catalog_services
from yiciban.catalog.formschema import effective_property, form_elements
from yiciban.catalog.models import BundleVersion, DataElement, ItemVersion, MaterialKind
from yiciban.core import audit, context
from yiciban.core.calendar import add_working_days
from yiciban.core.documents import DEFAULT_FORMATS, document_open
from yiciban.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from yiciban.core.models import Document
from yiciban.core.queue import enqueue, enqueued, task_row
from yiciban.core.statements import Columns, Statement, insert_together, reserve_keys
from yiciban.ledger.services import ledger_append, ledger_unsaved
from yiciban.notifications.services import notification_send
from yiciban.org import selectors as org_selectors
from yiciban.org.models import Role, ServicePoint

from . import conf, deadlines, hooks, process, rules, transitions
from .models import (
    ACTIVE_TASK_STATES,
    DECIDED_ITEM_STATES,
    RUNNING_ITEM_STATES,
    ApiToken,
    ApprovalFlow,
    Case,
    CaseChannel,
    CaseEvent,
    CaseItem,
    CaseMaterial,
    CaseNumberCounter,
    CaseOutput,
    CaseState,
    Commitment,
    Decision,
    DecisionBasis,
    DecisionOutcome,
    Delivery,
    DeliveryMethod,
    Extension,
    Inspection,
    InspectionState,
    ItemState,
    MaterialStatus,
    OutputKind,
    ProcessTemplate,
    SupplementNotice,
    Suspension,
    SuspensionKind,
    Task,
    TaskKind,
    TaskState,
)

MIB = 1024 * 1024
TEXT_MAX = 2000
FRONT_OFFICE_ROLES = (Role.COUNTER_CLERK, Role.ASSISTED_SERVICE_AGENT)
STEP_TASK_KIND = {
    "review": TaskKind.REVIEW,
    "inspect": TaskKind.INSPECT,
    "approve": TaskKind.APPROVE,
    "review_approve": TaskKind.APPROVE,
    "post_check": TaskKind.POST_CHECK,
}
FLOW_DECISION_BASIS = {
    ApprovalFlow.INSTANT: DecisionBasis.INSTANT,
    ApprovalFlow.FILING: DecisionBasis.FILING,
}


# ---------------------------------------------------------------------------------------
# small helpers


def _today() -> dt.date:
    return timezone.localdate()


def _require_login(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录"), code="login_required")


def _raise_if(errors: list[FieldError], message: str | None = None) -> None:
    if errors:
        raise ValidationFailed(message or errors[0].message, errors)


def _text(value: str, field_name: str, label: str, errors: list[FieldError], *, required=True):
    value = (value or "").strip()
    if required and not value:
        errors.append(FieldError(field_name, "required", _("请填写%(f)s") % {"f": label}))
    elif len(value) > TEXT_MAX:
        errors.append(
            FieldError(
                field_name, "max_length", _("%(f)s不能超过%(n)d个字") % {"f": label, "n": TEXT_MAX}
            )
        )
    return value


def _event(case: Case, kind: str, actor, *, item: CaseItem | None = None, note="", data=None):
    """Record a case event and its ledger entry (in the caller's transaction). Inside
    `_batched_writes(case)` both are held back and written together at its end."""
    event = CaseEvent(
        case=case,
        case_item=item,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        on_behalf_of=case.on_behalf_of,
        note=note,
        data=data or {},
        channel=context.current().channel,
    )
    batch = getattr(case, "_batch", None)
    if batch is not None:
        batch.events.append(event)
        return event
    event.save(force_insert=True)
    ledger_append(**_ledger_entry(event))
    return event


@dataclass
class _Batch:
    rows: list[list]  # groups of new rows written before the events (the case and its rows)
    events: list[CaseEvent] = field(default_factory=list)
    audits: list[dict] = field(default_factory=list)  # audit.unsaved's arguments
    notices: list[dict] = field(default_factory=list)


@contextmanager
def _batched_writes(case: Case, actor, rows: Sequence[Sequence] = ()):
    """Hold back the case's events, audit events and notices until the block ends. Then
    `rows` (new rows of the case not written yet, the case first), the events, the audit
    events, the events' ledger entries and the notices' background task are written as one
    insert (`insert_together`: on PostgreSQL one statement after one that reserves the
    keys, atomic by itself). Nothing is written if the block raises."""
    batch = _Batch(rows=[list(group) for group in rows])
    case._batch = batch
    try:
        yield batch.events
    finally:
        case._batch = None
    events = batch.events
    now = timezone.now()
    for event in events:
        event.occurred_at = now  # stamped here: the ledger entry quotes it
    append = ledger_unsaved(entries=[_ledger_entry(e) for e in events])
    reserve_keys([*batch.rows, events, append.entries])
    groups = [*batch.rows, events, [audit.unsaved(**a) for a in batch.audits]]
    groups += [append.entries, append.queue()]
    task = arguments = None
    if batch.notices:
        from .tasks import send_case_notices

        arguments = {
            "case_id": case.pk,
            "actor_id": getattr(actor, "pk", None),
            "notices": batch.notices,
        }
        task = task_row(send_case_notices, **arguments)
        if task is not None:  # the database queue: the task's row goes in with the others
            groups.append([task])
    insert_together(groups)
    if events:
        append.written()
    if task is not None:
        enqueued(task)
    elif arguments is not None:  # another queue: told once the rows are written
        enqueue(send_case_notices, **arguments)


def _ledger_entry(event: CaseEvent) -> dict:
    """The ledger entry of a case event: the case number, event, item position, actor id and
    time in clear, produced by the item's department (its USCC) or "cases"; the rest (notes,
    data, who was represented) only as a SHA-256."""
    item = event.case_item
    details = {
        "note": event.note,
        "data": event.data,
        "on_behalf_of": event.on_behalf_of,
        "channel": event.channel,
    }
    return {
        "kind": "case.event",
        "producer": item.department.uscc if item is not None else "cases",
        "payload": {
            "case": event.case.number,
            "event": event.kind,
            "item": item.position if item is not None else None,
            "actor": event.actor_id,
            "time": event.occurred_at.isoformat(),
            "data_sha256": _fingerprint(details),
        },
    }


def _audit(actor, action: str, obj, changes: dict, case: Case) -> None:
    """Write the audit event; inside `_batched_writes(case)` it is written at the block's
    end, with `obj`'s key as it is then."""
    arguments = {"actor": actor, "action": action, "obj": obj, "changes": changes}
    arguments["on_behalf_of"] = case.on_behalf_of
    batch = getattr(case, "_batch", None)
    if batch is not None:
        batch.audits.append(arguments)
    else:
        audit.record(**arguments)


def _notify(case: Case, actor, kind: str, subject: str, body: str) -> None:
    """Tell the applicant: in the app (the person's login, or the account that submitted
    online) and by SMS when a phone number is known. Inside `_batched_writes(case)` the
    notice is only queued (one background task for all of them, sent by `yiciban worker`)."""
    notice = {"kind": kind, "subject": subject, "body": body}
    batch = getattr(case, "_batch", None)
    if batch is not None:
        batch.notices.append(notice)
        return
    _send_notice(case, actor, notice)


def _send_notice(case: Case, actor, notice: dict) -> None:
    person = case.applicant_person or case.acting_person
    if person is None and case.applicant_enterprise_id:
        person = case.applicant_enterprise.legal_representative
    user = person.user if person is not None and person.user_id else None
    if user is None and case.channel != CaseChannel.COUNTER:
        user = case.submitted_by
    phone = person.phone if person is not None and person.phone_encrypted else ""
    channels = ["in_app"] if user is not None else []
    if phone:
        channels.append("sms")
    if not channels:
        return
    notification_send(
        actor=actor if getattr(actor, "pk", None) else None,
        recipient_user=user,
        phone=phone,
        channels=channels,
        subject=notice["subject"],
        body=notice["body"],
        kind=f"cases.{notice['kind']}",
        link=f"/cases/{case.number}/",
        related=case,
    )


def case_notices_send(*, case_id: int, actor_id: int | None, notices: list[dict]) -> int:
    """Send the applicant the notices a submission queued (the background half of
    `_notify`; run by the `send_case_notices` task). Returns how many were sent."""
    with transaction.atomic():
        case = (
            Case.objects.select_related(
                "applicant_person__user",
                "applicant_enterprise__legal_representative__user",
                "acting_person__user",
                "submitted_by",
            )
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            return 0
        actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
        for notice in notices:
            _send_notice(case, actor, notice)
    return len(notices)


def _lock_case(case_id: int) -> Case:
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related(
            "region",
            "applicant_person__user",
            "applicant_enterprise__legal_representative__user",
            "acting_person",
            "submitted_by",
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound(_("没有这个办件"), code="case_not_found")
    return case


def _bump(obj) -> None:
    obj.version += 1


def _is_front_office(actor, case: Case) -> bool:
    return any(org_selectors.has_role(actor, r, region=case.region) for r in FRONT_OFFICE_ROLES)


def _require_counter(actor, case: Case) -> None:
    """Acceptance and delivery are done by the general counter of the case's place
    (受审分离: never by the back office)."""
    org_selectors.require_role(actor, Role.COUNTER_CLERK, region=case.region)


def _is_applicant_side(actor, case: Case) -> bool:
    """The account that submitted, the applicant's own login, or a person who may act for
    the applicant enterprise today."""
    if getattr(actor, "pk", None) is None:
        return False
    if case.submitted_by_id == actor.pk and case.channel != CaseChannel.COUNTER:
        return True
    person = account_selectors.person_for_user(actor)
    if person is None:
        return False
    if case.applicant_person_id == person.pk:
        return True
    return bool(
        case.applicant_enterprise_id
        and account_selectors.person_can_act_for(person, case.applicant_enterprise)
    )


def _require_applicant_side(actor, case: Case) -> None:
    if not _is_applicant_side(actor, case):
        raise PermissionDenied(_("只有申请人或其授权经办人可以办理"), code="not_applicant")


def _fingerprint(payload: dict) -> str:
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _person_label(user) -> str:
    if user is None:
        return _("系统")
    return getattr(user, "display_name", "") or user.get_username()


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


# ---------------------------------------------------------------------------------------
# forms and materials


def _schema_message(error) -> tuple[str, str]:
    """(rule, Chinese message) for one jsonschema error."""
    title = error.schema.get("title") if isinstance(error.schema, dict) else None
    label = f"“{title}”" if title else _("该项")
    rule = str(error.validator)
    value = error.validator_value
    messages = {
        "type": _("%(l)s的类型不正确，应为 %(v)s") % {"l": label, "v": value},
        "enum": _("%(l)s只能是以下之一：%(v)s")
        % {"l": label, "v": "、".join(str(v) for v in value or [])},
        "pattern": _("%(l)s的格式不正确") % {"l": label},
        "format": _("%(l)s的格式不正确") % {"l": label},
        "minimum": _("%(l)s不能小于 %(v)s") % {"l": label, "v": value},
        "exclusiveMinimum": _("%(l)s必须大于 %(v)s") % {"l": label, "v": value},
        "maximum": _("%(l)s不能大于 %(v)s") % {"l": label, "v": value},
        "exclusiveMaximum": _("%(l)s必须小于 %(v)s") % {"l": label, "v": value},
        "minLength": _("%(l)s至少 %(v)s 个字") % {"l": label, "v": value},
        "maxLength": _("%(l)s最多 %(v)s 个字") % {"l": label, "v": value},
        "minItems": _("%(l)s至少选 %(v)s 项") % {"l": label, "v": value},
        "maxItems": _("%(l)s最多选 %(v)s 项") % {"l": label, "v": value},
        "uniqueItems": _("%(l)s有重复的选项") % {"l": label},
    }
    return rule, messages.get(rule, _("%(l)s不符合要求：%(m)s") % {"l": label, "m": error.message})


def form_errors(form_data: Any, schema: dict) -> list[FieldError]:
    """Every way `form_data` breaks `schema`, each named by its path from `form`
    (e.g. `form.base.enterprise.name`)."""
    if not isinstance(form_data, dict):
        return [FieldError("form", "type", _("申请表须为对象"))]
    if not schema:
        return []
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors: list[FieldError] = []
    missing: set[str] = set()
    for error in sorted(validator.iter_errors(form_data), key=lambda e: list(e.absolute_path)):
        path = ".".join(["form", *(str(p) for p in error.absolute_path)])
        if error.validator == "required":
            # one error per missing property, each carrying the whole list: name each once
            instance = error.instance if isinstance(error.instance, dict) else {}
            properties = error.schema.get("properties", {})
            for name in error.validator_value:
                where = f"{path}.{name}"
                if name not in instance and where not in missing:
                    missing.add(where)
                    title = properties.get(name, {}).get("title", name)
                    errors.append(FieldError(where, "required", _("请填写“%(t)s”") % {"t": title}))
            continue
        if error.validator == "additionalProperties":
            errors.append(FieldError(path, "additional_properties", _("申请表含有未知字段")))
            continue
        rule, message = _schema_message(error)
        errors.append(FieldError(path, rule, message))
    return errors


def item_form_schema(version: ItemVersion) -> dict:
    """An item's own form with each property completed by its data element's registered
    schema (type, pattern, bounds …), as the catalogue merges them for bundles."""
    form = version.form_schema or {}
    if not form:
        return {}
    codes = [element for _n, element, _p, _r in form_elements(form)]
    fragments = dict(DataElement.objects.filter(code__in=codes).values_list("code", "schema"))
    properties = {
        name: effective_property(prop, fragments) if isinstance(prop, dict) else prop
        for name, prop in form.get("properties", {}).items()
    }
    return {**form, "properties": properties}


def is_commitment_material(code: str) -> bool:
    """Material kinds that are a commitment letter are satisfied by the commitment signed on
    the platform (网签), by convention of the material list's codes."""
    return (
        code == "commitment.signed"
        or code.startswith("commitment.")
        or code.endswith(".commitment")
    )


@dataclass(frozen=True)
class MaterialInput:
    kind: str
    document_id: int | None = None
    reuse: str = ""  # a reference the archive offered for this kind


_DOCUMENT = Columns(Document, "d")
# one statement per number of ids
_DOCUMENTS = Statement(
    lambda quote, count: (
        f"SELECT {_DOCUMENT.select(quote)} FROM {quote(Document._meta.db_table)} d "
        f"WHERE d.{quote(Document._meta.pk.column)} IN ({', '.join(['%s'] * count)}) "
        f"AND d.{quote(Document._meta.get_field('uploaded_by').column)} = %s"
    )
)


def _documents_of(actor, ids: Iterable[int]) -> dict[int, Document]:
    """Documents the actor uploaded, by id; an id that is someone else's is absent."""
    wanted = [i for i in ids if isinstance(i, int)]
    if not wanted:
        return {}
    rows = _DOCUMENTS.fetchall([*wanted, actor.pk], variant=len(wanted))
    return {d.pk: d for d in map(_DOCUMENT.load, rows)}


def _check_document(
    document: Document | None, entry: dict, where: str, errors: list[FieldError]
) -> bool:
    if document is None:
        errors.append(FieldError(where, "unknown_document", _("没有这个文件，或它不是您上传的")))
        return False
    formats = tuple(entry.get("formats") or DEFAULT_FORMATS)
    if document.format not in formats:
        errors.append(
            FieldError(
                where,
                "format",
                _("“%(m)s”只接受 %(f)s 格式，该文件为 %(d)s")
                % {
                    "m": entry["name"],
                    "f": "、".join(f.upper() for f in formats),
                    "d": document.format.upper(),
                },
            )
        )
        return False
    limit = int(entry.get("max_size_mb") or 10) * MIB
    if document.size > limit:
        errors.append(
            FieldError(
                where,
                "max_size",
                _("“%(m)s”不能大于 %(n)s MB") % {"m": entry["name"], "n": limit // MIB},
            )
        )
        return False
    return True


# ---------------------------------------------------------------------------------------
# submission


@dataclass
class Submission:
    case: Case
    created: bool
    # a new case still waiting for the counter: the rows just written (items, materials,
    # commitments, events), for selectors.submitted_case_status
    rows: dict | None = None


@dataclass
class _Plan:
    actor: Any
    region: Any
    bundle_version: BundleVersion | None
    item_version: ItemVersion | None
    title: str
    items: list[dict]  # {"version": ItemVersion, "role", "depends_on", "template"}
    materials: list[dict]  # CaseMaterial fields
    commitments: list[str]  # implementation codes
    person: Person | None
    enterprise: Enterprise | None
    acting_person: Person | None
    authorisation: Authorisation | None
    assisted: bool
    channel: str
    service_point: ServicePoint | None
    answers: dict
    form_data: dict
    elements: dict
    green_channel: bool
    green_reason: str
    record: hooks.ApplicantRecord
    key: str
    fingerprint: str
    kinds: dict[str, MaterialKind] = field(default_factory=dict)

    @property
    def needs_counter(self) -> bool:
        """Whether an item's process has an acceptance step (else the case is 秒批)."""
        return any(
            any(step["key"] == "accept" for step in entry["template"].steps) for entry in self.items
        )


def case_submit(
    *,
    actor,
    bundle_code: str = "",
    item_code: str = "",
    answers: dict | None = None,
    form_data: dict | None = None,
    materials: Sequence[MaterialInput] = (),
    commitments: Sequence[str] = (),
    applicant_id_number: str = "",
    enterprise_uscc: str = "",
    channel: str = CaseChannel.ONLINE,
    service_point_code: str = "",
    green_channel: bool = False,
    green_channel_reason: str = "",
    idempotency_key: str = "",
) -> Submission:
    """File an application for a bundle (with the guidance answers) or a single item.

    Idempotent with `idempotency_key`: a retry with the same key and the same request
    returns the case the first call made (created=False); the same key with a different
    request is refused (409). Validates the form against the (merged) JSON Schema, naming
    each field by its path; requires every material of the notice to be provided, reused,
    shared by another department, signed on the platform, or deferrable. Items whose
    template decides by rules alone are decided at once; otherwise the case waits for the
    counter."""
    _require_login(actor)
    key = (idempotency_key or "").strip()
    if len(key) > 100 or not key.isprintable():
        raise ValidationFailed.on_field(
            "Idempotency-Key", "max_length", _("Idempotency-Key 须为不超过100个可打印字符")
        )
    request = {
        "bundle": bundle_code,
        "item": item_code,
        "answers": answers or {},
        "form": form_data or {},
        "materials": [(m.kind, m.document_id, m.reuse) for m in materials],
        "commitments": sorted(commitments),
        "applicant": applicant_id_number,
        "enterprise": enterprise_uscc,
        "channel": channel,
        "service_point": service_point_code,
        "green": [green_channel, green_channel_reason],
    }
    fingerprint = _fingerprint(request)
    # A retry is rare, so the key is not looked up first: the case row's unique
    # (submitter, key) refuses a second case, and whatever refuses the request — that
    # constraint, or a check that fails now though it passed the first time — asks for
    # the earlier case before answering. A retry thus answers with its case (or 409 if
    # the key came with another request) and costs at most a skipped number.
    try:
        plan = _plan_submission(
            actor=actor,
            bundle_code=bundle_code,
            item_code=item_code,
            answers=answers,
            form_data=form_data,
            materials=materials,
            commitments=commitments,
            applicant_id_number=applicant_id_number,
            enterprise_uscc=enterprise_uscc,
            channel=channel,
            service_point_code=service_point_code,
            green_channel=green_channel,
            green_channel_reason=green_channel_reason,
            key=key,
            fingerprint=fingerprint,
        )
    except DomainError:
        replay = _replay(actor, key, fingerprint) if key else None
        if replay is None:
            raise
        return replay
    # The number is taken in its own short transaction, so concurrent submissions of one
    # county wait on the counter row only for that moment, not for the whole submission; a
    # submission that fails afterwards leaves a gap, never a number given twice.
    number = _next_number(plan.region.code[:6], _today())
    try:
        # A case for the counter is one insert, atomic by itself; 秒批 writes more. Inside
        # a caller's transaction, a savepoint: a refused insert must leave it usable.
        own = not plan.needs_counter or connection.in_atomic_block
        with transaction.atomic() if own else nullcontext():
            case, rows = _write_submission(plan, number)
    except IntegrityError:
        # a retry with the same key (or a concurrent copy of it) made the case first
        replay = _replay(actor, key, fingerprint) if key else None
        if replay is None:
            raise
        return replay
    return Submission(case=case, created=True, rows=rows)


# The earlier case of a retried submission (its id; the case is read only when found).
_REPLAY = Statement(
    lambda quote, _variant: (
        f"SELECT {quote('id')} FROM {quote(Case._meta.db_table)} "
        f"WHERE {quote('submitted_by_id')} = %s AND {quote('idempotency_key')} = %s"
    )
)


def _replay(actor, key: str, fingerprint: str) -> Submission | None:
    found = _REPLAY.fetchone([actor.pk, key])
    if found is None:
        return None
    existing = Case.objects.get(pk=found[0])
    if existing.request_fingerprint != fingerprint:
        raise Conflict(
            _("该 Idempotency-Key 已用于另一份申请（办件 %(n)s），请换一个新的")
            % {"n": existing.number},
            code="idempotency_key_reused",
        )
    return Submission(case=existing, created=False)


def _plan_submission(
    *,
    actor,
    bundle_code,
    item_code,
    answers,
    form_data,
    materials,
    commitments,
    applicant_id_number,
    enterprise_uscc,
    channel,
    service_point_code,
    green_channel,
    green_channel_reason,
    key,
    fingerprint,
) -> _Plan:
    errors: list[FieldError] = []
    bundle_code = (bundle_code or "").strip()
    item_code = (item_code or "").strip()
    if bool(bundle_code) == bool(item_code):
        raise ValidationFailed.on_field(
            "bundle", "one_of", _("请选择一件事（bundle）或单个事项（item），二者只能选其一")
        )
    if channel not in CaseChannel.values:
        raise ValidationFailed.on_field(
            "channel", "choice", _("申请渠道须为：%(c)s") % {"c": "、".join(CaseChannel.values)}
        )
    answers = answers if answers is not None else {}
    form_data = form_data if form_data is not None else {}
    online_person = (
        account_selectors.person_for_user(actor) if channel != CaseChannel.COUNTER else None
    )
    if channel != CaseChannel.COUNTER and online_person is None:
        # an online applicant is a registered person (real-name), checked before anything else
        raise PermissionDenied(_("请先完成实名登记，再提交申请"), code="person_required")

    # what is applied for
    bundle_version = item_version = None
    if bundle_code:
        try:
            guidance = catalog_selectors.bundle_guidance(bundle_code, answers)
        except NotFound as exc:
            raise ValidationFailed.on_field("bundle", "unknown", str(exc.message)) from None
        unanswered = [
            FieldError(f"answers.{code}", "required", _("请回答导办问题：%(q)s") % {"q": code})
            for code in guidance["unanswered"]
            if any(q.code == code and q.required for q in _questions(bundle_code))
        ]
        _raise_if(unanswered)
        statics = _bundle_statics(catalog_selectors.compiled_bundle(bundle_code))
        bundle_version = statics.bundle_version(guidance["bundle"]["bundle_version_id"])
        region = bundle_version.bundle.region
        title = bundle_version.name
        schema = guidance["merged_schema"]
        notice = [dict(m) for m in guidance["notice"]["materials"]]
        wanted = [
            (g["item_version_id"], g["role"], statics.depends.get(g["code"], []))
            for g in guidance["items"]
        ]
    else:
        try:
            item_version = catalog_selectors.item_detail(item_code)
        except NotFound as exc:
            raise ValidationFailed.on_field("item", "unknown", str(exc.message)) from None
        region = item_version.item.department.region
        title = item_version.name
        schema = item_form_schema(item_version)
        notice = [
            {
                "kind": m.kind.code,
                "name": m.kind.name,
                "source": m.kind.source,
                "data_category": m.kind.data_category,
                "fetchable": m.kind.fetchable,
                "formats": list(m.kind.formats),
                "max_size_mb": m.kind.max_size_mb,
                "requirement": m.requirement,
                "deferrable": m.deferrable,
                "submit": not m.kind.fetchable,
                "items": [{"code": item_version.item.implementation_code}],
            }
            for m in item_version.materials.all()
        ]
        wanted = [(item_version.pk, "base", [])]
        statics = _Statics()

    versions = statics.item_versions([w[0] for w in wanted])
    templates = statics.templates(
        {(versions[w[0]].process_template, versions[w[0]].approval_mode) for w in wanted}
    )
    items = [
        {
            "version": versions[vid],
            "role": role,
            "depends_on": deps,
            "template": templates[(versions[vid].process_template, versions[vid].approval_mode)],
        }
        for vid, role, deps in wanted
    ]

    # who applies
    assisted = channel == CaseChannel.COUNTER
    person = enterprise = acting = authorisation = None
    uscc = (enterprise_uscc or "").strip()
    if assisted:
        if not any(org_selectors.has_role(actor, r, region=region) for r in FRONT_OFFICE_ROLES):
            raise PermissionDenied(
                _("只有本地综合受理员或帮办代办员可以代为提交窗口申请"), code="not_front_office"
            )
        if applicant_id_number:
            person = account_selectors.person_find_by_id_number(applicant_id_number)
            if person is None:
                errors.append(
                    FieldError(
                        "applicant.id_number", "unknown", _("该身份证号尚未登记，请先登记申请人")
                    )
                )
        if uscc:
            enterprise = _enterprise(uscc, errors)
        if person is None and enterprise is None and not errors:
            errors.append(
                FieldError("applicant", "required", _("请指明申请人（身份证号或统一社会信用代码）"))
            )
        acting = person
        if person is not None and enterprise is not None:
            authorisation = _authorisation(person, enterprise)
            if authorisation is None:
                errors.append(
                    FieldError(
                        "applicant.id_number",
                        "not_authorised",
                        _("该自然人没有代表该企业办理的有效授权"),
                    )
                )
            person = None  # the enterprise applies; the person acts for it
    else:
        if applicant_id_number:
            raise PermissionDenied(
                _("网上申请只能以本人或本人可代表的企业名义提交"), code="not_front_office"
            )
        acting = online_person
        if uscc:
            enterprise = _enterprise(uscc, errors)
            if enterprise is not None:
                authorisation = _authorisation(acting, enterprise)
                if authorisation is None:
                    raise PermissionDenied(
                        _("您没有代表该企业办理的有效授权"), code="not_authorised"
                    )
        else:
            person = acting

    service_point = None
    if service_point_code:
        service_point = ServicePoint.objects.filter(code=service_point_code, is_active=True).first()
        if service_point is None:
            errors.append(FieldError("service_point", "unknown", _("没有这个服务网点")))
    elif assisted:
        assignment = (
            org_selectors.role_assignments_for(actor)
            .filter(role__in=FRONT_OFFICE_ROLES, service_point__isnull=False)
            .first()
        )
        service_point = assignment.service_point if assignment else None

    # green channel: staff flag it at the counter; applicant-record providers flag it too
    green_reason = (green_channel_reason or "").strip()
    if green_channel:
        if not assisted:
            raise PermissionDenied(
                _("绿色通道由受理人员或帮办代办员确认"), code="green_channel_staff_only"
            )
        if not green_reason:
            errors.append(FieldError("green_channel_reason", "required", _("请填写绿色通道理由")))
    subject = (
        hooks.ApplicantSubject("enterprise", enterprise.uscc, enterprise=enterprise)
        if enterprise is not None
        else hooks.ApplicantSubject("person", str(person.pk if person else ""), person=person)
    )
    record = hooks.applicant_record(subject, verified=enterprise is not None or person is not None)
    if record.green_channel and not green_channel:
        green_channel, green_reason = True, record.green_channel_reason or _("重点企业（项目）")
    if record.blacklisted:
        green_channel = False

    # the form
    errors += form_errors(form_data, schema)

    # commitments
    codes = {i["version"].item.implementation_code for i in items}
    signed: list[str] = []
    for index, code in enumerate(commitments):
        if code not in codes:
            errors.append(
                FieldError(
                    f"commitments[{index}]", "unknown", _("本次申请不含该事项：%(c)s") % {"c": code}
                )
            )
        elif code not in signed:
            signed.append(code)

    # materials
    material_rows, kinds = _plan_materials(
        statics=statics,
        actor=actor,
        notice=notice,
        materials=materials,
        signed=signed,
        enterprise=enterprise,
        person=person or acting,
        errors=errors,
    )
    _raise_if(errors, _("申请内容不完整或有误，请按提示修改"))
    return _Plan(
        actor=actor,
        region=region,
        bundle_version=bundle_version,
        item_version=item_version,
        title=title,
        items=items,
        materials=material_rows,
        commitments=signed,
        person=person,
        enterprise=enterprise,
        acting_person=acting,
        authorisation=authorisation,
        assisted=assisted,
        channel=channel,
        service_point=service_point,
        answers=answers,
        form_data=form_data,
        elements=rules.element_values(form_data, schema),
        green_channel=green_channel,
        green_reason=green_reason,
        record=record,
        key=key,
        fingerprint=fingerprint,
        kinds=kinds,
    )


def _questions(bundle_code: str):
    return catalog_selectors.compiled_bundle(bundle_code).questions


def _enterprise(uscc: str, errors: list[FieldError]) -> Enterprise | None:
    try:
        return account_selectors.enterprise_by_uscc(uscc)
    except NotFound as exc:
        errors.append(FieldError("enterprise_uscc", "unknown", str(exc.message)))
        return None


def _authorisation(person: Person, enterprise: Enterprise) -> Authorisation | None:
    return (
        account_selectors.authorisations_in_force(person)
        .filter(enterprise=enterprise)
        .order_by("kind", "id")
        .first()
    )


def _current_templates(wanted: set[tuple[str, str]]) -> dict[tuple[str, str], ProcessTemplate]:
    found: dict[tuple[str, str], ProcessTemplate] = {}
    by_code: dict[str, ProcessTemplate] = {}
    codes = {code for code, _mode in wanted if code}
    for template in ProcessTemplate.objects.filter(code__in=codes).order_by("code", "-version"):
        by_code.setdefault(template.code, template)
    for code, mode in wanted:
        template = by_code.get(code) or process.template_for(code, mode)
        found[code, mode] = template
    return found


class _Statics:
    """The catalogue rows a submission plan reads (bundle version, item versions with their
    department and region, current process templates, material kinds), loaded on demand.
    A plain instance serves one submission; `_bundle_statics` keeps one per compiled bundle,
    so they are read once per catalogue revision and day in this process. The rows are
    shared between threads and only ever read."""

    def __init__(self, compiled=None):
        self.compiled = compiled
        self.depends: dict[str, list[str]] = (
            {m.code: [compiled.members[i].code for i in m.depends_on] for m in compiled.members}
            if compiled is not None
            else {}
        )
        self._bundle_versions: dict[int, BundleVersion] = {}
        self._item_versions: dict[int, ItemVersion] = {}
        self._templates: dict[tuple[str, str], ProcessTemplate] = {}
        self._kinds: dict[str, MaterialKind] = {}

    def bundle_version(self, pk: int) -> BundleVersion:
        found = self._bundle_versions.get(pk)
        if found is None:
            found = BundleVersion.objects.select_related("bundle__region").get(pk=pk)
            self._bundle_versions[pk] = found
        return found

    def item_versions(self, pks: list[int]) -> dict[int, ItemVersion]:
        missing = [pk for pk in pks if pk not in self._item_versions]
        if missing:
            self._item_versions.update(
                (v.pk, v)
                for v in ItemVersion.objects.filter(pk__in=missing).select_related(
                    "item__department__region"
                )
            )
        return {pk: self._item_versions[pk] for pk in pks}

    def templates(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], ProcessTemplate]:
        missing = {key for key in wanted if key not in self._templates}
        if missing:
            self._templates.update(_current_templates(missing))
        return {key: self._templates[key] for key in wanted}

    def material_kinds(self, codes: Iterable[str]) -> dict[str, MaterialKind]:
        codes = list(codes)
        missing = [code for code in codes if code not in self._kinds]
        if missing:
            self._kinds.update((k.code, k) for k in MaterialKind.objects.filter(code__in=missing))
        return {code: self._kinds[code] for code in codes if code in self._kinds}


# By bundle code: the statics of the compiled bundle they were made for. A new catalogue
# revision (or day) gives a new compiled bundle, hence new statics; a new process template
# version bumps the catalogue revision (process_template_publish).
_bundle_statics_cache: dict[str, _Statics] = {}


def _bundle_statics(compiled) -> _Statics:
    found = _bundle_statics_cache.get(compiled.code)
    if found is None or found.compiled is not compiled:
        found = _bundle_statics_cache[compiled.code] = _Statics(compiled)
    return found


def _plan_materials(
    *, statics: _Statics, actor, notice, materials, signed, enterprise, person, errors
):
    by_kind = {entry["kind"]: entry for entry in notice}
    given: dict[str, tuple[int, MaterialInput]] = {}
    for index, material in enumerate(materials):
        if material.kind not in by_kind:
            errors.append(
                FieldError(
                    f"materials[{index}].kind",
                    "unknown",
                    _("本次申请不需要该材料：%(k)s") % {"k": material.kind},
                )
            )
        elif material.kind in given:
            errors.append(
                FieldError(f"materials[{index}].kind", "duplicate", _("同一材料只能提交一次"))
            )
        elif material.document_id is None and not material.reuse:
            errors.append(
                FieldError(
                    f"materials[{index}].document", "required", _("请上传文件或选择复用的材料")
                )
            )
        else:
            given[material.kind] = (index, material)
    documents = _documents_of(actor, [m.document_id for _i, m in given.values()])
    archive: dict[str, str] = {}
    if any(m.reuse for _i, m in given.values()) and reuse.has_archive_lookup():
        subject = (
            reuse.ArchiveSubject("enterprise", enterprise.uscc)
            if enterprise is not None
            else reuse.ArchiveSubject("person", person.id_number)
            if person is not None
            else None
        )
        if subject is not None:
            archive = reuse.lookup_archive(subject, frozenset(by_kind), frozenset()).materials
    kinds = statics.material_kinds(by_kind)
    rows = []
    for code, entry in by_kind.items():
        item_codes = [i["code"] for i in entry.get("items", [])]
        row = {
            "kind": kinds[code],
            "kind_code": code,
            "name": entry["name"],
            "requirement": entry["requirement"],
            "deferrable": bool(entry["deferrable"]),
            "items": item_codes,
            "document": None,
            "reference": "",
        }
        if code in given:
            index, material = given[code]
            if material.document_id is not None:
                document = documents.get(material.document_id)
                if _check_document(document, entry, f"materials[{index}].document", errors):
                    row.update(status=MaterialStatus.PROVIDED, document=document)
            elif archive.get(code) == material.reuse:
                row.update(status=MaterialStatus.REUSED, reference=material.reuse)
            else:
                errors.append(
                    FieldError(
                        f"materials[{index}].reuse",
                        "not_reusable",
                        _("档案中没有可复用的“%(m)s”") % {"m": entry["name"]},
                    )
                )
        elif entry.get("fetchable"):
            row.update(status=MaterialStatus.SHARED, reference=entry.get("data_category", ""))
        elif is_commitment_material(code) and item_codes and set(item_codes) <= set(signed):
            row.update(status=MaterialStatus.SIGNED)
        elif entry["requirement"] == "required" and not entry["deferrable"]:
            errors.append(
                FieldError(
                    f"materials.{code}", "required", _("缺少必要材料：%(m)s") % {"m": entry["name"]}
                )
            )
        row.setdefault("status", MaterialStatus.MISSING)
        rows.append(row)
    return rows, kinds


def _counter_upsert(quote, own_transaction: bool) -> str:
    table = quote(CaseNumberCounter._meta.db_table)
    region, on, last = (
        quote(CaseNumberCounter._meta.get_field(f).column) for f in ("region_code", "day", "last")
    )
    sql = (
        f"INSERT INTO {table} ({region}, {on}, {last}) VALUES (%s, %s, 1) "
        f"ON CONFLICT ({region}, {on}) DO UPDATE SET {last} = {table}.{last} + 1 "
        f"RETURNING {last}"
    )
    if own_transaction:
        # PostgreSQL, the statement its own transaction: its commit need not wait for the
        # WAL flush. As with a sequence, a number is never given twice even after a crash:
        # the case that carries it commits later, synchronously, and that flush covers the
        # counter's earlier WAL record; a number lost to a crash was carried by no case.
        sql += ", (SELECT set_config('synchronous_commit', 'off', true))"
    return sql


_COUNTER_UPSERT = Statement(_counter_upsert)


def _next_number(region_code: str, day: dt.date) -> str:
    """The next case number of a county and day: 430623-20261127-000123. One statement
    (INSERT … ON CONFLICT DO UPDATE … RETURNING, PostgreSQL and SQLite alike): the counter
    row is locked only for that statement, and a number is never given twice."""
    own_transaction = connection.vendor == "postgresql" and not connection.in_atomic_block
    row = _COUNTER_UPSERT.fetchone(
        [region_code, connection.ops.adapt_datefield_value(day)], variant=own_transaction
    )
    return f"{region_code}-{day:%Y%m%d}-{row[0]:06d}"


def _limit_for(version: ItemVersion, green: bool) -> int:
    limit = int(version.promised_limit)
    if green:
        limit = math.floor(limit * (1 - conf.green_channel_cut()))
    return limit


def _write_submission(plan: _Plan, number: str) -> tuple[Case, dict | None]:
    """The new case and its rows. A case that waits for the counter is ONE insert (on
    PostgreSQL one statement, after one reserving the keys; no transaction needed around
    it); a case decided at once (秒批) is written first, then accepted and decided — the
    caller wraps that in a transaction."""
    actor = plan.actor
    case = Case(
        number=number,
        region=plan.region,
        bundle_version=plan.bundle_version,
        item_version=plan.item_version,
        title=plan.title,
        applicant_person=plan.person,
        applicant_enterprise=plan.enterprise,
        acting_person=plan.acting_person,
        acting_authorisation=plan.authorisation,
        submitted_by=actor,
        assisted_by=actor if plan.assisted else None,
        channel=plan.channel,
        service_point=plan.service_point,
        answers=plan.answers,
        form_data=plan.form_data,
        green_channel=plan.green_channel,
        green_channel_reason=plan.green_reason,
        idempotency_key=plan.key,
        request_fingerprint=plan.fingerprint,
    )
    items = [
        CaseItem(
            case=case,
            position=position,
            item_version=entry["version"],
            code=entry["version"].item.implementation_code,
            name=entry["version"].name,
            role=entry["role"],
            depends_on=entry["depends_on"],
            department=entry["version"].item.department,
            process_template=entry["template"],
            green_channel=plan.green_channel,
            limit=_limit_for(entry["version"], plan.green_channel),
            unit=entry["version"].promised_limit_unit,
        )
        for position, entry in enumerate(plan.items)
    ]
    materials = [CaseMaterial(case=case, **row) for row in plan.materials]
    by_code = {item.code: item for item in items}
    signer = plan.acting_person or plan.person
    commitments = []
    for code in plan.commitments:
        text = _commitment_text(by_code[code], plan)
        commitments.append(
            Commitment(
                case=case,
                case_item=by_code[code],
                text=text,
                text_sha256=hashlib.sha256(text.encode()).hexdigest(),
                signer=signer,
                signed_by=actor,
            )
        )
    rows = [[case], items, materials, commitments]
    decided_at_once = not plan.needs_counter
    if decided_at_once:
        # 秒批: accepting and deciding the items updates these rows through the ORM
        reserve_keys(rows)
        insert_together(rows)
        rows = []
    with _batched_writes(case, actor, rows) as events:
        _event(
            case,
            "submitted",
            actor,
            note=_("通过%(c)s提交") % {"c": CaseChannel(plan.channel).label},
            data={"items": [i.code for i in items], "green_channel": plan.green_channel},
        )
        _audit(
            actor,
            "cases.case_submit",
            case,
            {
                "number": number,
                "items": [i.code for i in items],
                "channel": plan.channel,
                "green_channel": plan.green_channel,
            },
            case,
        )
        _notify(
            case,
            actor,
            "submitted",
            _("申请已提交：%(t)s") % {"t": case.title},
            _("您的申请已提交，办件编号 %(n)s。我们将尽快审核材料并告知受理结果。")
            % {"n": case.number},
        )
        if decided_at_once:
            # 秒批 without a counter: accepted by the system and decided at once
            _accept(case, None, _today(), record=plan.record, deferrals={})
    if decided_at_once:
        return case, None
    # what the submitter's answer shows, without reading it back (selectors.case_status)
    return case, {
        "items": items,
        "materials": materials,
        "commitments": commitments,
        "events": events,
    }


def _commitment_text(item: CaseItem, plan: _Plan) -> str:
    conditions = "；".join(item.item_version.conditions) or _("法律法规规定的条件")
    applicant = (
        plan.enterprise.name if plan.enterprise else (plan.person or plan.acting_person).name
    )
    return _(
        "本人（单位）%(a)s 申请办理“%(i)s”，已知晓行政机关告知的全部条件：%(c)s。"
        "现承诺已经符合上述条件，所提交材料真实有效，愿意承担不实承诺的法律责任，"
        "接受行政机关的事后核查。"
    ) % {"a": applicant, "i": item.name, "c": conditions}


# ---------------------------------------------------------------------------------------
# acceptance


def _record_of(case: Case) -> hooks.ApplicantRecord:
    if case.applicant_enterprise_id:
        subject = hooks.ApplicantSubject(
            "enterprise", case.applicant_enterprise.uscc, enterprise=case.applicant_enterprise
        )
    else:
        subject = hooks.ApplicantSubject(
            "person", str(case.applicant_person_id), person=case.applicant_person
        )
    return hooks.applicant_record(subject, verified=True)


def _accept(case: Case, actor, today: dt.date, *, record, deferrals: dict[str, dt.date]):
    transitions.check("case", case, "accept")
    materials = list(case.materials.all())
    for material in materials:
        if material.status != MaterialStatus.MISSING or material.requirement != "required":
            continue
        if material.kind_code in deferrals:
            material.status = MaterialStatus.DEFERRED
            material.due_on = deferrals[material.kind_code]
            material.save(update_fields=["status", "due_on"])
    outstanding_by_item: dict[str, int] = {}
    for material in materials:
        if material.outstanding:
            for code in material.items:
                outstanding_by_item[code] = outstanding_by_item.get(code, 0) + 1
    now = timezone.now()
    case.accepted_at = now
    case.accepted_by = actor if getattr(actor, "pk", None) else None
    items = list(
        case.items.select_related("process_template", "item_version", "department")
        .prefetch_related("suspensions")
        .order_by("position", "id")
    )
    _event(case, "accepted", actor, note=_("材料齐全，予以受理") if actor else _("系统自动受理"))
    signed = set(case.commitments.values_list("case_item_id", flat=True))
    elements = rules.element_values(case.form_data, _schema_of(case))
    for item in items:
        if item.state != ItemState.SUBMITTED:
            continue
        item.started_on = today
        data = rules.rule_data(
            elements=elements,
            applicant=record.as_rule_data(),
            outstanding=outstanding_by_item.get(item.code, 0),
            commitment_signed=item.pk in signed,
        )
        _enter_first_step(case, item, actor, today, record=record, rule_input=data)
    decided = all(i.state in DECIDED_ITEM_STATES for i in items)
    transitions.move(
        "case", case, "accept", CaseState.READY_FOR_DELIVERY if decided else CaseState.IN_PROGRESS
    )
    if decided:
        case.decided_at = now
    case.save(update_fields=["state", "accepted_at", "accepted_by", "decided_at", "updated_at"])
    body = _("您的申请（办件编号 %(n)s）已受理，共 %(k)d 个事项，进度可在办件详情中查看。") % {
        "n": case.number,
        "k": len(items),
    }
    if decided:
        body = _("您的申请（办件编号 %(n)s）已全部办结，可以领取办理结果。") % {"n": case.number}
    _notify(case, actor, "accepted", _("申请已受理：%(t)s") % {"t": case.title}, body)
    return items


def _schema_of(case: Case) -> dict:
    """The form schema the case was validated against (for reading data elements)."""
    if case.item_version_id:
        return item_form_schema(case.item_version)
    try:
        guidance = catalog_selectors.bundle_guidance(case.bundle_version.bundle.code, case.answers)
    except (NotFound, Conflict, ValidationFailed):
        return {}
    return guidance["merged_schema"]


def _enter_first_step(case, item, actor, today, *, record, rule_input) -> None:
    template = item.process_template
    steps = process.work_steps(template, fallback=False)
    first = steps[0]["key"] if steps else "approve"
    transitions.check("item", item, "accept")
    if first in process.WAITING_STEPS:
        _enter_waiting(case, item, steps[0], today, action="accept")
        return
    if first == "decide_at_counter":
        basis = FLOW_DECISION_BASIS.get(template.flow, DecisionBasis.INSTANT)
        _decide(
            case,
            item,
            actor,
            DecisionOutcome.APPROVE,
            basis,
            today,
            action="accept",
            reasons=_("窗口当场办结") if basis == DecisionBasis.INSTANT else _("备案完成"),
        )
        return
    if first == "approve_on_commitment":
        reasons = []
        if not rule_input["commitment"]["signed"]:
            reasons.append(_("申请人未签署告知承诺书"))
        if record.blacklisted:
            reasons.append(_("申请人被列入严重失信名单，不适用告知承诺"))
        if not reasons:
            _decide(
                case,
                item,
                actor=None,
                outcome=DecisionOutcome.APPROVE,
                basis=DecisionBasis.COMMITMENT,
                today=today,
                action="accept",
                reasons=_("申请人已签署告知承诺书，凭承诺准予办理"),
            )
            if process.has_post_check(template):
                due = add_working_days(today, process.post_check_days(template)).due
                step = next(s for s in template.steps if s["key"] == "post_check")
                _open_task(
                    case,
                    item,
                    step,
                    due_on=due,
                    warn=deadlines.warn_from(due, conf.warning_days(), "working"),
                )
            return
        _fall_back(case, item, today, reasons)
        return
    if first == "rules":
        outcome = rules.evaluate(template.definition.get("rules", []), rule_input)
        if outcome.passed:
            _decide(
                case,
                item,
                None,
                DecisionOutcome.APPROVE,
                DecisionBasis.AUTOMATIC,
                today,
                action="accept",
                reasons=_("符合全部秒批规则"),
                rule_results=[r.as_dict() for r in outcome.results],
            )
            return
        _fall_back(
            case, item, today, outcome.failures, rule_results=[r.as_dict() for r in outcome.results]
        )
        return
    raise Conflict(_("流程模板的首个环节无法执行：%(s)s") % {"s": first}, code="bad_template")


def _fall_back(case, item, today, reasons: list[str], rule_results=None) -> None:
    steps = process.work_steps(item.process_template, fallback=True)
    item.on_fallback = True
    item.fallback_reason = "；".join(reasons)
    _event(
        case,
        "fallback_to_manual",
        None,
        item=item,
        note=item.fallback_reason,
        data={"rules": rule_results or []},
    )
    _enter_waiting(case, item, steps[0], today, action="accept")


def _enter_waiting(case, item, step: dict, today, *, action: str) -> None:
    transitions.move("item", item, action, process.WAITING_STEPS[step["key"]])
    item.step = step["key"]
    deadlines.refresh(item, today)
    _bump(item)
    item.save()
    _open_task(case, item, step)


def _open_task(case, item, step: dict, *, due_on=None, warn=None) -> Task:
    post_check = step["key"] == "post_check"
    return Task.objects.create(
        case=case,
        case_item=item,
        kind=STEP_TASK_KIND[step["key"]],
        role=step.get("role") or process.STEP_KINDS[step["key"]][0],
        department=item.department,
        due_on=due_on if post_check else item.due_on,
        warn_from=warn if post_check else item.warn_from,
        suspended=False if post_check else item.suspended,
        green_channel=item.green_channel,
    )


def _decide(
    case,
    item,
    actor,
    outcome,
    basis,
    today,
    *,
    action,
    reasons="",
    legal_basis="",
    appeal_info="",
    rule_results=None,
) -> Decision:
    target = ItemState.APPROVED if outcome == DecisionOutcome.APPROVE else ItemState.REFUSED
    transitions.move("item", item, action, target)
    now = timezone.now()
    if item.started_on is None:
        item.started_on = today
    deadlines.refresh(item, today)
    item.decided_at = now
    item.on_time = item.due_on is None or today <= item.due_on
    item.suspended = False
    item.step = "deliver"
    _bump(item)
    item.save()
    decision = Decision.objects.create(
        case_item=item,
        outcome=outcome,
        basis=basis,
        reasons=reasons,
        legal_basis=legal_basis or item.item_version.legal_basis,
        appeal_info=appeal_info if outcome == DecisionOutcome.REFUSE else "",
        rule_results=rule_results or [],
        decided_by=actor if getattr(actor, "pk", None) else None,
    )
    _event(
        case,
        "decided",
        actor,
        item=item,
        note=reasons,
        data={"outcome": outcome, "basis": basis, "on_time": item.on_time},
    )
    return decision


def _after_item_decision(case: Case, actor) -> None:
    """When the last item is decided the case is ready for delivery (一窗出件)."""
    states = list(case.items.values_list("state", flat=True))
    if case.state == CaseState.IN_PROGRESS and all(s in DECIDED_ITEM_STATES for s in states):
        transitions.move("case", case, "all_decided", CaseState.READY_FOR_DELIVERY)
        case.decided_at = timezone.now()
        case.save(update_fields=["state", "decided_at", "updated_at"])
        _event(case, "ready_for_delivery", actor)
        _notify(
            case,
            actor,
            "ready_for_delivery",
            _("办理结果可以领取：%(t)s") % {"t": case.title},
            _("办件 %(n)s 的全部事项已办结，请到窗口一次领取全部结果，或选择邮寄、电子送达。")
            % {"n": case.number},
        )


def _parse_deferrals(case: Case, deferrals: dict[str, int | None], today) -> dict[str, dt.date]:
    missing = {
        m.kind_code: m
        for m in case.materials.all()
        if m.status == MaterialStatus.MISSING and m.requirement == "required"
    }
    errors: list[FieldError] = []
    result: dict[str, dt.date] = {}
    for code, days in deferrals.items():
        where = f"deferrals.{code}"
        material = missing.get(code)
        if material is None:
            errors.append(
                FieldError(where, "unknown", _("该材料不在待补材料之中：%(k)s") % {"k": code})
            )
            continue
        if not material.deferrable:
            errors.append(
                FieldError(
                    where, "not_deferrable", _("“%(m)s”是关键材料，不能容缺") % {"m": material.name}
                )
            )
            continue
        days = conf.deferral_days() if days is None else days
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 60:
            errors.append(FieldError(where, "range", _("补交期限须为1至60个工作日")))
            continue
        result[code] = add_working_days(today, days).due
    not_covered = [m for code, m in missing.items() if code not in result]
    errors += [
        FieldError(
            f"materials.{m.kind_code}",
            "required",
            _("“%(m)s”尚未提交，须容缺受理或一次性告知补正") % {"m": m.name},
        )
        for m in not_covered
    ]
    _raise_if(errors, _("材料不齐全，不能直接受理"))
    return result


def case_accept(*, actor, case_id: int) -> Case:
    """Accept a complete case at the general counter: every item's clock starts today."""
    return _case_accept(actor=actor, case_id=case_id, deferrals={})


def case_accept_with_deferrals(
    *, actor, case_id: int, deferrals: dict[str, int | None] | Sequence[str]
) -> Case:
    """容缺受理: accept although the listed non-key materials are missing; each must follow
    within its number of working days (CASES_DEFERRAL_DAYS when None)."""
    if not isinstance(deferrals, dict):
        deferrals = {code: None for code in deferrals}
    if not deferrals:
        raise ValidationFailed.on_field("deferrals", "required", _("请列出容缺后补的材料"))
    return _case_accept(actor=actor, case_id=case_id, deferrals=deferrals)


def _case_accept(*, actor, case_id: int, deferrals: dict) -> Case:
    _require_login(actor)
    today = _today()
    with transaction.atomic():
        case = _lock_case(case_id)
        _require_counter(actor, case)
        if case.state != CaseState.SUBMITTED:
            transitions.check("case", case, "accept")
        due = _parse_deferrals(case, deferrals, today)
        record = _record_of(case)
        items = _accept(case, actor, today, record=record, deferrals=due)
        _archive_checked_materials(case, actor)
        if due:
            _event(
                case,
                "accepted_with_deferrals",
                actor,
                note=_("容缺受理"),
                data={k: v.isoformat() for k, v in due.items()},
            )
        _audit(
            actor,
            "cases.case_accept",
            case,
            {
                "state": case.state,
                "deferred": {k: v.isoformat() for k, v in due.items()},
                "items": {i.code: i.state for i in items},
            },
            case,
        )
    return case


def _archive_checked_materials(case: Case, actor) -> None:
    """一企一档: what the clerk accepted (uploads whose originals were checked at the counter)
    goes into the applicant's archive as counter-checked, so that the next application
    reuses it instead of asking again. Only the first copy of the same bytes is kept; a
    clerk without the right to file into that subject's archive (another region) files
    nothing, and the acceptance goes on."""
    if not (case.applicant_enterprise_id or case.applicant_person_id):
        return
    materials = [
        m
        for m in case.materials.select_related("document")
        if m.status == MaterialStatus.PROVIDED and m.document_id is not None
    ]
    if not materials:
        return
    archive = archive_services.archive_open(
        enterprise=case.applicant_enterprise if case.applicant_enterprise_id else None,
        person=None if case.applicant_enterprise_id else case.applicant_person,
    )
    held = archive_selectors.held_sha256(archive, [m.document.sha256 for m in materials])
    for material in materials:
        if material.document.sha256 in held:
            continue
        with document_open(material.document) as content:
            try:
                archive_services.archive_document_add(
                    actor=actor,
                    archive=archive,
                    content=content,
                    filename=material.document.original_name,
                    title=material.name,
                    origin=ArchiveOrigin.COUNTER_CHECKED,
                    material_kind=material.kind_code,
                )
            except PermissionDenied:
                return  # not this clerk's region: the subject's own counter files it
        held.add(material.document.sha256)


def case_request_supplement(
    *, actor, case_id: int, missing: Sequence[dict], message: str = ""
) -> SupplementNotice:
    """一次性告知: ONE notice naming every material and field to correct. A case gets one
    notice only; after the applicant's answer the counter accepts or refuses."""
    _require_login(actor)
    errors: list[FieldError] = []
    message = _text(message, "message", _("说明"), errors, required=False)
    if not missing:
        errors.append(FieldError("missing", "required", _("请列出需要补正的全部内容")))
    _raise_if(errors)
    today = _today()
    with transaction.atomic():
        case = _lock_case(case_id)
        _require_counter(actor, case)
        transitions.check("case", case, "request_supplement")
        if SupplementNotice.objects.filter(case=case).exists():
            raise Conflict(
                _("本办件已发出过一次性告知，不能再次告知补正"), code="supplement_already_sent"
            )
        materials = {m.kind_code: m for m in case.materials.all()}
        entries, to_reset = [], []
        for index, entry in enumerate(missing):
            where = f"missing[{index}]"
            reason = str(entry.get("reason", "")).strip()[:500] if isinstance(entry, dict) else ""
            kind = entry.get("kind") if isinstance(entry, dict) else None
            field_name = entry.get("field") if isinstance(entry, dict) else None
            if kind:
                material = materials.get(kind)
                if material is None:
                    errors.append(
                        FieldError(
                            f"{where}.kind", "unknown", _("本办件没有该材料：%(k)s") % {"k": kind}
                        )
                    )
                    continue
                entries.append({"kind": kind, "name": material.name, "reason": reason})
                to_reset.append(material)
            elif (
                isinstance(field_name, str)
                and field_name.startswith("form.")
                and len(field_name) < 200
            ):
                entries.append({"field": field_name, "reason": reason})
            else:
                errors.append(
                    FieldError(
                        where,
                        "shape",
                        _("每一项须指明材料（kind）或表单字段（field，以 form. 开头）"),
                    )
                )
        _raise_if(errors)
        for material in to_reset:
            material.status = MaterialStatus.MISSING
            material.document = None
            material.reference = ""
            material.save(update_fields=["status", "document", "reference"])
        notice = SupplementNotice.objects.create(
            case=case,
            issued_by=actor,
            message=message,
            missing=entries,
            due_on=add_working_days(today, conf.supplement_days()).due,
        )
        transitions.move("case", case, "request_supplement", CaseState.SUPPLEMENT_REQUESTED)
        case.save(update_fields=["state", "updated_at"])
        _event(case, "supplement_requested", actor, note=message, data={"missing": entries})
        _audit(actor, "cases.case_request_supplement", notice, {"missing": entries}, case)
        listing = "；".join(e.get("name") or e.get("field") for e in entries)
        _notify(
            case,
            actor,
            "supplement_requested",
            _("请补正材料：%(t)s") % {"t": case.title},
            _("办件 %(n)s 需一次性补正以下内容：%(l)s。请在 %(d)s 前提交。")
            % {"n": case.number, "l": listing, "d": notice.due_on.isoformat()},
        )
    return notice


def _apply_material_inputs(actor, case, materials: Sequence[MaterialInput], errors) -> list:
    current = {m.kind_code: m for m in case.materials.select_related("kind")}
    documents = _documents_of(actor, [m.document_id for m in materials])
    changed = []
    for index, material in enumerate(materials):
        row = current.get(material.kind)
        if row is None:
            errors.append(
                FieldError(
                    f"materials[{index}].kind",
                    "unknown",
                    _("本办件没有该材料：%(k)s") % {"k": material.kind},
                )
            )
            continue
        if material.document_id is None:
            errors.append(FieldError(f"materials[{index}].document", "required", _("请上传文件")))
            continue
        entry = {
            "name": row.name,
            "formats": row.kind.formats,
            "max_size_mb": row.kind.max_size_mb,
        }
        document = documents.get(material.document_id)
        if _check_document(document, entry, f"materials[{index}].document", errors):
            row.document = document
            row.status = MaterialStatus.PROVIDED
            row.reference = ""
            row.provided_at = timezone.now()
            changed.append(row)
    return changed


def case_supplement_provide(
    *,
    actor,
    case_id: int,
    materials: Sequence[MaterialInput] = (),
    form_data: dict | None = None,
) -> Case:
    """The applicant answers the supplement notice; the case returns to the counter."""
    _require_login(actor)
    with transaction.atomic():
        case = _lock_case(case_id)
        if not (_is_applicant_side(actor, case) or _is_front_office(actor, case)):
            raise PermissionDenied(_("只有申请人或窗口人员可以提交补正"), code="not_applicant")
        transitions.check("case", case, "supplement_provide")
        errors: list[FieldError] = []
        changed = _apply_material_inputs(actor, case, materials, errors)
        if form_data is not None:
            errors += form_errors(form_data, _schema_of(case))
        notice = case.supplement_notice
        provided = {m.kind_code for m in changed}
        for entry in notice.missing:
            kind = entry.get("kind")
            if kind and kind not in provided:
                errors.append(
                    FieldError(
                        f"materials.{kind}", "required", _("请补正：%(m)s") % {"m": entry["name"]}
                    )
                )
        _raise_if(errors)
        for row in changed:
            row.save(update_fields=["document", "status", "reference", "provided_at"])
        if form_data is not None:
            case.form_data = form_data
        notice.resolved_at = timezone.now()
        notice.save(update_fields=["resolved_at"])
        transitions.move("case", case, "supplement_provide", CaseState.SUBMITTED)
        case.save(update_fields=["state", "form_data", "updated_at"])
        _event(case, "supplement_provided", actor, data={"materials": sorted(provided)})
        _audit(actor, "cases.case_supplement_provide", case, {"materials": sorted(provided)}, case)
    return case


def case_material_provide(*, actor, case_id: int, kind: str, document_id: int) -> CaseMaterial:
    """Hand in a material deferred at acceptance (容缺后补)."""
    _require_login(actor)
    with transaction.atomic():
        case = _lock_case(case_id)
        if not (_is_applicant_side(actor, case) or _is_front_office(actor, case)):
            raise PermissionDenied(_("只有申请人或窗口人员可以补交材料"), code="not_applicant")
        row = case.materials.select_related("kind").filter(kind_code=kind).first()
        if row is None:
            raise ValidationFailed.on_field(
                "kind", "unknown", _("本办件没有该材料：%(k)s") % {"k": kind}
            )
        if row.status != MaterialStatus.DEFERRED:
            raise Conflict(_("该材料不是容缺待补的材料"), code="not_deferred")
        errors: list[FieldError] = []
        changed = _apply_material_inputs(
            actor, case, [MaterialInput(kind=kind, document_id=document_id)], errors
        )
        if errors:
            raise ValidationFailed(
                errors[0].message, [FieldError("document", e.rule, e.message) for e in errors]
            )
        row = changed[0]
        row.save(update_fields=["document", "status", "reference", "provided_at"])
        _event(case, "material_provided", actor, note=row.name, data={"kind": kind})
        _audit(actor, "cases.case_material_provide", row, {"kind": kind}, case)
    return row


def case_refuse_acceptance(*, actor, case_id: int, reason: str, legal_basis: str = "") -> Case:
    """不予受理: the application is outside the item's scope or the applicant did not
    answer the supplement notice. Nothing is decided on the merits."""
    _require_login(actor)
    errors: list[FieldError] = []
    reason = _text(reason, "reason", _("不予受理理由"), errors)
    legal_basis = _text(legal_basis, "legal_basis", _("法律依据"), errors, required=False)
    _raise_if(errors)
    with transaction.atomic():
        case = _lock_case(case_id)
        _require_counter(actor, case)
        transitions.move("case", case, "refuse_acceptance", CaseState.NOT_ACCEPTED)
        for item in case.items.all():
            transitions.move("item", item, "refuse_acceptance", ItemState.NOT_ACCEPTED)
            item.save(update_fields=["state"])
        case.closed_reason = reason
        case.save(update_fields=["state", "closed_reason", "updated_at"])
        _event(case, "not_accepted", actor, note=reason, data={"legal_basis": legal_basis})
        _audit(actor, "cases.case_refuse_acceptance", case, {"reason": reason}, case)
        _notify(
            case,
            actor,
            "not_accepted",
            _("申请不予受理：%(t)s") % {"t": case.title},
            _("办件 %(n)s 不予受理。理由：%(r)s") % {"n": case.number, "r": reason},
        )
    return case


def case_withdraw(*, actor, case_id: int, reason: str = "") -> Case:
    """The applicant withdraws before any item is decided."""
    _require_login(actor)
    errors: list[FieldError] = []
    reason = _text(reason, "reason", _("撤回理由"), errors, required=False)
    _raise_if(errors)
    today = _today()
    with transaction.atomic():
        case = _lock_case(case_id)
        _require_applicant_side(actor, case)
        items = list(case.items.all())
        if any(i.state in DECIDED_ITEM_STATES for i in items):
            raise Conflict(_("已有事项办结，不能撤回"), code="already_decided")
        transitions.move("case", case, "withdraw", CaseState.WITHDRAWN)
        for item in items:
            transitions.move("item", item, "withdraw", ItemState.WITHDRAWN)
            item.suspended = False
            item.save(update_fields=["state", "suspended"])
        Suspension.objects.filter(case_item__case=case, end__isnull=True).update(
            end=today, ended_by=actor
        )
        _cancel_tasks(case.tasks.filter(state__in=ACTIVE_TASK_STATES))
        case.closed_reason = reason
        case.save(update_fields=["state", "closed_reason", "updated_at"])
        _event(case, "withdrawn", actor, note=reason)
        _audit(actor, "cases.case_withdraw", case, {"reason": reason}, case)
    return case


def _cancel_tasks(tasks) -> None:
    now = timezone.now()
    for task in tasks.select_for_update():
        transitions.move("task", task, "cancel", TaskState.CANCELLED)
        task.completed_at = now
        _bump(task)
        task.save(update_fields=["state", "completed_at", "version"])


# ---------------------------------------------------------------------------------------
# tasks of the back office


def _task_conflict(task: Task) -> Conflict:
    """409 telling what happened to the task meanwhile."""
    if task.state == TaskState.DONE:
        return Conflict(
            _("该任务已由%(p)s于%(t)s办结（%(o)s）")
            % {
                "p": _person_label(task.completed_by),
                "t": _local(task.completed_at),
                "o": task.outcome,
            },
            code="task_done",
        )
    if task.state == TaskState.CANCELLED:
        return Conflict(
            _("该任务已于%(t)s取消") % {"t": _local(task.completed_at)}, code="task_cancelled"
        )
    return Conflict(
        _("该任务已由%(p)s于%(t)s认领")
        % {"p": _person_label(task.assignee), "t": _local(task.claimed_at)},
        code="task_claimed",
    )


def _lock_task(actor, task_id: int, kinds: Iterable[str]) -> tuple[Case, CaseItem, Task]:
    """Lock the task's case, item and task (in that order) and check the actor's role."""
    head = Task.objects.filter(pk=task_id).values("case_id", "case_item_id").first()
    if head is None:
        raise NotFound(_("没有这个任务"), code="task_not_found")
    case = _lock_case(head["case_id"])
    item = (
        CaseItem.objects.select_for_update(of=("self",))
        .select_related("process_template", "item_version", "department__region")
        .get(pk=head["case_item_id"])
    )
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related("assignee", "completed_by")
        .get(pk=task_id)
    )
    org_selectors.require_role(actor, task.role, department=task.department)
    if task.kind not in kinds:
        raise Conflict(
            _("这是“%(k)s”任务，不能执行该操作") % {"k": TaskKind(task.kind).label},
            code="wrong_task_kind",
        )
    return case, item, task


def _check_task_version(task: Task, version: int | None) -> None:
    if version is not None and version != task.version:
        if task.state in ACTIVE_TASK_STATES and task.assignee_id is None:
            raise Conflict(
                _("任务已被他人更新（版本 %(v)d），请刷新后再试") % {"v": task.version},
                code="stale_version",
            )
        raise _task_conflict(task)


def _take_task(actor, task: Task, version: int | None) -> None:
    """The actor acts on the task: it must be active and not claimed by someone else."""
    if task.state not in ACTIVE_TASK_STATES:
        raise _task_conflict(task)
    _check_task_version(task, version)
    if task.assignee_id and task.assignee_id != actor.pk:
        raise _task_conflict(task)


def _complete_task(actor, task: Task, outcome: str, comment: str) -> None:
    now = timezone.now()
    if task.assignee_id is None:
        task.assignee = actor
        task.claimed_at = now
    transitions.move("task", task, "complete", TaskState.DONE)
    task.completed_at = now
    task.completed_by = actor
    task.outcome = outcome
    task.comment = comment
    _bump(task)
    task.save()


def task_claim(*, actor, task_id: int, version: int | None = None) -> Task:
    """Take an open task; of two people claiming at once exactly one wins, the other gets
    409 naming who has it."""
    _require_login(actor)
    with transaction.atomic():
        case, item, task = _lock_task(actor, task_id, TaskKind.values)
        if task.state != TaskState.OPEN:
            if task.state == TaskState.CLAIMED and task.assignee_id == actor.pk:
                return task
            raise _task_conflict(task)
        _check_task_version(task, version)
        transitions.move("task", task, "claim", TaskState.CLAIMED)
        task.assignee = actor
        task.claimed_at = timezone.now()
        _bump(task)
        task.save(update_fields=["state", "assignee", "claimed_at", "version"])
        _event(case, "task_claimed", actor, item=item, data={"task": task.pk, "kind": task.kind})
        _audit(actor, "cases.task_claim", task, {"kind": task.kind}, case)
    return task


def task_release(*, actor, task_id: int) -> Task:
    """Give a claimed task back to the queue."""
    _require_login(actor)
    with transaction.atomic():
        case, item, task = _lock_task(actor, task_id, TaskKind.values)
        if task.state != TaskState.CLAIMED or task.assignee_id != actor.pk:
            raise Conflict(_("只能退回自己认领的任务"), code="not_assignee")
        transitions.move("task", task, "release", TaskState.OPEN)
        task.assignee = None
        task.claimed_at = None
        _bump(task)
        task.save(update_fields=["state", "assignee", "claimed_at", "version"])
        _event(case, "task_released", actor, item=item, data={"task": task.pk})
        _audit(actor, "cases.task_release", task, {}, case)
    return task


REVIEW_OPINIONS = ("approve", "refuse")


def item_review(
    *, actor, task_id: int, opinion: str, comment: str = "", version: int | None = None
) -> Task:
    """审查: the reviewer's opinion (approve or refuse) moves the item to the next step
    (site inspection or approval). The decision is the approver's."""
    _require_login(actor)
    errors: list[FieldError] = []
    if opinion not in REVIEW_OPINIONS:
        errors.append(FieldError("opinion", "choice", _("审查意见须为 approve 或 refuse")))
    comment = _text(comment, "comment", _("审查意见"), errors, required=opinion == "refuse")
    _raise_if(errors)
    today = _today()
    with transaction.atomic():
        case, item, task = _lock_task(actor, task_id, (TaskKind.REVIEW,))
        _take_task(actor, task, version)
        _require_running(item)
        _complete_task(actor, task, opinion, comment)
        step = process.step_after(item.process_template, item.step, fallback=item.on_fallback)
        if step is None or step["key"] not in process.WAITING_STEPS:
            raise Conflict(_("流程模板在审查之后没有下一环节"), code="bad_template")
        _enter_waiting(case, item, step, today, action="review")
        _event(case, "reviewed", actor, item=item, note=comment, data={"opinion": opinion})
        _audit(actor, "cases.item_review", item, {"opinion": opinion}, case)
    return task


def _require_running(item: CaseItem) -> None:
    if item.suspended:
        raise Conflict(
            _("该事项正在中止计时（%(k)s），请先结束中止") % {"k": _open_suspension_label(item)},
            code="item_suspended",
        )


def _open_suspension_label(item: CaseItem) -> str:
    open_one = item.suspensions.filter(end__isnull=True).first()
    return open_one.get_kind_display() if open_one else ""


def _check_separation(actor, item: CaseItem) -> None:
    """一审一核: on the standard path the approver must not be the item's reviewer."""
    if item.step != "approve":
        return
    reviewer_ids = set(
        item.tasks.filter(kind=TaskKind.REVIEW, state=TaskState.DONE).values_list(
            "completed_by_id", flat=True
        )
    )
    if actor.pk in reviewer_ids:
        raise PermissionDenied(
            _("一审一核：审查人不能审批同一事项"), code="reviewer_cannot_approve"
        )


def item_approve(*, actor, task_id: int, comment: str = "", version: int | None = None) -> Decision:
    """准予: the approver decides (核验合一 items: the one checker decides)."""
    _require_login(actor)
    errors: list[FieldError] = []
    comment = _text(comment, "comment", _("审批意见"), errors, required=False)
    _raise_if(errors)
    today = _today()
    with transaction.atomic():
        case, item, task = _lock_task(actor, task_id, (TaskKind.APPROVE,))
        _take_task(actor, task, version)
        _require_running(item)
        _check_separation(actor, item)
        deferred = [
            m.name
            for m in case.materials.filter(status=MaterialStatus.DEFERRED)
            if item.code in m.items
        ]
        if deferred:
            raise Conflict(
                _("容缺材料尚未补齐：%(m)s") % {"m": "、".join(deferred)}, code="materials_deferred"
            )
        _complete_task(actor, task, "approve", comment)
        basis = DecisionBasis.MERGED if item.step == "review_approve" else DecisionBasis.MANUAL
        decision = _decide(
            case,
            item,
            actor,
            DecisionOutcome.APPROVE,
            basis,
            today,
            action="approve",
            reasons=comment or _("符合法定条件，准予办理"),
        )
        _audit(actor, "cases.item_approve", item, {"outcome": "approve"}, case)
        _notify(
            case,
            actor,
            "item_approved",
            _("事项已准予：%(i)s") % {"i": item.name},
            _("办件 %(n)s 中的“%(i)s”已准予办理。") % {"n": case.number, "i": item.name},
        )
        _after_item_decision(case, actor)
    return decision


def item_refuse(
    *,
    actor,
    task_id: int,
    reasons: str,
    legal_basis: str,
    appeal_info: str = "",
    version: int | None = None,
) -> Decision:
    """不予: with the reasons, the legal basis and how to appeal."""
    _require_login(actor)
    errors: list[FieldError] = []
    reasons = _text(reasons, "reasons", _("不予办理理由"), errors)
    legal_basis = _text(legal_basis, "legal_basis", _("法律依据"), errors)
    appeal_info = _text(appeal_info, "appeal_info", _("救济途径"), errors, required=False)
    _raise_if(errors)
    today = _today()
    with transaction.atomic():
        case, item, task = _lock_task(actor, task_id, (TaskKind.APPROVE,))
        _take_task(actor, task, version)
        _require_running(item)
        _check_separation(actor, item)
        _complete_task(actor, task, "refuse", reasons)
        basis = DecisionBasis.MERGED if item.step == "review_approve" else DecisionBasis.MANUAL
        decision = _decide(
            case,
            item,
            actor,
            DecisionOutcome.REFUSE,
            basis,
            today,
            action="refuse",
            reasons=reasons,
            legal_basis=legal_basis,
            appeal_info=appeal_info or conf.appeal_info(),
        )
        _audit(actor, "cases.item_refuse", item, {"outcome": "refuse"}, case)
        _notify(
            case,
            actor,
            "item_refused",
            _("事项不予办理：%(i)s") % {"i": item.name},
            _("办件 %(n)s 中的“%(i)s”不予办理。理由：%(r)s")
            % {"n": case.number, "i": item.name, "r": reasons},
        )
        _after_item_decision(case, actor)
    return decision


def post_check_record(
    *, actor, task_id: int, compliant: bool, findings: str, version: int | None = None
) -> Task:
    """The check after a commitment approval: compliant, or the commitment was broken
    (the breach handlers — licences, credit — are told)."""
    _require_login(actor)
    errors: list[FieldError] = []
    findings = _text(findings, "findings", _("核查情况"), errors)
    _raise_if(errors)
    with transaction.atomic():
        case, item, task = _lock_task(actor, task_id, (TaskKind.POST_CHECK,))
        _take_task(actor, task, version)
        outcome = "compliant" if compliant else "breach"
        _complete_task(actor, task, outcome, findings)
        _event(case, "post_checked", actor, item=item, note=findings, data={"outcome": outcome})
        _audit(actor, "cases.post_check_record", task, {"outcome": outcome}, case)
        if not compliant:
            hooks.commitment_breached(item, findings)
            _notify(
                case,
                actor,
                "commitment_breach",
                _("承诺事项核查未通过：%(i)s") % {"i": item.name},
                _("经核查，办件 %(n)s 中“%(i)s”的承诺内容与实际不符：%(f)s")
                % {"n": case.number, "i": item.name, "f": findings},
            )
    return task


# ---------------------------------------------------------------------------------------
# clock: suspensions and extensions


def _lock_item(actor, item_id: int, roles: Iterable[str]) -> tuple[Case, CaseItem]:
    head = CaseItem.objects.filter(pk=item_id).values("case_id").first()
    if head is None:
        raise NotFound(_("没有这个办件事项"), code="item_not_found")
    case = _lock_case(head["case_id"])
    item = (
        CaseItem.objects.select_for_update(of=("self",))
        .select_related("department__region", "item_version")
        .get(pk=item_id)
    )
    if not any(org_selectors.has_role(actor, r, department=item.department) for r in roles):
        raise PermissionDenied(
            _("您不是%(d)s的办理人员") % {"d": item.department.name}, code="out_of_scope"
        )
    return case, item


def _save_clock(item: CaseItem, today: dt.date) -> None:
    deadlines.refresh(item, today)
    _bump(item)
    item.save()
    Task.objects.filter(case_item=item, state__in=ACTIVE_TASK_STATES).exclude(
        kind=TaskKind.POST_CHECK
    ).update(due_on=item.due_on, warn_from=item.warn_from, suspended=item.suspended)


CLOCK_ROLES = (Role.REVIEWER, Role.APPROVER, Role.INSPECTOR)


def suspension_start(
    *, actor, item_id: int, kind: str, reason: str, start: dt.date | None = None
) -> Suspension:
    """Stop an item's clock (补正, site rectification, expert review, hearing). The start
    may be back-dated to the day the notice went out, never before the clock started nor
    into the future."""
    _require_login(actor)
    errors: list[FieldError] = []
    if kind not in SuspensionKind.values:
        errors.append(
            FieldError(
                "kind", "choice", _("中止类型须为：%(k)s") % {"k": "、".join(SuspensionKind.values)}
            )
        )
    reason = _text(reason, "reason", _("中止理由"), errors)
    _raise_if(errors)
    today = _today()
    start = start or today
    with transaction.atomic():
        case, item = _lock_item(actor, item_id, CLOCK_ROLES)
        suspension = _start_suspension(actor, case, item, kind, reason, start, today)
        _audit(
            actor,
            "cases.suspension_start",
            suspension,
            {"kind": kind, "start": start.isoformat()},
            case,
        )
        _notify(
            case,
            actor,
            "suspended",
            _("办理时限中止：%(i)s") % {"i": item.name},
            _("办件 %(n)s 中“%(i)s”自 %(d)s 起中止计时（%(k)s）：%(r)s")
            % {
                "n": case.number,
                "i": item.name,
                "d": start.isoformat(),
                "k": SuspensionKind(kind).label,
                "r": reason,
            },
        )
    return suspension


def _start_suspension(actor, case, item, kind, reason, start, today) -> Suspension:
    if item.state not in RUNNING_ITEM_STATES:
        raise Conflict(
            _("事项状态为“%(s)s”，不能中止计时") % {"s": ItemState(item.state).label},
            code="invalid_state",
        )
    if item.suspensions.filter(end__isnull=True).exists():
        raise Conflict(_("该事项已在中止计时中"), code="already_suspended")
    if start > today or (item.started_on and start < item.started_on):
        raise ValidationFailed.on_field("start", "range", _("中止开始日期须在受理日至今天之间"))
    last = item.suspensions.aggregate(last=Max("end"))["last"]
    if last is not None and start <= last:
        raise ValidationFailed.on_field(
            "start",
            "overlap",
            _("中止期间不能与上一次中止（至 %(d)s）重叠") % {"d": last.isoformat()},
        )
    suspension = Suspension.objects.create(
        case_item=item, kind=kind, reason=reason, start=start, started_by=actor
    )
    _save_clock(item, today)
    _event(
        case,
        "suspension_started",
        actor,
        item=item,
        note=reason,
        data={"kind": kind, "start": start.isoformat(), "due_on": str(item.due_on)},
    )
    return suspension


def suspension_end(*, actor, suspension_id: int, end: dt.date | None = None) -> Suspension:
    """Restart the clock; the suspended days (first to last, inclusive) push the due date
    out by the working days they cover."""
    _require_login(actor)
    head = Suspension.objects.filter(pk=suspension_id).values("case_item_id").first()
    if head is None:
        raise NotFound(_("没有这个中止记录"), code="suspension_not_found")
    today = _today()
    end = end or today
    with transaction.atomic():
        case, item = _lock_item(actor, head["case_item_id"], CLOCK_ROLES)
        suspension = Suspension.objects.select_for_update().get(pk=suspension_id)
        _end_suspension(actor, case, item, suspension, end, today)
        _audit(actor, "cases.suspension_end", suspension, {"end": end.isoformat()}, case)
    return suspension


def _end_suspension(actor, case, item, suspension: Suspension, end, today) -> None:
    if suspension.end is not None:
        raise Conflict(
            _("该中止已于 %(d)s 结束") % {"d": suspension.end.isoformat()}, code="already_ended"
        )
    if end > today or end < suspension.start:
        raise ValidationFailed.on_field("end", "range", _("结束日期须在中止开始日至今天之间"))
    suspension.end = end
    suspension.ended_by = actor
    suspension.save(update_fields=["end", "ended_by"])
    _save_clock(item, today)
    _event(
        case,
        "suspension_ended",
        actor,
        item=item,
        data={"kind": suspension.kind, "end": end.isoformat(), "due_on": str(item.due_on)},
    )


def extension_grant(*, actor, item_id: int, days: int, reason: str) -> Extension:
    """An approver (or the department admin) extends an item's limit once, with a reason."""
    _require_login(actor)
    errors: list[FieldError] = []
    maximum = conf.max_extension_days()
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= maximum:
        errors.append(
            FieldError("days", "range", _("延长天数须为1至%(n)d个工作日") % {"n": maximum})
        )
    reason = _text(reason, "reason", _("延长理由"), errors)
    _raise_if(errors)
    today = _today()
    with transaction.atomic():
        case, item = _lock_item(actor, item_id, (Role.APPROVER, Role.DEPARTMENT_ADMIN))
        if item.state not in RUNNING_ITEM_STATES:
            raise Conflict(
                _("事项状态为“%(s)s”，不能延长期限") % {"s": ItemState(item.state).label},
                code="invalid_state",
            )
        if item.extensions.exists():
            raise Conflict(_("该事项已延长过一次期限"), code="already_extended")
        extension = Extension.objects.create(
            case_item=item, days=days, reason=reason, approved_by=actor
        )
        item.extension_days += days
        _save_clock(item, today)
        _event(
            case,
            "extended",
            actor,
            item=item,
            note=reason,
            data={"days": days, "due_on": str(item.due_on)},
        )
        _audit(actor, "cases.extension_grant", extension, {"days": days}, case)
        _notify(
            case,
            actor,
            "extended",
            _("办理期限延长：%(i)s") % {"i": item.name},
            _(
                "办件 %(n)s 中“%(i)s”的办理期限经批准延长 %(d)d 个工作日，"
                "新的到期日为 %(due)s。理由：%(r)s"
            )
            % {"n": case.number, "i": item.name, "d": days, "due": item.due_on, "r": reason},
        )
    return extension


# ---------------------------------------------------------------------------------------
# joint site inspection


def _inspection_items(actor, case, item_ids: Sequence[int]) -> list[CaseItem]:
    items = list(
        CaseItem.objects.select_for_update(of=("self",))
        .select_related("department__region", "process_template", "item_version")
        .filter(case=case, pk__in=list(item_ids))
        .order_by("position", "id")
    )
    if len(items) != len(set(item_ids)):
        raise ValidationFailed.on_field("items", "unknown", _("所列事项不属于本办件"))
    for item in items:
        org_selectors.require_role(actor, Role.INSPECTOR, department=item.department)
    return items


def inspection_schedule(
    *,
    actor,
    case_id: int,
    item_ids: Sequence[int],
    scheduled_for: dt.datetime,
    note: str = "",
) -> Inspection:
    """One joint visit for several items of the case awaiting site inspection; the
    scheduling inspector takes their inspection tasks."""
    _require_login(actor)
    errors: list[FieldError] = []
    if not item_ids:
        errors.append(FieldError("items", "required", _("请选择要核查的事项")))
    if not isinstance(scheduled_for, dt.datetime) or timezone.is_naive(scheduled_for):
        errors.append(FieldError("scheduled_for", "type", _("核查时间须为带时区的日期时间")))
    note = _text(note, "note", _("安排说明"), errors, required=False)
    _raise_if(errors)
    with transaction.atomic():
        case = _lock_case(case_id)
        items = _inspection_items(actor, case, item_ids)
        for item in items:
            if item.state != ItemState.INSPECTING:
                raise Conflict(
                    _("“%(i)s”不在现场核查环节") % {"i": item.name}, code="invalid_state"
                )
            if item.inspections.exclude(
                state__in=(InspectionState.PASSED, InspectionState.FAILED)
            ).exists():
                raise Conflict(
                    _("“%(i)s”已安排现场核查") % {"i": item.name}, code="already_scheduled"
                )
        tasks = list(
            Task.objects.select_for_update(of=("self",))
            .select_related("assignee", "completed_by")
            .filter(case_item__in=items, kind=TaskKind.INSPECT, state__in=ACTIVE_TASK_STATES)
        )
        now = timezone.now()
        for task in tasks:
            if task.assignee_id and task.assignee_id != actor.pk:
                raise _task_conflict(task)
            if task.state == TaskState.OPEN:
                transitions.move("task", task, "claim", TaskState.CLAIMED)
                task.assignee = actor
                task.claimed_at = now
                _bump(task)
                task.save(update_fields=["state", "assignee", "claimed_at", "version"])
        inspection = Inspection.objects.create(
            case=case, scheduled_for=scheduled_for, scheduled_by=actor, note=note
        )
        inspection.items.set(items)
        _event(
            case,
            "inspection_scheduled",
            actor,
            note=note,
            data={
                "inspection": inspection.pk,
                "items": [i.code for i in items],
                "scheduled_for": scheduled_for.isoformat(),
            },
        )
        _audit(
            actor, "cases.inspection_schedule", inspection, {"items": [i.pk for i in items]}, case
        )
        _notify(
            case,
            actor,
            "inspection_scheduled",
            _("现场核查安排：%(t)s") % {"t": case.title},
            _("办件 %(n)s 将于 %(w)s 进行一次联合现场核查，涉及：%(i)s。")
            % {"n": case.number, "w": _local(scheduled_for), "i": "、".join(i.name for i in items)},
        )
    return inspection


INSPECTION_RESULTS = ("passed", "failed", "rectification")


def _lock_inspection(actor, inspection_id: int):
    head = Inspection.objects.filter(pk=inspection_id).values("case_id").first()
    if head is None:
        raise NotFound(_("没有这个现场核查"), code="inspection_not_found")
    case = _lock_case(head["case_id"])
    inspection = Inspection.objects.select_for_update().get(pk=inspection_id)
    items = _inspection_items(actor, case, list(inspection.items.values_list("pk", flat=True)))
    return case, inspection, items


def _finish_inspection(actor, case, items, passed: bool, findings: str, today) -> None:
    outcome = "passed" if passed else "failed"
    for task in Task.objects.select_for_update(of=("self",)).filter(
        case_item__in=items, kind=TaskKind.INSPECT, state__in=ACTIVE_TASK_STATES
    ):
        _complete_task(actor, task, outcome, findings)
    for item in items:
        step = process.step_after(item.process_template, item.step, fallback=item.on_fallback)
        if step is None or step["key"] not in process.WAITING_STEPS:
            raise Conflict(_("流程模板在现场核查之后没有审批环节"), code="bad_template")
        _enter_waiting(case, item, step, today, action="inspection_done")


def inspection_record(
    *,
    actor,
    inspection_id: int,
    result: str,
    findings: str,
    rectification_notice: str = "",
    rectification_days: int | None = None,
) -> Inspection:
    """The visit's result for all its items: passed / failed (both go on to approval with
    the findings) or ONE rectification notice — the items' clocks stop until the one
    re-inspection."""
    _require_login(actor)
    errors: list[FieldError] = []
    if result not in INSPECTION_RESULTS:
        errors.append(
            FieldError("result", "choice", _("核查结果须为 passed、failed 或 rectification"))
        )
    findings = _text(findings, "findings", _("核查情况"), errors)
    notice = _text(
        rectification_notice,
        "rectification_notice",
        _("整改通知"),
        errors,
        required=result == "rectification",
    )
    days = conf.rectification_days() if rectification_days is None else rectification_days
    if result == "rectification" and (not isinstance(days, int) or not 1 <= days <= 60):
        errors.append(FieldError("rectification_days", "range", _("整改期限须为1至60个工作日")))
    _raise_if(errors)
    today = _today()
    with transaction.atomic():
        case, inspection, items = _lock_inspection(actor, inspection_id)
        target = {
            "passed": InspectionState.PASSED,
            "failed": InspectionState.FAILED,
            "rectification": InspectionState.RECTIFICATION,
        }[result]
        transitions.move("inspection", inspection, "record", target)
        inspection.visited_at = timezone.now()
        inspection.visited_by = actor
        inspection.findings = findings
        if result == "rectification":
            inspection.rectification_notice = notice
            inspection.rectification_due = add_working_days(today, days).due
            for item in items:
                _start_suspension(
                    actor, case, item, SuspensionKind.INSPECTION, notice, today, today
                )
        else:
            _finish_inspection(actor, case, items, result == "passed", findings, today)
        _bump(inspection)
        inspection.save()
        _event(
            case,
            "inspection_recorded",
            actor,
            note=findings,
            data={"inspection": inspection.pk, "result": result},
        )
        _audit(actor, "cases.inspection_record", inspection, {"result": result}, case)
        if result == "rectification":
            _notify(
                case,
                actor,
                "rectification",
                _("整改通知：%(t)s") % {"t": case.title},
                _("办件 %(n)s 现场核查发现问题，请在 %(d)s 前整改：%(r)s")
                % {"n": case.number, "d": inspection.rectification_due, "r": notice},
            )
    return inspection


def inspection_reinspect(*, actor, inspection_id: int, passed: bool, findings: str) -> Inspection:
    """The one re-inspection after rectification: the clocks restart and the items go on
    to approval."""
    _require_login(actor)
    errors: list[FieldError] = []
    findings = _text(findings, "findings", _("复查情况"), errors)
    _raise_if(errors)
    today = _today()
    with transaction.atomic():
        case, inspection, items = _lock_inspection(actor, inspection_id)
        target = InspectionState.PASSED if passed else InspectionState.FAILED
        transitions.move("inspection", inspection, "reinspect", target)
        inspection.reinspected_at = timezone.now()
        inspection.reinspected_by = actor
        inspection.reinspection_findings = findings
        for item in items:
            open_one = item.suspensions.select_for_update().filter(end__isnull=True).first()
            if open_one is not None:
                _end_suspension(actor, case, item, open_one, today, today)
        _finish_inspection(actor, case, items, passed, findings, today)
        _bump(inspection)
        inspection.save()
        _event(
            case,
            "reinspected",
            actor,
            note=findings,
            data={"inspection": inspection.pk, "passed": passed},
        )
        _audit(actor, "cases.inspection_reinspect", inspection, {"passed": passed}, case)
    return inspection


# ---------------------------------------------------------------------------------------
# delivery


def case_deliver(
    *,
    actor,
    case_id: int,
    method: str = DeliveryMethod.COUNTER,
    recipient: str = "",
    service_point_code: str = "",
) -> Delivery:
    """一窗出件: every output together — licences (made by a registered output issuer, or
    recorded as licence records), filing receipts, refusal decisions with their legal basis
    and how to appeal. At the counter or by mail by a counter clerk; electronic delivery
    may be taken by the applicant."""
    _require_login(actor)
    errors: list[FieldError] = []
    if method not in DeliveryMethod.values:
        errors.append(
            FieldError(
                "method",
                "choice",
                _("出件方式须为：%(m)s") % {"m": "、".join(DeliveryMethod.values)},
            )
        )
    recipient = _text(
        recipient,
        "recipient",
        _("领取人或收件信息"),
        errors,
        required=method == DeliveryMethod.MAIL,
    )
    _raise_if(errors)
    with transaction.atomic():
        case = _lock_case(case_id)
        if not (method == DeliveryMethod.ELECTRONIC and _is_applicant_side(actor, case)):
            _require_counter(actor, case)
        transitions.check("case", case, "deliver")
        point = None
        if service_point_code:
            point = ServicePoint.objects.filter(code=service_point_code, is_active=True).first()
            if point is None:
                raise ValidationFailed.on_field("service_point", "unknown", _("没有这个服务网点"))
        items = list(
            case.items.select_related("decision", "item_version").order_by("position", "id")
        )
        outputs = []
        for item in items:
            decision = item.decision
            proposed = f"{case.number}-{item.position + 1:02d}"
            if decision.outcome == DecisionOutcome.REFUSE:
                kind, name, number, reference = (
                    OutputKind.REFUSAL,
                    _("不予许可决定书"),
                    proposed,
                    "",
                )
            else:
                issued = hooks.issue_output(
                    hooks.OutputRequest(
                        case=case, case_item=item, decision=decision, proposed_number=proposed
                    )
                )
                kind = (
                    OutputKind.FILING_RECEIPT
                    if decision.basis == DecisionBasis.FILING
                    else OutputKind.LICENCE
                )
                name = item.item_version.output_name or item.name
                number = issued.number if issued else proposed
                reference = issued.reference if issued else ""
            outputs.append(
                CaseOutput(
                    case=case,
                    case_item=item,
                    kind=kind,
                    name=name,
                    licence_type=item.item_version.output_licence_type,
                    number=number,
                    reference=reference,
                )
            )
        CaseOutput.objects.bulk_create(outputs)
        delivery = Delivery.objects.create(
            case=case, method=method, delivered_by=actor, service_point=point, recipient=recipient
        )
        transitions.move("case", case, "deliver", CaseState.DELIVERED)
        case.delivered_at = delivery.delivered_at
        case.save(update_fields=["state", "delivered_at", "updated_at"])
        _event(
            case,
            "delivered",
            actor,
            note=DeliveryMethod(method).label,
            data={"outputs": [o.number for o in outputs]},
        )
        _audit(
            actor, "cases.case_deliver", delivery, {"method": method, "outputs": len(outputs)}, case
        )
        _notify(
            case,
            actor,
            "delivered",
            _("办理结果已送达：%(t)s") % {"t": case.title},
            _("办件 %(n)s 的 %(k)d 份办理结果已一次送达（%(m)s）。")
            % {"n": case.number, "k": len(outputs), "m": DeliveryMethod(method).label},
        )
    return delivery


# ---------------------------------------------------------------------------------------
# administration


def process_template_publish(
    *, actor, code: str, name: str, flow: str, definition: dict
) -> ProcessTemplate:
    """A new version of a process template (platform admins). Items started under an
    earlier version keep it."""
    _require_login(actor)
    if not org_selectors.is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以发布流程模板"), code="platform_admin_only")
    errors: list[FieldError] = []
    if (
        not isinstance(code, str)
        or not code
        or len(code) > 60
        or not code.replace("_", "").isalnum()
    ):
        errors.append(FieldError("code", "pattern", _("编码须为字母、数字和下划线")))
    name = _text(name, "name", _("名称"), errors)
    if flow not in ApprovalFlow.values:
        errors.append(FieldError("flow", "choice", _("未知的审批方式")))
    errors += process.check_definition(definition)
    _raise_if(errors)
    process.current_template(code)  # store the built-in version 1 first, if any
    try:
        with transaction.atomic():
            last = ProcessTemplate.objects.filter(code=code).aggregate(last=Max("version"))
            template = ProcessTemplate.objects.create(
                code=code,
                version=(last["last"] or 0) + 1,
                name=name,
                flow=flow,
                definition=definition,
                created_by=actor,
            )
            audit.record(
                actor=actor,
                action="cases.process_template_publish",
                obj=template,
                changes={"code": code, "version": template.version},
            )
            # submission plans cache the current templates per catalogue revision
            catalog_services.bump_revision()
    except IntegrityError:  # unique (code, version): someone published at the same moment
        raise Conflict(_("另一版本刚刚发布，请刷新后重试"), code="concurrent_publish") from None
    return template


TOKEN_PREFIX = "ycb_"


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, actor, name: str, user=None) -> tuple[ApiToken, str]:
    """A new bearer token for `user` (default: the actor; platform admins may make one for
    anyone). The token itself is returned once and never stored."""
    _require_login(actor)
    user = user or actor
    if user.pk != actor.pk and not org_selectors.is_platform_admin(actor):
        raise PermissionDenied(_("只能为自己创建令牌"), code="own_tokens_only")
    errors: list[FieldError] = []
    name = _text(name, "name", _("令牌名称"), errors)
    if len(name) > 100:
        errors.append(FieldError("name", "max_length", _("令牌名称不能超过100个字")))
    _raise_if(errors)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, prefix=raw[:10], token_hash=_token_hash(raw)
        )
        audit.record(
            actor=actor,
            action="cases.api_token_create",
            obj=token,
            changes={"user": user.get_username(), "name": name, "prefix": token.prefix},
        )
    return token, raw


def api_token_revoke(*, actor, token_id: int) -> ApiToken:
    _require_login(actor)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None or (
            token.user_id != actor.pk and not org_selectors.is_platform_admin(actor)
        ):
            raise NotFound(_("没有这个令牌"), code="token_not_found")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record(
                actor=actor,
                action="cases.api_token_revoke",
                obj=token,
                changes={"prefix": token.prefix},
            )
    return token


TOKEN_TOUCH_SECONDS = 60


@functools.cache  # the user model is known only once apps are ready
def _token_user_columns() -> Columns:
    return Columns(get_user_model(), "u")


_TOKEN_USER = Statement(
    lambda quote, _variant: (
        f"SELECT {_token_user_columns().select(quote)}, t.{quote('id')}, "
        f"CASE WHEN t.{quote('last_used_at')} IS NULL OR t.{quote('last_used_at')} < %s "
        f"THEN 1 ELSE 0 END FROM {quote(ApiToken._meta.db_table)} t "
        f"JOIN {quote(get_user_model()._meta.db_table)} u "
        f"ON u.{quote('id')} = t.{quote('user_id')} "
        f"WHERE t.{quote('token_hash')} = %s AND t.{quote('revoked_at')} IS NULL"
    ),
    prepare=True,
)


def api_token_authenticate(raw: str):
    """The active user of a valid, unrevoked token, or None. `last_used_at` is written at
    most once a minute so that every request does not write. One statement (the user row,
    the token's id and whether it is due a touch): every API request pays for it."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    now = timezone.now()
    touch_before = now - dt.timedelta(seconds=TOKEN_TOUCH_SECONDS)
    row = _TOKEN_USER.fetchone(
        [connection.ops.adapt_datetimefield_value(touch_before), _token_hash(raw)]
    )
    if row is None:
        return None
    columns = _token_user_columns()
    user = columns.load(row[: len(columns)])
    if not user.is_active:
        return None
    token_id, token_stale = row[len(columns) :]
    if token_stale:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


def clocks_refresh(*, today: dt.date | None = None) -> int:
    """Recompute the stored deadline copies of items under an open suspension (their due
    date moves out each day the suspension lasts). Each item in its own transaction."""
    day = today or _today()
    changed = 0
    ids = list(
        CaseItem.objects.filter(suspended=True, state__in=RUNNING_ITEM_STATES).values_list(
            "pk", flat=True
        )
    )
    for item_id in ids:
        with transaction.atomic():
            item = (
                CaseItem.objects.select_for_update(of=("self",))
                .prefetch_related("suspensions")
                .filter(pk=item_id)
                .first()
            )
            if item is None or not deadlines.refresh(item, day):
                continue
            _bump(item)
            item.save()
            Task.objects.filter(case_item=item, state__in=ACTIVE_TASK_STATES).exclude(
                kind=TaskKind.POST_CHECK
            ).update(due_on=item.due_on, warn_from=item.warn_from, suspended=item.suspended)
            changed += 1
    return changed
