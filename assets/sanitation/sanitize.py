"""The sanitation stage as plain functions: purified tables in, sanitized tables and an audit ledger out.

Each table is handled per source (a column's type is decided per source: the same canonical column may hold
mainland IDs in one source and Taiwan IDs in another) and column by column as the config says (declared /
text / json / keep / auto, see sanitation.yaml). The ledger (``sanitized/ledger/<table>.parquet``) has one row
per (source file or document, column, entity type, detector, score band, mode) with a count and the operator:
never a value. Records are ledgered per source file and column, documents per document and column.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from waterworks.governance.ledger import ledger_frame, ledger_rows
from waterworks.governance.pii.column_plan import ValueDecisions

from ..engines import Engine, LocalEngine
from ..lake import Lake
from ..purification.normalize import convert_chinese
from ..yaml_config import config_hash
from .config import SanitationConfig, TablePlan
from .shards import MEMO_FOLDER, Counts, IndexShard, RedactShard, StatsShard, memo_path, shard_pieces

if TYPE_CHECKING:  # the engine (spaCy, Presidio) loads when a table is sanitized, not when the code location loads
    from waterworks.governance.pii.column_plan import ColumnPlan
    from waterworks.governance.pii.engine import EngineConfig
    from waterworks.governance.pii.memo import AnalysisMemo
    from waterworks.governance.pii.operators import PseudonymKey
    from waterworks.governance.pii.redact import Redactor
    from waterworks.governance.policy import Policy, SanitizedRule

ZONE = "sanitized"
SOURCE_ZONE = "purified"
ID_COLUMN = {"records": "record_id", "documents": "doc_id"}
INDEX_FOLDER = "subject_index"
PLAN_FOLDER = "sanitation_plan"

@dataclass
class SanitizeReport(Counts):
    table: str
    config_hash: str
    rows: int = 0
    texts: int = 0
    texts_changed: int = 0
    by_type: Counter = field(default_factory=Counter)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # source → column → how it was handled
    ledger_rows: int = 0
    texts_remembered: int = 0  # distinct texts whose findings came from the memo of an earlier run
    texts_analyzed: int = 0    # distinct texts the analyzer ran on
    seconds: dict[str, float] = field(default_factory=dict)
    uri: str | None = None
    ledger_uri: str | None = None
    index_rows: int = 0  # rows of the subject index (keyed hashes → row ids) written for this table
    shards: int = 0
    engine: str = "local"
    nodes: list[str] = field(default_factory=list)  # the workers' nodes (Ray node ids; "local")


def make_redactor(config: SanitationConfig, engine: EngineConfig | None = None,
                  memo: AnalysisMemo | None = None, key: PseudonymKey | None = None,
                  processes: int | None = None) -> Redactor:
    from waterworks.governance.pii.batch import BatchOptions
    from waterworks.governance.pii.redact import Redactor

    options = BatchOptions(config.batch.batch_size, processes or config.batch.n_process,
                           config.batch.min_texts_per_process)
    return Redactor(engine, config.language, config.operator, key=key, options=options, memo=memo)


def load_memo(lake: Lake, relpath: str, engine: EngineConfig | None) -> AnalysisMemo:
    """The findings remembered at ``relpath`` from the last run; empty when there are none or the analyzer
    changed since (another fingerprint)."""
    from waterworks.governance.pii.engine import EngineConfig
    from waterworks.governance.pii.memo import AnalysisMemo, fingerprint

    current = fingerprint(engine or EngineConfig())
    stored = lake.parquet_metadata(SOURCE_ZONE, relpath)
    table_data = lake.read_parquet(SOURCE_ZONE, relpath) if stored and stored.get("fingerprint") == current else None
    return AnalysisMemo.from_table(current, table_data)


def save_memo(lake: Lake, relpath: str, memo: AnalysisMemo) -> None:
    lake.write_parquet(SOURCE_ZONE, relpath, memo.to_table(), {"stage": "sanitation", "fingerprint": memo.fingerprint})


def index_table(table: str) -> str:
    """The subject index of a table: in the private purified zone, keyed hashes of the values each row holds; a
    table of parts (one per shard, written by its worker), in the table's row order, then by hash."""
    return f"{INDEX_FOLDER}/{table}"


