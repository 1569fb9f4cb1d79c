"""Generalization of personal attributes (a salary, a hire date, a department) for the classifications whose
policy says so: what remains describes a group, not a person.

- numbers keep one significant digit (23456 → 20000, 0.0347 → 0.03), numbers written as text too;
- dates and times keep the month (2021-03-17 → 2021-03-01; an ISO date string → ``2021-03``);
- strings are kept only where at least ``min_group`` rows share the value at that place (k-anonymity on one
  attribute at a time), else they become null.

Applied to JSON columns leaf by leaf (same path = same attribute) and to numeric and temporal columns. Plain
code, no Dagster.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

import polars as pl

MIN_GROUP = 5
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-\d{2}([T ][0-9:.+\-Z]*)?$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # a number written as text (spreadsheets export every cell as a string)


def one_significant_digit(value: float | int) -> float | int:
    if value == 0 or not math.isfinite(value):
        return value
    magnitude = 10 ** math.floor(math.log10(abs(value)))
    rounded = math.floor(abs(value) / magnitude) * magnitude * (1 if value > 0 else -1)
    if isinstance(value, int):
        return int(rounded)
    return float(f"{rounded:.1g}") if magnitude < 1 else float(rounded)


def _walk(node: Any, path: str = ""):
    """(path, container, key) for every leaf of a JSON document; iterative, so no depth is too deep."""
    stack = [(node, path)]
    while stack:
        item, where = stack.pop()
        entries = item.items() if isinstance(item, dict) else enumerate(item)
        for key, value in entries:
            child = f"{where}.{key}" if isinstance(item, dict) else f"{where}[]"
            if isinstance(value, dict | list):
                stack.append((value, child))
            else:
                yield child, item, key


def generalize_json_column(values: list[str | None], min_group: int = MIN_GROUP) -> list[str | None]:
    """Each JSON object's leaves generalized; a value that is not JSON is a string leaf of its own."""
    parsed = []
    for value in values:
        try:
            node = json.loads(value) if isinstance(value, str) else None
        except (ValueError, RecursionError):
            node = None
        parsed.append(node if isinstance(node, dict | list) else None)
    counts: Counter = Counter()
    for node in parsed:
        for path, container, key in _walk(node) if node is not None else ():
            if isinstance(container[key], str):
                counts[(path, container[key])] += 1
    plain = Counter(v for v, node in zip(values, parsed, strict=True) if node is None and isinstance(v, str))
    out = []
    for value, node in zip(values, parsed, strict=True):
        if node is None:
            out.append(value if value is None or plain[value] >= min_group else None)
            continue
        for path, container, key in list(_walk(node)):
            container[key] = _general_leaf(container[key], counts[(path, container[key])] if isinstance(
                container[key], str) else 0, min_group)
        out.append(json.dumps(node, ensure_ascii=False, separators=(",", ":")))
    return out


def _general_leaf(value: Any, shared_by: int, min_group: int) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return one_significant_digit(value)
    if isinstance(value, str):
        if match := _ISO_DATE.match(value):
            return f"{match.group(1)}-{match.group(2)}"
        if _NUMBER.match(value.strip()):
            number = float(value) if "." in value else int(value)
            return str(one_significant_digit(number))
        return value if shared_by >= min_group else None
    return value


def generalize_frame(frame: pl.DataFrame, columns: list[str], json_columns: list[str],
                     min_group: int = MIN_GROUP) -> pl.DataFrame:
    """``columns`` of ``frame`` generalized by their type; ``json_columns`` leaf by leaf."""
    updates = []
    for name in columns:
        if name not in frame.columns:
            continue
        dtype = frame.schema[name]
        series = frame.get_column(name)
        if name in json_columns or dtype == pl.String:
            new = generalize_json_column(series.to_list(), min_group) if name in json_columns else \
                _shared_strings(series.to_list(), min_group)
            updates.append(pl.Series(name, new, dtype=pl.String))
        elif dtype.is_temporal() and dtype != pl.Duration:
            updates.append(series.dt.truncate("1mo"))
        elif dtype.is_numeric():
            updates.append(series.map_elements(one_significant_digit, return_dtype=dtype, skip_nulls=True))
    return frame.with_columns(updates) if updates else frame


def _shared_strings(values: list[str | None], min_group: int) -> list[str | None]:
    counts = Counter(v for v in values if v is not None)
    return [v if v is not None and counts[v] >= min_group else None for v in values]
