"""Check on a written dataset version: the independent residual detector rescans every text it holds (all
splits), so that nothing the sanitation stage missed can slip into training. Counts and example ids only."""

from __future__ import annotations

import json

import polars as pl

from waterworks.governance.pii.residual import ResidualReport

from ..lake import Lake
from .canaries import SOURCE_ID as CANARY_SOURCE
from .splits import SPLITS
from .store import ZONE, read_split

TEXT_COLUMNS = ("text", "messages")
RESIDUAL_FILE = "residual_scan.json"  # the result, kept beside the version it describes (the reports read it)


def residual_scan(lake: Lake, name: str, version: str) -> ResidualReport:
    """Every text but the stage's own canaries (random secrets it planted on purpose, canaries.py)."""
    report = ResidualReport()
    for split in SPLITS:
        frame = read_split(lake, name, split, version)
        if "source_id" in frame.columns:
            frame = frame.filter(pl.col("source_id") != CANARY_SOURCE)
        for column in (c for c in TEXT_COLUMNS if c in frame.columns):
            for example_id, value in zip(frame["example_id"], frame[column], strict=True):
                if not value:
                    continue
                if column == "messages":  # scan the contents, not the JSON escaping
                    value = "\n".join(m["content"] for m in json.loads(value))
                report.add(example_id, column, value)
    return report


def check_dataset_residual(lake: Lake, name: str, version: str, max_findings: int = 0) -> tuple[bool, dict]:
    report = residual_scan(lake, name, version)
    return report.total <= max_findings, {
        "residual_findings": report.total, "max_findings": max_findings, "values_scanned": report.values_scanned,
        "by_type": ", ".join(f"{k}={v}" for k, v in sorted(report.by_type.items())) or "none",
        "example_ids": ", ".join(sorted(report.rows)[:10]) or "none"}


def record_residual(lake: Lake, name: str, version: str, passed: bool, meta: dict) -> None:
    lake.write_bytes(ZONE, f"{name}/{version}/{RESIDUAL_FILE}",
                     json.dumps({"passed": passed, **meta}, indent=1, sort_keys=True).encode())


def residual_result(lake: Lake, name: str, version: str) -> dict:
    """The residual rescan of one dataset version: as the dataset asset recorded it, else scanned now."""
    relpath = f"{name}/{version}/{RESIDUAL_FILE}"
    if lake.exists(ZONE, relpath):
        return json.loads(lake.read_bytes(ZONE, relpath))
    passed, meta = check_dataset_residual(lake, name, version)
    return {"passed": passed, **meta}
