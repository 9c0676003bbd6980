"""Migration 0003 moves entry indices from ledger_entry.log_index to ledger_entryindex and
the pending entries to ledger_pendingseq, carrying the data both ways."""

import pytest
from django.db import connection

from tests.migrating import migrate_to

BEFORE = [("ledger", "0002_logstate_epoch")]
AFTER = [("ledger", "0003_entryindex_pendingseq")]


def _rows(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_indices_and_pending_entries_are_carried_over_and_back():
    migrate_to(BEFORE)
    try:
        with connection.cursor() as cursor:
            for seq, index in [(1, 0), (2, 1), (3, None), (5, 2), (7, None)]:
                cursor.execute(
                    "INSERT INTO ledger_entry (seq, log_index, kind, producer, appended_at, "
                    "payload_sha256, payload) VALUES (%s, %s, 'a', 'p', %s, %s, '{}')",
                    [seq, index, "2026-11-27 04:00:00", "0" * 64],
                )
        migrate_to(AFTER)
        numbered = _rows("SELECT seq, log_index FROM ledger_entryindex ORDER BY seq")
        assert numbered == [(1, 0), (2, 1), (5, 2)]
        assert _rows("SELECT seq FROM ledger_pendingseq ORDER BY seq") == [(3,), (7,)]

        migrate_to(BEFORE)
        back = _rows("SELECT seq, log_index FROM ledger_entry ORDER BY seq")
        assert back == [(1, 0), (2, 1), (3, None), (5, 2), (7, None)]
    finally:
        migrate_to(AFTER)
