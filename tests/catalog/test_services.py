import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from yiciban.catalog import selectors, services
from yiciban.catalog.models import CatalogRevision, ItemVersion, VersionStatus
from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent

from .conftest import department, form, make_item

pytestmark = pytest.mark.django_db


def _rules(exc) -> set[str]:
    return {e.rule for e in exc.value.errors}


def test_item_create_computes_the_implementation_code(org, admin_user):
    dept = department("430623", "market_regulation")
    item = services.item_create(
        actor=admin_user, department=dept, basic_code="010017002000", name="食品经营许可"
    )
    assert item.implementation_code == dept.uscc + "010017002000" + "000"
    draft = item.versions.get()
    assert draft.status == VersionStatus.DRAFT and draft.number == 1
    assert draft.item_type == "licensing"  # from the basic code's type digits
    assert AuditEvent.objects.filter(action="catalog.item_create").count() == 1


def test_item_create_refuses_bad_codes_and_duplicates(org, admin_user):
    dept = department("430623", "market_regulation")
    with pytest.raises(ValidationFailed) as exc:
        services.item_create(actor=admin_user, department=dept, basic_code="12AB", name="x")
    assert _rules(exc) == {"pattern"}
    with pytest.raises(ValidationFailed) as exc:
        services.item_create(actor=admin_user, department=dept, basic_code="990017002000", name="x")
    assert _rules(exc) == {"item_type_code"}
    services.item_create(actor=admin_user, department=dept, basic_code="010017002000", name="x")
    with pytest.raises(Conflict):
        services.item_create(actor=admin_user, department=dept, basic_code="010017002000", name="x")


def test_department_admin_edits_only_own_department(org, market_admin, registry):
    own = department("430623", "market_regulation")
    services.item_create(actor=market_admin, department=own, basic_code="010017002000", name="甲")
    with pytest.raises(PermissionDenied):
        services.item_create(
            actor=market_admin,
            department=department("430623", "health"),
            basic_code="010014012000",
            name="乙",
        )
    with pytest.raises(PermissionDenied):
        services.data_element_create(
            actor=market_admin, code="x.y", label="x", schema={"type": "string"}
        )


def test_anonymous_user_may_not_write(org):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        services.item_create(
            actor=AnonymousUser(),
            department=department("430623", "market_regulation"),
            basic_code="010017002000",
            name="x",
        )


def test_publish_makes_version_current_and_immutable(org, admin_user, registry):
    item, version = make_item(
        admin_user,
        materials=[{"kind": "food.application"}, {"kind": "licence.business"}],
        form_schema=form("enterprise.name", "premises.area_m2", required=("enterprise.name",)),
    )
    assert version.status == VersionStatus.PUBLISHED
    assert selectors.item_detail(item.implementation_code).pk == version.pk
    with pytest.raises(Conflict) as exc:
        services.item_version_update(actor=admin_user, version=version, name="改名")
    assert exc.value.code == "published_version_immutable"
    with pytest.raises(Conflict):
        services.item_materials_set(actor=admin_user, version=version, materials=[])
    with pytest.raises(Conflict) as exc:
        services.item_version_publish(actor=admin_user, version=version)
    assert exc.value.code == "invalid_transition"
    version.refresh_from_db()
    assert version.name == "食品经营许可"
    assert [m.kind.code for m in version.materials.all()] == [
        "food.application",
        "licence.business",
    ]


def test_new_version_supersedes_previous_on_its_date(org, admin_user, registry):
    item, first = make_item(admin_user, effective_from=dt.date(2021, 6, 1))
    draft = services.item_version_draft_create(actor=admin_user, item=item)
    assert draft.number == 2 and draft.name == first.name
    with pytest.raises(Conflict):
        services.item_version_draft_create(actor=admin_user, item=item)
    services.item_version_update(actor=admin_user, version=draft, promised_limit=3)
    later = timezone.localdate() + dt.timedelta(days=10)
    services.item_version_publish(actor=admin_user, version=draft, effective_from=later)
    first.refresh_from_db()
    assert first.effective_until == later
    # today the old version is still the current one; from `later` the new one is
    assert selectors.item_detail(item.implementation_code).number == 1
    assert selectors.item_detail(item.implementation_code, today=later).number == 2
    # a case pinned to version 1 keeps it
    assert selectors.item_version_get(first.pk).promised_limit == 5


def test_publish_refuses_date_before_previous(org, admin_user, registry):
    item, _first = make_item(admin_user, effective_from=dt.date(2021, 6, 1))
    draft = services.item_version_draft_create(actor=admin_user, item=item)
    with pytest.raises(ValidationFailed) as exc:
        services.item_version_publish(
            actor=admin_user, version=draft, effective_from=dt.date(2021, 1, 1)
        )
    assert _rules(exc) == {"before_previous"}