def index_schema():
    from waterworks.governance.subjects import INDEX_SCHEMA

    return pl.DataFrame(schema={name: getattr(pl, dtype) for name, dtype in INDEX_SCHEMA.items()}).to_arrow().schema


@dataclass(frozen=True)
class Boundary:
    """What crosses into the sanitized zone besides redacted values: identifier columns as keyed pseudonyms
    (``key``), and per classification the policy's rule for personal attributes and free text."""

    key: PseudonymKey | None = None
    policy: Policy | None = None

    def rule(self, classification: str | None) -> SanitizedRule:
        from waterworks.governance.policy import SanitizedRule

        if self.policy is None or classification is None:
            return SanitizedRule()
        return self.policy.sanitized_rule(classification)


def _identifier_tokens(values: list, key: PseudonymKey | None, column: str) -> list:
    from waterworks.governance.pii.operators import PseudonymKeyMissing, identifier_token

    if key is None:
        raise PseudonymKeyMissing(f"column {column!r} is an identifier: its keyed pseudonyms need a key "
                                  "(WATERWORKS_PSEUDONYM_KEY)")
    tokens: dict[str, str] = {}
    return [None if v is None or not str(v).strip() else tokens.setdefault(str(v), identifier_token(key, str(v)))
            for v in values]


def apply_rule(part: pl.DataFrame, plan: TablePlan, rule: SanitizedRule) -> tuple[pl.DataFrame, dict[str, str]]:
    """The classification's rule on one source's sanitized rows: free text dropped, personal attributes
    generalized or dropped. Returns the rows and how each affected column was handled."""
    from waterworks.governance.generalize import generalize_frame

    handled: dict[str, str] = {}
    if rule.text == "drop":
        dropped = [c for c in [*plan.text, plan.simplified_body] if c and c in part.columns]
        part = part.with_columns(pl.lit(None, dtype=part.schema[c]).alias(c) for c in dropped)
        handled |= {c: "dropped (policy)" for c in dropped}
    attributes = [c for c in plan.attributes if c in part.columns]
    if rule.attributes == "drop":
        part = part.with_columns(pl.lit(None, dtype=part.schema[c]).alias(c) for c in attributes)
        handled |= {c: "dropped (policy)" for c in attributes}
    elif rule.attributes == "generalize":
        part = generalize_frame(part, attributes, plan.json_)
        handled |= {c: "generalized (policy)" for c in attributes}
    return part, handled


