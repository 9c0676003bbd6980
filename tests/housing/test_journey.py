"""The project's journey through the services: the completion filing is blocked until every
sold unit has its contract and deed tax (read under the housing bureau's grant, each read
recorded), then delivery registers the project and every buyer together through the case
engine, and each party sees only their part."""

import datetime as dt

import pytest
from django.utils import timezone

from yiciban.cases.models import Case, CaseState
from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.housing import selectors, services
from yiciban.housing.models import Project, Stage
from yiciban.sharing.models import ReadLog

from .conftest import make_project, sell_all


def _accept(world, project):
    return services.completion_accept_record(
        actor=world.housing, project_id=project.pk, accepted_on=timezone.localdate()
    )


def test_full_journey(world):
    project = make_project(world)
    units = sell_all(world, project)
    _accept(world, project)
    services.completion_filing_request(actor=world.developer, project_id=project.pk)
    services.deed_tax_record(
        actor=world.tax, unit_id=units[0].pk, amount_yuan=16110, receipt_no="JSQS-0001"
    )
    check = services.completion_file(actor=world.housing, project_id=project.pk)
    assert not check.ok and check.missing_tax == ["1栋102"] and check.reads == 2
    project.refresh_from_db()
    assert project.stage == Stage.COMPLETION_ACCEPTED and project.filing_requested_at is None
    assert ReadLog.objects.filter(reader=world.housing).count() == 2
    # the bureau cannot file again until the developer asks again
    with pytest.raises(Conflict):
        services.completion_file(actor=world.housing, project_id=project.pk)
    services.deed_tax_record(
        actor=world.tax, unit_id=units[1].pk, amount_yuan=16230, receipt_no="JSQS-0002"
    )
    services.completion_filing_request(actor=world.developer, project_id=project.pk)
    check = services.completion_file(actor=world.housing, project_id=project.pk)
    assert check.ok
    project = services.project_deliver(actor=world.registrar, project_id=project.pk)
    assert project.stage == Stage.DELIVERED and project.first_registration_case
    units = list(project.units.order_by("room"))
    assert all(u.certificate_number and u.transfer_case for u in units[:2])
    assert not units[2].certificate_number
    cases = Case.objects.filter(
        number__in=[project.first_registration_case, units[0].transfer_case]
    )
    assert {c.state for c in cases} == {CaseState.DELIVERED}
    # the registration office read contracts and tax for both buyers under its grants
    assert ReadLog.objects.filter(reader=world.registrar).count() == 4
    # the buyer sees their unit and certificate, with every milestone done
    mine = list(selectors.units_of_buyer(world.buyer_user))
    assert [u.certificate_number for u in mine] == [units[0].certificate_number]
    assert all(step["done"] for step in selectors.buyer_progress(mine[0]))
    # the case engine's output hook issued the e-certificate to the buyer
    licence = selectors.certificate_of(mine[0])
    assert licence is not None and licence.licence_type.code == "real_estate_title"
    assert licence.person.id_number == world.buyer_id


def test_stage_order_and_who_may_act(world):
    project = make_project(world)
    with pytest.raises(Conflict):  # no completion before presale
        _accept(world, project)
    with pytest.raises(PermissionDenied):
        services.presale_permit_record(actor=world.tax, project_id=project.pk, permit_no="x")
    with pytest.raises(PermissionDenied):
        services.presale_permit_record(actor=world.developer, project_id=project.pk, permit_no="x")
    sell_all(world, project)
    _accept(world, project)
    with pytest.raises(PermissionDenied):  # only the developer asks for filing
        services.completion_filing_request(actor=world.buyer_user, project_id=project.pk)
    with pytest.raises(Conflict):  # not filed yet: no delivery
        services.project_deliver(actor=world.registrar, project_id=project.pk)
    with pytest.raises(PermissionDenied):
        services.project_deliver(actor=world.housing, project_id=project.pk)


