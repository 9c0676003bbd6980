"""The catalogue's reuse hook answered by the archive: what a returning enterprise is not
asked again."""

import datetime as dt

import pytest

from tests.archive.conftest import png
from tests.licences.conftest import issue_business
from yiciban.archive import services
from yiciban.archive.models import Origin
from yiciban.archive.reuse import archive_lookup
from yiciban.catalog import reuse
from yiciban.licences import services as licence_services

pytestmark = pytest.mark.django_db

WANTED = ("licence.business", "premises.lease")
ELEMENTS = ("enterprise.name", "enterprise.business_scope", "enterprise.address", "x.other")


def _subject(world):
    return reuse.ArchiveSubject(kind="enterprise", identifier=world.enterprise.uscc)


def test_the_archive_is_registered_with_the_catalogue():
    assert reuse.has_archive_lookup()
    assert archive_lookup in reuse._lookups


def test_a_new_enterprise_has_nothing_to_reuse(arch):
    stranger = reuse.ArchiveSubject(kind="enterprise", identifier="91430623MA0000001X")
    hits = reuse.lookup_archive(stranger, WANTED, ELEMENTS)
    assert hits.materials == {} and hits.fields == {}


def test_valid_licences_and_checked_documents_are_reused(arch):
    world = arch.w
    hits = reuse.lookup_archive(_subject(world), WANTED, ELEMENTS)
    # the enterprise's own registration prefills its name and address, nothing else yet
    assert hits.materials == {}
    assert hits.fields == {
        "enterprise.name": world.enterprise.name,
        "enterprise.address": world.enterprise.registered_address,
    }
    business = issue_business(world)
    upload = services.archive_document_add(
        actor=world.boss_user,
        archive=arch.archive,
        content=png("lease"),
        filename="lease.png",
        title="租赁合同",
        origin=Origin.APPLICANT_UPLOADED,
        material_kind="premises.lease",
        valid_until=dt.date.today() + dt.timedelta(days=365),
    )
    hits = reuse.lookup_archive(_subject(world), WANTED, ELEMENTS)
    # the business licence matches by data category; its scope prefills the form
    assert hits.materials == {"licence.business": f"licence:{business.number}"}
    assert hits.fields["enterprise.business_scope"] == "芥菜制品加工、销售"
    assert "x.other" not in hits.fields
    # an applicant's own upload is reused only once its original was checked
    services.archive_document_check(actor=arch.clerk, item=upload)
    hits = reuse.lookup_archive(_subject(world), WANTED, ELEMENTS)
    assert hits.materials["premises.lease"] == f"document:{upload.document_id}"


def test_revoked_licences_and_expired_documents_are_not_reused(arch):
    world = arch.w
    business = issue_business(world)
    licence_services.licence_revoke(actor=world.approver, licence=business, reason="注销")
    services.archive_document_add(
        actor=arch.clerk,
        archive=arch.archive,
        content=png("old lease"),
        filename="old.png",
        title="旧租赁合同",
        origin=Origin.COUNTER_CHECKED,
        material_kind="premises.lease",
        valid_from=dt.date(2020, 1, 1),
        valid_until=dt.date(2021, 1, 1),
    )
    hits = reuse.lookup_archive(_subject(world), WANTED, ELEMENTS)
    assert hits.materials == {}
    assert "enterprise.business_scope" not in hits.fields


def test_an_issued_document_matches_by_data_category(arch):
    world = arch.w
    services.archive_document_add(
        actor=world.approver,
        archive=arch.archive,
        content=png("scan"),
        filename="scan.png",
        title="营业执照扫描件",
        origin=Origin.ISSUED,
        data_category="market_entity_registration",
        source_department=world.market,
    )
    hits = reuse.lookup_archive(_subject(world), ["licence.business"], [])
    assert hits.materials["licence.business"].startswith("document:")