def test_risk_tier_decides_allowed_modes(org, admin_user, registry):
    item = services.item_create(
        actor=admin_user,
        department=department("430623", "health"),
        basic_code="010014012000",
        name="公共场所卫生许可",
    )
    draft = item.versions.get()
    with pytest.raises(ValidationFailed) as exc:
        services.item_version_update(
            actor=admin_user, version=draft, risk_tier="high", approval_mode="commitment"
        )
    assert _rules(exc) == {"mode_not_allowed_by_risk"}
    with pytest.raises(ValidationFailed) as exc:
        services.item_version_update(
            actor=admin_user, version=draft, risk_tier="none", approval_mode="standard"
        )
    assert _rules(exc) == {"mode_not_allowed_by_risk"}
    services.item_version_update(
        actor=admin_user,
        version=draft,
        risk_tier="none",
        approval_mode="automatic",
        promised_limit=0,
        process_template="automatic_approval",
    )
    draft.refresh_from_db()
    assert draft.approval_mode == "automatic"


def test_update_refuses_bad_fields(org, admin_user, registry):
    item = services.item_create(
        actor=admin_user,
        department=department("430623", "market_regulation"),
        basic_code="010017002000",
        name="食品经营许可",
    )
    draft = item.versions.get()
    with pytest.raises(ValidationFailed) as exc:
        services.item_version_update(
            actor=admin_user, version=draft, legal_limit=5, promised_limit=10
        )
    assert "promised_exceeds_legal" in _rules(exc)
    with pytest.raises(ValidationFailed) as exc:
        services.item_version_update(actor=admin_user, version=draft, channels=["fax"])
    assert _rules(exc) == {"choice"}
    with pytest.raises(ValidationFailed) as exc:
        services.item_version_update(actor=admin_user, version=draft, item_type="payment")
    assert _rules(exc) == {"basic_code_type_mismatch"}
    with pytest.raises(ValidationFailed) as exc:
        services.item_version_update(actor=admin_user, version=draft, colour="red")
    assert _rules(exc) == {"unknown_field"}
    with pytest.raises(ValidationFailed) as exc:
        services.item_version_update(
            actor=admin_user,
            version=draft,
            form_schema={"type": "object", "properties": {"x": {"title": "无数据元"}}},
        )
    assert _rules(exc) == {"missing_x_element"}
    with pytest.raises(ValidationFailed) as exc:
        services.item_materials_set(
            actor=admin_user, version=draft, materials=[{"kind": "no.such.material"}]
        )
    assert _rules(exc) == {"unknown_material_kind"}


def test_publish_refuses_incompatible_schema_for_shared_element(org, admin_user, registry):
    make_item(
        admin_user,
        form_schema=form("premises.area_m2", premises_area_m2={"minimum": 50}),
    )
    item = services.item_create(
        actor=admin_user,
        department=department("430623", "tobacco"),
        basic_code="010026001000",
        name="烟草专卖零售许可证核发",
    )
    draft = item.versions.get()
    services.item_version_update(
        actor=admin_user,
        version=draft,
        approval_mode="standard",
        risk_tier="general",
        process_template="standard_review",
        conditions=["有固定经营场所"],
        form_schema=form("premises.area_m2", premises_area_m2={"maximum": 20}),
    )
    with pytest.raises(ValidationFailed) as exc:
        services.item_version_publish(actor=admin_user, version=draft)
    assert _rules(exc) == {"element_schema_conflict"}
    assert "食品经营许可" in exc.value.errors[0].message
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    # a narrowing both can live with is accepted
    services.item_version_update(
        actor=admin_user,
        version=draft,
        form_schema=form("premises.area_m2", premises_area_m2={"maximum": 500}),
    )
    services.item_version_publish(actor=admin_user, version=draft)


def test_element_schema_type_cannot_differ_from_registry(org, admin_user, registry):
    item = services.item_create(
        actor=admin_user,
        department=department("430623", "market_regulation"),
        basic_code="010017002000",
        name="x",
    )
    with pytest.raises(ValidationFailed) as exc:
        services.item_version_update(
            actor=admin_user,
            version=item.versions.get(),
            form_schema=form("premises.area_m2", premises_area_m2={"type": "string"}),
        )
    assert _rules(exc) == {"element_schema_conflict"}


def test_data_element_update_refuses_breaking_published_forms(org, admin_user, registry):
    make_item(admin_user, form_schema=form("premises.area_m2"))
    from yiciban.catalog.models import DataElement

    element = DataElement.objects.get(code="premises.area_m2")
    with pytest.raises(ValidationFailed) as exc:
        services.data_element_update(actor=admin_user, element=element, schema={"type": "string"})
    assert _rules(exc) == {"element_in_use"}
    make_item(
        admin_user,
        kind="tobacco",
        basic_code="010026001000",
        name="烟草",
        form_schema=form("premises.area_m2", premises_area_m2={"maximum": 30}),
    )
    with pytest.raises(ValidationFailed) as exc:
        services.data_element_update(
            actor=admin_user, element=element, schema={"type": "number", "minimum": 50}
        )
    assert _rules(exc) == {"element_schema_conflict"}
    services.data_element_update(actor=admin_user, element=element, label="经营场所面积")
    element.refresh_from_db()
    assert element.label == "经营场所面积"


