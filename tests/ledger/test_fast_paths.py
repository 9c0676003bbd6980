"""The fast paths of the ledger give exactly what the careful code gives: the directly
written leaf, the raw-SQL append (COPY on PostgreSQL) and integration, the in-memory tree
cache behind proofs, and the `yiciban ledger verify` command."""

import datetime as dt
import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from yiciban.ledger import merkle, selectors, tiles
from yiciban.ledger.auditor import audit_log
from yiciban.ledger.canonical import canonical_bytes
from yiciban.ledger.models import (
    Entry,
    LogState,
    Tile,
    entry_document,
    entry_leaf,
    format_time,
    sqlite_entry_time,
)
from yiciban.ledger.services import ledger_append, ledger_append_many, ledger_integrate

# --- the leaf, written directly -------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(kind=_text, producer=_text, time=_text, digest=_text)
def test_entry_leaf_is_the_canonical_json_of_the_entry(kind, producer, time, digest):
    document = entry_document(kind=kind, producer=producer, time=time, payload_sha256=digest)
    leaf = entry_leaf(kind=kind, producer=producer, time=time, payload_sha256=digest)
    assert leaf == canonical_bytes(document)


@pytest.mark.parametrize(
    ("stored", "time"),
    [
        ("2025-03-01 02:03:04.000005", "2025-03-01T02:03:04.000005Z"),
        ("2025-03-01 02:03:04", "2025-03-01T02:03:04.000000Z"),  # microsecond 0: no fraction
        ("2025-03-01T02:03:04.5+00:00", "2025-03-01T02:03:04.500000Z"),  # anything else: parsed
    ],
)
def test_sqlite_times_become_entry_times(stored, time):
    assert sqlite_entry_time(stored) == time


# --- append and integrate through raw SQL / COPY ---------------------------------------------

AWKWARD = [
    {"text": 'tab\there, newline\nthere, back\\slash, quote " and 中文'},
    {"sql": "'); DROP TABLE ledger_entry; --", "copy": "\\.\n\\N"},
    {"emoji": "𝄞 😀", "control": "\x01\x1f\x7f", "nested": [{"b": None, "a": True}, -7]},
    {},
]


@pytest.mark.django_db
def test_awkward_payloads_and_producers_survive_append_integration_and_audit():
    pending = ledger_append_many(
        entries=[
            {"kind": "case.event", "producer": producer, "payload": payload}
            for producer in ("cases", 'dept "A" \\ 住建局')
            for payload in AWKWARD
        ]
    )
    assert [p.seq for p in pending] == sorted(p.seq for p in pending)
    for item, payload in zip(pending, AWKWARD * 2, strict=True):
        entry = selectors.entry_by_seq(item.seq)
        assert entry.payload == payload
        assert entry.payload_sha256 == hashlib.sha256(canonical_bytes(payload)).hexdigest()
        assert entry.producer == item.producer
    result = ledger_integrate()
    assert result.integrated == len(pending)
    for position, item in enumerate(pending):
        entry = selectors.entry_by_seq(item.seq)
        assert entry.index == position  # append order
        assert entry.leaf() == item.leaf()
        assert selectors.entry_at(position).leaf_hash == merkle.leaf_hash(item.leaf())
    assert audit_log().ok


@pytest.mark.django_db
def test_integration_reads_the_same_time_the_entry_was_given():
    at = dt.datetime(2025, 3, 1, 2, 3, 4, tzinfo=dt.UTC)  # microsecond 0
    pending = ledger_append(kind="case.event", producer="cases", payload={"a": 1})
    Entry.objects.filter(seq=pending.seq).update(appended_at=at)
    ledger_integrate()
    entry = Entry.objects.get(seq=pending.seq)
    root = selectors.root_at(1)
    assert root == merkle.leaf_hash(entry.leaf())
    assert json.loads(entry.leaf())["time"] == format_time(at) == "2025-03-01T02:03:04.000000Z"


