"""Checks on the written sanitation outputs, read back from the lake: residual PII by independent detectors —
identifiers, phones and e-mails by regular expressions and check digits (governance/pii/residual.py), names and
addresses by another NER model and the learned detector at a lower threshold (residual_names.py) — and rows
in = rows out. Metadata: counts by type and row ids, never values."""

from __future__ import annotations

import re

import polars as pl

from waterworks.governance.pii.json_fields import keys, leaves, parse_json
from waterworks.governance.pii.residual import ResidualReport
from waterworks.governance.pii.residual_names import NameScanConfig, residual_names

from ..engines import Engine, LocalEngine
from ..lake import Lake
from .config import ResidualConfig
from .sanitize import ID_COLUMN, SOURCE_ZONE, ZONE
from .shards import read_runs, shard_pieces

EXAMPLE_IDS = 10


def residual_scan(lake: Lake, table: str, names: NameScanConfig | None = None,
                  engine: Engine | None = None) -> ResidualReport:
    """Every text column that leaves the private zone: kept ids, provenance and enumerations included (a kept
    column is where a planner's mistake would hide). Sharded like sanitation (runs of source files of the
    sanitized table, on the engine's workers, where the name models load once), the counts added up."""
    engine = engine or LocalEngine()
    # pieces of source files (a table without provenance columns: a run per part, cut into pieces)
    shards = [{"runs": runs} for runs in shard_pieces(lake, table, engine, ZONE)]
    report = ResidualReport()
    for part in engine.map(ResidualShard, (lake.root, table, names), shards):
        report.absorb(part)
    return report


class ResidualShard:
    def __init__(self, lake_root: str, table: str, names: NameScanConfig | None) -> None:
        self.lake, self.table, self.names = Lake(lake_root), table, names

    def __call__(self, shard: dict) -> ResidualReport:
        return _scan(read_runs(self.lake, self.table, shard["runs"], ZONE), ID_COLUMN[self.table], self.names)


def _scan(frame: pl.DataFrame, id_column: str, names: NameScanConfig | None) -> ResidualReport:
    report = ResidualReport()
    ids = frame.get_column(id_column).to_list()
    scanned: list[tuple[str, str, str]] = []
    for column, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        for row_id, value in zip(ids, frame.get_column(column).to_list(), strict=True):
            if value:
                report.add(row_id, column, value)
                scanned.append((row_id, column, value))
    if names is not None:
        # A JSON value is read leaf by leaf, keys included (its nulls and punctuation are not text).
        texts = {value: _text_leaves(value) for *_, value in scanned}
        distinct = list(dict.fromkeys(t for leaves in texts.values() for t in leaves))
        found = dict(zip(distinct, residual_names(distinct, names), strict=True))
        for row_id, column, value in scanned:
            report.add_names(row_id, column, [e for t in texts[value] for e in found[t]])
    return report


# A whole value that is one printable-ASCII token (a path, a language tag, a hash, a code) is not read for
# names: the name models see "t.jsonl" or "zh-Hans" as a name. Error mode: a bare one-word Latin name as a whole
# column value; the pattern rescan still reads it, and JSON leaves are always read.
_CODE_LIKE = re.compile(r"[!-~]+")


def _text_leaves(value: str) -> list[str]:
    """The texts of a value: itself, or for JSON its string leaves and its keys (keys can hold names too)."""
    node = parse_json(value)
    if node is None:
        return [] if _CODE_LIKE.fullmatch(value) else [value]
    return [leaf for _, _, leaf in leaves(node) if isinstance(leaf, str) and leaf.strip()] + \
        [key for key in dict.fromkeys(keys(node)) if key.strip()]


def check_residual(lake: Lake, table: str, config: ResidualConfig, pseudonyms: bool = False,
                   detector: str | None = None, engine: Engine | None = None) -> tuple[bool, dict]:
    names = NameScanConfig(threshold=config.name_threshold, english_ner=config.english_ner, detector=detector,
                           pseudonyms=pseudonyms) if config.names else None
    report = residual_scan(lake, table, names, engine)
    examples = sorted(report.rows)[:EXAMPLE_IDS]
    passed = report.total <= config.max_findings and report.name_share <= config.max_name_share
    return passed, {
        "residual_findings": report.total,
        "max_findings": config.max_findings,
        "values_scanned": report.values_scanned,
        "by_type": ", ".join(f"{k}={v}" for k, v in sorted(report.by_type.items())) or "none",
        "residual_names_by_type": ", ".join(f"{k}={v}" for k, v in sorted(report.names_by_type.items()))
        or ("none" if names else "not scanned"),
        "values_with_residual_names": report.values_with_names,
        "residual_name_share": round(report.name_share, 5),
        "max_name_share": config.max_name_share,
        "example_rows": "; ".join(f"{r} ({', '.join(sorted(report.rows[r]))})" for r in examples) or "none",
    }


def check_rows_kept(lake: Lake, table: str) -> tuple[bool, dict]:
    rows_in, rows_out = lake.table_rows(SOURCE_ZONE, table), lake.table_rows(ZONE, table)
    return rows_in == rows_out, {"rows_purified": rows_in, "rows_sanitized": rows_out}