def test_withdraw_ends_the_version(org, admin_user, registry):
    _item, version = make_item(admin_user)
    services.item_version_withdraw(actor=admin_user, version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.WITHDRAWN
    assert selectors.items_list().count == 0
    with pytest.raises(Conflict):
        services.item_version_withdraw(actor=admin_user, version=version)


def test_publication_bumps_the_catalogue_revision(org, admin_user, registry):
    before = selectors.catalog_revision()
    make_item(admin_user)
    assert selectors.catalog_revision() > before
    assert CatalogRevision.objects.count() == 1


def _bundle(admin_user, org, *, members, questionnaire=None, promised_limit=None):
    bundle = services.bundle_create(
        actor=admin_user,
        code="restaurant",
        region=org["430623"],
        audience="enterprise",
        name="开办餐饮店",
    )
    version = bundle.versions.get()
    services.bundle_version_update(
        actor=admin_user,
        version=version,
        questionnaire=questionnaire
        or [{"code": "sells_tobacco", "label": "是否销售卷烟？", "type": "boolean"}],
        promised_limit=promised_limit,
    )
    services.bundle_members_set(actor=admin_user, version=version, members=members)
    return bundle, version


def test_bundle_members_refuse_bad_rules_cycles_and_bases(org, admin_user, registry):
    food, _v = make_item(admin_user)
    tobacco, _v = make_item(
        admin_user, kind="tobacco", basic_code="010026001000", name="烟草专卖零售许可证核发"
    )
    _bundle_obj, version = _bundle(
        admin_user, org, members=[{"item": food.implementation_code, "role": "base"}]
    )
    cases = [
        (
            [
                {"item": food.implementation_code, "role": "base"},
                {"item": tobacco.implementation_code, "rule": {"var": "sells_alcohol"}},
            ],
            "unknown_variable",
        ),
        (
            [
                {"item": food.implementation_code, "role": "base"},
                {"item": tobacco.implementation_code, "rule": {"regex": ["a", "b"]}},
            ],
            "unknown_operator",
        ),
        (
            [
                {
                    "item": food.implementation_code,
                    "role": "base",
                    "depends_on": [tobacco.implementation_code],
                },
                {"item": tobacco.implementation_code, "depends_on": [food.implementation_code]},
            ],
            "dependency_cycle",
        ),
        ([{"item": food.implementation_code}], "one_base"),
        (
            [{"item": food.implementation_code, "role": "base"}, {"item": "nope"}],
            "unknown_item",
        ),
    ]
    for members, rule in cases:
        with pytest.raises(ValidationFailed) as exc:
            services.bundle_members_set(actor=admin_user, version=version, members=members)
        assert rule in _rules(exc), members


def test_bundle_publish_checks_declared_limit(org, admin_user, registry):
    food, _v = make_item(admin_user, promised_limit=5)
    tobacco, _v = make_item(
        admin_user, kind="tobacco", basic_code="010026001000", name="烟草", promised_limit=7
    )
    _bundle_obj, version = _bundle(
        admin_user,
        org,
        members=[
            {"item": food.implementation_code, "role": "base"},
            {
                "item": tobacco.implementation_code,
                "rule": {"var": "sells_tobacco"},
                "depends_on": [food.implementation_code],
            },
        ],
        promised_limit=10,
    )
    with pytest.raises(ValidationFailed) as exc:
        services.bundle_version_publish(actor=admin_user, version=version)
    assert _rules(exc) == {"promise_shorter_than_path"}  # 5 + 7 > 10
    services.bundle_version_update(actor=admin_user, version=version, promised_limit=12)
    services.bundle_version_publish(actor=admin_user, version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    with pytest.raises(Conflict):
        services.bundle_version_update(actor=admin_user, version=version, name="改")


def test_bundle_publish_needs_published_items(org, admin_user, registry):
    food, _v = make_item(admin_user)
    draft_item, _v = make_item(
        admin_user, kind="tobacco", basic_code="010026001000", name="烟草", publish=False
    )
    _bundle_obj, version = _bundle(
        admin_user,
        org,
        members=[
            {"item": food.implementation_code, "role": "base"},
            {"item": draft_item.implementation_code, "rule": {"var": "sells_tobacco"}},
        ],
    )
    with pytest.raises(ValidationFailed) as exc:
        services.bundle_version_publish(actor=admin_user, version=version)
    assert _rules(exc) == {"item_not_published"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="row locks need PostgreSQL; SQLite serialises writers"
)
def test_concurrent_publication_exactly_one_wins(org, admin_user, registry):
    item, _v = make_item(admin_user, publish=False)
    draft = item.versions.get()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def publish():
        barrier.wait()
        try:
            services.item_version_publish(
                actor=admin_user, version=ItemVersion.objects.get(pk=draft.pk)
            )
            outcomes.append("published")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "published"]
    assert AuditEvent.objects.filter(action="catalog.item_version_publish").count() == 1
