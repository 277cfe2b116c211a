"""Reading the stored tree: roots and proofs from the node table in one query each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import TypeVar

from django.db.models import Q

from governance.models import LogNode, LogState
from governance.transparency import merkle

T = TypeVar("T")


def fetch_nodes(keys: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The stored hashes of these (level, index) positions, in one query."""
    if not keys:
        return {}
    by_level: dict[int, list[int]] = defaultdict(list)
    for level, index in keys:
        by_level[level].append(index)
    condition = Q()
    for level, indices in by_level.items():
        condition |= Q(level=level, index__in=indices)
    rows = LogNode.objects.filter(condition).values_list("level", "index", "hash")
    return {(level, index): bytes(value) for level, index, value in rows}


def read(compute: Callable[[merkle.NodeSource], T], made: Mapping[tuple[int, int], bytes] | None = None) -> T:
    """Run a root or proof computation against the stored nodes (and `made`, not yet stored).

    A node the computation needs that is not there means the tree is incomplete or was cut:
    a ProofError, never a wrong answer.
    """
    made = made or {}

    def overlay(source: merkle.NodeSource) -> merkle.NodeSource:
        return lambda level, index: made[(level, index)] if (level, index) in made else source(level, index)

    needed = merkle.needed_nodes(lambda node: compute(overlay(node))) - set(made)
    fetched = fetch_nodes(needed)

    def stored(level: int, index: int) -> bytes:
        try:
            return fetched[(level, index)]
        except KeyError:
            raise merkle.ProofError(f"the stored tree lacks node {level}/{index}") from None

    return compute(overlay(stored))


def tree_size() -> int:
    """How many events the log has integrated."""
    state = LogState.objects.filter(pk=1).values_list("size", flat=True).first()
    return state or 0


def root(size: int) -> bytes:
    """The stored tree's root at `size`."""
    return read(lambda node: merkle.root(node, size))


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf `index` in the stored tree of `size`."""
    return read(lambda node: merkle.inclusion_proof(node, index, size))


def consistency_proof(old: int, new: int) -> list[bytes]:
    """RFC 9162 consistency proof between two sizes of the stored tree."""
    return read(lambda node: merkle.consistency_proof(node, old, new))
