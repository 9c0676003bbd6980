import hashlib
import json

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from yiciban.core import keys
from yiciban.core.errors import ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.ledger import merkle, note, selectors, services, tasks
from yiciban.ledger.auditor import audit_log
from yiciban.ledger.canonical import canonical_bytes
from yiciban.ledger.models import Checkpoint, Entry, LedgerAlarm, LogState, Tile
from yiciban.ledger.services import LedgerRefused, ledger_append, ledger_integrate

pytestmark = pytest.mark.django_db
ORIGIN = "test.yiciban.example/ledger"


def _append(n, kind="case.event", start=0):
    return [
        ledger_append(kind=kind, producer="cases", payload={"case": f"C{i:05d}", "step": i})
        for i in range(start, start + n)
    ]


def _latest_body():
    public = [k.raw for k in keys.public_keys("ledger")]
    return note.parse_checkpoint(note.open_note(selectors.checkpoint_note(), ORIGIN, public))


# --- append ---------------------------------------------------------------------------------


def test_append_records_the_payload_hash_and_waits_for_integration():
    pending = ledger_append(
        kind="licence.issue", producer="licenses", payload={"licence": "L1", "holder": "张三"}
    )
    entry = Entry.objects.get(seq=pending.seq)
    assert entry.index is None
    expected = hashlib.sha256('{"holder":"张三","licence":"L1"}'.encode()).hexdigest()
    assert pending.payload_sha256 == entry.payload_sha256 == expected
    assert pending.leaf() == entry.leaf()
    assert json.loads(pending.leaf()) == {
        "kind": "licence.issue",
        "payload_sha256": expected,
        "producer": "licenses",
        "time": pending.time,
        "v": 1,
    }
    assert pending.time.endswith("Z") and len(pending.time) == 27


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"kind": "Case.Event"}, "kind", "kind_format"),
        ({"kind": "case..event"}, "kind", "kind_format"),
        ({"kind": "x" * 65}, "kind", "kind_format"),
        ({"producer": ""}, "producer", "producer_format"),
        ({"producer": "a\nb"}, "producer", "producer_format"),
        ({"payload": ["not", "an", "object"]}, "payload", "object"),
        ({"payload": {"fee": 12.5}}, "payload.fee", "no_float"),
        ({"payload": {"items": [{"note": "a\x00"}]}}, "payload.items[0].note", "nul"),
        ({"payload": {"big": 2**60}}, "payload.big", "safe_integer"),
        ({"payload": {"blob": "x" * 300_000}}, "payload", "max_size"),
    ],
)
def test_append_refuses_bad_input_naming_the_field(kwargs, field, rule):
    arguments = {"kind": "case.event", "producer": "cases", "payload": {"ok": True}, **kwargs}
    with pytest.raises(ValidationFailed) as caught:
        ledger_append(**arguments)
    assert (caught.value.errors[0].field, caught.value.errors[0].rule) == (field, rule)
    assert not Entry.objects.exists()


def test_an_entry_exists_only_if_the_business_write_commits():
    with pytest.raises(RuntimeError), transaction.atomic():
        ledger_append(kind="case.event", producer="cases", payload={"case": "C1"})
        raise RuntimeError("the business write failed")
    assert not Entry.objects.exists()
    assert ledger_integrate().size_after == 0


def test_committed_appends_schedule_one_integration_task(django_capture_on_commit_callbacks):
    tasks._next_enqueue_at = 0.0
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        _append(3)
    assert len(callbacks) == 3
    # Throttled: one task for the burst, due after the integration delay.
    results = list(DBTaskResult.objects.filter(task_path="yiciban.ledger.tasks.integrate_pending"))
    assert len(results) == 1
    assert results[0].run_after is not None


def test_the_task_integrates_pending_entries():
    _append(4)
    assert tasks.integrate_pending.call() == {"size_before": 0, "size_after": 4}
    assert LogState.objects.get().size == 4


# --- integrate ------------------------------------------------------------------------------


def test_first_integration_signs_the_empty_tree():
    result = ledger_integrate()
    assert (result.size_before, result.size_after, result.checkpoints) == (0, 0, 1)
    body = _latest_body()
    assert (body.origin, body.size, body.root_hash) == (ORIGIN, 0, merkle.EMPTY_ROOT)
    assert ledger_integrate().checkpoints == 0  # nothing new: no new checkpoint


