"""Two first uses of one archive, and the same bytes added twice at once: one archive, one
document. Real threads on PostgreSQL; SQLite serialises writers at BEGIN IMMEDIATE."""

import pytest
from django.db import connection

from tests.archive.conftest import png
from tests.licences.test_concurrency import race
from yiciban.archive import services
from yiciban.archive.models import Archive, ArchiveDocument, Origin
from yiciban.core.errors import Conflict

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]


def test_first_uses_open_one_archive(world):
    outcomes = race(*[lambda: services.archive_open(enterprise=world.enterprise)] * 3)
    assert all(e is None for _, e in outcomes)
    assert len({r.pk for r, _ in outcomes}) == 1
    assert Archive.objects.filter(enterprise=world.enterprise).count() == 1


def test_the_same_bytes_twice_at_once(arch):
    def add(actor, origin):
        return lambda: services.archive_document_add(
            actor=actor,
            archive=arch.archive,
            content=png("race"),
            filename="race.png",
            title="租赁合同",
            origin=origin,
        )

    outcomes = race(
        add(arch.w.boss_user, Origin.APPLICANT_UPLOADED), add(arch.clerk, Origin.COUNTER_CHECKED)
    )
    losses = [e for _, e in outcomes if e is not None]
    assert len(losses) == 1 and isinstance(losses[0], Conflict)
    assert ArchiveDocument.objects.filter(archive=arch.archive).count() == 1
