"""Scoring deduplication against ground truth: pairwise precision and recall.

Truth clusters join the planted duplicate groups (estate.json ``duplicates``) with documents whose text is
identical (those are duplicates whether planted or not). A predicted cluster contributes C(k, 2) pairs; the
scores come from the contingency counts, so large clusters cost no pair enumeration. Scores "on the planted
duplicates" count only pairs that involve a planted document: a corpus has look-alikes nobody planted
(two customers typing the same short question), which would otherwise count against every system.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class PairScores:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(frame: pl.DataFrame, keys: list[str]) -> int:
    """Pairs within groups of ``keys`` that touch at least one focus document."""
    counts = frame.group_by(keys).agg(pl.len().cast(pl.Int64).alias("n"),
                                      (~pl.col("f")).sum().cast(pl.Int64).alias("outside"))
    return int(counts.select(pl.col("n") * (pl.col("n") - 1) // 2
                             - pl.col("outside") * (pl.col("outside") - 1) // 2).sum().item() or 0)


def pairwise_scores(predicted: np.ndarray, truth: np.ndarray, focus: np.ndarray | None = None) -> PairScores:
    """Pairwise scores; with ``focus`` only pairs that involve at least one focus document count (e.g. the
    planted ones, so that unplanted look-alikes elsewhere in the corpus neither help nor hurt)."""
    focus = np.ones(len(predicted), dtype=bool) if focus is None else np.asarray(focus, dtype=bool)
    frame = pl.DataFrame({"p": predicted, "t": truth, "f": focus})
    return PairScores(true_pairs=_pairs(frame, ["t"]), predicted_pairs=_pairs(frame, ["p"]),
                      correct_pairs=_pairs(frame, ["p", "t"]))


def planted_mask(landing_paths: list[str], record_indexes: list[int], duplicates: list[dict]) -> np.ndarray:
    members = {(m["file"], m["record"]) for group in duplicates for m in group["members"]}
    return np.array([(p, int(r)) in members for p, r in zip(landing_paths, record_indexes, strict=True)])


def truth_labels(landing_paths: list[str], record_indexes: list[int], texts: pl.Series,
                 duplicates: list[dict]) -> np.ndarray:
    """A truth cluster label per document: planted groups joined with identical texts."""
    from .dedup import components

    n = len(landing_paths)
    position = {(p, int(r)): i for i, (p, r) in enumerate(zip(landing_paths, record_indexes, strict=True))}
    us, vs = [], []
    for group in duplicates:
        members = [position[(m["file"], m["record"])] for m in group["members"]
                   if (m["file"], m["record"]) in position]
        us += members[:1] * (len(members) - 1)
        vs += members[1:]
    identical = pl.DataFrame({"t": texts, "i": np.arange(n)}).with_columns(
        pl.col("i").min().over("t").alias("first"))
    same = identical.filter(pl.col("first") != pl.col("i"))
    u = np.concatenate([np.asarray(us, dtype=np.int64), same.get_column("first").to_numpy()])
    v = np.concatenate([np.asarray(vs, dtype=np.int64), same.get_column("i").to_numpy()])
    return components(n, u, v)
