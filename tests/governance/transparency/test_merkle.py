"""The Merkle tree is RFC 9162 exactly: the transparency-dev test vectors, then properties."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.transparency import merkle

# The transparency-dev/merkle test vectors (proof/verify_test.go): eight leaf inputs, the root of
# every size from 1 to 8, and inclusion and consistency proofs. Leaf numbers there are 1-based.
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")] + [
    bytes.fromhex("606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]


def h(hexes: str) -> list[bytes]:
    return [bytes.fromhex(x) for x in hexes.split()]


INCLUSION = [  # (1-based leaf, size, proof)
    (1, 1, []),
    (
        1,
        8,
        h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 "
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
        ),
    ),
    (
        6,
        8,
        h(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b "
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 "
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
        ),
    ),
    (3, 3, h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        2,
        5,
        h(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d "
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
        ),
    ),
]
CONSISTENCY = [  # (old, new, proof)
    (1, 1, []),
    (
        1,
        8,
        h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 "
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
        ),
    ),
    (
        6,
        8,
        h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a "
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 "
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
        ),
    ),
    (
        2,
        5,
        h(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e "
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
        ),
    ),
    (
        6,
        7,
        h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a "
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f "
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
        ),
    ),
]
TREE = merkle.MemoryTree(merkle.leaf_hash(leaf) for leaf in LEAVES)
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_the_roots_of_every_size_from_one_to_eight_match_the_vectors():
    assert [TREE.root(size) for size in range(1, 9)] == ROOTS
    assert TREE.root(0) == hashlib.sha256(b"").digest()


def test_inclusion_proofs_match_the_vectors_and_verify():
    for leaf, size, proof in INCLUSION:
        assert merkle.inclusion_proof(TREE.node, leaf - 1, size) == proof
        assert merkle.verify_inclusion(leaf - 1, size, TREE.levels[0][leaf - 1], proof, ROOTS[size - 1])


def test_consistency_proofs_match_the_vectors_and_verify():
    for old, new, proof in CONSISTENCY:
        assert merkle.consistency_proof(TREE.node, old, new) == proof
        assert merkle.verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)


def test_each_corruption_of_the_vector_proofs_is_refused():
    """The probes of transparency-dev's corruptInclusionProof and corruptConsistencyProof."""
    for leaf, size, proof in INCLUSION[1:]:
        index, root, leaf_h = leaf - 1, ROOTS[size - 1], TREE.levels[0][leaf - 1]
        probes = [
            (index - 1, size, leaf_h, proof, root),
            (index + 1, size, leaf_h, proof, root),
            (index ^ 2, size, leaf_h, proof, root),
            (index, size * 2, leaf_h, proof, root),
            (index, size // 2, leaf_h, proof, root),
            (index, size, b"WrongLeaf", proof, root),
            (index, size, leaf_h, proof, hashlib.sha256(b"").digest()),
            (index, size, leaf_h, proof, SOME_HASH),
            (index, size, leaf_h, [*proof, b""], root),
            (index, size, leaf_h, [*proof, root], root),
            (index, size, leaf_h, [b"", *proof], root),
            (index, size, leaf_h, [root, *proof], root),
            (index, size, leaf_h, proof[:-1], root),
        ]
        for i in range(len(proof)):
            flipped = list(proof)
            flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
            probes.append((index, size, leaf_h, flipped, root))
        for probe in probes:
            assert not merkle.verify_inclusion(*probe), probe[:2]
    for old, new, proof in CONSISTENCY:
        if not proof:
            continue
        r1, r2 = ROOTS[old - 1], ROOTS[new - 1]
        probes = [
            (old - 1, new, r1, r2, proof),
            (old + 1, new, r1, r2, proof),
            (old ^ 2, new, r1, r2, proof),
            (old, new * 2, r1, r2, proof),
            (old, new // 2, r1, r2, proof),
            (old, new, b"WrongRoot", r2, proof),
            (old, new, r1, b"WrongRoot", proof),
            (old, new, r2, r1, proof),
            (old, new, r1, r2, []),
            (old, new, r1, r2, [*proof, b""]),
            (old, new, r1, r2, [*proof, r1]),
            (old, new, r1, r2, [*proof, r2]),
            (old, new, r1, r2, [b"", *proof]),
            (old, new, r1, r2, [r1, *proof]),
            (old, new, r1, r2, [r2, *proof]),
            (old, new, r1, r2, [proof[0], *proof]),
            (old, new, r1, r2, proof[:-1]),
        ]
        for i in range(len(proof)):
            flipped = list(proof)
            flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
            probes.append((old, new, r1, r2, flipped))
        for probe in probes:
            assert not merkle.verify_consistency(*probe), probe[:2]


def test_the_trivial_consistency_cases_follow_the_rfc():
    r1, r2 = b"don't care 1".ljust(32), b"don't care 2".ljust(32)
    assert merkle.verify_consistency(0, 0, r1, r1, [])
    assert merkle.verify_consistency(0, 1, r1, r2, [])
    assert merkle.verify_consistency(1, 1, r2, r2, [])
    assert not merkle.verify_consistency(1, 1, r1, r2, [])
    assert not merkle.verify_consistency(1, 0, r1, r2, [])
    assert not merkle.verify_consistency(2, 1, r1, r2, [])
    assert not merkle.verify_consistency(1, 2, r1, r2, [])
    empty = hashlib.sha256(b"").digest()
    assert not merkle.verify_consistency(1, 1, empty, empty, [empty])


hashes = st.binary(min_size=32, max_size=32)
# Distinct entries: two equal leaves share a proof, which is no fault of the tree.
trees = st.lists(st.binary(max_size=8), min_size=1, max_size=70, unique=True).map(
    lambda entries: merkle.MemoryTree(merkle.leaf_hash(e) for e in entries)
)


@settings(max_examples=150, deadline=None)
@given(tree=trees, data=st.data())
def test_every_inclusion_proof_verifies_and_every_tampered_one_fails(tree, data):
    size = data.draw(st.integers(1, tree.size))
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(tree.node, index, size)
    root, leaf = tree.root(size), tree.levels[0][index]
    assert merkle.verify_inclusion(index, size, leaf, proof, root)
    assert not merkle.verify_inclusion(index, size, data.draw(hashes.filter(lambda x: x != leaf)), proof, root)
    other = data.draw(st.integers(0, size).filter(lambda i: i != index))
    assert not merkle.verify_inclusion(other, size, leaf, proof, root)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        tampered = list(proof)
        byte = bit // 8
        tampered[i] = tampered[i][:byte] + bytes([tampered[i][byte] ^ (1 << bit % 8)]) + tampered[i][byte + 1 :]
        assert not merkle.verify_inclusion(index, size, leaf, tampered, root)
        assert not merkle.verify_inclusion(index, size, leaf, proof[:-1], root)


@settings(max_examples=150, deadline=None)
@given(tree=trees, data=st.data())
def test_every_consistency_proof_verifies_and_every_tampered_one_fails(tree, data):
    new = data.draw(st.integers(1, tree.size))
    old = data.draw(st.integers(1, new))
    proof = merkle.consistency_proof(tree.node, old, new)
    r1, r2 = tree.root(old), tree.root(new)
    assert merkle.verify_consistency(old, new, r1, r2, proof)
    assert not merkle.verify_consistency(old, new, r1, data.draw(hashes.filter(lambda x: x != r2)), proof)
    if old != new:
        assert not merkle.verify_consistency(old, new, data.draw(hashes.filter(lambda x: x != r1)), r2, proof)
        i = data.draw(st.integers(0, len(proof) - 1))
        tampered = list(proof)
        tampered[i] = bytes([tampered[i][0] ^ 1]) + tampered[i][1:]
        assert not merkle.verify_consistency(old, new, r1, r2, tampered)
        assert not merkle.verify_consistency(old, new, r1, r2, proof[:-1])
        other_old = data.draw(st.integers(1, new).filter(lambda s: s != old))
        assert not merkle.verify_consistency(other_old, new, r1, r2, proof)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=4), max_size=40), st.lists(st.binary(max_size=4), min_size=1, max_size=40))
def test_extending_a_stored_tree_makes_the_nodes_a_whole_rebuild_makes(first, more):
    old = merkle.MemoryTree(merkle.leaf_hash(e) for e in first)
    leaves = [merkle.leaf_hash(e) for e in more]
    made = merkle.new_nodes(old.size, leaves, old.node)
    whole = merkle.MemoryTree(old.levels[0] + leaves)
    expected = {
        (level, index): node
        for level, row in enumerate(whole.levels)
        for index, node in enumerate(row)
        if (index + 1) << level > old.size
    }
    assert made == expected


def test_needed_nodes_names_exactly_what_a_proof_reads():
    needed = merkle.needed_nodes(lambda node: merkle.inclusion_proof(node, 5, 7))
    assert needed == {(0, 4), (0, 6), (2, 0)}
    fetched = {key: TREE.node(*key) for key in needed}
    assert merkle.inclusion_proof(lambda lvl, idx: fetched[(lvl, idx)], 5, 7) == merkle.inclusion_proof(TREE.node, 5, 7)
