"""Every licence write appends one ledger entry in its own transaction: number, type, status,
version, key and signature digest — never the holder's name or identifier."""

import hashlib

import pytest
from django.db import transaction

from tests.licences.conftest import issue_business, issue_food
from yiciban.core.errors import Conflict, ValidationFailed
from yiciban.ledger.models import Entry
from yiciban.licences import services

pytestmark = pytest.mark.django_db


def _entries():
    return list(Entry.objects.filter(kind__startswith="licence.").order_by("seq"))


def test_issue_change_suspend_reinstate_revoke_are_each_logged(world):
    licence = issue_food(world)
    changed = services.licence_change(
        actor=world.approver, licence=licence, fields={"premises": "华容县新址"}, reason="迁址"
    )
    services.licence_suspend(actor=world.approver, licence=changed, reason="检查整改")
    services.licence_reinstate(actor=world.approver, licence=changed, reason="整改完成")
    revoked = services.licence_revoke(actor=world.approver, licence=changed, reason="违法经营")
    entries = _entries()
    assert [e.kind for e in entries] == [
        "licence.issue",
        "licence.change",
        "licence.suspend",
        "licence.reinstate",
        "licence.revoke",
    ]
    assert [(e.payload["status"], e.payload["version"]) for e in entries] == [
        ("valid", 1),
        ("valid", 2),
        ("suspended", 2),
        ("valid", 2),
        ("revoked", 2),
    ]
    last = entries[-1]
    assert last.producer == world.market.uscc
    assert last.payload["number"] == licence.number
    assert last.payload["type"] == "food_business_permit"
    assert last.payload["key_id"] == revoked.key_id
    assert last.payload["algorithm"] == "Ed25519"
    assert (
        last.payload["signature_sha256"] == hashlib.sha256(revoked.signature.encode()).hexdigest()
    )
    # the version-1 entry commits to the version-1 signature
    assert entries[0].payload["signature_sha256"] != entries[1].payload["signature_sha256"]


def test_no_personal_data_in_clear_on_the_ledger(world):
    issue_business(world)
    payload = str(_entries()[0].payload)
    assert world.enterprise.name not in payload
    assert world.enterprise.uscc not in payload
    assert world.boss.name not in payload


def test_a_refused_write_logs_nothing(world):
    licence = issue_food(world)
    with pytest.raises(ValidationFailed):
        services.licence_revoke(actor=world.approver, licence=licence, reason="")
    services.licence_revoke(actor=world.approver, licence=licence, reason="吊销")
    with pytest.raises(Conflict):
        services.licence_suspend(actor=world.approver, licence=licence, reason="再次")
    assert [e.kind for e in _entries()] == ["licence.issue", "licence.revoke"]


def test_a_rolled_back_issue_leaves_no_entry(world):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        issue_food(world)
        assert len(_entries()) == 1
        raise Abort
    assert _entries() == []