def sanitize_frame(frame: pl.DataFrame, table: str, plan: TablePlan, redactor: Redactor,
                   report: SanitizeReport, boundary: Boundary | None = None,
                   columns: ColumnPlan | None = None) -> tuple[pl.DataFrame, list[dict]]:
    """Redact one table (or a shard of it), source by source; identifiers become keyed pseudonyms and each
    source's classification rule applies. ``columns``: the table's column plan (how a column's values are typed
    is then decided for the whole table, not from these rows). Returns the sanitized frame (same rows, order
    and columns) and ledger rows."""
    from waterworks.governance.pii.redact import Findings

    boundary = boundary or Boundary(key=redactor.key)

    id_column = ID_COLUMN[table]
    parts, ledger = [], []
    for (source_id,), part in frame.group_by(["source_id"], maintain_order=True):
        labels = part.get_column("landing_path" if table == "records" else id_column).to_list()
        tally = Findings()
        updates = []
        classification = part.get_column("classification")[0] if "classification" in part.columns else None
        if columns is not None:
            redactor.decisions = columns.for_source(source_id)
        for column in part.columns:
            how = plan.how(column)
            if how in ("keep", "derived") or part.schema[column] != pl.String:
                continue
            values = part.get_column(column).to_list()
            if how == "identifier":
                tally.columns[column] = "identifier (keyed pseudonym)"
                new = _identifier_tokens(values, boundary.key, column)
                if redactor.replaced is not None:
                    redactor.replaced.update(("IDENTIFIER", str(v)) for v in values if v is not None)
            elif how == "declared":
                new = redactor.redact_column(values, column, labels, tally, declared=plan.declared[column])
            elif how == "text":
                tally.columns[column] = "text"
                new = redactor.redact_texts(values, column, labels, tally)
            elif how == "json":
                tally.columns[column] = "json"
                new = redactor.redact_json(values, column, labels, tally)
            else:
                new = redactor.redact_column(values, column, labels, tally)
            if new != values:
                updates.append(pl.Series(column, new, dtype=pl.String))
        part = part.with_columns(updates) if updates else part
        part, handled = apply_rule(part, plan, boundary.rule(classification))
        tally.columns.update(handled)
        if plan.simplified_body and plan.simplified_body in part.columns and plan.simplified_conversion:
            derived = pl.col(plan.simplified_body)
            part = part.with_columns(pl.when(derived.is_not_null())
                                     .then(convert_chinese(pl.col(plan.simplified_source),
                                                           plan.simplified_conversion))
                                     .alias(plan.simplified_body))
        parts.append(part)
        report.texts += tally.texts
        report.texts_changed += tally.texts_with_pii
        report.by_type.update(tally.by_type)
        report.columns[source_id] = dict(tally.columns)
        landing = dict(zip(part.get_column(id_column).to_list(), part.get_column("landing_path").to_list(),
                           strict=True)) if table == "documents" else None
        ledger += ledger_rows(table, source_id, tally.ledger, redactor.operator, landing)
    if columns is not None:
        redactor.decisions = ValueDecisions()
    out = pl.concat(parts, how="vertical") if parts else frame
    return out.select(frame.columns), ledger


def decide_columns(lake: Lake, table: str, config: SanitationConfig, shards: list[dict], sharding: Engine,
                   redactor: Redactor) -> ColumnPlan:
    """The table's column plan from the shards' merged summaries (the samples are analyzed here, once), persisted
    without any value in ``purified/sanitation_plan/<table>.json``."""
    from waterworks.governance.pii.column_plan import ColumnStats, decide_plan

    plan = config.records if table == "records" else config.documents
    stats = ColumnStats()
    for part in sharding.map(StatsShard, (lake.root, table, config), shards):
        stats.merge(part)
    columns = decide_plan(stats, plan.how, redactor.analyze)
    lake.write_bytes(SOURCE_ZONE, plan_path(table), json.dumps(columns.describe(), ensure_ascii=False, indent=1,
                                                               sort_keys=True).encode())
    return columns


def plan_path(table: str) -> str:
    return f"{PLAN_FOLDER}/{table}.json"


def merge_ledgers(rows: list[dict], table: str) -> pl.DataFrame:
    """The shards' ledger rows as one ledger: rows of one file split over shards added up, in a fixed order
    (source, file or document, field, type, detector, band, mode)."""
    frame = ledger_frame(rows)
    keys = [c for c in frame.columns if c != "count"]
    label = "doc_id" if table == "documents" else "landing_path"
    order = ["source_id", label, "field", "entity_type", "detector", "score_band", "mode"]
    return (frame.group_by(keys, maintain_order=True).agg(pl.col("count").sum())
            .select(frame.columns).sort(order, nulls_last=True, maintain_order=True))


