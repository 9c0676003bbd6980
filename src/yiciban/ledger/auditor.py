"""The auditor: re-verifies the whole log from its entries and names the first divergence.

It trusts nothing stored except the log's public keys: it recomputes every payload hash and
leaf hash from the entry rows, rebuilds every tile and compares it with the stored one,
recomputes the root at every checkpointed size and checks every checkpoint's signature and
its root. Entries are read in chunks, so memory stays small for any log size."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection

from yiciban.core import keys

from . import conf, merkle, note, tiles
from .canonical import CanonicalError, canonical_bytes
from .models import (
    Checkpoint,
    Entry,
    EntryIndex,
    LogState,
    PendingSeq,
    Tile,
    entry_leaf,
    entry_time_sql,
    sqlite_entry_time,
)

CHUNK_TILES = 64  # level-0 tiles (of 256 entries) read per query


@dataclass(frozen=True)
class Divergence:
    index: int | None  # the first entry index concerned, if one can be named
    what: str  # machine code: payload_hash, leaf_hash, tile_hash, entry_missing, …
    detail: str

    def __str__(self) -> str:
        where = f"entry {self.index}" if self.index is not None else "log"
        return f"{where}: {self.what}: {self.detail}"


@dataclass
class AuditReport:
    size: int = 0
    entries: int = 0
    tiles: int = 0
    checkpoints: int = 0
    pending: int = 0
    root_hash: bytes = merkle.EMPTY_ROOT
    divergence: Divergence | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.divergence is None


class _Diverged(Exception):
    def __init__(self, divergence: Divergence):
        self.divergence = divergence


def audit_log(*, progress: Callable[[int, int], None] | None = None) -> AuditReport:
    report = AuditReport()
    try:
        _audit(report, progress)
    except _Diverged as stop:
        report.divergence = stop.divergence
    return report


def _fail(index: int | None, what: str, detail: str) -> _Diverged:
    return _Diverged(Divergence(index=index, what=what, detail=detail))


def _audit(report: AuditReport, progress) -> None:
    state = LogState.objects.filter(pk=1).first()
    size = state.size if state else 0
    report.size = size
    report.pending = PendingSeq.objects.count()
    checkpoint_roots = _verified_checkpoints(report, size)

    builder = _TileChecker(report)
    frontier = merkle.Frontier()
    per_chunk = CHUNK_TILES * tiles.TILE_WIDTH
    for chunk_start in range(0, size, per_chunk):
        chunk_end = min(size, chunk_start + per_chunk)
        builder.load_level0(chunk_start, chunk_end)
        expected = chunk_start
        for index, kind, producer, time, digest, payload in _entry_rows(chunk_start, chunk_end):
            if index != expected:
                raise _fail(expected, "entry_missing", f"no entry row has index {expected}")
            payload_digest = _payload_digest(index, payload, digest)
            if payload_digest != digest:
                raise _fail(
                    index,
                    "payload_hash",
                    f"SHA-256 of the stored payload is {payload_digest}, the entry says {digest}",
                )
            leaf = entry_leaf(kind=kind, producer=producer, time=time, payload_sha256=digest)
            value = merkle.leaf_hash(leaf)
            builder.add(0, index, value)
            frontier.push(value)
            expected += 1
            report.entries = expected
            root_expected = checkpoint_roots.get(frontier.size)
            if root_expected is not None and frontier.root() != root_expected[1]:
                raise _fail(
                    None,
                    "checkpoint_root",
                    f"the root recomputed at size {frontier.size} differs from signed checkpoint "
                    f"#{root_expected[0]}: entries and tiles below that size were rewritten",
                )
        if expected != chunk_end:
            raise _fail(expected, "entry_missing", f"no entry row has index {expected}")
        if progress:
            progress(expected, size)

    builder.finish(size)
    report.root_hash = frontier.root()
    first = EntryIndex.objects.filter(index__gte=size).order_by("index").first()
    if first is not None:
        raise _fail(first.index, "extra_entry", f"entry {first.index} lies beyond tree size {size}")
    if state is not None and bytes(state.root_hash) != report.root_hash:
        raise _fail(
            None, "state_root", "the log state's root hash differs from the recomputed root"
        )
    if size == 0 and checkpoint_roots.get(0, (None, merkle.EMPTY_ROOT))[1] != merkle.EMPTY_ROOT:
        raise _fail(None, "checkpoint_root", "the empty tree's checkpoint has a wrong root")


def _entry_rows(start: int, end: int) -> list[tuple[int, str, str, str, str, str]]:
    """(index, kind, producer, time, payload_sha256, payload text) for indices [start, end),
    in index order, without the ORM's per-row conversions (the time already in the entry's
    format, the payload as the stored JSON text)."""
    table = connection.ops.quote_name(Entry._meta.db_table)
    numbered = connection.ops.quote_name(EntryIndex._meta.db_table)
    vendor = connection.vendor
    payload_sql = "payload::text" if vendor == "postgresql" else "CAST(payload AS TEXT)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT i.log_index, kind, producer, {entry_time_sql(vendor)}, payload_sha256, "
            f"{payload_sql} FROM {numbered} i JOIN {table} e ON e.seq = i.seq "
            f"WHERE i.log_index >= %s AND i.log_index < %s ORDER BY i.log_index",
            [start, end],
        )
        rows = cursor.fetchall()
    if vendor == "postgresql":
        return rows
    return [(i, k, p, sqlite_entry_time(t), d, j) for i, k, p, t, d, j in rows]


def _payload_digest(index: int, text: str, expected: str) -> str:
    """SHA-256 of the canonical JSON of a stored payload. The stored text is normally the
    canonical JSON itself (SQLite keeps what was inserted): if it hashes to the entry's
    digest it is those bytes. Otherwise (jsonb reformats; or a row was altered) parse and
    canonicalise."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    if digest == expected:
        return digest
    try:
        return hashlib.sha256(canonical_bytes(json.loads(text))).hexdigest()
    except (ValueError, CanonicalError) as exc:
        raise _fail(index, "payload_hash", f"stored payload is not canonical: {exc}") from exc


