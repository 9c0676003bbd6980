"""Reads of house delivery, each filtered to the reader's part: the housing, tax and
registration departments of the project's county see the project and its units (with what
their work needs); the developer sees its projects with unit labels and counts, never the
buyers' identities or tax; a buyer sees only their own units."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from yiciban.accounts import selectors as account_selectors
from yiciban.core.errors import NotFound
from yiciban.core.statements import Statement
from yiciban.org.models import DepartmentKind
from yiciban.org.selectors import is_platform_admin
from yiciban.sharing import selectors as sharing_selectors

from .models import FalseMaterialFinding, Project, Stage, Unit

STAFF_KINDS = {
    DepartmentKind.HOUSING_CONSTRUCTION: "housing",
    DepartmentKind.TAX: "tax",
    DepartmentKind.NATURAL_RESOURCES: "registry",
}
STAGES = [
    Stage.CONSTRUCTION,
    Stage.PRESALE,
    Stage.COMPLETION_ACCEPTED,
    Stage.COMPLETION_FILED,
    Stage.DELIVERED,
]


def staff_roles(user, project: Project) -> set[str]:
    """Which departments' part of this project the user works in: housing, tax, registry."""
    if is_platform_admin(user):
        return set(STAFF_KINDS.values())
    departments = sharing_selectors.member_departments(user).filter(region=project.region)
    return {STAFF_KINDS[d.kind] for d in departments if d.kind in STAFF_KINDS}


def _developer_enterprises(user):
    return sharing_selectors.enterprises_of(user)


def projects_visible_to(user) -> QuerySet[Project]:
    if is_platform_admin(user):
        projects = Project.objects.all()
    else:
        departments = sharing_selectors.member_departments(user).filter(kind__in=list(STAFF_KINDS))
        projects = Project.objects.filter(
            Q(region__in=departments.values("region"))
            | Q(developer__in=_developer_enterprises(user))
        )
    return (
        projects.select_related("developer", "region")
        .annotate(
            unit_count=Count("units"),
            sold_count=Count("units", filter=Q(units__buyer__isnull=False)),
        )
        .order_by("-created_at", "-id")
    )


def project_for(user, code: str) -> Project:
    project = projects_visible_to(user).filter(code=code).first()
    if project is None:
        raise NotFound(_("没有这个项目"), code="no_project")
    return project


def is_developer_side(user, project: Project) -> bool:
    """The developer's legal representative or an agent it authorised."""
    person = account_selectors.person_for_user(user)
    return bool(person and account_selectors.person_can_act_for(person, project.developer))


def project_view(user, project: Project) -> dict:
    """What the page and the API show of a project to this user."""
    roles = staff_roles(user, project)
    developer = is_developer_side(user, project)
    units = list(project.units.select_related("buyer").order_by("building", "room"))
    view = {
        "project": project,
        "roles": roles,
        "developer": developer,
        "stages": [(s, s.label, STAGES.index(s) <= STAGES.index(project.stage)) for s in STAGES],
        "counts": {
            "units": len(units),
            "sold": sum(1 for u in units if u.buyer_id),
            "contracts": sum(1 for u in units if u.contract_record_id),
            "certificates": sum(1 for u in units if u.certificate_number),
        },
        "check": project.filing_check or {},
        "events": list(project.events.select_related("actor").order_by("-at", "-id")[:30]),
        "reduction": bundle_reduction(project),
        "delivery": delivery_progress(project),
    }
    if roles:
        # staff see the units; buyers' names masked, ID numbers masked
        view["units"] = [
            {
                "unit": u,
                "buyer": f"{u.buyer.name[:1]}**" if u.buyer_id else "",
                "buyer_id": u.buyer.id_number_masked if u.buyer_id else "",
            }
            for u in units
        ]
    elif developer:
        view["units"] = [
            {"unit": u, "buyer": _("已售") if u.buyer_id else "", "buyer_id": ""} for u in units
        ]
    return view


