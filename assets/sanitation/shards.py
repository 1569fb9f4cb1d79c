"""Sanitation of one shard: a run of source files of a purified table, in the table's order. Three passes,
each a task built once per worker (the PII engine loads once there) and called once per shard:

1. ``StatsShard``: the column summaries the column plan is decided from (governance/pii/column_plan.py);
2. ``RedactShard``: the shard's rows redacted under the table's plan, written as the shard's part of the new
   sanitized table (lake.py: a table is a folder of parts under a manifest), with its ledger rows, counts and the values it replaced (kept in memory, for the subject index). The
   analysis memo is kept per source file, so a shard reads and writes only its files' memos;
3. ``IndexShard``: the subject index of the shard's rows, over every value any shard replaced.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from ..engines import worker_node
from ..lake import Lake

if TYPE_CHECKING:
    from waterworks.governance.pii.column_plan import ColumnPlan, ColumnStats
    from waterworks.governance.pii.engine import EngineConfig

    from .config import SanitationConfig
    from .sanitize import Boundary

SOURCE_ZONE = "purified"
SANITIZED_ZONE = "sanitized"
MEMO_FOLDER = "analysis_memo"


@dataclass(frozen=True)
class FileRun:
    """Consecutive rows ``start``..``stop`` of one part of the purified table that come from one source file
    (``piece``: which ``piece_rows`` of that file's rows in the table they belong to, see ``file_pieces``)."""

    source_id: str
    landing_path: str
    part: str   # the part's relpath in the zone
    start: int
    stop: int
    piece: int = 0

    @property
    def rows(self) -> int:
        return self.stop - self.start


def file_runs(lake: Lake, table: str, zone: str = SOURCE_ZONE) -> list[FileRun]:
    """The purified (or sanitized: same rows, same order) table, part by part, cut where the source file
    changes (reads two columns); a table without those columns gives one run per part."""
    runs: list[FileRun] = []
    provenance = {"source_id", "landing_path"} <= set(lake.table_columns(zone, table))
    for part, rows in lake.table_part_rows(zone, table):
        if not rows:
            continue
        if not provenance:
            runs.append(FileRun("", "", part, 0, rows))
            continue
        frame = pl.from_arrow(lake.read_parquet(zone, part, columns=["source_id", "landing_path"]))
        change = (frame.get_column("source_id") != frame.get_column("source_id").shift(1)) | \
            (frame.get_column("landing_path") != frame.get_column("landing_path").shift(1))
        starts = change.fill_null(True).arg_true().to_list()
        stops = [*starts[1:], frame.height]
        runs += [FileRun(frame["source_id"][a], frame["landing_path"][a], part, a, b)
                 for a, b in zip(starts, stops, strict=True)]
    return runs


def file_pieces(runs: list[FileRun], piece_rows: int) -> list[list[FileRun]]:
    """The runs regrouped into pieces, the units shards are made of: a source file's rows in the table cut every
    ``piece_rows`` rows, counted across the parts the file spans, so a worker holds at most a piece per shard
    whatever the size of the largest file; a piece is the runs (one, or the ends of two parts) holding its rows.
    A piece is numbered within its file (its analysis memo is its own: no two workers write one memo)."""
    pieces: list[list[FileRun]] = []
    seen: dict[tuple[str, str], int] = {}  # rows of each file met so far
    for run in runs:
        key = (run.source_id, run.landing_path)
        offset, start = seen.get(key, 0), run.start
        while start < run.stop:
            number = offset // piece_rows
            take = min(run.stop - start, (number + 1) * piece_rows - offset)
            cut = FileRun(run.source_id, run.landing_path, run.part, start, start + take, number)
            last = pieces[-1][-1] if pieces else None
            if last and (last.source_id, last.landing_path, last.piece) == (*key, number):
                pieces[-1].append(cut)
            else:
                pieces.append([cut])
            start, offset = start + take, offset + take
        seen[key] = offset
    return pieces


def shard_pieces(lake: Lake, table: str, engine, zone: str = SOURCE_ZONE) -> list[list[FileRun]]:
    """The table's runs for each shard of the engine: its pieces (``file_pieces``) cut into the engine's shards."""
    from ..engines import shard_runs

    pieces = file_pieces(file_runs(lake, table, zone), engine.piece_rows)
    return [[run for piece in group for run in piece]
            for group in shard_runs(pieces, engine, lambda piece: sum(run.rows for run in piece)) if group]


def read_runs(lake: Lake, table: str, runs: list[FileRun], zone: str = SOURCE_ZONE) -> pl.DataFrame:
    """The rows of a shard's runs, in order: per part, one read of the row groups that hold its runs."""
    from itertools import groupby

    frames = [pl.from_arrow(lake.read_rows(zone, part, group[0].start, group[-1].stop))
              for part, group in ((p, list(g)) for p, g in groupby(runs, key=lambda run: run.part))]
    return pl.concat(frames, how="vertical_relaxed")


def memo_path(table: str, source_id: str, landing_path: str, piece: int = 0) -> str:
    """The analysis memo of a source file's piece: in the private purified zone, beside the texts it was made
    from, named by a digest of the file's name (the name itself may be personal) and the piece's number."""
    name = hashlib.sha256((f"{source_id}\x00{landing_path}" + (f"\x00{piece}" if piece else "")).encode()) \
        .hexdigest()[:24]
    return f"{MEMO_FOLDER}/{table}/{name}.parquet"


class StatsShard:
    def __init__(self, lake_root: str, table: str, config: SanitationConfig) -> None:
        self.lake, self.table, self.config = Lake(lake_root), table, config

    def __call__(self, shard: dict) -> ColumnStats:
        from waterworks.governance.pii.column_plan import table_stats

        plan = self.config.records if self.table == "records" else self.config.documents
        return table_stats(read_runs(self.lake, self.table, shard["runs"]), plan.how)


class Counts:
    """What a shard's result and the table's report both count, added up by ``absorb``."""

    rows: int
    texts: int
    texts_changed: int
    by_type: Counter
    columns: dict[str, dict[str, str]]
    texts_remembered: int
    texts_analyzed: int

    def absorb(self, other: Counts) -> None:
        self.rows += other.rows
        self.texts += other.texts
        self.texts_changed += other.texts_changed
        self.by_type.update(other.by_type)
        for source, handled in other.columns.items():
            self.columns.setdefault(source, {}).update(handled)
        self.texts_remembered += other.texts_remembered
        self.texts_analyzed += other.texts_analyzed


@dataclass
class RedactResult(Counts):
    index: int
    rows: int = 0
    texts: int = 0
    texts_changed: int = 0
    by_type: Counter = field(default_factory=Counter)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    ledger: list[dict] = field(default_factory=list)
    replaced: set[tuple[str, str]] = field(default_factory=set)  # values: private, never written
    texts_remembered: int = 0
    texts_analyzed: int = 0
    seconds: float = 0.0
    node: str = "local"  # where it ran (a Ray node id)


class RedactShard:
    """``redactor``: one built by the caller, in this process only (tests); else one per worker. ``processes``:
    the analyzer's own process pool (1 on a Ray worker: the cluster is the parallelism)."""

    def __init__(self, lake_root: str, table: str, config: SanitationConfig, engine: EngineConfig | None,
                 boundary: Boundary | None, columns: ColumnPlan, remember: bool, processes: int | None = None,
                 redactor=None) -> None:
        from .sanitize import make_redactor

        self.lake, self.table, self.config, self.engine = Lake(lake_root), table, config, engine
        self.boundary, self.columns = boundary, columns
        self.remember = remember and redactor is None
        self.redactor = redactor or make_redactor(config, engine, None, boundary.key if boundary else None,
                                                  processes=processes)
        key = boundary.key if boundary else self.redactor.key
        self.replaced = self.redactor.collect_replaced() if key is not None else None

    def __call__(self, shard: dict) -> RedactResult:
        from .sanitize import SanitizeReport, load_memo, sanitize_frame, save_memo

        started = time.perf_counter()
        result = RedactResult(shard["index"])
        plan = self.config.records if self.table == "records" else self.config.documents
        memos: dict[tuple[str, str, int], object] = {}
        parts, previous_memo = [], self.redactor.batch.memo
        frame, offset = read_runs(self.lake, self.table, shard["runs"]), 0
        for run in shard["runs"]:
            rows = frame.slice(offset, run.rows)
            offset += run.rows
            if self.remember:
                key = (run.source_id, run.landing_path, run.piece)
                if key not in memos:
                    memos[key] = load_memo(self.lake, memo_path(self.table, *key), self.engine)
                self.redactor.batch.memo = memos[key]
            report = SanitizeReport(self.table, "")
            sanitized, ledger = sanitize_frame(rows, self.table, plan, self.redactor, report, self.boundary,
                                               self.columns)
            parts.append(sanitized)
            report.rows = rows.height
            result.absorb(report)
            result.ledger += ledger
        self.redactor.batch.memo = previous_memo
        for key, memo in memos.items():
            save_memo(self.lake, memo_path(self.table, *key), memo)
            result.texts_remembered += memo.texts_remembered
            result.texts_analyzed += memo.texts_analyzed
        if parts:  # the shard's part of the new sanitized table (committed by the driver once all are written)
            self.lake.write_part(SANITIZED_ZONE, self.table, shard["generation"], result.index,
                                 pl.concat(parts, how="vertical").to_arrow())
        if self.replaced is not None:
            result.replaced = set(self.replaced)
            self.replaced.clear()
        result.seconds, result.node = time.perf_counter() - started, worker_node()
        return result


class IndexShard:
    """The subject index of a shard's rows, written by the worker as the shard's part of the index table
    (``purified/subject_index/<table>/``), in the rows' order, then by hash: the parts in shard order are the
    same table for any sharding, and no index row passes the driver. Returns the part's row count."""

    def __init__(self, lake_root: str, table: str, replaced: set[tuple[str, str]], secret: bytes,
                 generation: str) -> None:
        self.lake, self.table, self.replaced, self.secret = Lake(lake_root), table, replaced, secret
        self.generation = generation

    def __call__(self, shard: dict) -> int:
        from waterworks.governance.subjects import build_index

        from .sanitize import ID_COLUMN, INDEX_FOLDER

        frame = read_runs(self.lake, self.table, shard["runs"])
        ids = frame.get_column(ID_COLUMN[self.table])
        index = build_index(frame, self.table, ID_COLUMN[self.table], self.replaced, self.secret)
        if index.height == 0:
            return 0
        position = pl.DataFrame({"row_id": ids, "_row": pl.int_range(len(ids), eager=True)})
        index = index.join(position, on="row_id", how="left").sort(["_row", "subject_hash"]).drop("_row")
        self.lake.write_part(SOURCE_ZONE, f"{INDEX_FOLDER}/{self.table}", self.generation, shard["index"],
                             index.to_arrow())
        return index.height
