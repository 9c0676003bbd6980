"""Merkle tree hashing and proofs of RFC 6962 / RFC 9162 §2.1 (SHA-256), as pure functions.

Ranges of leaves are half-open ``(lo, hi)``. A *complete node* ``(height, index)`` is the root
of the perfect subtree over leaves ``[index * 2**height, (index + 1) * 2**height)``. Proofs
are computed as lists of ranges first, so that the hashes they need can be fetched in one
go (see tiles.py), then hashed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH of the empty tree

Node = tuple[int, int]  # (height, index)
Range = tuple[int, int]  # [lo, hi)


class ProofError(ValueError):
    """A proof does not verify, or its parameters are impossible."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than `size` (size >= 2): RFC 6962's k."""
    return 1 << ((size - 1).bit_length() - 1)


def range_nodes(lo: int, hi: int) -> list[Node]:
    """The complete nodes whose hashes make MTH(D[lo:hi]), largest first. Valid for the
    ranges that occur in RFC 6962 trees and proofs, whose `lo` is a multiple of a power of
    two at least as large as the range."""
    nodes = []
    size = hi - lo
    while size:
        height = size.bit_length() - 1
        nodes.append((height, lo >> height))
        lo += 1 << height
        size -= 1 << height
    return nodes


def fold_range(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from the hashes of its `range_nodes`, which nest to the right."""
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]) as ranges, bottom-up."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not below tree size {size}")
    top_down = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            top_down.append((lo + k, hi))
            hi = lo + k
        else:
            top_down.append((lo, lo + k))
            lo = lo + k
    return top_down[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """RFC 9162 §2.1.4.1 PROOF(first, D[0:second]) as ranges (empty when first == second)."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from {first} to {second}")
    top_down = []
    lo, hi, m, whole = 0, second, first, True
    while True:
        if m == hi - lo:
            if not whole:
                top_down.append((lo, hi))
            break
        k = split_point(hi - lo)
        if m <= k:
            top_down.append((lo + k, hi))
            hi = lo + k
        else:
            top_down.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    return top_down[::-1]


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH from all leaf hashes, bottom-up (for small trees and checks)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    frontier = Frontier()
    for h in leaf_hashes:
        frontier.push(h)
    return frontier.root()


class Frontier:
    """The right edge of a growing tree (a compact range from 0): the roots of its maximal
    complete subtrees, largest first. O(log n) memory; gives the root at every size."""

    def __init__(self) -> None:
        self.size = 0
        self.nodes: list[tuple[int, bytes]] = []  # (height, hash)

    def push(self, leaf_hash_value: bytes) -> None:
        height, value = 0, leaf_hash_value
        while self.nodes and self.nodes[-1][0] == height:
            _, left = self.nodes.pop()
            value = node_hash(left, value)
            height += 1
        self.nodes.append((height, value))
        self.size += 1

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        return fold_range([value for _, value in self.nodes])


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ------------------------------------------


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash_value: bytes, proof: Sequence[bytes]
) -> bytes:
    if not 0 <= index < size:
        raise ProofError("index outside the tree")
    _check_hashes([leaf_hash_value, *proof])
    fn, sn, r = index, size - 1, leaf_hash_value
    for p in proof:
        if sn == 0:
            raise ProofError("proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf_hash_value: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if root_from_inclusion_proof(index, size, leaf_hash_value, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    _check_hashes([first_root, second_root, *proof])
    if first > second or first < 0:
        raise ProofError("the first tree is larger than the second")
    if first == second:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if first_root != second_root:
            raise ProofError("equal sizes with different roots")
        return
    if first == 0:
        if proof:
            raise ProofError("the empty tree needs an empty proof")
        return
    if not proof:
        raise ProofError("empty proof")
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is a complete node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof too short")
    if fr != first_root:
        raise ProofError("proof does not lead to the first root")
    if sr != second_root:
        raise ProofError("proof does not lead to the second root")


def _check_hashes(hashes: Sequence[bytes]) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError("a hash is not 32 bytes")
