"""The licences and archive demo on top of the project's demo data: idempotent, and the
Lanshan business licence's QR lists its permits."""

from pathlib import Path

import pytest

from yiciban import demo_loader
from yiciban.archive import demo as archive_demo
from yiciban.archive import selectors as archive_selectors
from yiciban.catalog import reuse
from yiciban.licences import demo as licence_demo
from yiciban.licences import selectors, signing
from yiciban.licences.models import Licence

pytestmark = pytest.mark.django_db

LANSHAN = "91431127MA4LQ7T25H"


def test_demo_loads_once_and_the_lanshan_qr_lists_its_permits(client):
    report = demo_loader.load()  # the licences and archive demos are part of it
    assert report.created["licences"] == 5
    assert report.created["licence types"] == len(licence_demo.TYPES)
    again = demo_loader.LoadReport()
    licence_demo.load(again)
    archive_demo.load(again)
    assert set(again.created.values()) == {0}
    assert Licence.objects.filter(source_reference="demo").count() == 5
    # the demo's delivered cases issued theirs through the case engine's hook
    from_cases = Licence.objects.exclude(source_reference="demo")
    assert from_cases.exists()
    assert all(lic.source_reference.startswith("case:") for lic in from_cases)
    assert all(signing.signature_valid(lic) for lic in from_cases)

    listing = selectors.permit_list(LANSHAN)
    assert listing["holder_name"] == "蓝山县湘南皮具玩具制品有限公司"
    assert {p["type"] for p in listing["permits"]} >= {
        "special_equipment_registration",
        "pollutant_registration",
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


def test_every_e_licence_output_of_the_demo_catalogue_has_a_type_its_department_may_issue():
    import yaml

    catalogue = Path(__file__).parents[2] / "demo" / "catalog"
    types = {t["code"]: t for t in licence_demo.TYPES}
    seen = set()
    for path in sorted(catalogue.glob("items-*.yaml")):
        for item in yaml.safe_load(path.read_text())["items"]:
            code = item.get("output_licence_type")
            if not code:
                continue
            seen.add(code)
            assert code in types, f"{path.name}: {item['key']} → {code} has no licence type"
            assert item["department"] in (types[code]["department_kind"], "administrative_approval")
            for spec in types[code]["fields"]:
                assert "." in spec.get("element", ""), f"{code}.{spec['code']} maps no element"
    assert len(seen) >= 30
