import io
import json

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from yiciban.catalog import importexport, services
from yiciban.catalog.models import (
    Bundle,
    BundleMember,
    BundleVersion,
    DataElement,
    Item,
    ItemMaterial,
    ItemVersion,
    MaterialKind,
    Theme,
)
from yiciban.core.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def clear_catalogue():
    """Empty the catalogue tables (rows only this app refers to), as on a fresh install."""
    for model in (
        BundleMember,
        Bundle.themes.through,
        BundleVersion,
        Bundle,
        ItemMaterial,
        Item.themes.through,
        Item.service_points.through,
        ItemVersion,
        Item,
        DataElement,
        MaterialKind,
        Theme,
    ):
        model.objects.all()._raw_delete(using="default")


def export(fmt: str) -> bytes:
    return importexport.dumps(importexport.export_document(), fmt)


def import_(data: bytes, fmt: str, actor=None) -> dict:
    return services.catalog_import(actor=actor, data=data, fmt=fmt)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_round_trip_is_exact(demo_catalog, fmt):
    first = export(fmt)
    counts = import_(first, fmt)
    assert counts["item_versions_unchanged"] == 62 and "items_created" not in counts
    assert export(fmt) == first
    clear_catalogue()
    counts = import_(first, fmt)
    assert counts["items_created"] == 62 and counts["bundles_created"] == 5
    assert export(fmt) == first


def test_excel_round_trip_is_exact(demo_catalog):
    original = export("json")
    workbook = export("xlsx")
    sheets = load_workbook(io.BytesIO(workbook)).sheetnames
    assert sheets == ["说明", *[s.name for s in importexport.SHEETS]]
    clear_catalogue()
    import_(workbook, "xlsx")
    assert export("json") == original


def _workbook(demo_catalog):
    return load_workbook(io.BytesIO(export("xlsx")))


def _save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column(sheet, key: str) -> int:
    for cell in sheet[1]:
        if cell.value and cell.value.endswith(f"[{key}]"):
            return cell.column
    raise KeyError(key)


def _errors(data: bytes, fmt: str) -> list:
    with pytest.raises(ValidationFailed) as exc:
        import_(data, fmt)
    return exc.value.errors


def test_excel_errors_name_sheet_row_and_column(demo_catalog):
    workbook = _workbook(demo_catalog)
    members = workbook["一件事事项"]
    rule_column = _column(members, "rule")
    members.cell(row=3, column=rule_column, value='{"regex": ["a", "b"]}')
    versions = workbook["事项版本"]
    versions.cell(row=4, column=_column(versions, "promised_limit"), value="五天")
    items = workbook["事项"]
    items.cell(row=5, column=_column(items, "department"), value="431127:magic_bureau")
    errors = _errors(_save(workbook), "xlsx")
    # cell-level parse errors are reported before anything else
    assert [(e.field, e.rule) for e in errors] == [("事项版本!N4", "type")]
    assert "工作表“事项版本”第4行N列（承诺时限）" in errors[0].message

    versions.cell(row=4, column=_column(versions, "promised_limit"), value=5)
    errors = _errors(_save(workbook), "xlsx")
    found = {(e.field, e.rule) for e in errors}
    letter = items.cell(row=5, column=_column(items, "department")).column_letter
    assert (f"事项!{letter}5", "unknown_department") in found
    rule_letter = members.cell(row=3, column=rule_column).column_letter
    assert (f"一件事事项!{rule_letter}3", "unknown_operator") in found
    assert Item.objects.count() == 62  # nothing changed


def test_excel_refuses_garbage_and_missing_columns(demo_catalog):
    errors = _errors(b"not a workbook", "xlsx")
    assert errors[0].rule == "bad_excel"
    workbook = _workbook(demo_catalog)
    sheet = workbook["事项"]
    sheet.delete_cols(_column(sheet, "department"))
    errors = _errors(_save(workbook), "xlsx")
    assert (errors[0].field, errors[0].rule) == ("事项!1", "missing_column")