def _verified_checkpoints(report: AuditReport, size: int) -> dict[int, tuple[int, bytes]]:
    """{size: (checkpoint id, root)} from checkpoints whose signatures verify."""
    origin = conf.origin()
    public = [key.raw for key in keys.public_keys(conf.KEY_NAME)]
    roots: dict[int, tuple[int, bytes]] = {}
    previous_size = 0
    last_size = None
    rows = Checkpoint.objects.order_by("id").values_list("id", "size", "root_hash", "note")
    for pk, row_size, row_root, signed in rows.iterator(chunk_size=1000):
        try:
            body = note.parse_checkpoint(note.open_note(signed, origin, public))
        except note.NoteError as exc:
            raise _fail(None, "checkpoint_signature", f"checkpoint #{pk}: {exc}") from exc
        if body.origin != origin:
            raise _fail(None, "checkpoint_origin", f"checkpoint #{pk} is for {body.origin!r}")
        if body.size != row_size or body.root_hash != bytes(row_root):
            raise _fail(
                None,
                "checkpoint_row",
                f"checkpoint #{pk}: size or root column differs from its note",
            )
        if body.size < previous_size:
            raise _fail(
                None,
                "checkpoint_rollback",
                f"checkpoint #{pk} has size {body.size}, below an earlier {previous_size}",
            )
        known = roots.get(body.size)
        if known is not None and known[1] != body.root_hash:
            raise _fail(None, "checkpoint_fork", f"checkpoints #{known[0]} and #{pk} disagree")
        roots.setdefault(body.size, (pk, body.root_hash))
        previous_size = last_size = body.size
        report.checkpoints += 1
    if last_size is None and size:
        raise _fail(None, "checkpoint_missing", f"{size} entries but no signed checkpoint")
    if last_size is not None and last_size != size:
        raise _fail(
            None,
            "state_size",
            f"log state says size {size}, the latest checkpoint says {last_size}",
        )
    return roots


class _TileChecker:
    """Rebuilds the tiles level by level while entries stream in and compares each hash with
    the stored tile as soon as it is known."""

    def __init__(self, report: AuditReport):
        self.report = report
        self.pending: list[list[bytes]] = []  # per level: hashes of the unfinished tile
        self.stored: dict[tiles.TileKey, bytes] = {}

    def load_level0(self, start: int, end: int) -> None:
        first, last = start >> tiles.TILE_HEIGHT, (end - 1) >> tiles.TILE_HEIGHT
        rows = Tile.objects.filter(level=0, index__gte=first, index__lte=last)
        self.stored = {
            key: data for key, data in self.stored.items() if key[0] > 0
        }  # keep the (few) upper-level tiles in use
        for index, data in rows.values_list("index", "hashes"):
            self.stored[(0, index)] = bytes(data)

    def _stored(self, key: tiles.TileKey) -> bytes:
        if key not in self.stored:
            row = Tile.objects.filter(level=key[0], index=key[1]).values_list("hashes").first()
            self.stored[key] = bytes(row[0]) if row else b""
        return self.stored[key]

    def add(self, level: int, position: int, value: bytes) -> None:
        key = (level, position >> tiles.TILE_HEIGHT)
        offset = (position & (tiles.TILE_WIDTH - 1)) * merkle.HASH_SIZE
        stored = self._stored(key)[offset : offset + merkle.HASH_SIZE]
        if stored != value:
            span = tiles.TILE_WIDTH**level
            first_entry = position * span
            if level == 0:
                what, detail = (
                    "leaf_hash",
                    f"leaf hash {value.hex()[:16]}… recomputed from the entry row differs from "
                    f"tile 0/{key[1]} hash #{position & 255} "
                    f"({stored.hex()[:16] + '…' if stored else 'missing'})",
                )
            else:
                what, detail = (
                    "tile_hash",
                    f"tile {level}/{key[1]} hash #{position & 255} (entries {first_entry}.."
                    f"{first_entry + span - 1}) differs from the hash recomputed from the entries",
                )
            raise _fail(first_entry, what, detail)
        while len(self.pending) <= level:
            self.pending.append([])
        self.pending[level].append(value)
        if len(self.pending[level]) == tiles.TILE_WIDTH:
            self.report.tiles += 1
            root = tiles.subtree_hash(self.pending[level])
            self.pending[level] = []
            self.stored.pop(key, None)
            self.add(level + 1, position >> tiles.TILE_HEIGHT, root)

    def finish(self, size: int) -> None:
        """Every tile must have exactly the width the tree size implies, and no other tile
        rows may exist."""
        expected_rows = 0
        for level, index in tiles.right_edge(size):
            width = tiles.tile_width(level, index, size)
            expected_rows += index + (1 if width else 0)
            stored = Tile.objects.filter(level=level, index=index).values_list("hashes").first()
            stored_width = len(bytes(stored[0])) // merkle.HASH_SIZE if stored else 0
            if stored_width != width:
                first_entry = (index * tiles.TILE_WIDTH + width) * tiles.TILE_WIDTH**level
                raise _fail(
                    first_entry if stored_width > width else None,
                    "tile_width",
                    f"tile {level}/{index} holds {stored_width} hashes, "
                    f"size {size} implies {width}",
                )
            if width:
                self.report.tiles += 1
        if Tile.objects.count() != expected_rows:
            raise _fail(
                None,
                "extra_tile",
                f"{Tile.objects.count()} tile rows stored, size {size} implies {expected_rows}",
            )
