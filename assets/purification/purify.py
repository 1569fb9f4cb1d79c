"""The purification stage as two plain functions: ``purify_records`` and ``purify_documents``.

Each reads every raw file of the sources mapped to its table, maps them onto the canonical schema, cleans,
filters and deduplicates, and writes the table ``purified/<table>`` (what downstream reads; a folder of parts,
lake.py) and ``purified/excluded/<table>`` (every dropped row with its ``drop_reason`` and, for duplicates, the
``duplicate_of`` id of the row kept in its cluster). Accounting: rows in = rows out + dropped by reason.
Rows are processed in a fixed order (source, landing path, record index), so outputs are deterministic.

The work is sharded (shards.py: runs of raw files, on the engine's workers); what is global — exact and
near-duplicate clusters — is decided here from the shards' keys and fingerprints; then each shard's worker
writes its part of the outputs under that decision, and the driver commits the parts: no row of the corpus
passes through the driver.
The tables are the same for any engine and any number of shards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa

from ..engines import Engine, LocalEngine, shard_runs
from ..lake import Lake
from ..yaml_config import config_hash
from .band_index import BandIndex, FileSpan, IndexStats, Spans, near_pairs
from .canonical import DOCUMENT_SCHEMA, RECORD_SCHEMA, empty, raw_files, raw_pieces
from .config import PurificationConfig
from .dedup import DedupResult, band_keys, cluster
from .filters import DropStats
from .rows import (  # noqa: F401  (the row-level steps, re-exported for benches and tests)
    ORDER,
    add_chinese_conversion,
    filter_documents,
    normalize_and_identify,
    normalize_documents,
)
from .shards import (
    CACHE,
    CONFIRM_BLOCK_PAIRS,
    EXCLUDED,
    WORK,
    ZONE,
    ConfirmPairs,
    DocumentShard,
    FinishShard,
    RecordShard,
    ShardResult,
    cache_base,
    cache_digest,
    cached_signatures,
    confirmation_blocks,
)

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
    files_reused: int = 0  # raw files whose purification came from the cache (unchanged since the last run)
    pieces: int = 0        # the units of work: a raw file, or a row range of a large one (engine.piece_rows)
    shards: int = 0
    engine: str = "local"
    nodes: list[str] = field(default_factory=list)  # the workers' nodes (Ray node ids; "local")
    languages: dict[str, int] = field(default_factory=dict)
    duplicate_clusters: int = 0
    band_index: dict[str, int] = field(default_factory=dict)  # documents: what the band index did (IndexStats)
    config_hash: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    uri: str | None = None
    excluded_uri: str | None = None

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_out + sum(self.dropped.values())

    def to_dict(self) -> dict:
        return asdict(self)


class _Timer:
    def __init__(self, report: PurifyReport) -> None:
        self.report, self.last = report, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.report.seconds[name] = round(now - self.last, 3)
        self.last = now


def exact_clusters(keys: np.ndarray) -> DedupResult:
    """Records: rows with the same key form a cluster; the first in order is kept."""
    n = len(keys)
    index = pl.DataFrame({"i": np.arange(n, dtype=np.int64), "k": keys})
    representative = index.select(pl.col("i").min().over("k")).to_series().to_numpy() if n else np.arange(0)
    sizes = np.bincount(representative, minlength=n)[representative] if n else representative
    reasons = [None if r == i else "exact_duplicate" for i, r in enumerate(representative)]
    return DedupResult(representative, reasons, sizes)


@dataclass
class _Clusters:
    """The global dedup result with the ids it points at, sliced per shard."""

    result: DedupResult
    representative_ids: pl.Series
    offsets: list[int]

    @classmethod
    def of(cls, result: DedupResult, outputs: list[ShardResult]) -> _Clusters:
        ids = pl.Series("id", [i for o in outputs for i in o.ids], dtype=pl.String)
        offsets = np.concatenate([[0], np.cumsum([len(o.ids) for o in outputs])]).astype(int).tolist()
        return cls(result, ids.gather(result.representative) if len(ids) else ids, offsets)

    @property
    def count(self) -> int:
        """Clusters of more than one row."""
        sizes, rep = self.result.cluster_size, self.result.representative
        return int(len(np.unique(rep[sizes > 1])))

    def shard_columns(self, shard: int) -> pa.Table:
        """The dedup decision for shard ``shard``'s rows, in order: ``dup_cluster`` (the id of the cluster's kept
        row, when the cluster has more than one row), ``dup_cluster_size``, ``drop_reason``."""
        lo, hi = self.offsets[shard], self.offsets[shard + 1]
        sizes = self.result.cluster_size[lo:hi]
        representatives = self.representative_ids.slice(lo, hi - lo)
        return pa.table({
            "dup_cluster": representatives.zip_with(pl.Series(sizes > 1), pl.Series([None] * (hi - lo),
                                                                                  dtype=pl.String)).to_arrow(),
            "dup_cluster_size": pa.array(sizes, pa.int64()),
            "drop_reason": pa.array(self.result.reason[lo:hi], pa.string()),
        })


def piece_size(raw) -> int:
    """A piece's rows (``raw_pieces`` read them from the footer): what sizes the ray engine's shards."""
    return raw.rows


def _shards(lake: Lake, table: str, mappings: dict, engine: Engine, indexed: dict[str, str]) -> list[dict]:
    """The shards of this run, runs of pieces (raw files, large ones cut into row ranges); each is told the
    stamps its pieces have in the band index (``indexed``), so that it sends back the band keys of the others
    only."""
    files = sorted((raw for source_id in sorted(mappings) for raw in raw_files(lake, source_id)),
                   key=lambda raw: (raw.source_id, raw.landing_path))
    files = raw_pieces(lake, files, engine.piece_rows)
    lake.delete_folder(ZONE, f"{WORK}/{table}")  # what a killed run left
    current = {cache_base(table, raw) for raw in files}
    for relpath in lake.list_files(ZONE, f"{CACHE}/{table}/"):  # the cache of files no longer in raw
        if relpath.split(".", 1)[0] not in current:
            lake.delete(ZONE, relpath)
    return [{"index": i, "files": run,
             "indexed": {cache_digest(raw): indexed[cache_digest(raw)] for raw in run if cache_digest(raw) in indexed}}
            for i, run in enumerate(shard_runs(files, engine, piece_size)) if run]


def count_files(report: PurifyReport | ShardFilesReport, outputs: list[ShardResult]) -> None:
    """Raw files and pieces handled, and the files all of whose pieces came from the cache."""
    reused: dict[str, bool] = {}
    for o in outputs:
        for relpath, cached in o.pieces:
            reused[relpath] = reused.get(relpath, True) and cached
    report.files, report.files_reused = len(reused), sum(reused.values())
    report.pieces = sum(len(o.pieces) for o in outputs)


def _account(report: PurifyReport, outputs: list[ShardResult]) -> None:
    count_files(report, outputs)
    for o in outputs:
        report.rows_in += o.rows_in
        for source, n in o.rows_in_by_source.items():
            report.rows_in_by_source[source] = report.rows_in_by_source.get(source, 0) + n
    report.shards = len(outputs)
    report.nodes = sorted({o.node for o in outputs})
    report.seconds["shards_total"] = round(sum(o.seconds for o in outputs), 3)


def _write(lake: Lake, table: str, outputs: list[ShardResult], clusters: _Clusters, output: dict, id_column: str,
           report: PurifyReport, engine: Engine) -> None:
    """The new table versions written by the workers, a part per shard (``FinishShard``), then committed here:
    kept rows in ``purified/<table>``, dropped ones in ``purified/excluded/<table>``."""
    excluded_columns = {**output, **EXCLUDED_COLUMNS}
    generations = (lake.new_generation(), lake.new_generation())
    shards = [{"index": o.index, "clusters": clusters.shard_columns(position)} for position, o in enumerate(outputs)]
    finished = engine.map(FinishShard, (lake.root, table, id_column, output, excluded_columns, generations), shards)
    filtered, duplicates = DropStats(), DropStats()
    out_by_source: dict[str, int] = {}
    language_counts: dict[str, int] = {}
    for result in finished:
        filtered.merge(result.filtered)
        duplicates.merge(result.duplicates)
        for counts, into in ((result.rows_out_by_source, out_by_source), (result.languages, language_counts)):
            for key, n in counts.items():
                into[key] = into.get(key, 0) + n
    filtered.merge(duplicates)
    meta = {"table": table, "config_hash": report.config_hash, "rows_in": str(report.rows_in)}
    report.uri = lake.commit_table(ZONE, table, generations[0], empty(output).to_arrow().schema, meta)
    report.excluded_uri = lake.commit_table(ZONE, f"{EXCLUDED}/{table}", generations[1],
                                            empty(excluded_columns).to_arrow().schema, meta)
    report.rows_out_by_source = dict(sorted(out_by_source.items()))
    report.rows_out = sum(out_by_source.values())
    report.languages = dict(sorted(language_counts.items()))
    report.dropped, report.drop_examples = filtered.counts, filtered.examples
    lake.delete_folder(ZONE, f"{WORK}/{table}")


def _purify(lake: Lake, config: PurificationConfig, engine: Engine | None, task: type[RecordShard | DocumentShard],
            dedup: Callable[[list[ShardResult]], DedupResult], output: dict,
            indexed: dict[str, str] | None = None) -> PurifyReport:
    """Shards on the engine, global dedup over what they returned, the outputs streamed from their rows."""
    engine = engine or LocalEngine()
    table = task.table
    report = PurifyReport(table, config_hash=config_hash(config), engine=engine.name)
    timer = _Timer(report)
    outputs = engine.map(task, (lake.root, config), _shards(lake, table, getattr(config, table), engine, indexed or {}))
    _account(report, outputs)
    timer.lap("shards")
    clusters = _Clusters.of(dedup(outputs), outputs)
    report.duplicate_clusters = clusters.count
    timer.lap("dedup")
    _write(lake, table, outputs, clusters, output, task.id_column, report, engine)
    timer.lap("write")
    return report


TASKS = {"records": RecordShard, "documents": DocumentShard}


@dataclass
class ShardFilesReport:
    """What the row-level purification of some landing files of one source did (the shard assets)."""

    source_id: str
    table: str
    files: int = 0
    files_reused: int = 0
    pieces: int = 0
    rows_in: int = 0
    not_in_raw: int = 0      # landing files with no raw table (quarantined whole, or not ingested yet)
    shards: int = 0
    engine: str = "local"
    nodes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def purify_files(lake: Lake, config: PurificationConfig, source_id: str, landing_paths: list[str],
                 engine: Engine | None = None) -> ShardFilesReport:
    """The row-level steps (mapping, normalization, language, filters, fingerprints) of these landing files of
    one source, on the engine, into the per-file cache that ``purify_records`` / ``purify_documents`` read: the
    work of a shard asset's run (one landing file, or a backfill of many in one run and one engine job). The
    global steps (dedup, the tables) stay with the table assets."""
    engine = engine or LocalEngine()
    table = "records" if source_id in config.records else "documents" if source_id in config.documents else None
    if table is None:
        raise ValueError(f"source {source_id!r} has no canonical mapping in the purification config")
    started = time.perf_counter()
    wanted = set(landing_paths)
    files = [raw for raw in raw_files(lake, source_id) if raw.landing_path in wanted]
    report = ShardFilesReport(source_id, table, not_in_raw=len(wanted) - len(files), engine=engine.name)
    pieces = raw_pieces(lake, files, engine.piece_rows)
    shards = [{"index": i, "files": run, "cache_only": True}
              for i, run in enumerate(shard_runs(pieces, engine, piece_size)) if run]
    outputs = engine.map(TASKS[table], (lake.root, config), shards) if shards else []
    count_files(report, outputs)
    report.rows_in, report.shards = sum(o.rows_in for o in outputs), len(outputs)
    report.nodes = sorted({o.node for o in outputs})
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def purify_records(lake: Lake, config: PurificationConfig, engine: Engine | None = None) -> PurifyReport:
    def dedup(outputs: list[ShardResult]) -> DedupResult:
        return exact_clusters(np.concatenate([o.keys for o in outputs]) if outputs else np.zeros(0, np.uint64))

    return _purify(lake, config, engine, RecordShard, dedup, RECORD_OUTPUT_COLUMNS)


def purify_documents(lake: Lake, config: PurificationConfig, engine: Engine | None = None) -> PurifyReport:
    """Documents: exact keys, then near duplicates through the band index (band_index.py): a run buckets only
    the documents of new or changed files, redoes only the buckets they touch, and has the new candidate pairs
    confirmed on the workers, which read the signatures from the files' caches."""
    engine = engine or LocalEngine()
    dedup_config = config.dedup
    index, stats = BandIndex(lake, "documents"), IndexStats()

    def dedup(outputs: list[ShardResult]) -> DedupResult:
        keys = np.concatenate([o.keys for o in outputs]) if outputs else np.zeros(0, np.uint64)
        lengths = np.concatenate([o.lengths for o in outputs]) if outputs else np.zeros(0, np.int64)
        spans, start = [], 0
        for o in outputs:
            for digest, stamp, rows in o.spans:
                spans.append(FileSpan(digest, stamp, start, rows))
                start += rows
        layout = Spans(spans)
        sent = {digest: k for o in outputs for digest, k in o.band_keys.items()}

        def band_keys_of(docs: np.ndarray) -> np.ndarray:
            """The shards' band keys; for an indexed file's document (one that became eligible), from its
            signature in the file's cache."""
            out = np.zeros((len(docs), dedup_config.bands), dtype=np.uint64)
            ordinal, position = layout.locate(docs)
            for number in np.unique(ordinal):
                chosen, digest = ordinal == number, layout.spans[int(number)].file
                if digest in sent:
                    out[chosen] = sent[digest][position[chosen]]
                else:
                    signatures = cached_signatures(lake, digest, dedup_config.num_perm)[position[chosen]]
                    out[chosen] = band_keys(signatures, dedup_config.bands, dedup_config.rows)
                    stats.signatures_read += int(chosen.sum())
            return out

        def confirm(found) -> np.ndarray:
            blocks, order = confirmation_blocks(found.u, found.v, layout)
            results = engine.map(ConfirmPairs, (lake.root, dedup_config.num_perm, dedup_config.threshold), blocks)
            keep = np.zeros(len(found), bool)
            for result in results:
                lo = result["index"] * CONFIRM_BLOCK_PAIRS
                keep[order[lo:lo + len(result["keep"])]] = result["keep"]
            return keep

        def near(eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return near_pairs(index, layout, eligible, band_keys_of, confirm, dedup_config.bands,
                              engine.candidate_pairs, stats)

        return cluster(keys, lengths, dedup_config, near if dedup_config.near else None, engine.components)

    report = _purify(lake, config, engine, DocumentShard, dedup, DOCUMENT_OUTPUT_COLUMNS,
                     index.stamps() if dedup_config.near else {})
    if dedup_config.near:
        report.band_index = asdict(stats)
    return report
