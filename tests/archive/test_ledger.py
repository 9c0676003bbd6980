"""Archive writes on the ledger: each document added or checked and each record filed appends
one entry (ids, kind, department, dates, digests), never the content in clear."""

import datetime as dt
import hashlib

import pytest
import time_machine

from tests.archive.conftest import png
from yiciban.archive import services
from yiciban.archive.models import Origin
from yiciban.core.errors import Conflict, ValidationFailed
from yiciban.ledger.models import Entry

pytestmark = pytest.mark.django_db


def _entries():
    return list(Entry.objects.filter(kind__startswith="archive.").order_by("seq"))


def test_documents_added_and_checked_are_logged(arch):
    content = png("lease-ledger")
    upload = services.archive_document_add(
        actor=arch.w.boss_user,
        archive=arch.archive,
        content=content,
        filename="lease.png",
        title="租赁合同（张三家的房子）",
        origin=Origin.APPLICANT_UPLOADED,
    )
    services.archive_document_check(actor=arch.clerk, item=upload)
    with pytest.raises(Conflict):  # the same bytes again: refused, not logged
        services.archive_document_add(
            actor=arch.w.boss_user,
            archive=arch.archive,
            content=content,
            filename="again.png",
            title="租赁合同",
            origin=Origin.APPLICANT_UPLOADED,
        )
    added, checked = _entries()
    assert (added.kind, checked.kind) == ("archive.document_add", "archive.document_check")
    assert added.payload["sha256"] == hashlib.sha256(content).hexdigest()
    assert (added.payload["origin"], checked.payload["origin"]) == (
        "applicant_uploaded",
        "counter_checked",
    )
    assert added.payload["archive"] == arch.archive.pk
    assert "张三" not in str(added.payload)


@time_machine.travel(dt.datetime(2026, 3, 16, 2, 0, tzinfo=dt.UTC), tick=False)
def test_records_are_logged_with_dates_and_a_content_digest(arch):
    record = services.archive_record_add(
        actor=arch.inspector,
        archive=arch.archive,
        kind="inspection",
        department=arch.w.market,
        event_date=dt.date(2026, 3, 2),
        summary="日常检查：负责人王丽在场",
        payload={"result": "合格"},
    )
    with pytest.raises(ValidationFailed):  # an event in the future: nothing logged
        services.archive_record_add(
            actor=arch.inspector,
            archive=arch.archive,
            kind="inspection",
            department=arch.w.market,
            event_date=dt.date(2026, 3, 20),
            summary="x",
        )
    (entry,) = _entries()
    assert entry.kind == "archive.record" and entry.producer == arch.w.market.uscc
    assert entry.payload["record"] == record.pk
    assert entry.payload["kind"] == "inspection"
    assert (entry.payload["event_date"], entry.payload["recorded_on"]) == (
        "2026-03-02",
        "2026-03-16",
    )
    assert entry.payload["late"] is True
    assert len(entry.payload["content_sha256"]) == 64
    assert "王丽" not in str(entry.payload) and "合格" not in str(entry.payload)
