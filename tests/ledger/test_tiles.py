"""Tile layout and tile-based proofs, on an in-memory tile store (no database), for trees
large enough to have three tile levels."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiciban.ledger import merkle, tiles

BIG = 70_000  # more than 256**2, so level-2 tiles exist
LEAF_HASHES = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(BIG)]


class MemoryTiles:
    def __init__(self):
        self.stored: dict[tiles.TileKey, bytes] = {}
        self.size = 0
        self.fetches = 0

    def fetch(self, keys):
        self.fetches += 1
        return {key: self.stored[key] for key in keys if key in self.stored}

    def append(self, hashes):
        changed = tiles.append_leaves(self.size, list(hashes), self.fetch)
        self.stored.update(changed)
        self.size += len(hashes)


def _store_in_batches(batches):
    store = MemoryTiles()
    position = 0
    for count in batches:
        store.append(LEAF_HASHES[position : position + count])
        position += count
    return store


@pytest.fixture(scope="module")
def big_store():
    return _store_in_batches([1, 254, 1, 300, 65_000, BIG - 65_556])


def _reference_root(size):
    return merkle.root_from_leaves(LEAF_HASHES[:size])


def test_index_paths():
    assert tiles.index_path(0) == "000"
    assert tiles.index_path(5) == "005"
    assert tiles.index_path(999) == "999"
    assert tiles.index_path(1000) == "x001/000"
    assert tiles.index_path(1234067) == "x001/x234/067"
    assert tiles.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tiles.tile_path("entries", 5, 17) == "tile/entries/005.p/17"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("000", (0, None)),
        ("x001/x234/067", (1234067, None)),
        ("x001/000.p/255", (1000, 255)),
        ("005.p/1", (5, 1)),
        ("x000/005", None),  # not the one canonical spelling
        ("5", None),
        ("0005", None),
        ("005.p/0", None),
        ("005.p/256", None),
        ("005.p/07", None),
        ("005/", None),
        ("x001", None),
    ],
)
def test_parse_index_paths(text, parsed):
    assert tiles.parse_index_path(text) == parsed


def test_widths_of_the_spec_example(big_store):
    # c2sp.org/tlog-tiles: size 70,000 → 273 full level-0 tiles and one of width 112, one
    # full level-1 tile and one of width 17, one level-2 tile of width 1.
    widths = {key: len(data) // 32 for key, data in big_store.stored.items()}
    assert sum(1 for (level, _), w in widths.items() if level == 0 and w == 256) == 273
    assert widths[(0, 273)] == 112
    assert widths[(1, 0)] == 256
    assert widths[(1, 1)] == 17
    assert widths[(2, 0)] == 1
    assert len(widths) == 273 + 1 + 2 + 1
    for (level, index), width in widths.items():
        assert tiles.tile_width(level, index, BIG) == width
    assert tiles.right_edge(BIG) == [(0, 273), (1, 1), (2, 0)]


def test_tile_contents_are_subtree_roots(big_store):
    assert big_store.stored[(0, 3)] == b"".join(LEAF_HASHES[768:1024])
    level1 = tiles.split_hashes(big_store.stored[(1, 0)])
    assert level1[7] == merkle.root_from_leaves(LEAF_HASHES[7 * 256 : 8 * 256])
    level2 = tiles.split_hashes(big_store.stored[(2, 0)])
    assert level2[0] == merkle.root_from_leaves(LEAF_HASHES[:65536])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=8))
def test_batching_does_not_change_the_tiles(batches):
    total = sum(batches)
    incremental = _store_in_batches(batches)
    at_once = _store_in_batches([total])
    assert incremental.stored == at_once.stored


def test_append_refuses_tiles_that_do_not_fit_the_size():
    store = _store_in_batches([300])
    store.stored[(0, 1)] = store.stored[(0, 1)][:-32]  # one hash lost
    with pytest.raises(tiles.TileError):
        store.append(LEAF_HASHES[300:301])
    store = _store_in_batches([300])
    store.size = 200  # the state claims fewer leaves than the tiles hold
    with pytest.raises(tiles.TileError):
        store.append(LEAF_HASHES[200:201])


def test_root_and_proofs_read_few_tiles(big_store):
    store = big_store
    before = store.fetches
    hashes, known = tiles.range_hashes(
        merkle.inclusion_ranges(12_345, BIG), store.fetch, extra=[(0, 12_345)]
    )
    assert store.fetches == before + 1  # one batched read
    root = tiles.range_hashes([(0, BIG)], store.fetch)[0][0]
    assert root == _reference_root(BIG)
    merkle.verify_inclusion(12_345, BIG, known[(0, 12_345)], hashes, root)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_tile_proofs_verify_for_random_sizes(big_store, data):
    size = data.draw(st.integers(min_value=1, max_value=BIG))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    first = data.draw(st.integers(min_value=1, max_value=size))
    fetch = big_store.fetch
    root = tiles.range_hashes([(0, size)], fetch)[0][0]
    first_root = tiles.range_hashes([(0, first)], fetch)[0][0]
    assert root == _reference_root(size)
    assert first_root == _reference_root(first)
    proof, _ = tiles.range_hashes(merkle.inclusion_ranges(index, size), fetch)
    merkle.verify_inclusion(index, size, LEAF_HASHES[index], proof, root)
    consistency, _ = tiles.range_hashes(merkle.consistency_ranges(first, size), fetch)
    merkle.verify_consistency(first, size, first_root, root, consistency)


def test_reading_a_node_beyond_the_tiles_fails(big_store):
    with pytest.raises(tiles.TileError):
        tiles.node_hashes_from_tiles([(0, BIG)], big_store.fetch)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_pyramid_proofs_match_the_reference_for_random_sizes(big_store, data):
    # What the proof selectors use: each tile's pyramid of complete nodes, served for any
    # tree size whose tiles are no wider than the stored ones.
    size = data.draw(st.integers(min_value=1, max_value=BIG))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    first = data.draw(st.integers(min_value=1, max_value=size))

    def pyramids(keys):
        return {key: tiles.pyramid(data) for key, data in big_store.fetch(keys).items()}

    root = _reference_root(size)
    (found_root,), _ = tiles.range_hashes([(0, size)], pyramids, pyramids=True)
    assert found_root == root
    proof, known = tiles.range_hashes(
        merkle.inclusion_ranges(index, size), pyramids, extra=[(0, index)], pyramids=True
    )
    assert known[(0, index)] == LEAF_HASHES[index]
    assert proof == merkle_reference_path(index, size)
    merkle.verify_inclusion(index, size, LEAF_HASHES[index], proof, root)
    consistency, _ = tiles.range_hashes(
        merkle.consistency_ranges(first, size), pyramids, pyramids=True
    )
    merkle.verify_consistency(first, size, _reference_root(first), root, consistency)


def merkle_reference_path(index, size, lo=0):
    """RFC 6962 PATH(m, D[lo:lo+size]) computed recursively from the leaf hashes (no tiles)."""
    if size == 1:
        return []
    k = merkle.split_point(size)
    if index < k:
        return [*merkle_reference_path(index, k, lo), _range_root(lo + k, lo + size)]
    return [*merkle_reference_path(index - k, size - k, lo + k), _range_root(lo, lo + k)]


def _range_root(lo, hi):
    return merkle.root_from_leaves(LEAF_HASHES[lo:hi])
