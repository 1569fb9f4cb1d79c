"""Checks on the written purification outputs, read back from the lake (not from memory): schema and
accounting (raw rows in = rows out + rows dropped). Plain functions returning (passed, metadata)."""

from __future__ import annotations

import polars as pl

from ..lake import Lake
from .canonical import raw_files
from .purify import EXCLUDED_COLUMNS, ZONE


def check_schema(lake: Lake, table: str, schema: dict) -> tuple[bool, dict]:
    """Every part of the table and of its excluded rows has exactly the canonical columns and types."""
    problems = []
    for name, expected in ((table, schema), (f"excluded/{table}", {**schema, **EXCLUDED_COLUMNS})):
        if not lake.table_exists(ZONE, name):
            problems.append(f"{name}: missing")
            continue
        for part in lake.table_parts(ZONE, name):
            actual = pl.from_arrow(lake.schema(ZONE, part).empty_table()).schema
            if list(actual) != list(expected):
                problems.append(f"{part}: columns {list(actual)} != {list(expected)}")
            problems += [f"{part}: {column} is {actual[column]}, expected {dtype}"
                         for column, dtype in expected.items() if column in actual and actual[column] != dtype]
    return not problems, {"problems": "; ".join(problems) or "none"}


def check_accounting(lake: Lake, table: str, sources: list[str]) -> tuple[bool, dict]:
    rows_in = sum(lake.row_count("raw", raw.lake_relpath) for source in sources for raw in raw_files(lake, source))
    rows_out = sum(lake.row_count(ZONE, part) for part in lake.table_parts(ZONE, table))  # the parts' own footers
    excluded = pl.from_arrow(lake.read_table(ZONE, f"excluded/{table}", columns=["drop_reason"])) \
        if lake.table_exists(ZONE, f"excluded/{table}") else pl.DataFrame({"drop_reason": []}, schema={"drop_reason": pl.String})
    by_reason = dict(excluded.group_by("drop_reason").len().sort("drop_reason").iter_rows())
    unexplained = excluded.get_column("drop_reason").null_count()
    balanced = rows_in == rows_out + excluded.height and unexplained == 0
    return balanced, {"rows_in_raw": rows_in, "rows_out": rows_out, "rows_dropped": excluded.height,
                      "dropped_without_reason": unexplained,
                      "dropped_by_reason": ", ".join(f"{k}={v}" for k, v in by_reason.items()) or "none"}