# --- the tree cache behind proofs -------------------------------------------------------------


def _uncached_proofs(index, first, size):
    inclusion, _ = tiles.range_hashes(merkle.inclusion_ranges(index, size), selectors.fetch_tiles)
    consistency, _ = tiles.range_hashes(
        merkle.consistency_ranges(first, size), selectors.fetch_tiles
    )
    return inclusion, consistency


@pytest.mark.django_db
def test_cached_tiles_stay_right_while_the_log_grows():
    leaves = []
    for round_size in (3, 300, 1, 254, 700):
        pending = ledger_append_many(
            entries=[
                {"kind": "case.event", "producer": "cases", "payload": {"i": len(leaves) + i}}
                for i in range(round_size)
            ]
        )
        leaves += [merkle.leaf_hash(p.leaf()) for p in pending]
        ledger_integrate()
        size = len(leaves)
        root = merkle.root_from_leaves(leaves)
        assert selectors.root_at(size) == root
        for index in {0, size // 2, size - 1}:
            proof = selectors.inclusion_proof(index=index)
            assert proof.leaf_hash == leaves[index]
            merkle.verify_inclusion(index, size, leaves[index], proof.hashes, root)
            first = max(1, index)
            consistency = selectors.consistency_proof(first=first)
            merkle.verify_consistency(
                first, size, merkle.root_from_leaves(leaves[:first]), root, consistency.hashes
            )
            assert (proof.hashes, consistency.hashes) == _uncached_proofs(index, first, size)


@pytest.mark.django_db
def test_a_new_log_epoch_drops_the_cached_tree():
    ledger_append_many(
        entries=[{"kind": "a", "producer": "p", "payload": {"i": i}} for i in range(300)]
    )
    ledger_integrate()
    before = selectors.inclusion_proof(index=5)
    # Another log in the same process (a restored backup, the next test's database): same
    # tile keys, different hashes.
    Tile.objects.all().delete()
    Entry.objects.all().delete()
    LogState.objects.all().delete()
    from yiciban.ledger.models import Checkpoint

    Checkpoint.objects.all().delete()
    pending = ledger_append_many(
        entries=[{"kind": "b", "producer": "p", "payload": {"i": i}} for i in range(300)]
    )
    ledger_integrate()
    after = selectors.inclusion_proof(index=5)
    assert after.leaf_hash == merkle.leaf_hash(pending[5].leaf()) != before.leaf_hash
    merkle.verify_inclusion(
        5,
        300,
        after.leaf_hash,
        after.hashes,
        merkle.root_from_leaves([merkle.leaf_hash(p.leaf()) for p in pending]),
    )


@pytest.mark.django_db
def test_proofs_without_a_log_state_row_are_served_uncached():
    ledger_append_many(
        entries=[{"kind": "a", "producer": "p", "payload": {"i": i}} for i in range(20)]
    )
    ledger_integrate()
    LogState.objects.all().delete()
    selectors.forget_cached_tiles()
    proof = selectors.inclusion_proof(index=3, tree_size=20)
    assert proof.hashes == _uncached_proofs(3, 3, 20)[0]


# --- yiciban ledger verify --------------------------------------------------------------------


@pytest.mark.django_db
def test_ledger_verify_command(capsys):
    ledger_append_many(
        entries=[{"kind": "a", "producer": "p", "payload": {"i": i}} for i in range(40)]
    )
    call_command("ledger", "integrate")
    assert "integrated 40 entries" in capsys.readouterr().out
    call_command("ledger", "verify")
    assert "ledger OK: size 40" in capsys.readouterr().out
    table = connection.ops.quote_name(Entry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET producer = 'q' WHERE seq = "
            "(SELECT seq FROM ledger_entryindex WHERE log_index = 17)"
        )
    with pytest.raises(CommandError, match="entry 17"):
        call_command("ledger", "verify")
