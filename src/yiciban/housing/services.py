"""Writes of house delivery with title (交房即交证). Each is one transaction with an audit event;
stage changes follow models.TRANSITIONS under a row lock (of two at once, one wins, the other
gets 409).

Who does what: the housing bureau registers the project, records the pre-sale permit and the
completion acceptance, files sale contracts (网签备案) and — on the developer's request —
the completion filing, checking first that every sold unit has a filed contract and a deed-tax
payment (read from the tax bureau under a sharing grant, each read recorded). The tax bureau
records deed-tax payments. At delivery the registration office reads contracts and tax under
its grants, and files, accepts, decides and delivers through the case engine the project's
first registration and every buyer's transfer registration together; the case engine's
output hook issues the e-certificates (不动产权证书)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.accounts import selectors as account_selectors
from yiciban.archive import services as archive_services
from yiciban.cases import selectors as case_selectors
from yiciban.cases import services as case_services
from yiciban.cases.models import ACTIVE_TASK_STATES, Task
from yiciban.catalog.models import Item
from yiciban.core import audit
from yiciban.core.documents import document_store
from yiciban.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from yiciban.core.queue import enqueue
from yiciban.org.models import Department, DepartmentKind
from yiciban.org.selectors import department_by_kind, region_by_code
from yiciban.sharing import selectors as sharing_selectors
from yiciban.sharing import services as sharing_services

from . import selectors
from .documents import material_pdf
from .models import TRANSITIONS, FalseMaterialFinding, Project, ProjectEvent, Stage, Unit

logger = logging.getLogger(__name__)

FIRST_REGISTRATION = "first_registration"
TRANSFER_REGISTRATION = "transfer_registration"
MAX_UNITS = 2000
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,39}$")


@dataclass
class FilingCheck:
    ok: bool
    sold: int
    missing_contract: list[str] = field(default_factory=list)
    missing_tax: list[str] = field(default_factory=list)
    reads: int = 0

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "sold": self.sold,
            "missing_contract": self.missing_contract,
            "missing_tax": self.missing_tax,
            "reads": self.reads,
            "checked_at": timezone.now().isoformat(),
        }


# --- helpers --------------------------------------------------------------------------------


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors[0].message, errors)


def _text(value: Any, name: str, label: str, max_length: int, errors: list[FieldError]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(name, "required", _("请填写%(f)s") % {"f": label}))
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors.append(
            FieldError(
                name, "max_length", _("%(f)s不能超过%(n)d个字符") % {"f": label, "n": max_length}
            )
        )
    return value


def department_of(project: Project, kind: str) -> Department:
    return department_by_kind(project.region.code, kind)


def _require_staff(actor, department: Department) -> None:
    if not sharing_selectors.is_member(actor, department):
        raise PermissionDenied(
            _("只有%(d)s的工作人员可以办理") % {"d": department.name}, code="not_department_staff"
        )


def _lock(project_id: Any) -> Project:
    if isinstance(project_id, bool) or not isinstance(project_id, int):
        raise ValidationFailed.on_field("project", "int", _("项目编号无效"))
    project = (
        Project.objects.select_for_update()
        .select_related("developer", "region")
        .filter(pk=project_id)
        .first()
    )
    if project is None:
        raise NotFound(_("没有这个项目"), code="no_project")
    return project


def _require_stage(project: Project, action: str) -> None:
    if project.stage != TRANSITIONS[action][0]:
        raise Conflict(
            _("项目当前阶段为“%(s)s”，不能办理此环节") % {"s": project.get_stage_display()},
            code="wrong_stage",
        )


def _move(project: Project, action: str) -> None:
    _require_stage(project, action)
    project.stage = TRANSITIONS[action][1]


def _event(project: Project, kind: str, actor, note: str = "") -> None:
    ProjectEvent.objects.create(project=project, kind=kind, actor=actor, note=note[:300])
    audit.record(
        actor=actor, action=f"housing.{kind}", obj=project, changes={"stage": project.stage}
    )


def _publish(actor, project, category, producer, subject, reference, payload):
    return sharing_services.record_publish(
        actor=actor,
        category_code=category,
        producer=producer,
        subject=subject,
        reference=reference,
        payload={"project": project.code, **payload},
    )


def _held_grant(actor, department: Department, category: str):
    grant = (
        sharing_selectors.grants_held_by(actor, valid_only=True)
        .filter(category__code=category, grantee=department)
        .first()
    )
    if grant is None:
        raise Conflict(
            _("%(d)s没有读取“%(c)s”的有效共享授权") % {"d": department.name, "c": category},
            code="no_grant",
        )
    return grant


# --- project and permits --------------------------------------------------------------------


def _parse_units(units: Any, errors: list[FieldError]) -> list[Unit]:
    if not isinstance(units, list) or not units:
        errors.append(FieldError("units", "required", _("请至少登记一套房屋")))
        return []
    if len(units) > MAX_UNITS:
        errors.append(
            FieldError("units", "max_items", _("一个项目最多%(n)d套房屋") % {"n": MAX_UNITS})
        )
        return []
    parsed, seen = [], set()
    for index, unit in enumerate(units):
        if not isinstance(unit, dict):
            errors.append(FieldError(f"units[{index}]", "object", _("房屋信息须为对象")))
            continue
        building = _text(unit.get("building"), f"units[{index}].building", _("楼栋"), 20, errors)
        room = _text(unit.get("room"), f"units[{index}].room", _("房号"), 20, errors)
        try:
            area = Decimal(str(unit.get("area_m2")))
            if not (Decimal("1") <= area <= Decimal("10000")):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.append(
                FieldError(f"units[{index}].area_m2", "range", _("建筑面积应为1到10000之间的数"))
            )
            continue
        if (building, room) in seen:
            errors.append(FieldError(f"units[{index}].room", "duplicate", _("同一房屋登记了两次")))
        seen.add((building, room))
        parsed.append(Unit(building=building, room=room, area_m2=area.quantize(Decimal("0.01"))))
    return parsed


def project_register(
    *,
    actor,
    code: str,
    name: str,
    developer_uscc: str,
    region_code: str,
    address: str,
    construction_permit_no: str,
    units: list[dict],
) -> Project:
    """The housing bureau registers a project with its construction permit and units; the
    permit is published to the `construction_permits` category."""
    errors: list[FieldError] = []
    if not isinstance(code, str) or not CODE_RE.match(code):
        errors.append(FieldError("code", "format", _("项目编号为3到40位小写字母、数字或连字符")))
    name = _text(name, "name", _("项目名称"), 100, errors)
    address = _text(address, "address", _("项目坐落"), 200, errors)
    permit = _text(construction_permit_no, "construction_permit_no", _("施工许可证号"), 50, errors)
    parsed = _parse_units(units, errors)
    _raise_if(errors)
    region = region_by_code(region_code)
    developer = account_selectors.enterprise_by_uscc(developer_uscc)
    housing = department_by_kind(region.code, DepartmentKind.HOUSING_CONSTRUCTION)
    _require_staff(actor, housing)
    with transaction.atomic():
        if Project.objects.filter(code=code).exists():
            raise Conflict(_("项目编号%(c)s已存在") % {"c": code}, code="duplicate_project")
        project = Project.objects.create(
            code=code,
            name=name,
            developer=developer,
            region=region,
            address=address,
            stage=Stage.CONSTRUCTION,
            construction_permit_no=permit,
        )
        for unit in parsed:
            unit.project = project
        Unit.objects.bulk_create(parsed)
        _publish(
            actor,
            project,
            "construction_permits",
            housing,
            sharing_services.subject_of(enterprise=developer),
            permit,
            {"name": name, "address": address, "units": len(parsed)},
        )
        _event(
            project, "project_register", actor, _("登记项目，施工许可证号 %(p)s") % {"p": permit}
        )
    return project


def presale_permit_record(*, actor, project_id: int, permit_no: str) -> Project:
    errors: list[FieldError] = []
    permit_no = _text(permit_no, "permit_no", _("预售许可证号"), 50, errors)
    _raise_if(errors)
    with transaction.atomic():
        project = _lock(project_id)
        housing = department_of(project, DepartmentKind.HOUSING_CONSTRUCTION)
        _require_staff(actor, housing)
        _move(project, "presale_permit")
        project.presale_permit_no = permit_no
        project.save(update_fields=["stage", "presale_permit_no"])
        _publish(
            actor,
            project,
            "presale_permits",
            housing,
            sharing_services.subject_of(enterprise=project.developer),
            permit_no,
            {"units": project.units.count()},
        )
        _event(project, "presale_permit", actor, _("预售许可证号 %(p)s") % {"p": permit_no})
    return project


def unit_contract_file(
    *, actor, unit_id: int, buyer_id_number: str, contract_no: str, price_yuan: int
) -> Unit:
    """商品房买卖合同网签备案: the housing bureau files the sale contract of a unit, published
    to `contract_filing` (subject: the buyer)."""
    errors: list[FieldError] = []
    contract_no = _text(contract_no, "contract_no", _("合同备案号"), 50, errors)
    if (
        isinstance(price_yuan, bool)
        or not isinstance(price_yuan, int)
        or not 0 < price_yuan < 10**10
    ):
        errors.append(FieldError("price_yuan", "range", _("成交价格应为正整数（元）")))
    _raise_if(errors)
    buyer = account_selectors.person_find_by_id_number(buyer_id_number)
    if buyer is None:
        raise ValidationFailed.on_field(
            "buyer_id_number", "unknown", _("购房人尚未实名登记，请先登记")
        )
    with transaction.atomic():
        unit = Unit.objects.select_for_update().select_related("project").filter(pk=unit_id).first()
        if unit is None:
            raise NotFound(_("没有这套房屋"), code="no_unit")
        project = _lock(unit.project_id)
        housing = department_of(project, DepartmentKind.HOUSING_CONSTRUCTION)
        _require_staff(actor, housing)
        if project.stage not in (Stage.PRESALE, Stage.COMPLETION_ACCEPTED):
            raise Conflict(_("取得预售许可后、竣工验收备案前才能办理合同备案"), code="wrong_stage")
        if unit.buyer_id is not None:
            raise Conflict(_("%(u)s已售出并备案") % {"u": unit.label}, code="unit_sold")
        if Unit.objects.filter(contract_no=contract_no).exists():
            raise Conflict(
                _("合同备案号%(c)s已使用") % {"c": contract_no}, code="duplicate_contract"
            )
        record = _publish(
            actor,
            project,
            "contract_filing",
            housing,
            sharing_services.subject_of(person=buyer),
            contract_no,
            {
                "unit": unit.label,
                "contract_no": contract_no,
                "price_yuan": price_yuan,
                "area_centi_m2": int(unit.area_m2 * 100),
                "developer": project.developer.uscc,
            },
        )
        unit.buyer = buyer
        unit.contract_no = contract_no
        unit.price_yuan = price_yuan
        unit.contract_record = record
        unit.save(update_fields=["buyer", "contract_no", "price_yuan", "contract_record"])
        _event(
            project,
            "contract_file",
            actor,
            _("%(u)s 合同备案 %(c)s") % {"u": unit.label, "c": contract_no},
        )
    return unit


def deed_tax_record(*, actor, unit_id: int, amount_yuan: int, receipt_no: str):
    """The tax bureau records a buyer's deed-tax payment for a unit's contract, published to
    `tax_payment` (subject: the buyer)."""
    errors: list[FieldError] = []
    receipt_no = _text(receipt_no, "receipt_no", _("完税凭证号"), 50, errors)
    if (
        isinstance(amount_yuan, bool)
        or not isinstance(amount_yuan, int)
        or not 0 < amount_yuan < 10**9
    ):
        errors.append(FieldError("amount_yuan", "range", _("税额应为正整数（元）")))
    _raise_if(errors)
    unit = Unit.objects.select_related("project__region", "buyer").filter(pk=unit_id).first()
    if unit is None:
        raise NotFound(_("没有这套房屋"), code="no_unit")
    tax = department_of(unit.project, DepartmentKind.TAX)
    _require_staff(actor, tax)
    if unit.buyer is None:
        raise Conflict(_("%(u)s尚未售出，没有购房合同") % {"u": unit.label}, code="unit_unsold")
    with transaction.atomic():
        record = _publish(
            actor,
            unit.project,
            "tax_payment",
            tax,
            sharing_services.subject_of(person=unit.buyer),
            receipt_no,
            {"tax": "deed_tax", "contract_no": unit.contract_no, "amount_yuan": amount_yuan},
        )
        _event(unit.project, "deed_tax", actor, _("%(u)s 契税已缴") % {"u": unit.label})
    return record


def completion_accept_record(*, actor, project_id: int, accepted_on: dt.date) -> Project:
    """The housing bureau (quality supervision) records the completion acceptance."""
    if not isinstance(accepted_on, dt.date) or accepted_on > timezone.localdate():
        raise ValidationFailed.on_field(
            "accepted_on", "date", _("竣工验收日期应为不晚于今天的日期")
        )
    with transaction.atomic():
        project = _lock(project_id)
        _require_staff(actor, department_of(project, DepartmentKind.HOUSING_CONSTRUCTION))
        _move(project, "completion_accept")
        project.completion_accepted_on = accepted_on
        project.save(update_fields=["stage", "completion_accepted_on"])
        _event(project, "completion_accept", actor, accepted_on.isoformat())
    return project


# --- completion filing ----------------------------------------------------------------------


def completion_filing_request(*, actor, project_id: int) -> Project:
    """The developer asks for the completion filing (竣工验收备案)."""
    with transaction.atomic():
        project = _lock(project_id)
        if not selectors.is_developer_side(actor, project):
            raise PermissionDenied(_("只有开发企业可以申请竣工验收备案"), code="not_developer")
        if project.stage != Stage.COMPLETION_ACCEPTED:
            raise Conflict(_("竣工验收后才能申请备案"), code="wrong_stage")
        project.filing_requested_at = timezone.now()
        project.save(update_fields=["filing_requested_at"])
        _event(project, "filing_request", actor)
    return project


def completion_file(*, actor, project_id: int) -> FilingCheck:
    """The housing bureau checks, BEFORE filing, that every sold unit has a filed contract
    and a deed-tax payment for that contract (read from the tax bureau under the bureau's
    grant; every read recorded and on the ledger). All present: the project is filed and the
    filing published; otherwise the check result (unit labels only) is kept for the
    developer and nothing moves."""
    with transaction.atomic():
        project = _lock(project_id)
        housing = department_of(project, DepartmentKind.HOUSING_CONSTRUCTION)
        _require_staff(actor, housing)
        if project.stage != Stage.COMPLETION_ACCEPTED:
            raise Conflict(
                _("项目当前阶段为“%(s)s”，不能备案") % {"s": project.get_stage_display()},
                code="wrong_stage",
            )
        if project.filing_requested_at is None:
            raise Conflict(_("开发企业尚未申请竣工验收备案"), code="not_requested")
        grant = _held_grant(actor, housing, "tax_payment")
        units = list(
            project.units.select_related("buyer", "contract_record").order_by("building", "room")
        )
        check = FilingCheck(ok=True, sold=sum(1 for u in units if u.buyer_id))
        for unit in units:
            if unit.buyer_id is None:
                continue
            if unit.contract_record is None:
                check.missing_contract.append(unit.label)
                continue
            result = sharing_services.record_read(
                actor=actor,
                grant_id=grant.pk,
                category_code="tax_payment",
                subject=sharing_services.subject_of(person=unit.buyer),
                purpose=_("竣工验收备案核验契税：%(p)s %(u)s")
                % {"p": project.name, "u": unit.label},
            )
            check.reads += 1
            if not any(r.payload.get("contract_no") == unit.contract_no for r in result.records):
                check.missing_tax.append(unit.label)
        check.ok = not (check.missing_contract or check.missing_tax)
        project.filing_check = check.as_dict()
        if check.ok:
            _move(project, "completion_file")
            project.completion_filed_at = timezone.now()
            _publish(
                actor,
                project,
                "completion_filing",
                housing,
                sharing_services.subject_of(enterprise=project.developer),
                f"{project.code}-filing",
                {"units": len(units), "sold": check.sold},
            )
            _event(project, "completion_file", actor)
        else:
            project.filing_requested_at = None  # returned to the developer
            _event(
                project,
                "filing_blocked",
                actor,
                _("%(c)d套未完成合同备案，%(t)d套未缴契税")
                % {"c": len(check.missing_contract), "t": len(check.missing_tax)},
            )
        project.save(
            update_fields=["stage", "filing_check", "completion_filed_at", "filing_requested_at"]
        )
    return check


# --- delivery: first registration + transfer registrations together ---------------------------


# The registrations' items, by their national basic code (GB/T 39554), implemented by the
# registration office of the project's county.
BASIC_CODES = {FIRST_REGISTRATION: "070035001000", TRANSFER_REGISTRATION: "070035003000"}


def _item_code(registry: Department, key: str) -> str:
    item = (
        Item.objects.filter(department=registry, basic_code=BASIC_CODES[key])
        .order_by("business_item_code", "id")
        .first()
    )
    if item is None:
        raise Conflict(
            _("%(d)s没有在办事项目录中实施该登记事项") % {"d": registry.name}, code="no_item"
        )
    return item.implementation_code


def _form(schema: dict, values: dict[str, Any]) -> dict:
    form = {}
    for name, prop in (schema.get("properties") or {}).items():
        element = prop.get("x-element") if isinstance(prop, dict) else None
        if element in values:
            form[name] = values[element]
    return form


def _materials(actor, preview: dict, lines: list[str]) -> list:
    chosen = []
    for material in preview["materials"]:
        if material["fetchable"] or material["requirement"] != "required":
            continue
        if material["deferrable"] or case_services.is_commitment_material(material["kind"]):
            continue
        content = material_pdf(kind=material["kind"], lines=lines)
        document = document_store(actor=actor, content=content, filename=f"{material['kind']}.pdf")
        chosen.append(case_services.MaterialInput(kind=material["kind"], document_id=document.pk))
    return chosen


def _register(actor, *, item_code: str, key: str, values: dict, lines: list[str], **applicant):
    """File, accept, decide and deliver one registration through the case engine; returns
    (case number, output number)."""
    preview = case_selectors.case_preview(item_code=item_code)
    submission = case_services.case_submit(
        actor=actor,
        item_code=item_code,
        form_data=_form(preview["form_schema"], values),
        materials=_materials(actor, preview, lines),
        channel="counter",
        green_channel=True,  # 交房即交证 is a green channel; a blacklisted party loses it
        green_channel_reason=_("交房即交证"),
        idempotency_key=key,
        **applicant,
    )
    case = submission.case
    case_services.case_accept(actor=actor, case_id=case.pk)
    for task in Task.objects.filter(case_item__case=case, state__in=ACTIVE_TASK_STATES):
        case_services.item_approve(
            actor=actor, task_id=task.pk, comment=_("交房即交证：材料齐全，准予登记")
        )
    case_services.case_deliver(actor=actor, case_id=case.pk, method="electronic")
    output = case.outputs.order_by("id").first()
    return case.number, output.number if output else ""


def _registrations_done(project: Project) -> int:
    units = project.units.filter(buyer__isnull=False).exclude(certificate_number="").count()
    return units + (1 if project.first_registration_case else 0)


def _delivery_begins(project: Project, actor, *, restart: bool) -> None:
    """The progress fields as a delivery (re)starts: started now by `actor` when `restart`
    (else as started, or now when called directly), the registrations done so far of all,
    no error."""
    now = timezone.now()
    if restart or project.delivery_started_at is None:
        project.delivery_started_at, project.delivery_started_by = now, actor
    project.delivery_progressed_at = now
    project.delivery_total = project.units.filter(buyer__isnull=False).count() + 1
    project.delivery_done = _registrations_done(project)
    project.delivery_error = ""
    project.save(
        update_fields=[
            "delivery_started_at",
            "delivery_started_by",
            "delivery_progressed_at",
            "delivery_total",
            "delivery_done",
            "delivery_error",
        ]
    )


def project_delivery_start(*, actor, project_id: int) -> Project:
    """交房即交证, started: the delivery is queued for the background worker (`yiciban
    worker` runs `project_deliver` as `actor`), since registering a project of a hundred
    units through the case engine takes half a minute. The project page and the API show
    how far it got. A delivery that stopped (a record missing, an error) can be started
    again and goes on where it stopped; a running one cannot be started twice, unless it
    made no progress for `DELIVERY_STALL` (its worker was stopped)."""
    from .tasks import deliver_project

    with transaction.atomic():
        project = _lock(project_id)
        registry = department_of(project, DepartmentKind.NATURAL_RESOURCES)
        _require_staff(actor, registry)
        _require_stage(project, "deliver")
        if project.delivery_running:
            raise Conflict(
                _("交房即交证正在办理中（已办结%(d)d件，共%(t)d件）")
                % {"d": project.delivery_done, "t": project.delivery_total},
                code="delivery_running",
            )
        # refused now rather than in the background: the grants the delivery reads under
        _held_grant(actor, registry, "contract_filing")
        _held_grant(actor, registry, "tax_payment")
        _delivery_begins(project, actor, restart=True)
        _event(
            project,
            "delivery_start",
            actor,
            _("开始交房即交证：共%(t)d件登记") % {"t": project.delivery_total},
        )
        enqueue(deliver_project, project_id=project.pk)
    return project


def project_deliver(*, actor, project_id: int) -> Project:
    """交房即交证 itself (the background task of `project_delivery_start`; tests and
    scripts may call it directly). The registration office first reads every sold unit's
    filed contract and deed-tax payment under its grants — if one is missing, nothing is
    registered. Then it files, accepts, decides and delivers through the case engine the
    project's first registration and each buyer's transfer registration, each in its own
    transaction together with the project's progress count, so the page shows how far it
    got and a delivery that stops goes on where it stopped when started again (a
    registration is whole or absent, never half). The last step moves the project to
    delivered. A failure is recorded on the project (`delivery_error`) and raised."""
    try:
        project, checked, values, registry = _delivery_checked(actor, project_id)
        if not project.first_registration_case:
            with transaction.atomic():
                number, certificate = _register(
                    actor,
                    item_code=_item_code(registry, FIRST_REGISTRATION),
                    key=f"housing-{project.code}-first",
                    values=values,
                    lines=[
                        f"project: {project.code}",
                        f"developer: {project.developer.uscc}",
                        f"units: {project.units.count()}",
                    ],
                    enterprise_uscc=project.developer.uscc,
                )
                _progress(project, first_registration_case=number, certificate=certificate)
        for unit, contract, tax in checked:
            if unit.certificate_number:  # registered before the delivery stopped
                continue
            with transaction.atomic():
                _register_transfer(actor, project, registry, values, unit, contract, tax)
                _progress(project)
        with transaction.atomic():
            project = _lock(project_id)
            _move(project, "deliver")
            project.delivered_at = timezone.now()
            project.save(update_fields=["stage", "delivered_at"])
            _event(project, "deliver", actor, _("%(n)d套房屋交房即交证") % {"n": len(checked)})
    except Exception as exc:
        _delivery_stopped(project_id, actor, exc)
        raise
    return project


def _delivery_checked(actor, project_id: int):
    """The checks and reads before any registration (one transaction: the reads are
    recorded with it): the project, [(unit, contract, tax)], the form values, the office."""
    with transaction.atomic():
        project = _lock(project_id)
        registry = department_of(project, DepartmentKind.NATURAL_RESOURCES)
        _require_staff(actor, registry)
        _require_stage(project, "deliver")
        contract_grant = _held_grant(actor, registry, "contract_filing")
        tax_grant = _held_grant(actor, registry, "tax_payment")
        developer = project.developer
        sold = list(
            project.units.filter(buyer__isnull=False)
            .select_related("buyer")
            .order_by("building", "room")
        )
        total_area = sum((u.area_m2 for u in project.units.all()), Decimal("0"))
        purpose = _("交房即交证转移登记核验：%(p)s") % {"p": project.name}
        checked = []
        for unit in sold:
            subject = sharing_services.subject_of(person=unit.buyer)
            contracts = sharing_services.record_read(
                actor=actor,
                grant_id=contract_grant.pk,
                category_code="contract_filing",
                subject=subject,
                purpose=purpose,
            ).records
            taxes = sharing_services.record_read(
                actor=actor,
                grant_id=tax_grant.pk,
                category_code="tax_payment",
                subject=subject,
                purpose=purpose,
            ).records
            contract = next((r for r in contracts if r.reference == unit.contract_no), None)
            tax = next((r for r in taxes if r.payload.get("contract_no") == unit.contract_no), None)
            if contract is None or tax is None:
                raise Conflict(
                    _("%(u)s缺少合同备案或契税记录，不能交房交证") % {"u": unit.label},
                    code="records_missing",
                )
            checked.append((unit, contract, tax))
        _delivery_begins(project, actor, restart=False)
    values = {
        "enterprise.name": developer.name,
        "enterprise.uscc": developer.uscc,
        "legal_rep.name": developer.legal_representative.name
        if developer.legal_representative_id
        else developer.name,
        "project.name": project.name,
        "project.address": project.address,
        "project.building_area_m2": float(total_area),
    }
    return project, checked, values, registry


def _register_transfer(actor, project, registry, values, unit, contract, tax) -> None:
    buyer = unit.buyer
    unit_values = {
        **values,
        "buyer.name": buyer.name,
        "buyer.id_number": buyer.id_number,
        "buyer.phone": buyer.phone or "",
        "house.address": f"{project.address}{unit.label}",
        "house.area_m2": float(unit.area_m2),
        "house.contract_no": unit.contract_no,
    }
    unit.transfer_case, unit.certificate_number = _register(
        actor,
        item_code=_item_code(registry, TRANSFER_REGISTRATION),
        key=f"housing-{project.code}-{unit.pk}",
        values={k: v for k, v in unit_values.items() if v != ""},
        lines=[
            f"project: {project.code} unit: {unit.building}-{unit.room}",
            f"contract: {unit.contract_no} sha256 {contract.payload_sha256}",
            f"deed tax: {tax.reference} sha256 {tax.payload_sha256}",
        ],
        applicant_id_number=buyer.id_number,
    )
    unit.delivered_at = timezone.now()
    unit.save(update_fields=["transfer_case", "certificate_number", "delivered_at"])


def _progress(project: Project, *, first_registration_case="", certificate="") -> None:
    """One more registration done (in its transaction)."""
    changes = {"delivery_done": F("delivery_done") + 1, "delivery_progressed_at": timezone.now()}
    if first_registration_case:
        changes["first_registration_case"] = first_registration_case
        changes["first_registration_certificate"] = certificate
        project.first_registration_case = first_registration_case
        project.first_registration_certificate = certificate
    Project.objects.filter(pk=project.pk).update(**changes)


def _delivery_stopped(project_id: int, actor, exc: Exception) -> None:
    """Record why the delivery stopped (its own transaction: what was registered stays) —
    the delivery `actor` started, not someone else's refused call."""
    if isinstance(exc, DomainError):
        reason = str(exc.message)
    else:
        logger.exception("交房即交证 of project %s stopped", project_id)
        reason = _("系统错误（%(e)s），请联系管理员后重新开始") % {"e": type(exc).__name__}
    with transaction.atomic():
        Project.objects.filter(
            pk=project_id, delivered_at=None, delivery_started_by=getattr(actor, "pk", None)
        ).exclude(delivery_started_at=None).update(delivery_error=reason[:300])