def sanitize_table(lake: Lake, table: str, config: SanitationConfig, engine: EngineConfig | None = None,
                   redactor: Redactor | None = None, remember: bool = True,
                   boundary: Boundary | None = None, sharding: Engine | None = None) -> SanitizeReport:
    """The table ``purified/<table>`` → ``sanitized/<table>`` (each shard's worker writes its part) +
    ``sanitized/ledger/<table>.parquet``
    (+ the subject index when there is a pseudonym key).

    Sharded (``sharding``: the local engine by default, or Ray): the column plan is decided from all shards'
    summaries, each shard is redacted under it, the subject index is built over every replaced value; the
    tables are the same for any engine and number of shards. With ``remember`` (and no ``redactor`` given),
    the analyzer's findings are remembered per text and source file in ``purified/analysis_memo/<table>/``:
    the next run analyzes only texts it has not seen, with output identical to a run from scratch."""
    sharding = sharding or LocalEngine()
    if redactor is not None and sharding.name != "local":
        raise ValueError("a redactor built by the caller runs in this process only (local engine)")
    report = SanitizeReport(table, config_hash(config))
    started = time.perf_counter()
    generation = lake.new_generation()
    shards = [{"index": i, "runs": runs, "generation": generation}
              for i, runs in enumerate(shard_pieces(lake, table, sharding))]
    lake.delete(SOURCE_ZONE, f"{MEMO_FOLDER}/{table}.parquet")  # the memo of one file per table, before shards
    key = boundary.key if boundary else (redactor.key if redactor else None)
    planner = redactor or make_redactor(config, engine, None, key)
    columns = decide_columns(lake, table, config, shards, sharding, planner)
    report.seconds["column_plan"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    processes = 1 if sharding.name == "ray" else None
    results = sharding.map(RedactShard, (lake.root, table, config, engine, boundary, columns, remember, processes,
                                         redactor), shards)
    report.seconds["redact"] = round(time.perf_counter() - started, 2)
    if remember and redactor is None:
        _prune_memos(lake, table, shards)
    replaced: set[tuple[str, str]] = set()
    ledger: list[dict] = []
    for result in results:
        report.absorb(result)
        ledger += result.ledger
        replaced |= result.replaced
        result.replaced = set()
    secret = key.secret if key is not None else (planner.key.secret if planner.key is not None else None)
    if secret is not None:
        started = time.perf_counter()
        index_generation = lake.new_generation()
        rows = sharding.map(IndexShard, (lake.root, table, replaced, secret, index_generation), shards)
        replaced.clear()
        lake.commit_table(SOURCE_ZONE, index_table(table), index_generation, index_schema(), {"stage": "sanitation"})
        lake.delete(SOURCE_ZONE, f"{INDEX_FOLDER}/{table}.parquet")  # the index as one file (before parts)
        report.index_rows = sum(rows)
        report.seconds["subject_index"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    meta = {"stage": "sanitation", "config_hash": report.config_hash, "operator": config.operator}
    written = lake.list_parquet(ZONE, f"{table}/{generation}/")
    schema = (lake.schema(ZONE, written[0]) if written else
              lake.schema(SOURCE_ZONE, lake.table_parts(SOURCE_ZONE, table)[0])).remove_metadata()
    report.uri = lake.commit_table(ZONE, table, generation, schema, meta)
    ledger_table = merge_ledgers(ledger, table)
    report.ledger_uri = lake.write_parquet(ZONE, f"ledger/{table}.parquet", ledger_table.to_arrow(), meta)
    report.ledger_rows = ledger_table.height
    report.shards, report.engine = len(shards), sharding.name
    report.nodes = sorted({r.node for r in results})
    report.seconds["write"] = round(time.perf_counter() - started, 2)
    return report


def _prune_memos(lake: Lake, table: str, shards: list[dict]) -> None:
    """The memos of pieces this run no longer has (a file gone, or now cut into fewer pieces)."""
    current = {memo_path(table, run.source_id, run.landing_path, run.piece) for shard in shards for run in shard["runs"]}
    for relpath in lake.list_files(SOURCE_ZONE, f"{MEMO_FOLDER}/{table}/"):
        if relpath not in current:
            lake.delete(SOURCE_ZONE, relpath)
