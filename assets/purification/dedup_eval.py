"""Scoring deduplication against ground truth: pairwise precision and recall.

Truth clusters join the planted duplicate groups (estate.json ``duplicates``) with documents whose text is
identical (those are duplicates whether planted or not). A predicted cluster contributes C(k, 2) pairs; the
scores come from the contingency counts, so large clusters cost no pair enumeration.
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


def _pairs(counts: pl.Series) -> int:
    return int((counts.cast(pl.Int64) * (counts.cast(pl.Int64) - 1) // 2).sum())


def pairwise_scores(predicted: np.ndarray, truth: np.ndarray) -> PairScores:
    frame = pl.DataFrame({"p": predicted, "t": truth})
    return PairScores(
        true_pairs=_pairs(frame.group_by("t").len().get_column("len")),
        predicted_pairs=_pairs(frame.group_by("p").len().get_column("len")),
        correct_pairs=_pairs(frame.group_by("p", "t").len().get_column("len")),
    )


def truth_labels(landing_paths: list[str], record_indexes: list[int], texts: pl.Series,
                 duplicates: list[dict]) -> np.ndarray:
    """A truth cluster label per document: planted groups joined with identical texts."""
    from .dedup import _components

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
    return _components(n, u, v)
