"""Purification decided row by row: what a shard does to its rows without looking at any other shard (mapping
aside, which is canonical.py). Markup and e-mail clutter removal, Unicode normalization, language
identification, the Simplified conversion, the quality filters; for records, field normalization, the empty-row
rule and the exact-duplicate key. Everything global (duplicate clusters) is in purify.py and dedup.py."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from .config import STRING_FIELDS, PurificationConfig
from .filters import apply_filters, quality_filters
from .language import with_languages
from .normalize import MARKUP, convert_chinese, normalize_field, normalize_text

ORDER = ("source_id", "landing_path", "record_index")
Lap = Callable[[str], None] | None


def normalize_documents(frame: pl.DataFrame, config: PurificationConfig) -> pl.DataFrame:
    """Markup removal (per markup kind), e-mail clutter for e-mail sources, Unicode, controls, whitespace."""
    email_kinds = {m.kind for m in config.documents.values() if m.email}
    options = {"unicode_nfkc": config.normalize.unicode_nfkc, "halfwidth": config.normalize.halfwidth}
    parts = []
    for (markup, is_email), part in frame.with_columns(pl.col("doc_kind").is_in(list(email_kinds)).alias("_email")) \
            .group_by("markup", "_email", maintain_order=True):
        body = normalize_text(pl.col("body"), markup=markup if markup in MARKUP else None, email=is_email, **options)
        parts.append(part.with_columns(body.alias("body")))
    frame = pl.concat(parts).drop("_email") if parts else frame
    return frame.with_columns(normalize_field(pl.col("title")).alias("title"),
                              pl.col("body").str.len_chars().cast(pl.Int64).alias("n_chars")).sort(list(ORDER))


def add_chinese_conversion(frame: pl.DataFrame, conversion: str | None) -> pl.DataFrame:
    if not conversion:
        return frame.with_columns(pl.lit(None, pl.String).alias("body_zh_hans"))
    chinese = pl.col("language").str.starts_with("zh")
    return frame.with_columns(pl.when(chinese).then(convert_chinese(pl.col("body"), conversion))
                              .alias("body_zh_hans"))


def normalize_and_identify(frame: pl.DataFrame, config: PurificationConfig, lap: Lap = None) -> pl.DataFrame:
    frame = normalize_documents(frame, config)
    lap and lap("normalize")
    frame = with_languages(frame, "body", config.language.candidates, config.language.min_confidence,
                           "language_hint")
    lap and lap("language")
    frame = add_chinese_conversion(frame, config.normalize.chinese_conversion)
    lap and lap("chinese_conversion")
    return frame


def filter_documents(frame: pl.DataFrame, config: PurificationConfig, lap: Lap = None) \
        -> tuple[pl.DataFrame, pl.DataFrame]:
    """(kept, dropped by a quality filter with its reason and no cluster)."""
    kept, dropped = apply_filters(frame, quality_filters(config.filters))
    lap and lap("filters")
    return kept, dropped.with_columns(pl.lit(None, pl.String).alias("dup_cluster"), pl.lit(1).alias("dup_cluster_size"),
                                      pl.lit(None, pl.String).alias("duplicate_of"))


def normalize_records(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fields normalized; (rows with any value, rows with none: dropped as ``empty``)."""
    frame = frame.with_columns([normalize_field(pl.col(c)).alias(c) for c in STRING_FIELDS])
    empty_row = pl.all_horizontal([pl.col(c).is_null() for c in STRING_FIELDS]) & pl.col("amount").is_null() \
        & pl.col("event_time").is_null() & (pl.col("attributes") == "{}")
    dropped = frame.filter(empty_row).with_columns(
        pl.lit("empty").alias("drop_reason"), pl.lit(None, pl.String).alias("duplicate_of"),
        pl.lit(None, pl.String).alias("dup_cluster"), pl.lit(1).alias("dup_cluster_size"))
    return frame.filter(~empty_row), dropped


def record_keys(frame: pl.DataFrame, seed: int) -> pl.Series:
    """The exact-duplicate key of each record: the same entity with the same values everywhere (provenance
    aside), e.g. a re-export."""
    key = pl.struct(["entity_kind", *STRING_FIELDS, "amount", "event_time", "attributes"]).hash(seed)
    return frame.select(key.alias("k")).to_series()
