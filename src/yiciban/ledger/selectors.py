"""Reads of the ledger. Everything served here is public by design (the log is verifiable by
anyone), except entry payloads, which only `entry_by_seq` returns to other apps."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext as _

from yiciban.core import keys
from yiciban.core.errors import NotFound, ValidationFailed

from . import conf, merkle, note, tiles
from .models import Checkpoint, Entry, Tile


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


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-id").first()


def checkpoint_note() -> str:
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        raise NotFound(_("账本还没有签署检查点"), code="no_checkpoint")
    return checkpoint.note


def published_size() -> int:
    """The tree size of the latest signed checkpoint: what proofs and tiles may cover."""
    size = Checkpoint.objects.order_by("-id").values_list("size", flat=True).first()
    return size or 0


def verifier_keys() -> list[str]:
    """Signed-note verifier keys of the log (current first, then retired)."""
    name = conf.origin()
    return [note.verifier_key(name, key.raw) for key in keys.public_keys(conf.KEY_NAME)]


def entry_at(index: int) -> EntryView:
    entry = Entry.objects.filter(index=index).first()
    if entry is None or index >= published_size():
        raise NotFound(_("第 %(index)d 条账本条目不存在") % {"index": index}, code="no_entry")
    leaf = entry.leaf()
    return EntryView(
        index=index, leaf=leaf, leaf_hash=merkle.leaf_hash(leaf), document=entry.document()
    )


def entry_by_seq(seq: int) -> Entry:
    """For the app that appended it: the entry (with its payload), whose `index` is None
    until it has been integrated."""
    entry = Entry.objects.filter(seq=seq).first()
    if entry is None:
        raise NotFound(_("账本条目不存在"), code="no_entry")
    return entry


def inclusion_proof(*, index: int, tree_size: int | None = None) -> InclusionProof:
    size = published_size()
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
        merkle.inclusion_ranges(index, tree_size), fetch_tiles, extra=[leaf_node]
    )
    return InclusionProof(
        index=index, tree_size=tree_size, leaf_hash=known[leaf_node], hashes=hashes
    )


def consistency_proof(*, first: int, second: int | None = None) -> ConsistencyProof:
    size = published_size()
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
    hashes, _known = tiles.range_hashes(merkle.consistency_ranges(first, second), fetch_tiles)
    return ConsistencyProof(first=first, second=second, hashes=hashes)


def root_at(size: int) -> bytes:
    """Root hash of the tree at any published size, from the tiles."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return tiles.range_hashes([(0, size)], fetch_tiles)[0][0]


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
    rows = Entry.objects.filter(index__gte=start, index__lt=start + want).order_by("index")
    parts = []
    expected = start
    for entry in rows.only("index", "kind", "producer", "appended_at", "payload_sha256"):
        if entry.index != expected:
            return None
        leaf = entry.leaf()
        parts.append(struct.pack(">H", len(leaf)) + leaf)
        expected += 1
    if expected != start + want:
        return None
    return b"".join(parts)
