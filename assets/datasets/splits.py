"""Deterministic train / validation / test splits by content hash.

An example's split depends only on its content (sha256 of a key string), never on row order, run or machine:
a row stays in its split when others are added or removed, and a test example never drifts into training
between dataset versions. Rows that share a key (the same question asked twice) land in the same split."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

SPLITS = ("train", "validation", "test")
BUCKETS = 10_000


@dataclass(frozen=True)
class SplitFractions:
    validation: float = 0.1
    test: float = 0.1

    def __post_init__(self) -> None:
        if self.validation < 0 or self.test < 0 or self.validation + self.test >= 1:
            raise ValueError(f"split fractions must be ≥ 0 and leave room for training: validation "
                             f"{self.validation}, test {self.test}")


def bucket_of(key: str, salt: str = "") -> int:
    digest = hashlib.sha256(f"{salt}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def split_of(key: str, fractions: SplitFractions = SplitFractions(), salt: str = "") -> str:
    bucket = bucket_of(key, salt)
    if bucket < fractions.test * BUCKETS:
        return "test"
    if bucket < (fractions.test + fractions.validation) * BUCKETS:
        return "validation"
    return "train"


def assign_splits(frame: pl.DataFrame, key_column: str, fractions: SplitFractions = SplitFractions(),
                  salt: str = "") -> pl.DataFrame:
    """``frame`` with a ``split`` column computed from ``key_column``."""
    keys = frame[key_column].to_list()
    return frame.with_columns(pl.Series("split", [split_of(k or "", fractions, salt) for k in keys], pl.String))