def test_bad_input(world):
    with pytest.raises(ValidationFailed) as exc:
        services.project_register(
            actor=world.housing,
            code="A B",
            name="",
            developer_uscc="91430781MA4M6W9H0Q",
            region_code="430781000000",
            address="x",
            construction_permit_no="p",
            units=[
                {"building": "1", "room": "101", "area_m2": "abc"},
                "garbage",
                {"building": "1", "room": "101", "area_m2": 90},
                {"building": "1", "room": "101", "area_m2": 90},
            ],
        )
    fields = {e.field for e in exc.value.errors}
    assert {"code", "name", "units[0].area_m2", "units[1]", "units[3].room"} <= fields
    assert not Project.objects.exists()
    project = make_project(world)
    services.presale_permit_record(actor=world.housing, project_id=project.pk, permit_no="P1")
    unit = project.units.first()
    with pytest.raises(ValidationFailed):
        services.unit_contract_file(
            actor=world.housing,
            unit_id=unit.pk,
            buyer_id_number="123",
            contract_no="C1",
            price_yuan=1,
        )
    with pytest.raises(ValidationFailed):
        services.unit_contract_file(
            actor=world.housing,
            unit_id=unit.pk,
            buyer_id_number=world.buyer_id,
            contract_no="C1",
            price_yuan=-5,
        )
    services.unit_contract_file(
        actor=world.housing,
        unit_id=unit.pk,
        buyer_id_number=world.buyer_id,
        contract_no="C1",
        price_yuan=100,
    )
    with pytest.raises(Conflict):  # sold twice
        services.unit_contract_file(
            actor=world.housing,
            unit_id=unit.pk,
            buyer_id_number=world.other_buyer_id,
            contract_no="C2",
            price_yuan=100,
        )
    with pytest.raises(Conflict):  # contract number reused
        other = project.units.exclude(pk=unit.pk).first()
        services.unit_contract_file(
            actor=world.housing,
            unit_id=other.pk,
            buyer_id_number=world.other_buyer_id,
            contract_no="C1",
            price_yuan=100,
        )
    with pytest.raises(ValidationFailed):
        services.completion_accept_record(
            actor=world.housing,
            project_id=project.pk,
            accepted_on=timezone.localdate() + dt.timedelta(days=1),
        )
    with pytest.raises(ValidationFailed):
        services.completion_file(actor=world.housing, project_id="1")


def test_each_party_sees_only_their_part(world, client_for):
    project = make_project(world)
    sell_all(world, project)
    assert selectors.projects_visible_to(world.developer).filter(pk=project.pk).exists()
    assert selectors.projects_visible_to(world.housing).filter(pk=project.pk).exists()
    assert not selectors.projects_visible_to(world.outsider).exists()
    assert not selectors.projects_visible_to(world.other_applicant).exists()
    assert not selectors.projects_visible_to(world.buyer_user).exists()
    dev_view = selectors.project_view(world.developer, project)
    assert all(row["buyer_id"] == "" for row in dev_view["units"])
    page = client_for(world.developer).get(f"/housing/projects/{project.code}/")
    assert page.status_code == 200 and "周敏" not in page.content.decode()
    assert client_for(world.outsider).get(f"/housing/projects/{project.code}/").status_code == 404
    mine = client_for(world.buyer_user).get("/housing/mine/")
    body = mine.content.decode()
    assert "1栋101" in body and "1栋102" not in body


def test_the_filing_check_lists_units_in_the_page_language(world, client_for):
    project = make_project(world)
    sell_all(world, project)
    _accept(world, project)
    services.completion_filing_request(actor=world.developer, project_id=project.pk)
    assert not services.completion_file(actor=world.housing, project_id=project.pk).ok
    client = client_for(world.housing)
    path = f"/housing/projects/{project.code}/"
    assert "1栋101、1栋102" in client.get(path).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(path).content.decode()
    assert "1栋101, 1栋102" in english and "1栋101、1栋102" not in english
