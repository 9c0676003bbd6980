"""Publishing, granting, revoking and reading: the happy path, every refusal, and that
each write is on the ledger with nothing half-written."""

import base64
import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from yiciban.core.audit import AuditEvent
from yiciban.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yiciban.ledger import merkle
from yiciban.ledger.models import Entry
from yiciban.ledger.selectors import entry_by_seq
from yiciban.ledger.services import ledger_integrate
from yiciban.sharing import selectors, services
from yiciban.sharing.models import Grant, ReadLog, SharedRecord

from .conftest import BUYER_ID


def publish_tax(world, person=None, reference="JS-2026-0001", amount=13500):
    return services.record_publish(
        actor=world.tax_officer,
        category_code="tax_payment",
        producer=world.tax,
        subject=services.subject_of(person=person or world.buyer),
        reference=reference,
        payload={"tax": "deed_tax", "amount_fen": amount * 100, "contract_no": "HT-001"},
    )


def grant_tax(world, **overrides):
    today = timezone.localdate()
    values = dict(
        actor=world.tax_admin,
        category_code="tax_payment",
        grantor=world.tax,
        grantee=world.housing,
        purpose="竣工验收备案前核验契税",
        valid_from=today,
        valid_until=today + dt.timedelta(days=30),
    )
    values.update(overrides)
    return services.grant_create(**values)


def read(world, grant, *, actor=None, category="tax_payment", person=None):
    return services.record_read(
        actor=actor or world.housing_officer,
        grant_id=grant.pk,
        category_code=category,
        subject=services.subject_of(person=person or world.buyer),
    )


def test_publish_grant_read_are_recorded_on_the_ledger(world):
    record = publish_tax(world)
    grant = grant_tax(world)
    result = read(world, grant)
    assert [r.pk for r in result.records] == [record.pk]
    assert result.records[0].payload["amount_fen"] == 1350000
    log = result.read
    assert (log.reader, log.grant, log.department) == (world.housing_officer, grant, world.housing)
    assert log.record_ids == [record.pk] and log.purpose == grant.purpose
    kinds = {entry_by_seq(s).kind for s in (record.ledger_seq, grant.ledger_seq, log.ledger_seq)}
    assert kinds == {"sharing.publish", "sharing.grant", "sharing.read"}
    # pending until integration: seq now, index and proof later
    assert result.proof["seq"] == log.ledger_seq and result.proof["integrated"] is False
    assert AuditEvent.objects.filter(action="sharing.record_read").count() == 1


def test_proof_after_integration_verifies(world):
    publish_tax(world)
    result = read(world, grant_tax(world))
    ledger_integrate()
    proof = selectors.ledger_proof(result.read.ledger_seq)
    assert proof["integrated"] and proof["index"] is not None
    leaf_hash = base64.b64decode(proof["leaf_hash"])
    entry = entry_by_seq(result.read.ledger_seq)
    assert leaf_hash == merkle.leaf_hash(entry.leaf())
    root = base64.b64decode(proof["checkpoint"].split("\n")[2])
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    merkle.verify_inclusion(proof["index"], proof["tree_size"], leaf_hash, hashes, root)  # raises
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(proof["index"], proof["tree_size"], b"\0" * 32, hashes, root)


def test_read_without_a_grant_of_my_department_is_refused(world):
    publish_tax(world)
    grant = grant_tax(world)
    # the registry holds no grant: it may not use the housing bureau's
    with pytest.raises(PermissionDenied) as exc:
        read(world, grant, actor=world.registrar)
    assert exc.value.code == "not_department_staff"
    # a county-wide counter clerk is not staff of the housing bureau
    with pytest.raises(PermissionDenied):
        read(world, grant, actor=world.county_clerk)
    assert ReadLog.objects.count() == 0


def test_read_after_expiry_and_before_start_is_refused(world):
    publish_tax(world)
    today = timezone.localdate()
    grant = grant_tax(world, valid_from=today + dt.timedelta(days=1))
    with pytest.raises(PermissionDenied) as exc:
        read(world, grant)
    assert exc.value.code == "grant_not_yet_valid"
    grant = grant_tax(world, valid_until=today + dt.timedelta(days=2))
    later = timezone.now() + dt.timedelta(days=3)
    with time_machine.travel(later), pytest.raises(PermissionDenied) as exc:
        read(world, grant)
    assert exc.value.code == "grant_expired"
    assert ReadLog.objects.count() == 0