def test_json_errors_name_the_path_and_rule(demo_catalog):
    document = json.loads(export("json"))
    document["items"][1]["department"] = "431127:magic_bureau"
    document["items"][2]["implementation_code"] = document["items"][3]["implementation_code"]
    document["bundles"][0]["versions"][0]["members"][1]["rule"] = {"var": "no_such_question"}
    document["material_kinds"].append({"code": "bad code", "name": "x", "source": "applicant"})
    errors = _errors(json.dumps(document).encode(), "json")
    found = {(e.field, e.rule) for e in errors}
    assert ("items[1].department", "unknown_department") in found
    assert ("items[3].implementation_code", "duplicate") in found
    assert ("bundles[0].versions[0].members[1].rule.var", "unknown_variable") in found
    assert (f"material_kinds[{len(document['material_kinds']) - 1}].code", "pattern") in found


def test_json_shape_errors(org):
    errors = _errors(b'{"format": "yiciban-catalog", "format_version": 1, "items": [{}]}', "json")
    assert {e.rule for e in errors} == {"required"}
    assert errors[0].field == "items[0]"
    errors = _errors(b"{not json", "json")
    assert errors[0].rule == "bad_json"


def test_published_versions_cannot_be_changed_by_import(demo_catalog):
    document = json.loads(export("json"))
    stored_keywords = document["items"][0]["versions"][0]["keywords"]
    document["items"][0]["versions"][0]["keywords"] += " 新词"
    errors = _errors(json.dumps(document, ensure_ascii=False).encode(), "json")
    assert (errors[0].field, errors[0].rule) == (
        "items[0].versions[0].keywords",
        "published_version_immutable",
    )
    # a new version number is the way to change it
    new = dict(document["items"][0]["versions"][0], number=2, effective_from="2030-01-01")
    document["items"][0]["versions"][0]["keywords"] = stored_keywords
    document["items"][0]["versions"].append(new)
    counts = import_(json.dumps(document, ensure_ascii=False).encode(), "json")
    assert counts["item_versions_created"] == 1
    first = ItemVersion.objects.get(
        item__implementation_code=document["items"][0]["implementation_code"], number=1
    )
    assert first.effective_until.isoformat() == "2030-01-01"


def test_schema_conflicts_between_items_are_refused(demo_catalog):
    document = json.loads(export("json"))
    item = next(
        i for i in document["items"] if "premises_area_m2" in str(i["versions"][0]["form_schema"])
    )
    properties = item["versions"][0]["form_schema"]["properties"]
    properties["premises_area_m2"]["type"] = "string"
    errors = _errors(json.dumps(document, ensure_ascii=False).encode(), "json")
    assert {e.rule for e in errors} >= {"element_schema_conflict"}


def test_import_is_atomic(demo_catalog):
    document = json.loads(export("json"))
    fresh = json.loads(json.dumps(document["items"][0]))
    fresh["basic_code"] = "010099999000"
    fresh["implementation_code"] = fresh["implementation_code"][:18] + "010099999000000"
    fresh["versions"] = [dict(fresh["versions"][0], name="全新事项")]
    document["items"].append(fresh)
    document["bundles"][0]["region"] = "999999"  # an error further down the file
    errors = _errors(json.dumps(document, ensure_ascii=False).encode(), "json")
    assert errors[0].rule == "unknown_region"
    assert not Item.objects.filter(basic_code="010099999000").exists()


def test_import_needs_a_platform_admin(demo_catalog, market_admin):
    with pytest.raises(PermissionDenied):
        import_(export("json"), "json", actor=market_admin)


def test_management_commands(demo_catalog, tmp_path, capsys):
    target = tmp_path / "catalog.xlsx"
    call_command("catalog_export", str(target))
    assert target.stat().st_size > 10_000
    call_command("catalog_import", str(target))
    assert "item_versions_unchanged: 62" in capsys.readouterr().out
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "yiciban-catalog", "format_version": 2}')
    with pytest.raises(CommandError):
        call_command("catalog_import", str(broken))
    assert "format_version" in capsys.readouterr().err
    with pytest.raises(ValidationFailed):
        call_command("catalog_export", str(tmp_path / "catalog.csv"))
