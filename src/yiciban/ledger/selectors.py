"""Reads of the ledger. Everything served here is public by design (the log is verifiable by
anyone), except entry payloads, which only `entry_by_seq` returns to other apps."""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext as _

from yiciban.core import keys
from yiciban.core.errors import NotFound, ValidationFailed

from . import conf, merkle, note, tiles
from .models import Checkpoint, Entry, LogState, Tile


@dataclass(frozen=True)
class EntryView:
    index: int
    leaf: bytes  # the canonical JSON, UTF-8
    leaf_hash: bytes
    document: dict


@dataclass(frozen=True)
class InclusionProof:
    index: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    hashes: list[bytes]


def fetch_tiles(wanted: Iterable[tiles.TileKey]) -> dict[tiles.TileKey, bytes]:
    """Stored tiles by (level, index), in one query. Plain SQL: proofs run this on every
    request, and building the OR-ed ORM filter costs more than the query itself."""
    wanted = list(wanted)
    if not wanted:
        return {}
    table = connection.ops.quote_name(Tile._meta.db_table)
    condition = " OR ".join(['("level" = %s AND "index" = %s)'] * len(wanted))
    params = [value for key in wanted for value in key]
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "level", "index", "hashes" FROM {table} WHERE {condition}', params)
        return {(level, index): bytes(data) for level, index, data in cursor.fetchall()}


class _TreeCache:
    """Tree hashes kept in process memory for proofs. A tile only ever grows and a complete
    node never changes, so a stored tile of width W — and every node computed from it (its
    pyramid, tiles.pyramid) — stays right for every later tree size. The cache belongs to one
    log: it starts afresh when the log state's epoch changes (a recreated or restored log).
    Bounded: the oldest tiles go first (upper-level tiles are few and stay hot anyway)."""

    MAX_TILES = 4096  # ≈ 4096 × 16 KB of hashes and nodes = 64 MB at most

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.epoch: str | None = None
        self.pyramids: dict[tiles.TileKey, list[list[bytes]]] = {}

    def reader(self, size: int, epoch: str | None) -> tiles.PyramidFetch:
        """A pyramid fetch for proofs in the tree of `size` leaves: cached tiles that are wide
        enough, the others read (one query) and cached."""
        with self.lock:
            if epoch != self.epoch:
                self.epoch, self.pyramids = epoch, {}

        def fetch(keys: Iterable[tiles.TileKey]) -> dict[tiles.TileKey, list[list[bytes]]]:
            found, missing = {}, []
            for key in keys:
                levels = self.pyramids.get(key)
                if levels is not None and len(levels[0]) >= tiles.tile_width(*key, size):
                    found[key] = levels
                else:
                    missing.append(key)
            if missing:
                fresh = {key: tiles.pyramid(data) for key, data in fetch_tiles(missing).items()}
                found.update(fresh)
                if epoch is not None:
                    self._keep(fresh, epoch)
            return found

        return fetch

    def _keep(self, fresh: dict, epoch: str) -> None:
        with self.lock:
            if epoch != self.epoch:
                return
            for key, levels in fresh.items():
                known = self.pyramids.get(key)
                if known is None or len(known[0]) < len(levels[0]):
                    self.pyramids[key] = levels
            while len(self.pyramids) > self.MAX_TILES:
                del self.pyramids[next(iter(self.pyramids))]

    def forget(self) -> None:
        with self.lock:
            self.epoch, self.pyramids = None, {}


_tree_cache = _TreeCache()


def forget_cached_tiles() -> None:
    """Drop the process's cached tree hashes (never needed for correctness; for benchmarks
    that want cold reads)."""
    _tree_cache.forget()


