"""The licences and archive demo on top of the project's demo data: idempotent, and the
Lanshan business licence's QR lists its permits."""

import pytest

from yiciban import demo_loader
from yiciban.archive import demo as archive_demo
from yiciban.archive import selectors as archive_selectors
from yiciban.catalog import reuse
from yiciban.licences import demo as licence_demo
from yiciban.licences import selectors
from yiciban.licences.models import Licence

pytestmark = pytest.mark.django_db

LANSHAN = "91431127MA4LQ7T25H"


def test_demo_loads_once_and_the_lanshan_qr_lists_its_permits(client):
    report = demo_loader.load()  # the licences and archive demos are part of it
    assert report.created["licences"] == 5 and report.created["licence types"] == 4
    again = demo_loader.LoadReport()
    licence_demo.load(again)
    archive_demo.load(again)
    assert set(again.created.values()) == {0}
    assert Licence.objects.count() == 5

    listing = selectors.permit_list(LANSHAN)
    assert listing["holder_name"] == "蓝山县湘南皮具玩具制品有限公司"
    assert {p["type"] for p in listing["permits"]} == {
        "special_equipment_registration",
        "pollutant_discharge_registration",
    }
    page = client.get(f"/licences/enterprise/{LANSHAN}")
    assert page.status_code == 200 and "特种设备使用登记证" in page.content.decode()
    hits = reuse.lookup_archive(
        reuse.ArchiveSubject(kind="enterprise", identifier=LANSHAN),
        ["licence.business"],
        ["enterprise.business_scope"],
    )
    assert hits.materials["licence.business"] == f"licence:{listing['business_licence']}"
    assert hits.fields["enterprise.business_scope"].startswith("皮革制品")
    board = archive_selectors.timeliness_by_department()
    assert sum(row.recorded for row in board) == 3
