import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from yiciban.ledger.auditor import audit_log
from yiciban.ledger.models import Checkpoint, Entry, Tile
from yiciban.ledger.services import ledger_append_many, ledger_integrate

pytestmark = pytest.mark.django_db


@pytest.fixture
def log():
    # Three integrations so that there is a checkpoint history; 600 entries span 3 level-0
    # tiles and a level-1 tile.
    for start, count in ((0, 300), (300, 100), (400, 200)):
        ledger_append_many(
            entries=[
                {"kind": "archive.record", "producer": "archive", "payload": {"n": i, "x": "档案"}}
                for i in range(start, start + count)
            ]
        )
        ledger_integrate()


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _audit_fails(what, index):
    report = audit_log()
    assert not report.ok
    assert report.divergence.what == what, report.divergence
    assert report.divergence.index == index, report.divergence
    with pytest.raises(CommandError) as caught:
        call_command("ledger_audit")
    assert "FIRST DIVERGENCE" in str(caught.value)
    assert what in str(caught.value)
    return report


def test_an_untouched_log_verifies(log, capsys):
    report = audit_log()
    assert report.ok, report.divergence
    assert (report.size, report.entries, report.checkpoints) == (600, 600, 3)
    assert report.tiles == 2 + 1 + 1  # two full and one partial level-0 tile, one level-1 tile
    call_command("ledger_audit")
    assert "ledger OK: size 600" in capsys.readouterr().out


def test_empty_log_verifies():
    ledger_integrate()
    assert audit_log().ok


def test_an_altered_entry_field_is_found_at_its_index(log):
    _raw(
        "UPDATE ledger_entry SET producer = 'forged' WHERE seq = "
        "(SELECT seq FROM ledger_entryindex WHERE log_index = 417)"
    )
    report = _audit_fails("leaf_hash", 417)
    assert "tile 0/1 hash #161" in report.divergence.detail
    assert report.entries == 417  # entries before the divergence were verified


def test_an_altered_time_is_found(log):
    entry = Entry.objects.get(position__index=5)
    _raw(
        "UPDATE ledger_entry SET appended_at = %s WHERE seq = %s",
        [
            entry.appended_at.replace(microsecond=(entry.appended_at.microsecond + 1) % 10**6),
            entry.seq,
        ],
    )
    _audit_fails("leaf_hash", 5)


def test_an_altered_payload_is_found(log):
    payload = json.dumps({"n": 99, "x": "篡改"})
    _raw(
        "UPDATE ledger_entry SET payload = %s WHERE seq = "
        "(SELECT seq FROM ledger_entryindex WHERE log_index = 99)",
        [payload],
    )
    report = _audit_fails("payload_hash", 99)
    assert "SHA-256 of the stored payload" in report.divergence.detail


def test_an_entry_rewritten_with_its_payload_hash_is_still_found(log):
    import hashlib

    from yiciban.ledger.canonical import canonical_bytes

    payload = {"n": 3, "x": "篡改"}
    digest = hashlib.sha256(canonical_bytes(payload)).hexdigest()
    _raw(
        "UPDATE ledger_entry SET payload = %s, payload_sha256 = %s WHERE seq = "
        "(SELECT seq FROM ledger_entryindex WHERE log_index = 3)",
        [json.dumps(payload), digest],
    )
    _audit_fails("leaf_hash", 3)


def test_a_deleted_entry_is_found(log):
    _raw(
        "DELETE FROM ledger_entry WHERE seq = "
        "(SELECT seq FROM ledger_entryindex WHERE log_index = 250)"
    )
    _audit_fails("entry_missing", 250)


def test_an_entry_and_its_leaf_hash_rewritten_together_are_found_by_the_level_above(log):
    entry = Entry.objects.get(position__index=10)
    entry.producer = "forged"
    tile = Tile.objects.get(level=0, index=0)
    data = bytearray(tile.hashes)
    data[10 * 32 : 11 * 32] = entry.leaf_hash()
    _raw(
        "UPDATE ledger_entry SET producer = 'forged' WHERE seq = "
        "(SELECT seq FROM ledger_entryindex WHERE log_index = 10)"
    )
    _raw("UPDATE ledger_tile SET hashes = %s WHERE id = %s", [bytes(data), tile.pk])
    report = _audit_fails("tile_hash", 0)
    assert "tile 1/0 hash #0 (entries 0..255)" in report.divergence.detail


def test_a_rewritten_tail_is_found_by_the_checkpoint_roots(log):
    # Entry 599 and its leaf hash rewritten in the partial tiles: no full tile covers it, but
    # the signed root of size 600 no longer matches.
    entry = Entry.objects.get(position__index=599)
    entry.producer = "forged"
    tile = Tile.objects.get(level=0, index=2)
    data = bytearray(tile.hashes)
    data[(599 - 512) * 32 : (600 - 512) * 32] = entry.leaf_hash()
    _raw(
        "UPDATE ledger_entry SET producer = 'forged' WHERE seq = "
        "(SELECT seq FROM ledger_entryindex WHERE log_index = 599)"
    )
    _raw("UPDATE ledger_tile SET hashes = %s WHERE id = %s", [bytes(data), tile.pk])
    report = _audit_fails("checkpoint_root", None)
    assert "size 600" in report.divergence.detail


def test_a_forged_checkpoint_is_found(log):
    checkpoint = Checkpoint.objects.order_by("id").first()
    _raw(
        "UPDATE ledger_checkpoint SET note = %s WHERE id = %s",
        [checkpoint.note.replace("\n300\n", "\n301\n"), checkpoint.pk],
    )
    _audit_fails("checkpoint_signature", None)


def test_extra_rows_are_found(log):
    _raw("UPDATE ledger_entryindex SET log_index = 700 WHERE log_index = 599")
    _audit_fails("entry_missing", 599)
    _raw("UPDATE ledger_entryindex SET log_index = 599 WHERE log_index = 700")
    assert audit_log().ok
    Tile.objects.create(level=3, index=0, hashes=b"\x00" * 32)
    _audit_fails("extra_tile", None)