def _published() -> tuple[int, str | None]:
    """(size of the latest signed checkpoint, the log's epoch) in one query."""
    checkpoint = connection.ops.quote_name(Checkpoint._meta.db_table)
    state = connection.ops.quote_name(LogState._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.size, s.epoch FROM {checkpoint} c LEFT JOIN {state} s ON s.id = 1 "
            f"ORDER BY c.id DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, None)


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-id").first()


def checkpoint_note() -> str:
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        raise NotFound(_("账本还没有签署检查点"), code="no_checkpoint")
    return checkpoint.note


def published_size() -> int:
    """The tree size of the latest signed checkpoint: what proofs and tiles may cover."""
    return _published()[0]


def verifier_keys() -> list[str]:
    """Signed-note verifier keys of the log (current first, then retired)."""
    name = conf.origin()
    return [note.verifier_key(name, key.raw) for key in keys.public_keys(conf.KEY_NAME)]


def entry_at(index: int) -> EntryView:
    entry = Entry.objects.filter(position__index=index).first()
    if entry is None or index >= published_size():
        raise NotFound(_("第 %(index)d 条账本条目不存在") % {"index": index}, code="no_entry")
    leaf = entry.leaf()
    return EntryView(
        index=index, leaf=leaf, leaf_hash=merkle.leaf_hash(leaf), document=entry.document()
    )


def entry_by_seq(seq: int) -> Entry:
    """For the app that appended it: the entry (with its payload), whose `index` is None
    until it has been integrated."""
    entry = Entry.objects.select_related("position").filter(seq=seq).first()
    if entry is None:
        raise NotFound(_("账本条目不存在"), code="no_entry")
    return entry


def inclusion_proof(*, index: int, tree_size: int | None = None) -> InclusionProof:
    size, epoch = _published()
    if tree_size is None:
        tree_size = size
    if tree_size > size:
        raise ValidationFailed.on_field(
            "tree_size",
            "max_checkpoint_size",
            _("tree_size 不能超过最新检查点的树大小 %(size)d") % {"size": size},
        )
    if index >= tree_size:
        raise ValidationFailed.on_field(
            "index", "lt_tree_size", _("index 必须小于 tree_size（%(size)d）") % {"size": tree_size}
        )
    leaf_node = (0, index)
    hashes, known = tiles.range_hashes(
        merkle.inclusion_ranges(index, tree_size),
        _tree_cache.reader(tree_size, epoch),
        extra=[leaf_node],
        pyramids=True,
    )
    return InclusionProof(
        index=index, tree_size=tree_size, leaf_hash=known[leaf_node], hashes=hashes
    )


def consistency_proof(*, first: int, second: int | None = None) -> ConsistencyProof:
    size, epoch = _published()
    if second is None:
        second = size
    if second > size:
        raise ValidationFailed.on_field(
            "second",
            "max_checkpoint_size",
            _("second 不能超过最新检查点的树大小 %(size)d") % {"size": size},
        )
    if not 0 < first <= second:
        raise ValidationFailed.on_field(
            "first", "range", _("first 必须在 1 与 second（%(second)d）之间") % {"second": second}
        )
    hashes, _known = tiles.range_hashes(
        merkle.consistency_ranges(first, second), _tree_cache.reader(second, epoch), pyramids=True
    )
    return ConsistencyProof(first=first, second=second, hashes=hashes)


def root_at(size: int) -> bytes:
    """Root hash of the tree at any published size, from the tiles."""
    if size == 0:
        return merkle.EMPTY_ROOT
    _size, epoch = _published()
    return tiles.range_hashes([(0, size)], _tree_cache.reader(size, epoch), pyramids=True)[0][0]


def tile_data(level: int, index: int, width: int | None) -> bytes | None:
    """A hash tile as served at tile/<level>/<index>[.p/<width>], or None if it does not
    exist at the published size (width None = the full tile)."""
    want = tiles.TILE_WIDTH if width is None else width
    if tiles.tile_width(level, index, published_size()) < want:
        return None
    data = fetch_tiles([(level, index)]).get((level, index), b"")
    if len(data) < want * merkle.HASH_SIZE:
        return None
    return data[: want * merkle.HASH_SIZE]


def entry_bundle(index: int, width: int | None) -> bytes | None:
    """An entry bundle (tile/entries/<index>[.p/<width>]): each leaf as a big-endian uint16
    length followed by the leaf bytes."""
    want = tiles.TILE_WIDTH if width is None else width
    if tiles.tile_width(0, index, published_size()) < want:
        return None
    start = index * tiles.TILE_WIDTH
    rows = (
        Entry.objects.filter(position__index__gte=start, position__index__lt=start + want)
        .select_related("position")
        .order_by("position__index")
    )
    parts = []
    expected = start
    fields = ("position__index", "kind", "producer", "appended_at", "payload_sha256")
    for entry in rows.only(*fields):
        if entry.index != expected:
            return None
        leaf = entry.leaf()
        parts.append(struct.pack(">H", len(leaf)) + leaf)
        expected += 1
    if expected != start + want:
        return None
    return b"".join(parts)
