import datetime as dt

import pytest
import time_machine

from tests.archive.conftest import png
from tests.licences.conftest import make_person
from yiciban.archive import selectors, services
from yiciban.archive.models import Archive, ExpectedRecord, Origin
from yiciban.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _rules(error):
    return {(e.field, e.rule) for e in error.errors}


def test_one_archive_per_subject(arch):
    again = services.archive_open(enterprise=arch.w.enterprise)
    assert again.pk == arch.archive.pk
    assert Archive.objects.filter(enterprise=arch.w.enterprise).count() == 1
    person = make_person("李四", "430623199001010011", arch.w.tree.huarong)
    own = services.archive_open(person=person)
    assert own.subject_key == f"person:{person.id_number_index}"
    assert "430623199001010011" not in own.subject_key
    with pytest.raises(ValidationFailed):
        services.archive_open()


def test_documents_by_origin_and_duplicates(arch):
    issued = services.archive_document_add(
        actor=arch.w.approver,
        archive=arch.archive,
        content=png("licence"),
        filename="yyzz.png",
        title="营业执照副本",
        origin=Origin.ISSUED,
        material_kind="licence.business",
        source_department=arch.w.market,
    )
    assert issued.data_category == "market_entity_registration"  # taken from the catalogue
    upload = services.archive_document_add(
        actor=arch.w.boss_user,
        archive=arch.archive,
        content=png("lease"),
        filename="lease.png",
        title="租赁合同",
        origin=Origin.APPLICANT_UPLOADED,
        material_kind="premises.lease",
    )
    assert upload.origin == Origin.APPLICANT_UPLOADED and upload.checked_at is None
    with pytest.raises(Conflict) as error:  # the same bytes again, even from someone else
        services.archive_document_add(
            actor=arch.clerk,
            archive=arch.archive,
            content=png("lease"),
            filename="again.png",
            title="租赁合同",
            origin=Origin.COUNTER_CHECKED,
        )
    assert error.value.code == "archive_document_duplicate"
    assert AuditEvent.objects.filter(action="archive.archive_document_add").count() == 2


def test_document_refusals(arch):
    with pytest.raises(ValidationFailed) as error:
        services.archive_document_add(
            actor=arch.w.approver,
            archive=arch.archive,
            content=png("x"),
            filename="x.png",
            title="",
            origin="rumour",
        )
    assert {("title", "length"), ("origin", "choice")} <= _rules(error.value)
    with pytest.raises(PermissionDenied):  # the health bureau cannot file a market document
        services.archive_document_add(
            actor=arch.health_reviewer,
            archive=arch.archive,
            content=png("y"),
            filename="y.png",
            title="营业执照",
            origin=Origin.ISSUED,
            source_department=arch.w.market,
        )
    with pytest.raises(PermissionDenied):  # a stranger cannot upload into the archive
        services.archive_document_add(
            actor=arch.w.health_approver,
            archive=arch.archive,
            content=png("z"),
            filename="z.png",
            title="合同",
            origin=Origin.APPLICANT_UPLOADED,
        )
    with pytest.raises(ValidationFailed) as error:  # content sniffed, not the name
        services.archive_document_add(
            actor=arch.w.boss_user,
            archive=arch.archive,
            content=b"MZ\x90\x00 not a picture",
            filename="photo.png",
            title="照片",
            origin=Origin.APPLICANT_UPLOADED,
        )
    assert ("file", "format") in _rules(error.value)


def test_counter_check_makes_an_upload_reusable(arch):
    upload = services.archive_document_add(
        actor=arch.w.boss_user,
        archive=arch.archive,
        content=png("lease"),
        filename="lease.png",
        title="租赁合同",
        origin=Origin.APPLICANT_UPLOADED,
    )
    with pytest.raises(PermissionDenied):
        services.archive_document_check(actor=arch.w.boss_user, item=upload)
    checked = services.archive_document_check(actor=arch.clerk, item=upload)
    assert checked.origin == Origin.COUNTER_CHECKED and checked.checked_by == arch.clerk
    with pytest.raises(Conflict):
        services.archive_document_check(actor=arch.clerk, item=checked)


@time_machine.travel(dt.datetime(2026, 3, 16, 2, 0, tzinfo=dt.UTC), tick=False)  # a Monday
def test_records_are_due_within_five_working_days(arch):
    on_time = services.archive_record_add(
        actor=arch.inspector,
        archive=arch.archive,
        kind="inspection",
        department=arch.w.market,
        event_date=dt.date(2026, 3, 10),
        summary="双随机抽查：未发现问题",
        links=[{"type": "licence", "ref": "JY1"}],
    )
    assert on_time.due_on == dt.date(2026, 3, 17) and not on_time.late
    late = services.archive_record_add(
        actor=arch.inspector,
        archive=arch.archive,
        kind="inspection",
        department=arch.w.market,
        event_date=dt.date(2026, 3, 2),
        summary="日常检查",
    )
    assert late.due_on == dt.date(2026, 3, 9) and late.late


