"""Reads the portal pages need beyond catalog.selectors: the counties a visitor chooses
between, one theme / department / service point by its key, the bundles an item belongs to,
and the steps of an item's process told in plain words. Public: only what is in force."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiciban.accounts.models import Enterprise
from yiciban.core.errors import NotFound
from yiciban.org.models import Department, Region, ServicePoint

from .models import ApprovalMode, BundleVersion, Item, ItemVersion, Theme
from .selectors import current_bundle_versions, departments_with_items


def counties_with_items(*, today: date | None = None) -> list[Region]:
    """The regions whose departments have items in force, each with `item_count` — what a
    visitor picks from before browsing by department."""
    counties: dict[int, Region] = {}
    for department in departments_with_items(today=today):
        region = counties.setdefault(department.region_id, department.region)
        region.item_count = getattr(region, "item_count", 0) + department.item_count
    return sorted(counties.values(), key=lambda region: region.code)


def theme_get(code: str) -> Theme:
    theme = Theme.objects.filter(code=code).first()
    if theme is None:
        raise NotFound(_("没有这个主题：%(c)s") % {"c": code})
    return theme


def department_get(department_id: int) -> Department:
    department = (
        Department.objects.filter(pk=department_id, is_active=True).select_related("region").first()
    )
    if department is None:
        raise NotFound(_("没有这个部门：%(d)s") % {"d": department_id})
    return department


def service_point_get(code: str) -> ServicePoint:
    point = ServicePoint.objects.filter(code=code, is_active=True).select_related("region").first()
    if point is None:
        raise NotFound(_("没有这个服务网点：%(c)s") % {"c": code})
    return point


def bundles_with_item(item: Item, *, today: date | None = None) -> QuerySet[BundleVersion]:
    """Bundles in force that include `item`, so a guide can say "也可以一件事一次办"."""
    return (
        current_bundle_versions(today or timezone.localdate())
        .filter(members__item=item)
        .distinct()
        .order_by("bundle__region__code", "bundle__code")
    )


def enterprises_represented_by(user) -> list[Enterprise]:
    """Enterprises whose archive guidance may use for this user: those of which they are
    the legal representative (the rule of selectors.guidance_subject_for)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(Enterprise.objects.filter(legal_representative__user=user).order_by("name"))


# What the applicant goes through under each approval mode, in words an applicant knows.
# The process template named on the version (a case-handling concern of a higher layer)
# only adds a site inspection where its name says it has one.
PROCESS_STEPS: dict[str, tuple] = {
    ApprovalMode.STANDARD: (
        gettext_lazy("提交申请"),
        gettext_lazy("窗口受理"),
        gettext_lazy("审查"),
        gettext_lazy("审批决定（审查与审批由不同人员负责）"),
        gettext_lazy("办结出件"),
    ),
    ApprovalMode.MERGED_REVIEW: (
        gettext_lazy("提交申请"),
        gettext_lazy("窗口受理"),
        gettext_lazy("核验并作出决定（核验合一）"),
        gettext_lazy("办结出件"),
    ),
    ApprovalMode.COMMITMENT: (
        gettext_lazy("提交申请并签署告知承诺书"),
        gettext_lazy("窗口受理"),
        gettext_lazy("凭承诺当场作出决定"),
        gettext_lazy("办结出件"),
        gettext_lazy("事后核查承诺内容"),
    ),
    ApprovalMode.FILING: (
        gettext_lazy("提交备案材料"),
        gettext_lazy("受理即予备案"),
        gettext_lazy("出具备案回执"),
    ),
    ApprovalMode.INSTANT: (
        gettext_lazy("提交申请"),
        gettext_lazy("窗口受理并当场办结"),
        gettext_lazy("当场出件"),
    ),
    ApprovalMode.AUTOMATIC: (
        gettext_lazy("在线或自助终端提交申请"),
        gettext_lazy("系统按规则自动审批（秒批）"),
        gettext_lazy("即时出件"),
    ),
}
INSPECTION_STEP = gettext_lazy("现场核查")


def process_steps(version: ItemVersion) -> list[str]:
    steps = [str(step) for step in PROCESS_STEPS.get(version.approval_mode, ())]
    if "inspection" in version.process_template and steps:
        # the inspection comes before the decision, i.e. before the last two steps
        steps.insert(max(len(steps) - 2, 1), str(INSPECTION_STEP))
    return steps


TYPE_WORDS = {
    "string": gettext_lazy("文字"),
    "number": gettext_lazy("数字"),
    "integer": gettext_lazy("整数"),
    "boolean": gettext_lazy("是或否"),
    "array": gettext_lazy("多项"),
    "object": gettext_lazy("一组信息"),
}
FORMAT_WORDS = {"date": gettext_lazy("日期"), "email": gettext_lazy("电子邮箱")}


def describe_field(prop: dict) -> str:
    """A JSON Schema property in a few words for the read-only merged form: its kind, its
    choices and its limits."""
    if "enum" in prop:
        return _("单选：%(values)s") % {"values": "、".join(str(v) for v in prop["enum"])}
    if prop.get("type") == "array" and "enum" in prop.get("items", {}):
        return _("多选：%(values)s") % {"values": "、".join(str(v) for v in prop["items"]["enum"])}
    words = [str(FORMAT_WORDS.get(prop.get("format"), TYPE_WORDS.get(prop.get("type"), "")))]
    if "maxLength" in prop:
        words.append(_("不超过 %(n)s 字") % {"n": prop["maxLength"]})
    if "pattern" in prop:
        words.append(_("有格式要求"))
    if "minimum" in prop:
        words.append(_("不小于 %(n)s") % {"n": prop["minimum"]})
    if "exclusiveMinimum" in prop:
        words.append(_("大于 %(n)s") % {"n": prop["exclusiveMinimum"]})
    if "maximum" in prop:
        words.append(_("不大于 %(n)s") % {"n": prop["maximum"]})
    return "，".join(w for w in words if w)
