"""The distributed connected components (large/small-star rounds) give scipy's labels — the smallest node of
each component — on random graphs, long chains in shuffled order and stars, with the edges cut into several
partitions by node as the Ray shuffle cuts them."""

import numpy as np
import pytest

from waterworks.assets.purification import stars
from waterworks.assets.purification.dedup import components


def partitioned(key, other, parts, step, *extra):
    """One pass with the rows split by ``key % parts``, as the engine's groupby does."""
    outs = [step(key[key % parts == p], other[key % parts == p], *(e[key % parts == p] for e in extra))
            for p in range(parts)]
    return outs


def star_labels(n, u, v, parts):
    hi, lo = stars.canonical(u, v)
    for rounds in range(1, 100):
        key, other = stars.both_directions(hi, lo)
        his, los = zip(*partitioned(key, other, parts, stars.large_star), strict=True)
        hi, lo = np.concatenate(his), np.concatenate(los)
        his, los = zip(*partitioned(hi, lo, parts, stars.small_star), strict=True)
        hi, lo = np.concatenate(his), np.concatenate(los)
        node, other = stars.both_directions(hi, lo)
        leaf = np.r_[np.ones(len(hi), bool), np.zeros(len(lo), bool)]
        if sum(partitioned(node, other, parts, stars.star_violations, leaf)) == 0:
            hi, lo = stars.canonical(hi, lo)
            return stars.labels_from_stars(n, hi, lo), rounds
    raise AssertionError("did not converge")


@pytest.mark.parametrize("parts", [1, 3, 8])
def test_star_rounds_give_the_components_of_scipy(parts):
    rng = np.random.default_rng(parts)
    for trial in range(60):
        n = int(rng.integers(2, 400))
        if trial % 3 == 0:  # a chain through every node in random order: the slowest case for label spreading
            order = rng.permutation(n)
            u, v = order[:-1], order[1:]
        elif trial % 3 == 1:  # sparse random graph: many small components and singletons
            m = int(rng.integers(0, n))
            u, v = rng.integers(0, n, m), rng.integers(0, n, m)
        else:  # a star whose centre is not the smallest node, plus self-loops and repeated edges
            centre = int(rng.integers(0, n))
            u = np.r_[np.full(n, centre), [0, 0]]
            v = np.r_[np.arange(n), [0, 1]]
        labels, rounds = star_labels(n, u, v, parts)
        assert (labels == components(n, u, v)).all(), trial
        assert rounds < 40


def test_no_edges_leaves_every_node_its_own_label():
    labels, _ = star_labels(5, np.zeros(0, np.int64), np.zeros(0, np.int64), 2)
    assert labels.tolist() == [0, 1, 2, 3, 4]
