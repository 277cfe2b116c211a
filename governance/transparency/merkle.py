"""RFC 9162 Merkle trees: hashing, roots, inclusion and consistency proofs and their checks.

Written here rather than taken from a package because outside verifiers check our proofs byte
for byte and no maintained Python package is RFC-exact; the tests hold it to the published
transparency-dev test vectors.

A tree is read through a *node source*: a function `(level, index) -> hash` giving the hash of
the perfect subtree over leaves `[index * 2**level, (index + 1) * 2**level)`. Every subtree the
RFC's recursions visit is such a perfect subtree or a right edge made of O(log n) of them, so a
store that keeps perfect subtrees (the database's node table, or `MemoryTree`) answers any proof
with O(log n) reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
NodeSource = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof or a request for one that cannot hold (sizes out of range, wrong lengths)."""


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry): the leaf prefix keeps a leaf from passing for an inner node."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right), the hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def empty_root() -> bytes:
    """The root of the empty tree, SHA-256 of nothing."""
    return hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def range_hash(node: NodeSource, start: int, end: int) -> bytes:
    """MTH of the leaves [start, end), with start aligned as in every subtree the RFC visits."""
    n = end - start
    if n <= 0:
        raise ProofError("an empty range has no subtree hash")
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return node(level, start >> level)
    k = _split(n)
    return node_hash(range_hash(node, start, start + k), range_hash(node, start + k, end))


def root(node: NodeSource, size: int) -> bytes:
    """The tree head of the first `size` leaves."""
    return empty_root() if size == 0 else range_hash(node, 0, size)


def inclusion_proof(node: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1: the sibling hashes from the leaf up."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    proof: list[bytes] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _split(end - start)
        if m - start < k:
            proof.append(range_hash(node, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(node, start, start + k))
            start = start + k
    return proof[::-1]


def consistency_proof(node: NodeSource, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[new]) of RFC 9162 §2.1.4.1; empty when old is 0 or equals new."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                proof.append(range_hash(node, start, end))
            break
        k = _split(n)
        if m <= k:
            proof.append(range_hash(node, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(node, start, start + k))
            start, m, complete = start + k, m - k, False
    return proof[::-1]


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` place `leaf` at `index` in the tree of `size` with this root?"""
    if not 0 <= index < size or len(leaf) != HASH_SIZE or any(len(p) != HASH_SIZE for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of size `new` an append-only extension of the one of size `old`?"""
    if not 0 <= old <= new or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def new_nodes(size: int, leaves: Sequence[bytes], node: NodeSource) -> dict[tuple[int, int], bytes]:
    """The perfect subtrees that appending `leaves` to a tree of `size` completes, by (level, index).

    Only the left neighbours on the old right edge are read through `node` (at most one per
    level), which is what lets the integrator extend a stored tree without reading it whole.
    """
    made: dict[tuple[int, int], bytes] = {(0, size + i): h for i, h in enumerate(leaves)}
    end, level = size + len(leaves), 1

    def get(lvl: int, idx: int) -> bytes:
        return made[(lvl, idx)] if (lvl, idx) in made else node(lvl, idx)

    while (1 << level) <= end:
        for j in range(size >> level, end >> level):
            made[(level, j)] = node_hash(get(level - 1, 2 * j), get(level - 1, 2 * j + 1))
        level += 1
    return made


def needed_nodes(compute: Callable[[NodeSource], object]) -> set[tuple[int, int]]:
    """The (level, index) pairs that `compute` reads, so a store can fetch them in one query.

    `compute` runs once against placeholder hashes; proofs and roots read the same nodes
    whatever their values, so a second run against the fetched nodes gives the real answer.
    """
    seen: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        seen.add((level, index))
        return bytes(HASH_SIZE)

    compute(record)
    return seen


class MemoryTree:
    """A whole tree in memory, for verifiers that rebuild it from the entries and for tests."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self.levels[0])

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash and every perfect subtree it completes."""
        self.levels[0].append(leaf)
        level = 0
        while len(self.levels[level]) % 2 == 0:
            pair = self.levels[level][-2:]
            if level + 1 == len(self.levels):
                self.levels.append([])
            self.levels[level + 1].append(node_hash(*pair))
            level += 1

    def node(self, level: int, index: int) -> bytes:
        """The node source over this tree's perfect subtrees."""
        try:
            return self.levels[level][index]
        except IndexError:
            raise ProofError(f"no complete subtree at level {level}, index {index}") from None

    def root(self, size: int | None = None) -> bytes:
        """The tree head at `size` (default: all leaves)."""
        return root(self.node, self.size if size is None else size)