@time_machine.travel(dt.datetime(2026, 3, 16, 2, 0, tzinfo=dt.UTC), tick=False)
def test_record_refusals(arch):
    with pytest.raises(ValidationFailed) as error:
        services.archive_record_add(
            actor=arch.inspector,
            archive=arch.archive,
            kind="gossip",
            department=arch.w.market,
            event_date=dt.date(2026, 3, 17),
            summary="",
        )
    assert _rules(error.value) == {
        ("kind", "choice"),
        ("event_date", "not_future"),
        ("summary", "length"),
    }
    with pytest.raises(ValidationFailed) as error:
        services.archive_record_add(
            actor=arch.inspector,
            archive=arch.archive,
            kind="inspection",
            department=arch.w.market,
            event_date=dt.date(2026, 3, 13),
            summary="x",
            links=[{"type": "web", "ref": "http://x"}],
        )
    assert ("links.0", "shape") in _rules(error.value)
    with pytest.raises(PermissionDenied):  # recording in another department's name
        services.archive_record_add(
            actor=arch.health_reviewer,
            archive=arch.archive,
            kind="penalty",
            department=arch.w.market,
            event_date=dt.date(2026, 3, 13),
            summary="罚款",
        )


@time_machine.travel(dt.datetime(2026, 3, 16, 2, 0, tzinfo=dt.UTC), tick=False)
def test_late_and_missing_records_per_department(arch):
    overdue = services.archive_record_expect(
        actor=arch.inspector,
        archive=arch.archive,
        kind="inspection",
        department=arch.w.market,
        event_date=dt.date(2026, 3, 2),
        description="3月2日现场检查",
    )
    services.archive_record_expect(
        actor=arch.w.health_approver,
        archive=arch.archive,
        kind="penalty",
        department=arch.w.health,
        event_date=dt.date(2026, 3, 13),
        description="卫生处罚决定",
    )
    services.archive_record_add(
        actor=arch.inspector,
        archive=arch.archive,
        kind="annual_report",
        department=arch.w.market,
        event_date=dt.date(2026, 2, 2),
        summary="2025年度报告公示",
    )
    rows = {r.department.pk: r for r in selectors.timeliness_by_department()}
    market, health = rows[arch.w.market.pk], rows[arch.w.health.pk]
    assert (market.recorded, market.late, market.missing, market.pending) == (1, 1, 1, 0)
    assert (health.recorded, health.late, health.missing, health.pending) == (0, 0, 0, 1)
    late, missing = selectors.late_and_missing(department=arch.w.market)
    assert [m.pk for m in missing] == [overdue.pk] and late.count() == 1
    # filing the owed record fulfils the expectation (late, but no longer missing)
    record = services.archive_record_add(
        actor=arch.inspector,
        archive=arch.archive,
        kind="inspection",
        department=arch.w.market,
        event_date=dt.date(2026, 3, 2),
        summary="补录：现场检查合格",
    )
    assert ExpectedRecord.objects.get(pk=overdue.pk).fulfilled_by == record
    market = {r.department.pk: r for r in selectors.timeliness_by_department()}[arch.w.market.pk]
    assert (market.recorded, market.late, market.missing) == (2, 2, 0)
    with pytest.raises(PermissionDenied):
        services.archive_record_expect(
            actor=arch.w.boss_user,
            archive=arch.archive,
            kind="inspection",
            department=arch.w.market,
            event_date=dt.date(2026, 3, 2),
            description="x",
        )


def test_sharing_rules_decide_what_staff_see(arch, platform_admin):
    today = dt.date.today()
    for kind, summary in (("inspection", "抽查合格"), ("penalty", "警告")):
        services.archive_record_add(
            actor=arch.inspector,
            archive=arch.archive,
            kind=kind,
            department=arch.w.market,
            event_date=today,
            summary=summary,
        )
    # another department, no rule: the archive is not revealed
    with pytest.raises(NotFound):
        selectors.archive_read(arch.w.health_approver, arch.archive)
    with pytest.raises(NotFound):
        selectors.archive_read(arch.w.other_county, arch.archive)
    with pytest.raises(PermissionDenied):
        services.sharing_rule_create(
            actor=arch.w.approver, viewer_department_kind="health", record_kind="inspection"
        )
    with pytest.raises(ValidationFailed) as error:
        services.sharing_rule_create(actor=platform_admin, record_kind="inspection")
    assert ("viewer", "one_viewer") in _rules(error.value)
    rule = services.sharing_rule_create(
        actor=platform_admin, viewer_department_kind="health", record_kind="inspection"
    )
    seen = selectors.archive_read(arch.w.health_approver, arch.archive)
    assert not seen.full and [r.kind for r in seen.records] == ["inspection"]
    own = selectors.archive_read(arch.inspector, arch.archive)  # the producing department
    assert {r.kind for r in own.records} == {"inspection", "penalty"}
    mine = selectors.archive_read(arch.w.boss_user, arch.archive)  # the subject sees all
    assert mine.full and mine.records.count() == 2
    assert selectors.archive_read(arch.supervisor, arch.archive).full
    services.sharing_rule_delete(actor=platform_admin, rule=rule)
    with pytest.raises(NotFound):
        selectors.archive_read(arch.w.health_approver, arch.archive)
