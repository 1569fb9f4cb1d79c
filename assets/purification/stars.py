"""Connected components of a duplicate graph too large for one process: alternating large-star and small-star
rounds (Kiveris, Lattanzi, Mirrokni, Rastogi & Vassilvitskii, "Connected Components in MapReduce and Beyond",
SoCC 2014). Each round is two passes over the edges grouped by node; the graph converges to one star per
component whose centre is the component's smallest node, so the label of a node is its centre — the same
labels as ``dedup.components`` (scipy) gives on one machine.

Here are the per-partition steps, pure numpy over the edges whose key node falls in one partition (all edges
of a node are in its partition): an engine shuffles the edges between passes (Ray Data, ``engines.py``).
Edges are *canonical* between passes: (larger node, smaller node), no self-loops, no repeats.
"""

from __future__ import annotations

import numpy as np


def canonical(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(larger, smaller) of each edge, self-loops and repeats dropped."""
    hi, lo = np.maximum(u, v).astype(np.int64), np.minimum(u, v).astype(np.int64)
    keep = hi != lo
    if not keep.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pairs = np.unique(np.stack([hi[keep], lo[keep]], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def _groups(key: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges sorted by key; the start of each key's run and each edge's run minimum of ``other``."""
    order = np.lexsort((other, key))
    key, other = key[order], other[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    minimum = np.minimum.reduceat(other, starts)
    return key, other, starts, np.repeat(minimum, np.diff(np.r_[starts, len(key)]))


def both_directions(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Large-star's input: every canonical edge keyed by each of its ends."""
    return np.concatenate([hi, lo]), np.concatenate([lo, hi])


def large_star(key: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each node u: m = min of u and its neighbours; each neighbour larger than u is linked to m."""
    if len(key) == 0:
        return key, other
    key, other, _, minimum = _groups(key, other)
    minimum = np.minimum(minimum, key)
    keep = other > key
    return canonical(other[keep], minimum[keep])


def small_star(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Canonical edges keyed by their larger end u: m = min of u's smaller neighbours; u and each of those
    neighbours are linked to m."""
    if len(hi) == 0:
        return hi, lo
    hi, lo, starts, minimum = _groups(hi, lo)
    return canonical(np.concatenate([lo, hi[starts]]), np.concatenate([minimum, minimum[starts]]))


def star_violations(node: np.ndarray, other: np.ndarray, is_leaf: np.ndarray) -> int:
    """How many nodes break the star shape, from the rows of the nodes of one partition: for each canonical
    edge (leaf, centre) a row (leaf, centre, True) in the leaf's partition and (centre, leaf, False) in the
    centre's. A node breaks it when it is a leaf of more than one centre, or both a leaf and a centre. Rows
    repeated across the shuffle are counted once."""
    leaf_rows = np.unique(np.stack([node[is_leaf], other[is_leaf]], axis=1), axis=0)
    leaves, counts = np.unique(leaf_rows[:, 0], return_counts=True)
    return int((counts > 1).sum() + np.isin(leaves, node[~is_leaf]).sum())


def labels_from_stars(n: int, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Converged stars → the label of every node (itself where it has no edge)."""
    labels = np.arange(n, dtype=np.int64)
    labels[hi] = lo
    return labels
