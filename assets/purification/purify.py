"""The purification stage as two plain functions: ``purify_records`` and ``purify_documents``.

Each reads every raw file of the sources mapped to its table, maps them onto the canonical schema, cleans,
filters and deduplicates, and writes ``purified/<table>.parquet`` (what downstream reads) and
``purified/excluded/<table>.parquet`` (every dropped row with its ``drop_reason`` and, for duplicates, the
``duplicate_of`` id of the row kept in its cluster). Accounting: rows in = rows out + dropped by reason.
Rows are processed in a fixed order (source, landing path, record index), so outputs are deterministic.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from ..lake import Lake
from .canonical import DOCUMENT_SCHEMA, RECORD_SCHEMA, empty, map_documents, map_records, raw_files, read_raw
from .config import STRING_FIELDS, PurificationConfig
from .dedup import CJK_LANGUAGES, find_duplicates
from .filters import DropStats, apply_filters, quality_filters
from .language import with_languages
from .normalize import MARKUP, convert_chinese, normalize_field, normalize_text

ZONE = "purified"
ORDER = ("source_id", "landing_path", "record_index")
DOCUMENT_OUTPUT_COLUMNS = {
    **DOCUMENT_SCHEMA, "language": pl.String, "language_confidence": pl.Float64, "body_zh_hans": pl.String,
    "n_chars": pl.Int64, "dup_cluster": pl.String, "dup_cluster_size": pl.Int64,
}
RECORD_OUTPUT_COLUMNS = {**RECORD_SCHEMA, "dup_cluster": pl.String, "dup_cluster_size": pl.Int64}
EXCLUDED_COLUMNS = {"drop_reason": pl.String, "duplicate_of": pl.String}


@dataclass
class PurifyReport:
    table: str
    rows_in: int = 0
    rows_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    drop_examples: dict[str, list[str]] = field(default_factory=dict)
    rows_in_by_source: dict[str, int] = field(default_factory=dict)
    rows_out_by_source: dict[str, int] = field(default_factory=dict)
    files: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    duplicate_clusters: int = 0
    config_hash: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    uri: str | None = None
    excluded_uri: str | None = None

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_out + sum(self.dropped.values())

    def to_dict(self) -> dict:
        return asdict(self)


def config_hash(config: PurificationConfig) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


class _Timer:
    def __init__(self, report: PurifyReport) -> None:
        self.report, self.last = report, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.report.seconds[name] = round(now - self.last, 3)
        self.last = now


def _load(lake: Lake, mappings: dict, mapper, schema: dict, report: PurifyReport) -> pl.DataFrame:
    frames = []
    for source_id, mapping in sorted(mappings.items()):
        for raw in raw_files(lake, source_id):
            frame = mapper(read_raw(lake, raw), raw, mapping)
            frames.append(frame)
            report.files += 1
            report.rows_in_by_source[source_id] = report.rows_in_by_source.get(source_id, 0) + frame.height
    frame = pl.concat(frames) if frames else empty(schema)
    report.rows_in = frame.height
    return frame.sort(list(ORDER))


def _cluster_columns(frame: pl.DataFrame, id_column: str, representative: np.ndarray, sizes: np.ndarray,
                     reasons: list[str | None]) -> pl.DataFrame:
    ids = frame.get_column(id_column)
    rep_ids = ids.gather(representative)
    return frame.with_columns(
        pl.when(pl.Series(sizes) > 1).then(rep_ids).otherwise(None).alias("dup_cluster"),
        pl.Series("dup_cluster_size", sizes, dtype=pl.Int64),
        pl.Series("drop_reason", reasons, dtype=pl.String),
    ).with_columns(pl.when(pl.col("drop_reason").is_not_null()).then(pl.col("dup_cluster")).alias("duplicate_of"))


def _finish(lake: Lake, name: str, kept: pl.DataFrame, excluded: list[pl.DataFrame], output: dict,
            id_column: str, report: PurifyReport, metadata: dict[str, str]) -> None:
    kept = kept.select([pl.col(c).cast(t) for c, t in output.items()])
    dropped = pl.concat([f.select([pl.col(c).cast(t) for c, t in {**output, **EXCLUDED_COLUMNS}.items()])
                         for f in excluded]) if excluded else empty({**output, **EXCLUDED_COLUMNS})
    stats = DropStats()
    stats.add(dropped, id_column)
    report.rows_out, report.dropped, report.drop_examples = kept.height, stats.counts, stats.examples
    report.rows_out_by_source = dict(kept.group_by("source_id").len().sort("source_id").iter_rows())
    meta = {**metadata, "config_hash": report.config_hash, "rows_in": str(report.rows_in)}
    report.uri = lake.write_parquet(ZONE, f"{name}.parquet", kept.to_arrow(), meta)
    report.excluded_uri = lake.write_parquet(ZONE, f"excluded/{name}.parquet", dropped.to_arrow(), meta)


def purify_records(lake: Lake, config: PurificationConfig) -> PurifyReport:
    report = PurifyReport("records", config_hash=config_hash(config))
    timer = _Timer(report)
    frame = _load(lake, config.records, map_records, RECORD_SCHEMA, report)
    timer.lap("load")
    frame = frame.with_columns([normalize_field(pl.col(c)).alias(c) for c in STRING_FIELDS])
    empty_row = pl.all_horizontal([pl.col(c).is_null() for c in STRING_FIELDS]) & pl.col("amount").is_null() \
        & pl.col("event_time").is_null() & (pl.col("attributes") == "{}")
    dropped_empty = frame.filter(empty_row).with_columns(pl.lit("empty").alias("drop_reason"),
                                                         pl.lit(None, pl.String).alias("duplicate_of"))
    frame = frame.filter(~empty_row)
    timer.lap("normalize")
    # Exact duplicates: the same entity with the same values everywhere (provenance aside), e.g. a re-export.
    key = pl.struct(["entity_kind", *STRING_FIELDS, "amount", "event_time", "attributes"]).hash(config.dedup.seed)
    index = frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("i"), key.alias("k"))
    representative = index.select(pl.col("i").min().over("k")).to_series().to_numpy()
    sizes = np.bincount(representative, minlength=frame.height)[representative] if frame.height else representative
    reasons = [None if r == i else "exact_duplicate" for i, r in enumerate(representative)]
    frame = _cluster_columns(frame, "record_id", representative, sizes, reasons)
    report.duplicate_clusters = int(frame.filter(pl.col("dup_cluster_size") > 1).get_column("dup_cluster").n_unique())
    timer.lap("dedup")
    kept = frame.filter(pl.col("drop_reason").is_null())
    _finish(lake, "records", kept, [dropped_empty.with_columns(pl.lit(None, pl.String).alias("dup_cluster"),
                                                               pl.lit(1).alias("dup_cluster_size")),
                                    frame.filter(pl.col("drop_reason").is_not_null())],
            RECORD_OUTPUT_COLUMNS, "record_id", report, {"table": "records"})
    timer.lap("write")
    return report


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


def purify_documents(lake: Lake, config: PurificationConfig) -> PurifyReport:
    report = PurifyReport("documents", config_hash=config_hash(config))
    timer = _Timer(report)
    frame = _load(lake, config.documents, map_documents, DOCUMENT_SCHEMA, report)
    timer.lap("load")
    filtered, filtered_out = filter_documents(normalize_and_identify(frame, config, timer), config, timer)
    kept, excluded = deduplicate_documents(filtered, filtered_out, config, timer)
    report.languages = dict(kept.group_by("language").len().sort("language").iter_rows())
    report.duplicate_clusters = int(kept.filter(pl.col("dup_cluster_size") > 1).height)
    _finish(lake, "documents", kept, excluded, DOCUMENT_OUTPUT_COLUMNS, "doc_id", report, {"table": "documents"})
    timer.lap("write")
    return report


def normalize_and_identify(frame: pl.DataFrame, config: PurificationConfig, timer: _Timer | None = None) \
        -> pl.DataFrame:
    frame = normalize_documents(frame, config)
    timer and timer.lap("normalize")
    frame = with_languages(frame, "body", config.language.candidates, config.language.min_confidence,
                           "language_hint")
    timer and timer.lap("language")
    frame = add_chinese_conversion(frame, config.normalize.chinese_conversion)
    timer and timer.lap("chinese_conversion")
    return frame


def filter_documents(frame: pl.DataFrame, config: PurificationConfig, timer: _Timer | None = None) \
        -> tuple[pl.DataFrame, pl.DataFrame]:
    kept, dropped = apply_filters(frame, quality_filters(config.filters))
    timer and timer.lap("filters")
    return kept, dropped.with_columns(pl.lit(None, pl.String).alias("dup_cluster"), pl.lit(1).alias("dup_cluster_size"),
                                      pl.lit(None, pl.String).alias("duplicate_of"))


def deduplicate_documents(kept: pl.DataFrame, filtered_out: pl.DataFrame, config: PurificationConfig,
                          timer: _Timer | None = None) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    key_text = kept.select(pl.coalesce("body_zh_hans", "body")).to_series()
    cjk = kept.select(pl.col("language").str.split("-").list.first().is_in(list(CJK_LANGUAGES))).to_series()
    result = find_duplicates(key_text, cjk.to_numpy(), config.dedup)
    frame = _cluster_columns(kept, "doc_id", result.representative, result.cluster_size, result.reason)
    timer and timer.lap("dedup")
    return frame.filter(pl.col("drop_reason").is_null()), [filtered_out, frame.filter(pl.col("drop_reason").is_not_null())]
