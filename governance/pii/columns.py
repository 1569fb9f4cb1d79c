"""Structured columns: decide a column's entity type from a sample of its values (as presidio-structured
does), so a typed column is redacted whole and vectorized instead of value by value.

A sampled value counts for a type when one finding of that type covers most of it (a phone column holds
phones, not text that mentions one); a bare Chinese name (surname + one or two characters) counts as PERSON,
since a name column has no context words around its values. A column is typed when at least ``min_share``
of the sampled values are personal data; its type is the most frequent one. Identifier values are then
typed one by one by their check digits (a national-ID column of mainland, Taiwan and Hong Kong IDs), which is
cheap and keeps format-preserving pseudonyms right.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from . import checksums
from .lexicon import COMPOUND_SURNAMES, SURNAMES

SAMPLE_SIZE = 200
MIN_COVERAGE = 0.8  # a finding covering this share of a value's characters makes the value that type
MIN_SHARE = 0.6     # this share of sampled values being personal data types the column
_BARE_CHINESE_NAME = re.compile("^(?:" + "|".join(COMPOUND_SURNAMES) + "|[" + SURNAMES + "])[\u4e00-\u9fff]{1,2}$")
IDENTIFIER_TYPES = ("CN_RESIDENT_ID", "TW_NATIONAL_ID", "HK_ID", "BANK_CARD")


@dataclass(frozen=True)
class ColumnType:
    entity_type: str | None   # None: not a personal-data column (its values go through the text analyzer)
    share: float              # share of sampled values that are personal data
    sampled: int
    by_type: tuple[tuple[str, int], ...] = ()

    @property
    def detector(self) -> str:
        return f"column-sample({round(self.share * self.sampled)}/{self.sampled})"


_SAMPLE_SEED = 20261202


def bottom_k(values: list[str], k: int = SAMPLE_SIZE) -> list[str]:
    """The ``k`` distinct values with the smallest hash (all of them when there are at most ``k``), in hash
    order. Mergeable: the bottom-k of the union of several bottom-k samples is the bottom-k of the whole."""
    distinct = list(dict.fromkeys(values))
    if not distinct:
        return []
    import polars as pl

    hashes = pl.Series(distinct, dtype=pl.String).hash(_SAMPLE_SEED).to_list()
    return [v for _, v in sorted(zip(hashes, distinct, strict=True))[:k]]


def distinct_texts(values: list) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values if v is not None and str(v).strip()))


def sample_values(values: list) -> list[str]:
    """Up to SAMPLE_SIZE distinct non-empty values of a column (as text), deterministic: a bottom-k sample by
    hash, so a sample of a table can be merged from samples of its shards."""
    return bottom_k(distinct_texts(values))


def whole_value_type(value: str, results) -> str | None:
    """The entity type that makes up ``value`` (a finding covering most of it), if any."""
    size = len(value.strip())
    best = max(results, key=lambda r: (r.end - r.start, r.score), default=None)
    if best is not None and size and (best.end - best.start) / size >= MIN_COVERAGE:
        return best.entity_type
    if _BARE_CHINESE_NAME.match(value.strip()):
        return "PERSON"
    return None


def type_column(values: list[str], analyze) -> ColumnType:
    """``analyze``: texts → findings per text (the batch analyzer's ``analyze``)."""
    sample = sample_values(values)
    if not sample:
        return ColumnType(None, 0.0, 0)
    types = Counter(t for v, r in zip(sample, analyze(sample), strict=True) if (t := whole_value_type(v, r)) is not None)
    share = sum(types.values()) / len(sample)
    entity = types.most_common(1)[0][0] if types and share >= MIN_SHARE else None
    return ColumnType(entity, share, len(sample), tuple(types.most_common()))


def identifier_type(value: str, default: str) -> str:
    """A value's own identifier type by its check digits, else the column's type."""
    if default not in IDENTIFIER_TYPES and default != "NATIONAL_ID":
        return default
    if checksums.cn_resident_id_valid(value):
        return "CN_RESIDENT_ID"
    if checksums.tw_national_id_valid(value):
        return "TW_NATIONAL_ID"
    if checksums.hk_id_valid(value):
        return "HK_ID"
    if checksums.bank_card_valid(value):
        return "BANK_CARD"
    return default
