"""The 津市市 world of the house-delivery tests: regions, departments, staff, applicants,
catalogue and sharing categories/grants from the demo data set (the same loaders as
`yiciban setup --demo`, without the other practices), and a small project of four units."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.sharing.conftest import client_for  # noqa: F401  (a fixture)
from yiciban.accounts import services as account_services
from yiciban.catalog import selectors as catalog_selectors
from yiciban.demo_loader import LoadReport
from yiciban.housing import services

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
DEVELOPER_USCC = "91430781MA4M6W9H0Q"
BUYER_ID = "430781199001010014"  # 周敏, login jinshi_buyer


def resident_id(base17: str) -> str:
    return base17 + "10X98765432"[sum(int(x) * w for x, w in zip(base17, W, strict=True)) % 11]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    catalog_selectors.forget_compiled_bundles()
    yield
    catalog_selectors.forget_compiled_bundles()


def load_base_demo():
    from yiciban.accounts import demo as accounts_demo
    from yiciban.catalog import demo as catalog_demo
    from yiciban.licences import demo as licences_demo
    from yiciban.org import demo as org_demo
    from yiciban.sharing import demo as sharing_demo

    report = LoadReport()
    for module in (org_demo, accounts_demo, catalog_demo, sharing_demo, licences_demo):
        module.load(report)


def make_project(world, code="jiashan-test", units=4):
    return services.project_register(
        actor=world.housing,
        code=code,
        name="嘉山·澧水湾（测试）",
        developer_uscc=DEVELOPER_USCC,
        region_code="430781000000",
        address="津市市襄阳街街道新建路88号",
        construction_permit_no="430781202103150101",
        units=[{"building": "1", "room": f"{101 + i}", "area_m2": "89.50"} for i in range(units)],
    )


@pytest.fixture
def world(db):
    load_base_demo()
    users = get_user_model().objects
    admin = users.get(username="admin")
    w = SimpleNamespace(
        admin=admin,
        housing=users.get(username="jinshi_housing"),
        tax=users.get(username="jinshi_tax"),
        registrar=users.get(username="jinshi_registrar"),
        developer=users.get(username="jinshi_developer"),
        buyer_user=users.get(username="jinshi_buyer"),
        outsider=users.get(username="huarong_market_reviewer"),
        other_applicant=users.get(username="zhangsan"),
    )
    w.buyer_id = BUYER_ID
    w.other_buyer_id = resident_id("43078119880505002")
    account_services.person_register(
        actor=admin, name="陈华", id_number=w.other_buyer_id, phone="13800000012"
    )
    return w


def sell_all(world, project):
    """Presale, then two units sold: unit 0 to 周敏, unit 1 to 陈华."""
    services.presale_permit_record(
        actor=world.housing, project_id=project.pk, permit_no="津房预字2021第008号"
    )
    units = list(project.units.order_by("room"))
    services.unit_contract_file(
        actor=world.housing,
        unit_id=units[0].pk,
        buyer_id_number=world.buyer_id,
        contract_no="JSHT2021000101",
        price_yuan=537000,
    )
    services.unit_contract_file(
        actor=world.housing,
        unit_id=units[1].pk,
        buyer_id_number=world.other_buyer_id,
        contract_no="JSHT2021000102",
        price_yuan=541000,
    )
    return units


def filed_project(world, project=None):
    """A project (the default test project unless given) sold to two buyers, their deed tax
    paid, completion accepted and filed: ready for delivery."""
    project = project or make_project(world)
    units = sell_all(world, project)
    services.completion_accept_record(
        actor=world.housing, project_id=project.pk, accepted_on=timezone.localdate()
    )
    for index, unit in enumerate(units[:2]):
        services.deed_tax_record(
            actor=world.tax, unit_id=unit.pk, amount_yuan=16000, receipt_no=f"QS-{index}"
        )
    services.completion_filing_request(actor=world.developer, project_id=project.pk)
    assert services.completion_file(actor=world.housing, project_id=project.pk).ok
    return project


DELIVERY_TASK = "yiciban.housing.tasks.deliver_project"


def run_deliveries() -> int:
    """Run the queued deliveries as `yiciban worker` does; how many ran."""
    ran = 0
    for result in (
        DBTaskResult.objects.ready().filter(task_path=DELIVERY_TASK).order_by("enqueued_at")
    ):
        result.claim("test-worker")
        try:
            result.task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
        except Exception as exc:  # the worker marks the task failed; the project says why
            result.set_failed(exc)
        else:
            result.set_successful(None)
        ran += 1
    return ran
