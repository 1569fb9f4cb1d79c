"""Checks on the written purification outputs, read back from the lake (not from memory): schema and
accounting (raw rows in = rows out + rows dropped). Plain functions returning (passed, metadata)."""

from __future__ import annotations

import polars as pl

from ..lake import Lake
from .canonical import raw_files
from .purify import EXCLUDED_COLUMNS, ZONE


def check_schema(lake: Lake, table: str, schema: dict) -> tuple[bool, dict]:
    problems = []
    for relpath, expected in ((f"{table}.parquet", schema), (f"excluded/{table}.parquet",
                                                                {**schema, **EXCLUDED_COLUMNS})):
        if not lake.exists(ZONE, relpath):
            problems.append(f"{relpath}: missing")
            continue
        actual = pl.from_arrow(lake.read_parquet(ZONE, relpath).slice(0, 0)).schema
        if list(actual) != list(expected):
            problems.append(f"{relpath}: columns {list(actual)} != {list(expected)}")
        problems += [f"{relpath}: {name} is {actual[name]}, expected {dtype}" for name, dtype in expected.items()
                     if name in actual and actual[name] != dtype]
    return not problems, {"problems": "; ".join(problems) or "none"}


def check_accounting(lake: Lake, table: str, sources: list[str]) -> tuple[bool, dict]:
    rows_in = sum(lake.row_count("raw", raw.lake_relpath) for source in sources for raw in raw_files(lake, source))
    rows_out = lake.row_count(ZONE, f"{table}.parquet")
    excluded = pl.from_arrow(lake.read_parquet(ZONE, f"excluded/{table}.parquet").select(["drop_reason"])) \
        if lake.exists(ZONE, f"excluded/{table}.parquet") else pl.DataFrame({"drop_reason": []}, schema={"drop_reason": pl.String})
    by_reason = dict(excluded.group_by("drop_reason").len().sort("drop_reason").iter_rows())
    unexplained = excluded.get_column("drop_reason").null_count()
    balanced = rows_in == rows_out + excluded.height and unexplained == 0
    return balanced, {"rows_in_raw": rows_in, "rows_out": rows_out, "rows_dropped": excluded.height,
                      "dropped_without_reason": unexplained,
                      "dropped_by_reason": ", ".join(f"{k}={v}" for k, v in by_reason.items()) or "none"}
