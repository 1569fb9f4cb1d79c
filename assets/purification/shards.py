"""Purification of one shard: a run of raw files, in the global order (source, landing path), handled without
looking at any other shard. A shard maps its files onto the canonical schema, applies everything decided row
by row (rows.py), writes its rows to the private work area of the purified zone, and returns to the driver
only what the global steps need: counts, row ids, and each row's exact-duplicate key (records) or dedup
fingerprint (documents: key, token count, MinHash signature).

The task classes are built once per worker (the language detector loads there) and take plain arguments
(the lake's root, the config), so the same code runs in this process and on a Ray worker."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from ..engines import worker_node
from ..lake import Lake
from ..yaml_config import config_hash
from .canonical import RawFile, map_documents, map_records, read_raw
from .config import PurificationConfig
from .dedup import CJK_LANGUAGES, Fingerprints, band_keys, similar
from .filters import DropStats
from .rows import ORDER, filter_documents, normalize_and_identify, normalize_records, record_keys

ZONE = "purified"
WORK = "_work"
CACHE = "_shards"  # per raw file: its rows after the row-level steps, its dropped rows, its fingerprints
EXCLUDED = "excluded"  # purified/excluded/<table>: every dropped row with its reason


def work_path(table: str, index: int, part: str) -> str:
    """A shard's intermediate rows in the private zone: ``rows`` (left for dedup) or ``filtered`` (dropped)."""
    return f"{WORK}/{table}/{index:05d}.{part}.parquet"


@dataclass
class ShardResult:
    index: int
    pieces: list[tuple[str, bool]] = field(default_factory=list)  # per piece: its raw file, whether its cache held
    rows_in: int = 0
    rows_in_by_source: dict[str, int] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)  # ids of the rows left for dedup, in order
    keys: np.ndarray | None = None                # exact-duplicate key per row
    lengths: np.ndarray | None = None             # documents: tokens per row
    spans: list[tuple[str, str, int]] = field(default_factory=list)  # per file: cache digest, stamp, rows
    band_keys: dict[str, np.ndarray] = field(default_factory=dict)  # documents: per file not in the band index
    seconds: float = 0.0
    node: str = "local"                           # where it ran (a Ray node id)


def _pack(kept: pl.DataFrame, dropped: pl.DataFrame, prints: pa.Table) -> tuple[pa.Table, dict[str, str]]:
    """A raw file's cache in one table: its kept rows with their fingerprints (``_fp_*``), then its dropped
    rows; ``_part`` tells them apart, the metadata names each part's columns."""
    rows = kept.to_arrow()
    for name in prints.column_names:
        rows = rows.append_column(f"_fp_{name}", prints.column(name))
    rows = rows.append_column("_part", pa.array(np.zeros(kept.height, np.int8)))
    gone = dropped.to_arrow().append_column("_part", pa.array(np.ones(dropped.height, np.int8)))
    meta = {"kept_columns": json.dumps(kept.columns), "dropped_columns": json.dumps(dropped.columns),
            "print_columns": json.dumps(prints.column_names)}
    return pa.concat_tables([rows, gone], promote_options="permissive"), meta


def _unpack(table: pa.Table, meta: dict[str, str]) -> tuple[pl.DataFrame, pl.DataFrame, pa.Table]:
    import pyarrow.compute as pc

    kept, dropped = table.filter(pc.equal(table["_part"], 0)), table.filter(pc.equal(table["_part"], 1))
    names = json.loads(meta["print_columns"])
    prints = kept.select([f"_fp_{c}" for c in names]).rename_columns(names)
    return (pl.from_arrow(kept.select(json.loads(meta["kept_columns"]))),
            pl.from_arrow(dropped.select(json.loads(meta["dropped_columns"]))), prints)


def cache_digest(raw: RawFile) -> str:
    """A raw file's (or piece's) name in the cache and the band index (a digest: the landing path may be
    personal)."""
    name = f"{raw.source_id}\x00{raw.landing_path}" + ("" if raw.whole else f"\x00{raw.start}:{raw.stop}")
    return hashlib.sha256(name.encode()).hexdigest()[:24]


def cache_base(table: str, raw: RawFile) -> str:
    """Where one raw file's (or piece's) purification is kept."""
    return f"{CACHE}/{table}/{cache_digest(raw)}"


def cached_signatures(lake: Lake, digest: str, num_perm: int) -> np.ndarray:
    """The MinHash signatures of one raw file's documents (its rows left for dedup, in order), from its cache:
    only the fingerprint columns are read."""
    import pyarrow.compute as pc

    table = lake.read_parquet(ZONE, f"{CACHE}/documents/{digest}.parquet",
                              columns=["_fp_key", "_fp_length", "_fp_signature", "_part"])
    kept = table.filter(pc.equal(table["_part"], 0)).drop_columns(["_part"])
    return Fingerprints.from_arrow(kept.rename_columns(["key", "length", "signature"]), num_perm).signatures