def test_integration_assigns_indices_in_append_order_and_signs_the_root():
    pending = _append(300)
    result = ledger_integrate()
    assert (result.size_before, result.size_after, result.integrated) == (0, 300, 300)
    indices = dict(Entry.objects.values_list("seq", "position__index"))
    assert [indices[p.seq] for p in pending] == list(range(300))
    leaves = [merkle.leaf_hash(p.leaf()) for p in pending]
    body = _latest_body()
    assert body.size == 300
    assert body.root_hash == merkle.root_from_leaves(leaves)
    state = LogState.objects.get()
    assert (state.size, bytes(state.root_hash)) == (300, body.root_hash)
    assert {(t.level, t.index): len(t.hashes) // 32 for t in Tile.objects.all()} == {
        (0, 0): 256,
        (0, 1): 44,
        (1, 0): 1,
    }
    event = AuditEvent.objects.get(action="ledger.checkpoint_sign")
    assert event.changes == {"size": [0, 300]}


def test_batches_each_sign_a_consistent_checkpoint():
    _append(25)
    result = ledger_integrate(batch_size=10)
    assert (result.size_after, result.checkpoints) == (25, 3)
    sizes = list(Checkpoint.objects.order_by("id").values_list("size", flat=True))
    assert sizes == [10, 20, 25]
    roots = dict(Checkpoint.objects.values_list("size", "root_hash"))
    proof = selectors.consistency_proof(first=10, second=25)
    merkle.verify_consistency(10, 25, bytes(roots[10]), bytes(roots[25]), proof.hashes)
    assert audit_log().ok


def test_growth_over_many_integrations_stays_verifiable():
    for batch in (1, 255, 1, 300, 7):
        _append(batch, start=Entry.objects.count())
        ledger_integrate()
    assert LogState.objects.get().size == 564
    report = audit_log()
    assert report.ok, report.divergence
    assert report.checkpoints == 5


def test_rotated_key_keeps_integration_going():
    _append(5)
    ledger_integrate()
    keys.key_rotate(name="ledger")
    _append(5, start=5)
    assert ledger_integrate().size_after == 10
    assert audit_log().ok  # the first checkpoint verifies with the retired key


# --- refusals -------------------------------------------------------------------------------


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _unnumber(condition):
    """Take integrated entries back to the integrator's queue, as an old backup would have
    them."""
    _raw(f"INSERT INTO ledger_pendingseq (seq) SELECT seq FROM ledger_entryindex WHERE {condition}")
    _raw(f"DELETE FROM ledger_entryindex WHERE {condition}")


def test_a_tampered_tree_hash_is_refused_and_raises_an_alarm():
    _append(10)
    ledger_integrate()
    tile = Tile.objects.get(level=0, index=0)
    data = bytearray(tile.hashes)
    data[3 * 32] ^= 0xFF  # entry 3's leaf hash
    _raw("UPDATE ledger_tile SET hashes = %s WHERE id = %s", [bytes(data), tile.pk])
    _append(1, start=10)
    with pytest.raises(LedgerRefused) as caught:
        ledger_integrate()
    assert caught.value.code == "inconsistent"
    alarm = LedgerAlarm.objects.get()
    assert alarm.code == "inconsistent"
    assert alarm.detail["checkpoint_size"] == 10
    assert LogState.objects.get().size == 10  # nothing was signed or integrated
    assert Checkpoint.objects.count() == 1
    assert Entry.objects.filter(position__isnull=True).count() == 1


def test_a_rolled_back_log_is_refused():
    _append(20)
    ledger_integrate()
    # A restore from an old backup of the state row (tiles and checkpoints still newer).
    _raw("UPDATE ledger_logstate SET size = 5")
    _unnumber("log_index >= 5")
    _raw("DELETE FROM ledger_tile")
    with pytest.raises(LedgerRefused) as caught:
        ledger_integrate(batch_size=10)
    assert caught.value.code in ("tiles", "rollback")
    assert LedgerAlarm.objects.filter(code=caught.value.code).exists()