def delivery_progress(project: Project) -> dict:
    """How far 交房即交证 got: registrations done of all (the project's first registration
    and one transfer per sold unit), whether the worker is on it, and why it stopped."""
    return {
        "started_at": project.delivery_started_at,
        "running": project.delivery_running,
        "stalled": project.delivery_stalled,
        "done": project.delivery_done,
        "total": project.delivery_total,
        "error": project.delivery_error,
    }


def units_of_buyer(user) -> QuerySet[Unit]:
    person = account_selectors.person_for_user(user)
    if person is None:
        return Unit.objects.none()
    return (
        Unit.objects.filter(buyer=person)
        .select_related("project__developer", "project__region")
        .order_by("project__name", "building", "room")
    )


def buyer_progress(unit: Unit) -> list[dict]:
    """The buyer's milestones, in order, each done or not."""
    project = unit.project
    reached = STAGES.index(project.stage)
    return [
        {"label": _("合同网签备案"), "done": bool(unit.contract_record_id)},
        {"label": _("预售许可"), "done": reached >= 1},
        {"label": _("竣工验收"), "done": reached >= 2},
        {"label": _("竣工验收备案（已核验合同与契税）"), "done": reached >= 3},
        {"label": _("首次登记与转移登记"), "done": bool(unit.transfer_case)},
        {"label": _("交房并颁发不动产权证书"), "done": bool(unit.certificate_number)},
    ]


def _finding_exists_sql(quote, kind: str) -> str:
    from yiciban.accounts.models import Enterprise

    finding = quote(FalseMaterialFinding._meta.db_table)
    if kind == "enterprise":
        enterprise_fk = FalseMaterialFinding._meta.get_field("enterprise")
        return (
            f"SELECT 1 FROM {finding} f JOIN {quote(Enterprise._meta.db_table)} e "
            f"ON e.{quote(Enterprise._meta.pk.column)} = f.{quote(enterprise_fk.column)} "
            f"WHERE e.{quote(Enterprise._meta.get_field('uscc').column)} = %s LIMIT 1"
        )
    person_fk = FalseMaterialFinding._meta.get_field("person")
    return f"SELECT 1 FROM {finding} WHERE {quote(person_fk.column)} = %s LIMIT 1"


# Every submission asks this and almost never finds one: one indexed EXISTS per subject kind.
_FINDING_EXISTS = Statement(_finding_exists_sql)


def applicant_record(subject) -> dict:
    """cases.hooks provider: a party found to have filed false materials is blacklisted."""
    if subject.kind == "enterprise":
        kind, param = "enterprise", subject.identifier
    elif subject.identifier.isdigit():
        kind, param = "person", int(subject.identifier)
    else:
        return {}
    if _FINDING_EXISTS.fetchone([param], variant=kind) is not None:
        return {"blacklisted": True, "flags": ["false_materials"]}
    return {}


def registrable_regions(user):
    """Regions where the user may register projects (housing bureau staff)."""
    from yiciban.org.models import Region

    departments = sharing_selectors.member_departments(user).filter(
        kind=DepartmentKind.HOUSING_CONSTRUCTION
    )
    return Region.objects.filter(pk__in=departments.values("region_id")).order_by("code")


def can_register(user) -> bool:
    return registrable_regions(user).exists()


def certificate_of(unit: Unit):
    """The buyer's e-certificate (licence) when the licence hook issued one."""
    from yiciban.licences import selectors as licence_selectors

    if not unit.certificate_number:
        return None
    try:
        return licence_selectors.licence_by_number(unit.certificate_number)
    except NotFound:
        return None


# The county's 交房即交证 bundle in the catalogue (the reduction shown is computed from it).
BUNDLES = {"430781": "jinshi-house-delivery"}


def bundle_reduction(project: Project) -> dict | None:
    """How many materials the bundle saves against applying item by item (with a mortgage,
    all nine items), as the catalogue computes it."""
    from yiciban.catalog import selectors as catalog_selectors

    code = BUNDLES.get(project.region.code[:6])
    if code is None:
        return None
    try:
        guidance = catalog_selectors.bundle_guidance(code, {"has_mortgage": True})
    except NotFound:
        return None
    return {"bundle": guidance["bundle"]["name"], **guidance["reduction"]}
