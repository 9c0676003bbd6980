"""Tree hashes stored as tiles, in the C2SP tlog-tiles layout (tile height 8).

Tile ``(level L, index N)`` holds, in order, up to 256 hashes of the complete nodes at height
``8 * L`` with indices ``256 * N`` to ``256 * N + 255``: at level 0 the leaf hashes, at level
1 the roots of full level-0 tiles, and so on. A tile with fewer than 256 hashes is partial;
the stored row of a tile only ever grows, and a partial tile of width W is the first W hashes
of the tile. Any complete node ``(8 * L + r, k)`` with ``0 <= r < 8`` is recomputed from
``2**r`` consecutive hashes of one level-L tile, so a proof reads about two tiles per level.

Everything here is pure: storage is passed in as callables."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable

from .merkle import HASH_SIZE, Node, Range, fold_range, range_nodes

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # hashes in a full tile
FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE
MAX_LEVEL = 63

TileKey = tuple[int, int]  # (level, index)
# Reads stored tiles: {(level, index): hashes bytes}; missing tiles are left out.
TileFetch = Callable[[Iterable[TileKey]], dict[TileKey, bytes]]


class TileError(ValueError):
    """Stored tiles do not fit the tree size (a missing, short or overlong tile)."""


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) has in a tree of `size` leaves (0 to 256)."""
    count = size >> (TILE_HEIGHT * level)  # complete nodes at this level's height
    return max(0, min(TILE_WIDTH, count - index * TILE_WIDTH))


def right_edge(size: int) -> list[TileKey]:
    """The last (possibly partial, possibly empty) tile of every level of a tree."""
    keys = []
    level = 0
    while True:
        count = size >> (TILE_HEIGHT * level)
        keys.append((level, count >> TILE_HEIGHT))
        if count < TILE_WIDTH:
            return keys
        level += 1


def subtree_hash(hashes: list[bytes]) -> bytes:
    """Root of a perfect subtree from its 2**r bottom hashes (RFC 6962 node hashing, inlined:
    this loop is most of the cost of a proof)."""
    sha256 = hashlib.sha256
    while len(hashes) > 1:
        pairs = iter(hashes)
        hashes = [
            sha256(b"\x01" + left + right).digest()
            for left, right in zip(pairs, pairs, strict=True)
        ]
    return hashes[0]


def split_hashes(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def node_location(node: Node) -> tuple[TileKey, int, int]:
    """(tile, first hash position, hash count) holding the bottom hashes of a complete node."""
    height, index = node
    level, rest = divmod(height, TILE_HEIGHT)
    first = index << rest
    return (level, first >> TILE_HEIGHT), first & (TILE_WIDTH - 1), 1 << rest


def node_hashes_from_tiles(nodes: Iterable[Node], fetch: TileFetch) -> dict[Node, bytes]:
    """Hashes of complete nodes, reading every tile they need in one `fetch` call."""
    located = {node: node_location(node) for node in nodes}
    tiles = fetch(sorted({key for key, _, _ in located.values()}))
    result = {}
    for node, (key, start, count) in located.items():
        data = tiles.get(key, b"")
        end = (start + count) * HASH_SIZE
        if len(data) < end:
            raise TileError(f"tile {key[0]}/{key[1]} is too short for node {node}")
        result[node] = subtree_hash(split_hashes(data[start * HASH_SIZE : end]))
    return result


def pyramid(data: bytes) -> list[list[bytes]]:
    """Every complete node inside a tile: level r holds the hashes of height 8*L + r, i.e.
    the roots of 2**r consecutive hashes of the tile (a partial tile yields the complete
    nodes of its prefix). 255 hashes for a full tile, then any node in it costs nothing."""
    levels = [split_hashes(data)]
    sha256 = hashlib.sha256
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [
                sha256(b"\x01" + below[i] + below[i + 1]).digest()
                for i in range(0, len(below) - 1, 2)
            ]
        )
    return levels


# Pyramids of the tiles asked for: {(level, index): pyramid}; missing tiles are left out.
PyramidFetch = Callable[[Iterable[TileKey]], dict[TileKey, list[list[bytes]]]]


