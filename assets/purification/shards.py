"""Purification of one shard: a run of raw files, in the global order (source, landing path), handled without
looking at any other shard. A shard maps its files onto the canonical schema, applies everything decided row
by row (rows.py), writes its rows to the private work area of the purified zone, and returns to the driver
only what the global steps need: counts, row ids, and each row's exact-duplicate key (records) or dedup
fingerprint (documents: key, token count, MinHash signature).

The task classes are built once per worker (the language detector loads there) and take plain arguments
(the lake's root, the config), so the same code runs in this process and on a Ray worker."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ..engines import worker_node
from ..lake import Lake
from .canonical import DOCUMENT_SCHEMA, RECORD_SCHEMA, RawFile, empty, map_documents, map_records, read_raw
from .config import PurificationConfig
from .dedup import CJK_LANGUAGES, Fingerprints
from .rows import ORDER, filter_documents, normalize_and_identify, normalize_records, record_keys

ZONE = "purified"
WORK = "_work"


def work_path(table: str, index: int, part: str) -> str:
    """A shard's intermediate rows in the private zone: ``rows`` (left for dedup) or ``filtered`` (dropped)."""
    return f"{WORK}/{table}/{index:05d}.{part}.parquet"


@dataclass
class ShardResult:
    index: int
    files: int = 0
    rows_in: int = 0
    rows_in_by_source: dict[str, int] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)  # ids of the rows left for dedup, in order
    keys: np.ndarray | None = None                # records: exact-duplicate key per row
    prints: Fingerprints | None = None            # documents: dedup fingerprints per row
    seconds: float = 0.0
    node: str = "local"                           # where it ran (a Ray node id)


def _load(lake: Lake, files: list[RawFile], mappings: dict, mapper, schema: dict, result: ShardResult) -> pl.DataFrame:
    frames = []
    for raw in files:
        frame = mapper(read_raw(lake, raw), raw, mappings[raw.source_id])
        frames.append(frame)
        result.files += 1
        result.rows_in_by_source[raw.source_id] = result.rows_in_by_source.get(raw.source_id, 0) + frame.height
    frame = pl.concat(frames) if frames else empty(schema)
    result.rows_in = frame.height
    return frame.sort(list(ORDER))


class _PurifyShard:
    """One shard's purification: its files loaded in order, split into the rows left for dedup and the rows
    dropped, both written to the work area, and what the driver's dedup needs of the rows left."""

    table: str
    schema: dict
    id_column: str

    def __init__(self, lake_root: str, config: PurificationConfig) -> None:
        self.lake, self.config = Lake(lake_root), config

    @staticmethod
    def mapper(frame: pl.DataFrame, raw: RawFile, mapping) -> pl.DataFrame:
        raise NotImplementedError

    def split(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        raise NotImplementedError

    def fingerprint(self, kept: pl.DataFrame, result: ShardResult) -> None:
        raise NotImplementedError

    def __call__(self, shard: dict) -> ShardResult:
        started = time.perf_counter()
        result = ShardResult(shard["index"])
        frame = _load(self.lake, shard["files"], getattr(self.config, self.table), self.mapper, self.schema, result)
        kept, dropped = self.split(frame)
        self.lake.write_parquet(ZONE, work_path(self.table, result.index, "rows"), kept.to_arrow())
        self.lake.write_parquet(ZONE, work_path(self.table, result.index, "filtered"), dropped.to_arrow())
        self.fingerprint(kept, result)
        result.ids = kept.get_column(self.id_column).to_list()
        result.seconds, result.node = time.perf_counter() - started, worker_node()
        return result


class DocumentShard(_PurifyShard):
    table, schema, id_column, mapper = "documents", DOCUMENT_SCHEMA, "doc_id", staticmethod(map_documents)

    def split(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        return filter_documents(normalize_and_identify(frame, self.config), self.config)

    def fingerprint(self, kept: pl.DataFrame, result: ShardResult) -> None:
        key_text = kept.select(pl.coalesce("body_zh_hans", "body")).to_series()
        cjk = kept.select(pl.col("language").str.split("-").list.first().is_in(list(CJK_LANGUAGES))).to_series()
        result.prints = Fingerprints.of(key_text, cjk.to_numpy(), self.config.dedup)


class RecordShard(_PurifyShard):
    table, schema, id_column, mapper = "records", RECORD_SCHEMA, "record_id", staticmethod(map_records)

    def split(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        return normalize_records(frame)

    def fingerprint(self, kept: pl.DataFrame, result: ShardResult) -> None:
        result.keys = record_keys(kept, self.config.dedup.seed).to_numpy()