class ConfirmPairs:
    """The Jaccard confirmation of candidate pairs, on a worker: a block of pairs, each end given as (its file's
    cache digest, its position there); the worker reads the signatures of the files the block names from their
    caches and returns which pairs agree on at least ``threshold`` of their values. No signature passes the
    driver."""

    def __init__(self, lake_root: str, num_perm: int, threshold: float) -> None:
        self.lake, self.num_perm, self.threshold = Lake(lake_root), num_perm, threshold

    def _gather(self, files: list[str], file: np.ndarray, position: np.ndarray, read: dict) -> np.ndarray:
        out = np.zeros((len(file), self.num_perm), dtype=np.uint32)
        for number in np.unique(file):
            chosen = file == number
            digest = files[int(number)]
            if digest not in read:
                read[digest] = cached_signatures(self.lake, digest, self.num_perm)
            out[chosen] = read[digest][position[chosen]]
        return out

    def __call__(self, block: dict) -> dict:
        read: dict[str, np.ndarray] = {}
        left = self._gather(block["files"], block["u_file"], block["u_position"], read)
        right = self._gather(block["files"], block["v_file"], block["v_position"], read)
        return {"index": block["index"], "keep": similar(left, right, self.threshold)}


CONFIRM_BLOCK_PAIRS = 200_000  # candidate pairs per confirmation task (bounds a worker's signatures in memory)


