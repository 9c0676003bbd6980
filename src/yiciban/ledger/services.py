"""Writes to the ledger: appending entries and integrating them into the signed tree.

Other apps call `ledger_append` INSIDE their own transaction, so an entry exists if and only
if their business write committed. Integration runs later and in batches (a Django Task a
moment after the append commits, or `ledger_integrate()` directly): it gives the pending
entries their indices in append order, stores the new tree hashes as tiles, checks that the
new tree is consistent with the last signed checkpoint, and signs a new one — all in one
transaction, under a lock on the one LogState row, so at most one integrator runs."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core import audit, keys
from yiciban.core.errors import FieldError, ValidationFailed

from . import conf, merkle, note, tiles
from .canonical import CanonicalError, canonical_bytes
from .models import (
    Checkpoint,
    Entry,
    EntryIndex,
    LedgerAlarm,
    LogState,
    PendingSeq,
    entry_leaf,
    entry_time_sql,
    format_time,
    sqlite_entry_time,
)
from .selectors import fetch_tiles

logger = logging.getLogger(__name__)

KIND_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
MAX_KIND = 64
MAX_PRODUCER = 128
MAX_PAYLOAD_BYTES = 256 * 1024


@dataclass(frozen=True)
class PendingEntry:
    """An appended entry. `seq` finds it again (selectors.entry_by_seq); its log index is
    assigned when it is integrated."""

    seq: int
    kind: str
    producer: str
    time: str
    payload_sha256: str

    def leaf(self) -> bytes:
        return entry_leaf(
            kind=self.kind,
            producer=self.producer,
            time=self.time,
            payload_sha256=self.payload_sha256,
        )


@dataclass(frozen=True)
class IntegrationResult:
    size_before: int
    size_after: int
    checkpoints: int  # checkpoints signed (one per batch)

    @property
    def integrated(self) -> int:
        return self.size_after - self.size_before


class LedgerRefused(RuntimeError):
    """The integrator refused to sign: the stored tree does not extend the last checkpoint."""

    def __init__(self, code: str, message: str, detail: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail or {}


# --- append ---------------------------------------------------------------------------------


def ledger_append(*, kind: str, producer: str, payload: Mapping) -> PendingEntry:
    """Append one entry. Call it inside the transaction of the write it records.

    `kind` is a dotted lower-case name (``case.event``, ``licence.issue``); `producer` names
    the app or department that wrote it; `payload` is a JSON object of strings, integers,
    booleans, null, lists and objects (no floats) — it stays private, the log commits to its
    SHA-256. No audit event is written here: the log entry is itself the record, and the
    calling service writes its own audit event."""
    return _append([{"kind": kind, "producer": producer, "payload": payload}], prefixed=False)[0]


def ledger_append_many(*, entries: Iterable[Mapping]) -> list[PendingEntry]:
    """Append several entries (each a mapping with kind, producer, payload) in one insert;
    errors name the entry, e.g. ``entries[3].payload.fee``."""
    return _append(list(entries), prefixed=True)


def _append(items: list[Mapping], *, prefixed: bool) -> list[PendingEntry]:
    now = timezone.now()
    rows = [row[:4] for row in _checked(items, prefixed=prefixed)]
    if not rows:
        return []
    # No savepoint: inside the caller's transaction a failed insert fails that transaction,
    # which is what the caller wants, and it saves two statements per append.
    with transaction.atomic(savepoint=False):
        seqs = _insert_entries(now, rows)
        transaction.on_commit(_schedule_integration, robust=True)
    time = format_time(now)
    return [
        PendingEntry(seq=seq, kind=kind, producer=producer, time=time, payload_sha256=digest)
        for seq, (kind, producer, digest, _payload) in zip(seqs, rows, strict=True)
    ]


@dataclass
class UnsavedAppend:
    """Entries checked and ready, not yet written: for a service that inserts them with its
    other rows (`core.statements.insert_together`). Order: `reserve_keys([append.entries])`
    (or with the service's groups), insert `append.entries` and `append.queue()`, then call
    `append.written()` in the same transaction."""

    entries: list[Entry]

    def queue(self) -> list[PendingSeq]:
        """The integrator's queue rows of the entries (their seqs must be given)."""
        return [PendingSeq(seq=entry.seq) for entry in self.entries]

    def written(self) -> None:
        transaction.on_commit(_schedule_integration, robust=True)


def ledger_unsaved(*, entries: Iterable[Mapping]) -> UnsavedAppend:
    """`ledger_append_many`'s checks and rows, without the write (see `UnsavedAppend`)."""
    now = timezone.now()
    return UnsavedAppend(
        entries=[
            Entry(kind=kind, producer=producer, appended_at=now, payload_sha256=digest, payload=p)
            for kind, producer, digest, _canonical, p in _checked(list(entries), prefixed=True)
        ]
    )


def _checked(items: list[Mapping], *, prefixed: bool) -> list[tuple]:
    """(kind, producer, payload hash, canonical payload, payload) of each entry; errors name
    the entry (``entries[3].payload.fee``) when `prefixed`."""
    rows = []
    for position, item in enumerate(items):
        kind, producer, payload = item.get("kind"), item.get("producer"), item.get("payload")
        prefix = f"entries[{position}]." if prefixed else ""
        _check_names(kind, producer, prefix)
        canonical = _canonical_payload(payload, prefix)
        rows.append((kind, producer, hashlib.sha256(canonical).hexdigest(), canonical, payload))
    return rows


INSERT_CHUNK = 1000  # rows per INSERT statement on SQLite (it allows 32766 parameters)


def _insert_entries(now, rows: list[tuple[str, str, str, bytes]]) -> list[int]:
    """INSERT … RETURNING seq. This is the hot path of every recorded write, and the ORM's
    insert machinery costs several times the statement itself; the payload column receives
    the canonical JSON text we already have (valid JSON for both SQLite and jsonb). On
    PostgreSQL the rows go in with COPY (nothing for the driver to split and quote per row)."""
    table = connection.ops.quote_name(Entry._meta.db_table)
    columns = "kind, producer, appended_at, payload_sha256, payload"
    if connection.vendor == "postgresql":
        return _copy_entries(table, columns, now, rows)
    appended_at = connection.ops.adapt_datetimefield_value(now)
    seqs: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            params: list = []
            for kind, producer, digest, canonical in chunk:
                params += (kind, producer, appended_at, digest, canonical.decode())
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING seq", params)
            chunk_seqs = [seq for (seq,) in cursor.fetchall()]
            cursor.execute(
                f"INSERT INTO {_table(PendingSeq)} (seq) VALUES "
                + ", ".join(["(%s)"] * len(chunk_seqs)),
                chunk_seqs,
            )
            seqs.extend(chunk_seqs)
    return seqs


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _copy_entries(table: str, columns: str, now, rows) -> list[int]:
    """PostgreSQL: take the seqs from the sequence and queue them for the integrator in one
    statement, then COPY the rows as one text-format buffer. The values need no quoting
    beyond backslashes: kind is [a-z0-9_.], producer is printable, the digest is hex and
    canonical JSON escapes every control character, so no tab, newline or carriage return
    can occur in them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(PendingSeq)} (seq) "
            "SELECT nextval(pg_get_serial_sequence(%s, 'seq')) FROM generate_series(1, %s) "
            "RETURNING seq",
            [Entry._meta.db_table, len(rows)],
        )
        # One session's nextval calls only grow: sorted, they follow the rows in order.
        seqs = sorted(seq for (seq,) in cursor.fetchall())
        appended_at = now.isoformat()
        buffer = "".join(
            f"{seq}\t{kind}\t{_copy_text(producer)}\t{appended_at}\t{digest}\t"
            f"{_copy_text(canonical.decode())}\n"
            for seq, (kind, producer, digest, canonical) in zip(seqs, rows, strict=True)
        )
        with cursor.cursor.copy(f"COPY {table} (seq, {columns}) FROM STDIN") as copy:
            copy.write(buffer)
    return seqs


def _copy_text(value: str) -> str:
    """A value in COPY's text format, given it holds no tab, newline or carriage return."""
    return value.replace("\\", "\\\\")


def _check_names(kind: object, producer: object, prefix: str) -> None:
    errors = []
    if not isinstance(kind, str) or len(kind) > MAX_KIND or not KIND_RE.match(kind):
        errors.append(
            FieldError(
                f"{prefix}kind",
                "kind_format",
                _("类别须为小写字母、数字和下划线组成的点分名称（如 case.event），最长64个字符"),
            )
        )
    if (
        not isinstance(producer, str)
        or not producer
        or len(producer) > MAX_PRODUCER
        or not producer.isprintable()
    ):
        errors.append(
            FieldError(f"{prefix}producer", "producer_format", _("产生方须为1至128个可打印字符"))
        )
    if errors:
        raise ValidationFailed(errors[0].message, errors)


def _canonical_payload(payload: object, prefix: str) -> bytes:
    if not isinstance(payload, Mapping):
        raise ValidationFailed.on_field(f"{prefix}payload", "object", _("内容须为 JSON 对象"))
    try:
        data = canonical_bytes(dict(payload))
    except CanonicalError as exc:
        field = f"{prefix}payload.{exc.path}" if exc.path else f"{prefix}payload"
        raise ValidationFailed.on_field(field, exc.rule, exc.message) from exc
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ValidationFailed.on_field(
            f"{prefix}payload", "max_size", _("内容不能超过 256 KiB（规范化 JSON）")
        )
    return data


def _schedule_integration() -> None:
    from .tasks import schedule_integration

    schedule_integration()


# --- integrate ------------------------------------------------------------------------------


def ledger_integrate(*, batch_size: int = conf.MAX_BATCH) -> IntegrationResult:
    """Integrate every pending entry, `batch_size` per transaction, signing a checkpoint
    after each batch (and the empty tree's checkpoint on first use). Raises LedgerRefused —
    after recording a LedgerAlarm — if the stored tree does not extend the last checkpoint.
    Call it outside any transaction."""
    batch_size = max(1, min(batch_size, conf.MAX_BATCH))
    size_before = size_after = None
    signed = 0
    while True:
        try:
            before, after, did_sign = _integrate_batch(batch_size)
        except LedgerRefused as exc:
            _record_alarm(exc)
            raise
        size_before = before if size_before is None else size_before
        size_after = after
        signed += did_sign
        if after - before < batch_size:
            return IntegrationResult(
                size_before=size_before, size_after=size_after, checkpoints=signed
            )


def _integrate_batch(batch_size: int) -> tuple[int, int, bool]:
    origin = conf.origin()
    signer = keys.signer_for(conf.KEY_NAME)
    with transaction.atomic():
        LogState.objects.get_or_create(pk=1)
        state = LogState.objects.select_for_update().get(pk=1)
        last = Checkpoint.objects.order_by("-id").first()
        old_size = state.size
        pending = _pending_entries(batch_size)
        if not pending and last is not None and last.size == old_size:
            return old_size, old_size, False

        leaf_hashes = [
            merkle.leaf_hash(
                entry_leaf(kind=kind, producer=producer, time=at, payload_sha256=digest)
            )
            for _seq, kind, producer, at, digest in pending
        ]
        new_size = old_size + len(pending)
        try:
            changed = tiles.append_leaves(old_size, leaf_hashes, fetch_tiles)
            reader = tiles.overlay(changed, fetch_tiles)
            new_root = (
                tiles.range_hashes([(0, new_size)], reader)[0][0] if new_size else merkle.EMPTY_ROOT
            )
            _check_extends(last, old_size, new_size, new_root, reader, origin)
        except tiles.TileError as exc:
            raise LedgerRefused(LedgerAlarm.Code.TILES, str(exc), {"size": old_size}) from exc

        if pending:
            _assign_indices([row[0] for row in pending], old_size)
        _save_tiles(changed)
        body = note.CheckpointBody(origin=origin, size=new_size, root_hash=new_root)
        signed_note = note.sign(body.text(), origin, signer.public_key.raw, signer.sign)
        checkpoint = Checkpoint.objects.create(size=new_size, root_hash=new_root, note=signed_note)
        state.size, state.root_hash, state.integrated_at = new_size, new_root, timezone.now()
        state.save()
        audit.record(
            actor=None,
            action="ledger.checkpoint_sign",
            obj=checkpoint,
            changes={"size": [old_size, new_size]},
        )
    return old_size, new_size, True


def _check_extends(last, old_size, new_size, new_root, reader, origin) -> None:
    """Refuse unless the new tree is consistent with the last signed checkpoint, whose text
    is trusted only after its signature verifies (so a rewritten row cannot whitewash a
    rewritten history)."""
    if last is None:
        if old_size:
            raise LedgerRefused(
                LedgerAlarm.Code.CHECKPOINT,
                f"the log has {old_size} entries but no signed checkpoint",
                {"size": old_size},
            )
        return
    try:
        text = note.open_note(last.note, origin, [k.raw for k in keys.public_keys(conf.KEY_NAME)])
        previous = note.parse_checkpoint(text)
    except note.NoteError as exc:
        raise LedgerRefused(
            LedgerAlarm.Code.CHECKPOINT,
            f"the last checkpoint (#{last.pk}) does not verify: {exc}",
            {"checkpoint": last.pk, "origin": origin},
        ) from exc
    if previous.origin != origin:
        raise LedgerRefused(
            LedgerAlarm.Code.CHECKPOINT,
            f"the last checkpoint is for origin {previous.origin!r}, not {origin!r}",
            {"checkpoint": last.pk},
        )
    detail = {
        "checkpoint": last.pk,
        "checkpoint_size": previous.size,
        "state_size": old_size,
        "new_size": new_size,
        "checkpoint_root": previous.root_hash.hex(),
        "new_root": new_root.hex(),
    }
    if previous.size != old_size:
        # A replayed older checkpoint, or a log state restored from another time: either way
        # the stored tree is not the one last signed.
        raise LedgerRefused(
            LedgerAlarm.Code.ROLLBACK,
            f"the last signed checkpoint has size {previous.size}, the log state {old_size}",
            detail,
        )
    if new_size < previous.size:
        raise LedgerRefused(
            LedgerAlarm.Code.ROLLBACK,
            f"new tree size {new_size} is below the signed size {previous.size}",
            detail,
        )
    if previous.size == 0:
        return
    try:
        if new_size == previous.size:
            proof = []
        else:
            proof = tiles.range_hashes(merkle.consistency_ranges(previous.size, new_size), reader)[
                0
            ]
        merkle.verify_consistency(previous.size, new_size, previous.root_hash, new_root, proof)
    except (merkle.ProofError, tiles.TileError) as exc:
        raise LedgerRefused(
            LedgerAlarm.Code.INCONSISTENT,
            f"tree of size {new_size} is not consistent with the checkpoint of size "
            f"{previous.size}: {exc}",
            detail,
        ) from exc


def _pending_entries(limit: int) -> list[tuple[int, str, str, str, str]]:
    """(seq, kind, producer, time, payload_sha256) of the first `limit` pending entries in
    append order; `time` already in the entry's format (§2.1 of docs/ledger.md)."""
    vendor = connection.vendor
    columns = f"e.seq, kind, producer, {entry_time_sql(vendor)}, payload_sha256"
    queue, entries = _table(PendingSeq), _table(Entry)
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            # The seq range of the batch bounds the entry side: without it PostgreSQL joins
            # thousands of pending seqs by scanning the whole entry table (hash or merge
            # join), so every batch got slower as the log grew (0.2 s at a million entries).
            cursor.execute(
                f"WITH p AS MATERIALIZED (SELECT seq FROM {queue} ORDER BY seq LIMIT %s) "
                f"SELECT {columns} FROM p JOIN {entries} e ON e.seq = p.seq "
                f"WHERE e.seq BETWEEN (SELECT min(seq) FROM p) AND (SELECT max(seq) FROM p) "
                f"ORDER BY e.seq",
                [limit],
            )
            return cursor.fetchall()
        # SQLite walks the queue in order and looks each entry up by its rowid.
        cursor.execute(
            f"SELECT {columns} FROM {queue} p JOIN {entries} e ON e.seq = p.seq "
            f"ORDER BY p.seq LIMIT %s",
            [limit],
        )
        rows = cursor.fetchall()
    return [
        (seq, kind, producer, sqlite_entry_time(at), digest)
        for seq, kind, producer, at, digest in rows
    ]


def _assign_indices(seqs: list[int], first_index: int) -> None:
    """Give `seqs` (ascending) the indices first_index, first_index + 1, … : insert their
    narrow EntryIndex rows and take them off the queue, one statement each, whatever the
    batch size. The entry rows are not touched (on PostgreSQL an UPDATE would write a new
    version of each wide row). Exactly the rows read are numbered: an append with a smaller
    seq may commit meanwhile on PostgreSQL, so the seqs travel as one array — written as a
    text literal (JSON on SQLite), which costs a small fraction of adapting 10,000 integers
    one by one. (Dequeuing with DELETE … RETURNING inside a CTE saves a round trip, but
    PostgreSQL then cannot estimate the CTE's rows and hash-joins the whole entry table.)"""
    queue, numbered = _table(PendingSeq), _table(EntryIndex)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            array = "{" + ",".join(map(str, seqs)) + "}"
            cursor.execute(f"DELETE FROM {queue} WHERE seq = ANY(%s::bigint[])", [array])
            dequeued = cursor.rowcount
            cursor.execute(
                f"INSERT INTO {numbered} (seq, log_index) SELECT u.s, u.n - 1 + %s "
                f"FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(s, n)",
                [first_index, array],
            )
        else:
            array = json.dumps(seqs)
            cursor.execute(
                f"DELETE FROM {queue} WHERE seq IN (SELECT value FROM json_each(%s))", [array]
            )
            dequeued = cursor.rowcount
            cursor.execute(
                f"INSERT INTO {numbered} (seq, log_index) "
                f"SELECT value, CAST(key AS INTEGER) + %s FROM json_each(%s)",
                [first_index, array],
            )
        if dequeued != len(seqs) or cursor.rowcount != len(seqs):
            raise RuntimeError(
                f"dequeued {dequeued} and numbered {cursor.rowcount} of {len(seqs)} entries"
            )


def _save_tiles(changed: dict[tiles.TileKey, bytes]) -> None:
    from .models import Tile

    Tile.objects.bulk_create(
        [Tile(level=level, index=index, hashes=data) for (level, index), data in changed.items()],
        update_conflicts=True,
        unique_fields=["level", "index"],
        update_fields=["hashes"],
    )


def _record_alarm(exc: LedgerRefused) -> None:
    logger.error("ledger integration refused (%s): %s", exc.code, exc.message)
    with transaction.atomic():
        alarm = LedgerAlarm.objects.create(code=exc.code, message=exc.message, detail=exc.detail)
        audit.record(actor=None, action="ledger.alarm_raise", obj=alarm, changes={"code": exc.code})
