"""RFC 6962 hashing and proofs against the Certificate Transparency reference vectors
(transparency-dev/merkle proof/verify_test.go, the same as Trillian's and the CT C++ code's)
and against a naive reference written straight from RFC 6962 §2.1."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiciban.ledger import merkle

# The eight leaves of the CT test tree and the roots of its prefixes of size 1..8.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
# (leaf index, tree size, proof)
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (first, second, proof)
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


# --- a naive reference, straight from RFC 6962 §2.1 ------------------------------------------


def ref_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [ref_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, leaves[:k], whole), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def from_leaves(leaves: list[bytes]):
    """Complete-node hashes computed directly from the leaves (no tiles)."""

    def node_hashes(nodes):
        return {(h, i): ref_mth(leaves[i << h : (i + 1) << h]) for h, i in nodes}

    return node_hashes


def proof_from_ranges(ranges, leaves):
    node_hashes = from_leaves(leaves)
    result = []
    for lo, hi in ranges:
        nodes = merkle.range_nodes(lo, hi)
        known = node_hashes(nodes)
        result.append(merkle.fold_range([known[n] for n in nodes]))
    return result


def leaves_of(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


# --- vectors --------------------------------------------------------------------------------


def test_empty_tree_hash():
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle.root_from_leaves([]) == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_ct_roots(size):
    hashes = [merkle.leaf_hash(leaf) for leaf in CT_LEAVES[:size]]
    assert merkle.root_from_leaves(hashes) == CT_ROOTS[size - 1]
    assert ref_mth(CT_LEAVES[:size]) == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_ct_inclusion_vectors(index, size, proof):
    expected = [bytes.fromhex(h) for h in proof]
    ranges = merkle.inclusion_ranges(index, size)
    assert proof_from_ranges(ranges, CT_LEAVES[:size]) == expected
    leaf = merkle.leaf_hash(CT_LEAVES[index])
    merkle.verify_inclusion(index, size, leaf, expected, CT_ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second", "proof"), CT_CONSISTENCY)
def test_ct_consistency_vectors(first, second, proof):
    expected = [bytes.fromhex(h) for h in proof]
    ranges = merkle.consistency_ranges(first, second)
    assert proof_from_ranges(ranges, CT_LEAVES[:second]) == expected
    merkle.verify_consistency(first, second, CT_ROOTS[first - 1], CT_ROOTS[second - 1], expected)


def _inclusion_probes(index, size, proof, leaf, root):
    some = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
    probes = [
        (index - 1, size, leaf, proof, root),
        (index + 1, size, leaf, proof, root),
        (index ^ 2, size, leaf, proof, root),
        (index, size * 2, leaf, proof, root),
        (index, size // 2, leaf, proof, root),
        (index, size, merkle.leaf_hash(b"WrongLeaf"), proof, root),
        (index, size, leaf, proof, merkle.EMPTY_ROOT),
        (index, size, leaf, proof, some),
        (index, size, leaf, [*proof, root], root),
        (index, size, leaf, [root, *proof], root),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        probes.append((index, size, leaf, bad, root))
    if proof:
        probes.append((index, size, leaf, proof[:-1], root))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION[1:])
def test_corrupted_inclusion_proofs_fail(index, size, proof):
    proof = [bytes.fromhex(h) for h in proof]
    leaf = merkle.leaf_hash(CT_LEAVES[index])
    for probe in _inclusion_probes(index, size, proof, leaf, CT_ROOTS[size - 1]):
        if probe[0] < 0:
            continue
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(*probe)


@pytest.mark.parametrize(("first", "second", "proof"), CT_CONSISTENCY[1:])
def test_corrupted_consistency_proofs_fail(first, second, proof):
    proof = [bytes.fromhex(h) for h in proof]
    r1, r2 = CT_ROOTS[first - 1], CT_ROOTS[second - 1]
    probes = [
        (first - 1, second, r1, r2, proof),
        (first + 1, second, r1, r2, proof),
        (first ^ 2, second, r1, r2, proof),
        (first, second * 2, r1, r2, proof),
        (first, second // 2, r1, r2, proof),
        (first, second, merkle.EMPTY_ROOT, r2, proof),
        (first, second, r1, merkle.EMPTY_ROOT, proof),
        (first, second, r2, r1, proof),
        (first, second, r1, r2, []),
        (first, second, r1, r2, [*proof, r1]),
        (first, second, r1, r2, [*proof, r2]),
        (first, second, r1, r2, [r1, *proof]),
        (first, second, r1, r2, [r2, *proof]),
        (first, second, r1, r2, [proof[0], *proof]),
        (first, second, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
        probes.append((first, second, r1, r2, bad))
    for probe in probes:
        if probe[0] == 0 and not probe[4]:
            continue  # the empty tree is consistent with anything
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(*probe)


def test_consistency_edge_cases():
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    merkle.verify_consistency(0, 0, a, a, [])
    merkle.verify_consistency(0, 5, a, b, [])
    merkle.verify_consistency(3, 3, b, b, [])
    for args in [(3, 3, a, b, []), (2, 1, a, b, []), (0, 1, a, b, [a]), (3, 3, a, a, [a])]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(*args)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(0, 1, b"short", [], b"short")
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_ranges(3, 3)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_ranges(0, 3)


# --- every size against the reference -------------------------------------------------------

ALL = leaves_of(70)


@pytest.mark.parametrize("size", range(1, 71))
def test_proofs_for_every_index_and_size_match_the_reference(size):
    leaves = ALL[:size]
    root = ref_mth(leaves)
    assert merkle.root_from_leaves([merkle.leaf_hash(x) for x in leaves]) == root
    for index in range(size):
        proof = proof_from_ranges(merkle.inclusion_ranges(index, size), leaves)
        assert proof == ref_path(index, leaves)
        merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), proof, root)
    for first in range(1, size + 1):
        proof = proof_from_ranges(merkle.consistency_ranges(first, size), leaves)
        assert proof == ref_subproof(first, leaves, True)
        merkle.verify_consistency(first, size, ref_mth(leaves[:first]), root, proof)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_sizes_match_the_reference(data):
    size = data.draw(st.integers(min_value=1, max_value=600))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    first = data.draw(st.integers(min_value=1, max_value=size))
    leaves = leaves_of(size)
    root = ref_mth(leaves)
    proof = proof_from_ranges(merkle.inclusion_ranges(index, size), leaves)
    assert proof == ref_path(index, leaves)
    merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), proof, root)
    consistency = proof_from_ranges(merkle.consistency_ranges(first, size), leaves)
    assert consistency == ref_subproof(first, leaves, True)
    merkle.verify_consistency(first, size, ref_mth(leaves[:first]), root, consistency)