def confirmation_blocks(pairs_u: np.ndarray, pairs_v: np.ndarray, spans) -> tuple[list[dict], np.ndarray]:
    """Candidate pairs cut into confirmation tasks, ordered by the file of their first end (a task reads few
    files); returns the tasks and the order (the position of each task's pairs in the input)."""
    u_file, u_position = spans.locate(pairs_u)
    v_file, v_position = spans.locate(pairs_v)
    order = np.lexsort((v_file, u_file))
    digests = [span.file for span in spans.spans]
    blocks = []
    for number, lo in enumerate(range(0, len(order), CONFIRM_BLOCK_PAIRS)):
        chosen = order[lo:lo + CONFIRM_BLOCK_PAIRS]
        used = np.unique(np.concatenate([u_file[chosen], v_file[chosen]]))
        local = {int(f): i for i, f in enumerate(used)}
        remap = np.vectorize(local.__getitem__, otypes=[np.int32])
        blocks.append({"index": number, "files": [digests[int(f)] for f in used],
                       "u_file": remap(u_file[chosen]), "u_position": u_position[chosen].astype(np.int64),
                       "v_file": remap(v_file[chosen]), "v_position": v_position[chosen].astype(np.int64)})
    return blocks, order


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The purification code and the packages whose output it depends on: a change recomputes every file."""
    digest = hashlib.sha256()
    for file in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(file.read_bytes())
    for package in ("polars", "numpy", "lingua-language-detector", "opencc"):
        digest.update(f"{package}=={metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


class _PurifyShard:
    """One shard's purification, file by file: each raw file's rows split into those left for dedup and those
    dropped, with the fingerprints of the first — taken from the file's cache when it holds the same raw
    rows, config and code, else computed and cached — then the shard's parts written to the work area.

    The cache (``purified/_shards/<table>/``) makes purification incremental: a run reads and processes only
    new or changed raw files, while the global dedup still sees every file's fingerprints (a new file is
    matched against all others). A raw file is identified by what its footer says (the landing file's sha256,
    reader and source versions, row count): a file that erasure rewrote in place can keep all four, so
    erasure and retention delete the whole cache (it also holds personal data as delivered, like every
    purified table)."""

    table: str
    id_column: str

    def __init__(self, lake_root: str, config: PurificationConfig) -> None:
        self.lake, self.config = Lake(lake_root), config
        self.config_digest = config_hash(config)

    @staticmethod
    def mapper(frame: pl.DataFrame, raw: RawFile, mapping) -> pl.DataFrame:
        raise NotImplementedError

    def split(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        raise NotImplementedError

    def fingerprint(self, kept: pl.DataFrame) -> pa.Table:
        """Per row left for dedup: what the driver's clustering needs, as columns."""
        raise NotImplementedError

    def absorb(self, files: list[tuple[RawFile, str, pa.Table]], indexed: dict[str, str], result: ShardResult) -> None:
        """What the driver gets of each file's fingerprints (``files``: file, stamp, fingerprints)."""
        raise NotImplementedError

    def stamp(self, raw: RawFile) -> str:
        """What the cached purification of a raw file was made from: the raw file as ingested (its landing
        file's sha256, the reader and source versions, its rows — from the footer), the config, the code."""
        meta, rows = self.lake.footer("raw", raw.lake_relpath) or ({}, 0)  # one read of the footer
        seen = json.dumps({k: meta.get(k) for k in ("file_sha256", "source_version", "reader_version")}, sort_keys=True)
        piece = "" if raw.whole else f"|{raw.start}:{raw.stop}"
        return hashlib.sha256(f"{self.table}|{self.config_digest}|{code_digest()}|{rows}|{seen}{piece}".encode()) \
            .hexdigest()

    def _cached(self, raw: RawFile, stamp: str):
        path = f"{cache_base(self.table, raw)}.parquet"
        meta = self.lake.parquet_metadata(ZONE, path)
        if not meta or meta.get("stamp") != stamp:
            return None
        return int(meta["rows_in"]), *_unpack(self.lake.read_parquet(ZONE, path), meta)

    def _compute(self, files: list[RawFile], stamps: dict[RawFile, str]) -> dict[RawFile, tuple]:
        """The files' (or pieces') row-level steps in one batch (as fast as one frame allows), then cached piece
        by piece (``_piece``: which of ``files`` a row came from, while they are one frame)."""
        mapped = [self.mapper(read_raw(self.lake, raw), raw, getattr(self.config, self.table)[raw.source_id])
                  .with_columns(pl.lit(number, pl.Int32).alias("_piece")) for number, raw in enumerate(files)]
        kept, dropped = self.split(pl.concat(mapped).sort([*ORDER, "_piece"]))
        prints = self.fingerprint(kept)
        kept_by = kept.with_row_index("_position").partition_by("_piece", as_dict=True, maintain_order=True)
        dropped_by = dropped.partition_by("_piece", as_dict=True, maintain_order=True)
        out = {}
        for number, (raw, frame) in enumerate(zip(files, mapped, strict=True)):
            rows = kept_by.get((number,), kept.clear().with_row_index("_position"))
            part = (frame.height, rows.drop("_position", "_piece"), dropped_by.get((number,), dropped.clear()).drop("_piece"),
                    prints.take(rows.get_column("_position").to_numpy()))
            packed, meta = _pack(*part[1:])
            self.lake.write_parquet(ZONE, f"{cache_base(self.table, raw)}.parquet", packed,
                                    {**meta, "stamp": stamps[raw], "rows_in": str(frame.height)})
            out[raw] = part
        return out

    def __call__(self, shard: dict) -> ShardResult:
        started = time.perf_counter()
        result = ShardResult(shard["index"])
        files: list[RawFile] = shard["files"]  # raw files or pieces of them, in order
        stamps = {raw: self.stamp(raw) for raw in files}
        parts = {raw: self._cached(raw, stamps[raw]) for raw in files}
        result.pieces = [(raw.lake_relpath, parts[raw] is not None) for raw in files]
        todo = [raw for raw in files if parts[raw] is None]
        if todo:
            parts.update(self._compute(todo, stamps))
        if shard.get("cache_only"):  # the shard assets (one per source and landing file): the row-level work only
            result.rows_in = sum(parts[raw][0] for raw in files)
            result.seconds, result.node = time.perf_counter() - started, worker_node()
            return result
        for raw in files:
            rows_in = parts[raw][0]
            result.rows_in += rows_in
            result.rows_in_by_source[raw.source_id] = result.rows_in_by_source.get(raw.source_id, 0) + rows_in
        ordered = [parts[raw] for raw in files]
        kept = pl.concat([p[1] for p in ordered], how="vertical_relaxed")
        dropped = pl.concat([p[2] for p in ordered], how="vertical_relaxed")
        self.lake.write_parquet(ZONE, work_path(self.table, result.index, "rows"), kept.to_arrow())
        self.lake.write_parquet(ZONE, work_path(self.table, result.index, "filtered"), dropped.to_arrow())
        self.absorb([(raw, stamps[raw], parts[raw][3]) for raw in files],
                    shard.get("indexed", {}), result)
        result.ids = kept.get_column(self.id_column).to_list()
        result.seconds, result.node = time.perf_counter() - started, worker_node()
        return result


