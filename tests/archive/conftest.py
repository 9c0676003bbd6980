from types import SimpleNamespace

import pytest

from tests.licences.conftest import (  # noqa: F401
    _own_key_folder,
    platform_admin,
    tree,
    world,
)
from tests.org.fixtures import UserFactory, assign
from yiciban.archive import services
from yiciban.catalog.models import MaterialKind
from yiciban.org.models import Role

PNG = b"\x89PNG\r\n\x1a\n" + b"archive test image"


@pytest.fixture
def arch(world):  # noqa: F811
    clerk = UserFactory(username="huarong_clerk_a")
    assign(clerk, Role.COUNTER_CLERK, region=world.tree.huarong)
    supervisor = UserFactory(username="huarong_supervisor_a")
    assign(supervisor, Role.SUPERVISOR, region=world.tree.huarong)
    health_reviewer = UserFactory(username="health_reviewer_a")
    assign(health_reviewer, Role.REVIEWER, department=world.health)
    inspector = UserFactory(username="market_inspector_a")
    assign(inspector, Role.INSPECTOR, department=world.market)
    business_kind = MaterialKind.objects.create(
        code="licence.business",
        name="营业执照",
        source="government",
        data_category="market_entity_registration",
    )
    lease_kind = MaterialKind.objects.create(
        code="premises.lease", name="经营场所租赁合同", source="applicant"
    )
    return SimpleNamespace(
        w=world,
        archive=services.archive_open(enterprise=world.enterprise),
        clerk=clerk,
        supervisor=supervisor,
        health_reviewer=health_reviewer,
        inspector=inspector,
        business_kind=business_kind,
        lease_kind=lease_kind,
    )


def png(tag: str) -> bytes:
    return PNG + tag.encode()