def test_revoked_grant_refuses_reads_and_cannot_be_revoked_twice(world):
    grant = grant_tax(world)
    services.grant_revoke(actor=world.tax_admin, grant_id=grant.pk, reason="项目已交付")
    with pytest.raises(PermissionDenied) as exc:
        read(world, grant)
    assert exc.value.code == "grant_revoked"
    with pytest.raises(Conflict):
        services.grant_revoke(actor=world.tax_admin, grant_id=grant.pk, reason="再次")
    grant.refresh_from_db()
    assert entry_by_seq(grant.revoke_ledger_seq).kind == "sharing.revoke"


def test_wrong_category_is_refused(world):
    grant = grant_tax(world)
    with pytest.raises(PermissionDenied) as exc:
        read(world, grant, category="contract_filing")
    assert exc.value.code == "wrong_category"


def test_garbage_ids(world):
    grant = grant_tax(world)
    for bad in (0, -1, "1", None, True, 10**9):
        with pytest.raises((ValidationFailed, NotFound)):
            services.record_read(
                actor=world.housing_officer,
                grant_id=bad,
                category_code="tax_payment",
                subject=services.subject_of(person=world.buyer),
            )
    with pytest.raises(ValidationFailed):
        services.resolve_subject("person", "not-an-id")
    with pytest.raises(ValidationFailed):
        services.resolve_subject("alien", BUYER_ID)
    with pytest.raises(NotFound):
        services.resolve_subject("enterprise", "91430781MA4M6W9H0Q")
    with pytest.raises(NotFound):
        services.record_publish(
            actor=world.tax_officer,
            category_code="no_such",
            producer=world.tax,
            subject=services.subject_of(person=world.buyer),
            reference="x",
            payload={},
        )
    assert grant.reads.count() == 0


def test_only_the_owner_grants_and_only_its_admin(world):
    with pytest.raises(PermissionDenied):
        grant_tax(world, actor=world.tax_officer)  # not the department admin
    with pytest.raises(ValidationFailed) as exc:
        grant_tax(world, actor=world.housing_admin, grantor=world.housing)
    assert exc.value.errors[0].field == "grantor"
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as exc:
        grant_tax(world, valid_from=today, valid_until=today - dt.timedelta(days=1))
    assert exc.value.errors[0].field == "valid_until"
    with pytest.raises(ValidationFailed) as exc:
        grant_tax(world, valid_from="2026-13-01", purpose=" ")
    assert {e.field for e in exc.value.errors} == {"valid_from", "purpose"}
    assert Grant.objects.count() == 0


def test_publish_refusals_write_nothing(world):
    entries = Entry.objects.count()
    with pytest.raises(PermissionDenied):
        services.record_publish(
            actor=world.housing_officer,  # not tax staff
            category_code="tax_payment",
            producer=world.tax,
            subject=services.subject_of(person=world.buyer),
            reference="r",
            payload={},
        )
    with pytest.raises(ValidationFailed) as exc:
        services.record_publish(
            actor=world.tax_officer,
            category_code="tax_payment",
            producer=world.tax,
            subject=services.subject_of(person=world.buyer),
            reference="r",
            payload={"amount": 1.5},  # no floats on the ledger
        )
    assert exc.value.errors[0].field.startswith("payload")
    publish_tax(world)
    with pytest.raises(Conflict):
        publish_tax(world)  # same reference twice
    assert SharedRecord.objects.count() == 1
    assert Entry.objects.count() == entries + 1


def test_reads_return_only_that_subjects_records(world):
    publish_tax(world)
    publish_tax(world, person=world.other, reference="JS-2026-0002")
    result = read(world, grant_tax(world), person=world.other)
    assert [r.person for r in result.records] == [world.other]


def test_applicant_sees_who_read_their_data(world, client_for):
    publish_tax(world)
    read(world, grant_tax(world))
    mine = selectors.reads_about_me(world.buyer_user)
    assert [r.department for r in mine] == [world.housing]
    page = client_for(world.buyer_user).get("/sharing/mine/")
    assert page.status_code == 200
    assert world.housing.name in page.content.decode()
    # other people see nothing of it
    assert not selectors.reads_about_me(world.tax_officer).exists()