class DocumentShard(_PurifyShard):
    table, id_column, mapper = "documents", "doc_id", staticmethod(map_documents)

    def split(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        return filter_documents(normalize_and_identify(frame, self.config), self.config)

    def fingerprint(self, kept: pl.DataFrame) -> pa.Table:
        key_text = kept.select(pl.coalesce("body_zh_hans", "body")).to_series()
        cjk = kept.select(pl.col("language").str.split("-").list.first().is_in(list(CJK_LANGUAGES))).to_series()
        return Fingerprints.of(key_text, cjk.to_numpy(), self.config.dedup).to_arrow()

    def absorb(self, files: list[tuple[RawFile, str, pa.Table]], indexed: dict[str, str], result: ShardResult) -> None:
        """Keys and token counts of every row; band keys only of the files the band index does not hold with
        this stamp. Signatures stay in the file's cache (the confirmation reads them there, on a worker)."""
        dedup = self.config.dedup
        num_perm = dedup.num_perm if dedup.near else 0
        keys, lengths = [], []
        for raw, stamp, prints in files:
            digest = cache_digest(raw)
            sent = indexed.get(digest) != stamp
            fingerprints = Fingerprints.from_arrow(prints, num_perm if sent else 0)
            keys.append(fingerprints.keys)
            lengths.append(fingerprints.lengths)
            result.spans.append((digest, stamp, prints.num_rows))
            if sent and num_perm:
                result.band_keys[digest] = band_keys(fingerprints.signatures, dedup.bands, dedup.rows)
        result.keys = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
        result.lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)


class RecordShard(_PurifyShard):
    table, id_column, mapper = "records", "record_id", staticmethod(map_records)

    def split(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        return normalize_records(frame)

    def fingerprint(self, kept: pl.DataFrame) -> pa.Table:
        return pa.table({"key": pa.array(record_keys(kept, self.config.dedup.seed).to_numpy(), pa.uint64())})

    def absorb(self, files: list[tuple[RawFile, str, pa.Table]], indexed: dict[str, str], result: ShardResult) -> None:
        keys = [prints.column("key").to_numpy().astype(np.uint64) for _, _, prints in files]
        result.keys = np.concatenate(keys) if keys else np.zeros(0, np.uint64)


@dataclass
class FinishResult:
    index: int
    rows_out_by_source: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    filtered: DropStats = field(default_factory=DropStats)
    duplicates: DropStats = field(default_factory=DropStats)


class FinishShard:
    """The last pass of a shard, on its worker: its rows with the global dedup decision (``clusters``: one row
    per row of the shard, ``dup_cluster``, ``dup_cluster_size``, ``drop_reason``), written as the shard's parts
    of the new table versions — kept rows as ``purified/<table>`` part ``index``; dropped rows as
    ``purified/excluded/<table>`` parts ``(0, index)`` (filtered) and ``(1, index)`` (duplicates), so the
    excluded table lists every filtered row before every duplicate, each in the global order."""

    def __init__(self, lake_root: str, table: str, id_column: str, output: dict, excluded_columns: dict,
                 generations: tuple[str, str]) -> None:
        self.lake, self.table, self.id_column = Lake(lake_root), table, id_column
        self.output, self.excluded_columns = output, excluded_columns
        self.generation, self.excluded_generation = generations

    def _typed(self, frame: pl.DataFrame, columns: dict) -> pa.Table:
        return frame.select([pl.col(c).cast(t) for c, t in columns.items()]).to_arrow()

    def __call__(self, shard: dict) -> FinishResult:
        index, result = shard["index"], FinishResult(shard["index"])
        rows = pl.from_arrow(self.lake.read_parquet(ZONE, work_path(self.table, index, "rows")))
        rows = pl.concat([rows, pl.from_arrow(shard["clusters"])], how="horizontal").with_columns(
            pl.when(pl.col("drop_reason").is_not_null()).then(pl.col("dup_cluster")).alias("duplicate_of"))
        kept = rows.filter(pl.col("drop_reason").is_null())
        result.rows_out_by_source = dict(kept.group_by("source_id").len().iter_rows())
        if "language" in self.output:
            result.languages = dict(kept.group_by("language").len().iter_rows())
        if kept.height:
            self.lake.write_part(ZONE, self.table, self.generation, index, self._typed(kept, self.output))
        filtered = pl.from_arrow(self.lake.read_parquet(ZONE, work_path(self.table, index, "filtered")))
        duplicates = rows.filter(pl.col("drop_reason").is_not_null())
        for group, dropped, stats in ((0, filtered, result.filtered), (1, duplicates, result.duplicates)):
            stats.add(dropped, self.id_column)
            if dropped.height:
                self.lake.write_part(ZONE, f"{EXCLUDED}/{self.table}", self.excluded_generation, (group, index),
                                     self._typed(dropped, self.excluded_columns))
        return result