# --- false materials ------------------------------------------------------------------------


FINDING_DEPARTMENTS = {
    "housing": DepartmentKind.HOUSING_CONSTRUCTION,
    "registry": DepartmentKind.NATURAL_RESOURCES,
}


def project_finding_record(
    *, actor, project_id: int, by: str, party: str, unit_id: int | None, finding: str
) -> FalseMaterialFinding:
    """A finding of false materials made while handling project `project_id`: `by` names
    the department ("housing" — 住建, or "registry" — 不动产登记), `party` the developer or
    the buyer of sold unit `unit_id`."""
    errors: list[FieldError] = []
    if by not in FINDING_DEPARTMENTS:
        errors.append(FieldError("department", "choice", _("认定部门须为住建或不动产登记")))
    if party not in ("developer", "buyer"):
        errors.append(FieldError("party", "choice", _("当事人须为开发企业或购房人")))
    _raise_if(errors)
    project = Project.objects.select_related("region", "developer").get(pk=project_id)
    person = None
    if party == "buyer":
        unit = (
            project.units.filter(pk=unit_id or 0, buyer__isnull=False)
            .select_related("buyer")
            .first()
        )
        if unit is None:
            raise ValidationFailed.on_field("unit_id", "sold_unit", _("须指定已售房屋的购房人"))
        person = unit.buyer
    return false_material_record(
        actor=actor,
        department=department_of(project, FINDING_DEPARTMENTS[by]),
        enterprise=project.developer if party == "developer" else None,
        person=person,
        project=project,
        finding=finding,
    )


