"""Checks on the written sanitation outputs, read back from the lake: residual PII by an independent,
stricter detector (governance/pii/residual.py), and rows in = rows out. Metadata: counts by type and row
ids, never values."""

from __future__ import annotations

import polars as pl

from governance.pii.residual import ResidualReport

from ..lake import Lake
from .sanitize import ID_COLUMN, SOURCE_ZONE, ZONE

EXAMPLE_IDS = 10


def residual_scan(lake: Lake, table: str, skip: list[str] = ()) -> ResidualReport:
    """Every text column but ``skip`` (the config's ``keep`` columns: ids, provenance, enumerations)."""
    frame = pl.from_arrow(lake.read_parquet(ZONE, f"{table}.parquet"))
    id_column = ID_COLUMN[table]
    report = ResidualReport()
    ids = frame.get_column(id_column).to_list()
    for column, dtype in frame.schema.items():
        if dtype != pl.String or column in skip:
            continue
        for row_id, value in zip(ids, frame.get_column(column).to_list(), strict=True):
            if value:
                report.add(row_id, column, value)
    return report


def check_residual(lake: Lake, table: str, max_findings: int, skip: list[str] = ()) -> tuple[bool, dict]:
    report = residual_scan(lake, table, skip)
    examples = sorted(report.rows)[:EXAMPLE_IDS]
    return report.total <= max_findings, {
        "residual_findings": report.total,
        "max_findings": max_findings,
        "values_scanned": report.values_scanned,
        "columns_not_scanned": ", ".join(skip) or "none",
        "by_type": ", ".join(f"{k}={v}" for k, v in sorted(report.by_type.items())) or "none",
        "example_rows": "; ".join(f"{r} ({', '.join(sorted(report.rows[r]))})" for r in examples) or "none",
    }


def check_rows_kept(lake: Lake, table: str) -> tuple[bool, dict]:
    rows_in, rows_out = lake.row_count(SOURCE_ZONE, f"{table}.parquet"), lake.row_count(ZONE, f"{table}.parquet")
    return rows_in == rows_out, {"rows_purified": rows_in, "rows_sanitized": rows_out}
