"""The demo project of 120 units: 118 sold, three deed taxes unpaid — the completion filing
is blocked by exactly those three, and once they are paid delivery issues 118 certificates
and the project's first registration together. The catalogue computes the bundle's
reduction from 107 to 32 materials."""

from django.contrib.auth import get_user_model

from yiciban.demo_loader import LoadReport
from yiciban.housing import demo, selectors, services
from yiciban.housing.models import Project, Stage
from yiciban.licences.models import Licence


def test_demo_project_journey(world):
    report = LoadReport()
    demo.load(report)
    demo.load(report)  # idempotent
    project = Project.objects.get(code=demo.CODE)
    assert project.units.count() == 120
    assert project.units.filter(buyer__isnull=False).count() == 118
    assert project.stage == Stage.COMPLETION_ACCEPTED
    services.completion_filing_request(actor=world.developer, project_id=project.pk)
    check = services.completion_file(actor=world.housing, project_id=project.pk)
    assert not check.ok and len(check.missing_tax) == demo.UNPAID and check.reads == 118
    unpaid = [
        u
        for u in project.units.filter(buyer__isnull=False).order_by("building", "room")
        if u.label in check.missing_tax
    ]
    for index, unit in enumerate(unpaid):
        services.deed_tax_record(
            actor=world.tax, unit_id=unit.pk, amount_yuan=15000, receipt_no=f"LATE-{index}"
        )
    services.completion_filing_request(actor=world.developer, project_id=project.pk)
    assert services.completion_file(actor=world.housing, project_id=project.pk).ok
    services.project_deliver(actor=world.registrar, project_id=project.pk)
    project.refresh_from_db()
    assert project.stage == Stage.DELIVERED
    certificates = [u.certificate_number for u in project.units.exclude(certificate_number="")]
    assert len(certificates) == 118
    assert Licence.objects.filter(number__in=certificates, person__isnull=False).count() == 118
    assert Licence.objects.filter(
        number=project.first_registration_certificate, enterprise=project.developer
    ).exists()
    assert get_user_model().objects.filter(username="jinshi_buyer").exists()


def test_bundle_reduction_is_computed_by_the_catalogue(world, client_for):
    from .conftest import make_project

    project = make_project(world)
    reduction = selectors.bundle_reduction(project)
    assert (reduction["materials_separate"], reduction["materials_bundle"]) == (107, 32)
    page = client_for(world.developer).get(f"/housing/projects/{project.code}/")
    assert "107" in page.content.decode() and "32" in page.content.decode()