def false_material_record(
    *, actor, department: Department, finding: str, enterprise=None, person=None, project=None
) -> FalseMaterialFinding:
    """A clerk records that a party filed false materials: a credit record in the party's
    archive, and the party is blacklisted for green channels (cases.hooks)."""
    errors: list[FieldError] = []
    finding = _text(finding, "finding", _("认定事实"), 300, errors)
    if (enterprise is None) == (person is None):
        errors.append(FieldError("party", "one_party", _("须指定一个企业或一个自然人")))
    _raise_if(errors)
    _require_staff(actor, department)
    with transaction.atomic():
        archive = archive_services.archive_open(enterprise=enterprise, person=person)
        record = archive_services.archive_record_add(
            actor=actor,
            archive=archive,
            kind="credit",
            department=department,
            event_date=timezone.localdate(),
            summary=_("提供虚假材料，列入失信名单（不适用绿色通道）"),
            payload={"finding": finding, "project": project.code if project else ""},
        )
        row = FalseMaterialFinding.objects.create(
            enterprise=enterprise,
            person=person,
            project=project,
            finding=finding,
            archive_record_id=record.pk,
            found_by=actor,
        )
        audit.record(
            actor=actor,
            action="housing.false_material_record",
            obj=row,
            changes={"archive_record": record.pk},
        )
    return row