def node_hashes_from_pyramids(nodes: Iterable[Node], fetch: PyramidFetch) -> dict[Node, bytes]:
    """Like node_hashes_from_tiles, from precomputed pyramids (see selectors' tree cache)."""
    located = {}
    for height, index in nodes:
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest
        located[(height, index)] = ((level, first >> TILE_HEIGHT), rest, (first & 255) >> rest)
    pyramids = fetch({key for key, _, _ in located.values()})
    result = {}
    for node, (key, rest, position) in located.items():
        levels = pyramids.get(key)
        if levels is None or len(levels) <= rest or len(levels[rest]) <= position:
            raise TileError(f"tile {key[0]}/{key[1]} is too short for node {node}")
        result[node] = levels[rest][position]
    return result


def range_hashes(
    ranges: Iterable[Range],
    fetch: TileFetch | PyramidFetch,
    extra: Iterable[Node] = (),
    *,
    pyramids: bool = False,
) -> tuple[list[bytes], dict[Node, bytes]]:
    """MTH of each range (and the hashes of the `extra` complete nodes), with one fetch of
    tiles (or, with `pyramids`, of precomputed pyramids)."""
    per_range = [range_nodes(lo, hi) for lo, hi in ranges]
    wanted = {node for nodes in per_range for node in nodes} | set(extra)
    resolve = node_hashes_from_pyramids if pyramids else node_hashes_from_tiles
    known = resolve(wanted, fetch)
    return [fold_range([known[node] for node in nodes]) for nodes in per_range], known


def append_leaves(
    old_size: int, leaf_hashes: list[bytes], fetch: TileFetch
) -> dict[TileKey, bytes]:
    """The tiles that change when `leaf_hashes` are appended to a tree of `old_size` leaves:
    {(level, index): new full content}. Checks that the stored right-edge tiles have exactly
    the width the old size implies."""
    stored = fetch(right_edge(old_size))
    changed: dict[TileKey, bytes] = {}
    level, start, new = 0, old_size, leaf_hashes
    while new:
        key = (level, start >> TILE_HEIGHT)
        prefix = stored.get(key, b"")
        if len(prefix) != (start & (TILE_WIDTH - 1)) * HASH_SIZE:
            raise TileError(
                f"tile {key[0]}/{key[1]} holds {len(prefix) // HASH_SIZE} hashes, "
                f"tree size {old_size} implies {start & (TILE_WIDTH - 1)}"
            )
        data = bytearray(prefix)
        index = key[1]
        completed: list[bytes] = []
        for h in new:
            data += h
            if len(data) == FULL_TILE_BYTES:
                changed[(level, index)] = bytes(data)
                completed.append(subtree_hash(split_hashes(bytes(data))))
                index += 1
                data = bytearray()
        if data:
            changed[(level, index)] = bytes(data)
        level, start, new = level + 1, start >> TILE_HEIGHT, completed
    return changed


def overlay(changed: dict[TileKey, bytes], fetch: TileFetch) -> TileFetch:
    """A fetch that sees `changed` tiles over the stored ones (before they are saved)."""

    def combined(keys: Iterable[TileKey]) -> dict[TileKey, bytes]:
        keys = list(keys)
        result = {key: changed[key] for key in keys if key in changed}
        missing = [key for key in keys if key not in changed]
        if missing:
            result.update(fetch(missing))
        return result

    return combined


# --- paths: tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>] --------------------------------

_INDEX_PATH_RE = re.compile(r"^((?:x\d{3}/)*\d{3})(?:\.p/([1-9]\d{0,2}))?$")


def index_path(index: int) -> str:
    """1234067 → x001/x234/067"""
    digits = f"{index:d}"
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    """tile/0/x001/234 or tile/entries/005.p/17 (relative to the log prefix)."""
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{index_path(index)}{suffix}"


def parse_index_path(text: str) -> tuple[int, int | None] | None:
    """'x001/x234/067.p/5' → (1234067, 5); None unless it is the one canonical encoding."""
    match = _INDEX_PATH_RE.match(text)
    if not match:
        return None
    index = int(match.group(1).replace("x", "").replace("/", ""))
    width = int(match.group(2)) if match.group(2) else None
    if width is not None and width >= TILE_WIDTH:
        return None
    if index_path(index) != match.group(1):  # e.g. x000/005 for 5
        return None
    return index, width
