import pytest

from tests.org.fixtures import UserFactory
from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.org import services
from yiciban.org.models import Region, RegionLevel


def _rules(exc_info) -> dict[str, str]:
    return {e.field: e.rule for e in exc_info.value.errors}


@pytest.mark.django_db
def test_a_whole_branch_is_created_with_computed_paths(platform_admin):
    hunan = services.region_create(
        actor=platform_admin, code="430000000000", name="湖南省", level=RegionLevel.PROVINCE
    )
    yueyang = services.region_create(
        actor=platform_admin, code="430600000000", name="岳阳市", level="city", parent=hunan
    )
    huarong = services.region_create(
        actor=platform_admin, code="430623000000", name="华容县", level="county", parent=yueyang
    )
    town = services.region_create(
        actor=platform_admin, code="430623101000", name="治河渡镇", level="township", parent=huarong
    )
    village = services.region_create(
        actor=platform_admin, code="430623101201", name="新华村", level="village", parent=town
    )
    assert village.path == "430000000000/430600000000/430623000000/430623101000/430623101201"
    assert village.ancestor_codes[:-1] == [hunan.code, yueyang.code, huarong.code, town.code]
    event = AuditEvent.objects.get(action="org.region_create", object_id=str(village.pk))
    assert event.actor == platform_admin
    assert event.changes["parent"] == "430623101000"


@pytest.mark.django_db
def test_code_must_extend_the_parents_code(tree, platform_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.region_create(
            actor=platform_admin,
            code="430624101000",  # 湘阴 digits under 华容县
            name="错镇",
            level="township",
            parent=tree.huarong,
        )
    assert _rules(exc) == {"code": "parent_prefix"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "level", "parent_name", "expected"),
    [
        ("430623102000", "village", "huarong", {"code": "level"}),  # township-shaped code
        ("4306231020", "township", "huarong", {"code": "format"}),
        ("430623102000", "township", "yueyang", {"parent": "level"}),  # skips the county
        ("430623102000", "township", None, {"parent": "required"}),
        ("440000000000", "province", "hunan", {"parent": "root"}),
        ("430623102000", "hamlet", "huarong", {"level": "choice"}),
    ],
)
def test_malformed_regions_are_refused_with_field_and_rule(
    tree, platform_admin, code, level, parent_name, expected
):
    parent = getattr(tree, parent_name) if parent_name else None
    with pytest.raises(ValidationFailed) as exc:
        services.region_create(
            actor=platform_admin, code=code, name="某地", level=level, parent=parent
        )
    assert _rules(exc) == expected
    assert not Region.objects.filter(code=code).exists()


@pytest.mark.django_db
def test_empty_name_is_refused(tree, platform_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.region_create(
            actor=platform_admin,
            code="430623102000",
            name=" ",
            level="township",
            parent=tree.huarong,
        )
    assert _rules(exc) == {"name": "required"}


@pytest.mark.django_db
def test_duplicate_code_is_a_conflict(tree, platform_admin):
    with pytest.raises(Conflict):
        services.region_create(
            actor=platform_admin,
            code="430623100000",
            name="章华镇",
            level="township",
            parent=tree.huarong,
        )


@pytest.mark.django_db
def test_only_platform_admins_create_regions(tree):
    clerk = UserFactory()
    with pytest.raises(PermissionDenied):
        services.region_create(
            actor=clerk, code="430623102000", name="北景港镇", level="township", parent=tree.huarong
        )
    with pytest.raises(PermissionDenied):
        services.region_create(
            actor=None, code="430623102000", name="北景港镇", level="township", parent=tree.huarong
        )


@pytest.mark.django_db
def test_a_superuser_is_a_platform_admin(tree):
    root = UserFactory(username="root", is_superuser=True)
    region = services.region_create(
        actor=root, code="430623102000", name="北景港镇", level="township", parent=tree.huarong
    )
    assert region.parent == tree.huarong


@pytest.mark.django_db
def test_rename_is_audited_and_keeps_the_code(tree, platform_admin):
    services.region_update(actor=platform_admin, region=tree.zhanghua, name="章华镇（城关）")
    tree.zhanghua.refresh_from_db()
    assert tree.zhanghua.name == "章华镇（城关）"
    assert tree.zhanghua.code == "430623100000"
    event = AuditEvent.objects.get(action="org.region_update")
    assert event.changes == {"name": ["章华镇", "章华镇（城关）"]}


@pytest.mark.django_db
def test_rename_refusals(tree, platform_admin):
    with pytest.raises(ValidationFailed):
        services.region_update(actor=platform_admin, region=tree.zhanghua, name="")
    with pytest.raises(PermissionDenied):
        services.region_update(actor=UserFactory(), region=tree.zhanghua, name="新名")