def test_a_truncated_log_below_the_signed_size_is_refused():
    _append(20)
    ledger_integrate()
    _raw("UPDATE ledger_logstate SET size = 0")
    _unnumber("log_index >= 0")
    _raw("DELETE FROM ledger_tile")
    _raw(
        "DELETE FROM ledger_entry WHERE seq IN (SELECT seq FROM ledger_entry ORDER BY seq LIMIT 15)"
    )
    with pytest.raises(LedgerRefused) as caught:
        ledger_integrate()
    assert caught.value.code == "rollback"


def test_a_replayed_older_checkpoint_is_refused_and_found_by_the_audit():
    _append(10)
    ledger_integrate()
    _append(10, start=10)
    ledger_integrate()
    older = Checkpoint.objects.order_by("id").filter(size=10).get()
    # Someone puts an old, genuinely signed checkpoint back on top (a rolled-back checkpoint).
    Checkpoint.objects.create(size=older.size, root_hash=older.root_hash, note=older.note)
    _append(1, start=20)
    with pytest.raises(LedgerRefused) as caught:
        ledger_integrate()
    assert caught.value.code == "rollback"
    assert "size 10" in caught.value.message
    assert LogState.objects.get().size == 20  # nothing integrated
    report = audit_log()
    assert report.divergence.what == "checkpoint_rollback"


def test_a_forged_previous_checkpoint_is_refused():
    _append(3)
    ledger_integrate()
    checkpoint = Checkpoint.objects.get()
    forged = checkpoint.note.replace("\n3\n", "\n2\n")
    _raw("UPDATE ledger_checkpoint SET note = %s WHERE id = %s", [forged, checkpoint.pk])
    _append(1, start=3)
    with pytest.raises(LedgerRefused) as caught:
        ledger_integrate()
    assert caught.value.code == "checkpoint"


def test_deleted_checkpoints_are_refused():
    _append(3)
    ledger_integrate()
    _raw("DELETE FROM ledger_checkpoint")
    _append(1, start=3)
    with pytest.raises(LedgerRefused) as caught:
        ledger_integrate()
    assert caught.value.code == "checkpoint"


def test_a_crash_in_the_middle_of_a_batch_leaves_log_and_checkpoint_consistent(monkeypatch):
    _append(10)
    ledger_integrate()
    _append(10, start=10)

    def crash(changed):
        raise OSError("disk full")

    monkeypatch.setattr(services, "_save_tiles", crash)  # after indices were assigned
    with pytest.raises(OSError):
        ledger_integrate()
    monkeypatch.undo()
    state = LogState.objects.get()
    assert state.size == 10
    assert Entry.objects.filter(position__isnull=True).count() == 10
    assert _latest_body().size == 10
    assert audit_log().ok
    assert ledger_integrate().size_after == 20
    assert audit_log().ok


def test_payload_is_kept_but_only_its_hash_is_committed():
    pending = ledger_append(kind="sharing.read", producer="sharing", payload={"id": "4306…1234"})
    ledger_integrate()
    entry = selectors.entry_by_seq(pending.seq)
    assert entry.index == 0
    assert entry.payload == {"id": "4306…1234"}
    assert b"4306" not in entry.leaf()
    assert hashlib.sha256(canonical_bytes(entry.payload)).hexdigest() == entry.payload_sha256


def test_the_worked_example_of_the_documentation_holds():
    import base64
    import datetime as dt

    from yiciban.ledger.models import entry_document, format_time

    payload = {"case": "430623-2025-0000042", "event": "accepted", "by": "huarong_clerk"}
    digest = hashlib.sha256(canonical_bytes(payload)).hexdigest()
    assert digest == "9b15ca08a97521b53dbd228ed9b0999ee60f3b5425322ab1d22f68bd29faf21d"
    beijing = dt.timezone(dt.timedelta(hours=8))
    time = format_time(dt.datetime(2025, 3, 1, 10, 3, 4, 5, tzinfo=beijing))
    assert time == "2025-03-01T02:03:04.000005Z"
    leaf = canonical_bytes(
        entry_document(kind="case.event", producer="cases", time=time, payload_sha256=digest)
    )
    assert base64.b64encode(merkle.leaf_hash(leaf)).decode() == (
        "ry+cvnS8uQqNJfuqrRW3df4DNvnxb1Btmkk3Rqp3slQ="
    )
