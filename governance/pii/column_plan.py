"""The column plan: how each column (and each JSON leaf path) of each source is redacted, decided once for the
whole table from summaries that shards compute and merge, so the result does not depend on how the rows were
cut into shards.

Three decisions are made from a column's values rather than from its config (redact.py): whether it is JSON,
whether its values are one kind of personal data (a phone column: ``columns.type_column`` on a sample), and
which short values repeat enough to be labels of an enumeration (``category_values``). Their inputs merge:

* the sample is the ``SAMPLE_SIZE`` distinct values with the smallest hash (bottom-k): the bottom-k of the
  union of the shards' bottom-k is the table's bottom-k;
* the category counts are counts of short values, summed.

``table_stats`` walks a frame exactly as ``sanitize_frame`` walks it (per source, the ``auto`` and ``json``
columns, every JSON leaf path), ``ColumnStats.merge`` adds shards up, ``decide_plan`` analyzes each sample once
(the only analysis on the driver: at most SAMPLE_SIZE values per column) and ``PlannedDecisions`` gives a
shard's redactor those decisions. A JSON path the plan has not seen — a key renamed because it held personal
data — is analyzed as free text: never a typed shortcut, whatever the shard.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from .columns import ColumnType, bottom_k, distinct_texts, sample_values, type_column
from .json_fields import keys, leaves, parse_json

CATEGORY_MAX_CHARS = 24  # a label of an enumeration is short
JSON_SHARE = 0.9         # a column is JSON when this share of its sampled values are JSON objects or arrays
CATEGORY_MIN_COUNT = 2   # a value this often in a column not typed as personal data…
CATEGORY_MIN_SHARE = 0.02  # …and in at least this share of its values, is a label of an enumeration


def category_counts(values: list) -> tuple[Counter, int]:
    texts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    return Counter(t for t in texts if len(t) <= CATEGORY_MAX_CHARS), len(texts)


def categories_from(counts: Counter, texts: int) -> frozenset[str]:
    least = max(CATEGORY_MIN_COUNT, CATEGORY_MIN_SHARE * texts)
    return frozenset(t for t, n in counts.items() if n >= least)


def is_json_sample(sample: list[str]) -> bool:
    return bool(sample) and sum(parse_json(v) is not None for v in sample) >= JSON_SHARE * len(sample)


@dataclass
class FieldStats:
    """What the plan needs of one column of one source: its bottom-k sample and its short values' counts."""

    sample: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    texts: int = 0
    key_rows: Counter = field(default_factory=Counter)  # JSON object keys → rows holding them
    json_rows: int = 0

    def add(self, values: list, parsed: list | None = None) -> None:
        self.sample = bottom_k(self.sample + distinct_texts(values))
        counts, texts = category_counts(values)
        self.counts.update(counts)
        self.texts += texts
        if parsed is not None:
            key_rows, json_rows = key_counts(parsed)
            self.key_rows.update(key_rows)
            self.json_rows += json_rows

    def merge(self, other: FieldStats) -> None:
        self.sample = bottom_k(self.sample + other.sample)
        self.counts.update(other.counts)
        self.texts += other.texts
        self.key_rows.update(other.key_rows)
        self.json_rows += other.json_rows


@dataclass
class ColumnStats:
    """Per (source, column, JSON leaf path; "" for the column itself)."""

    fields: dict[tuple[str, str, str], FieldStats] = field(default_factory=dict)

    def add(self, source: str, column: str, path: str, values: list, parsed: list | None = None) -> None:
        self.fields.setdefault((source, column, path), FieldStats()).add(values, parsed)

    def merge(self, other: ColumnStats) -> ColumnStats:
        for key, stats in other.fields.items():
            if key in self.fields:
                self.fields[key].merge(stats)
            else:
                self.fields[key] = stats
        return self


def key_counts(parsed: list) -> tuple[Counter, int]:
    """(rows holding each object key, rows that are JSON documents)."""
    rows = [node for node in parsed if node is not None]
    return Counter(key for node in rows for key in set(keys(node))), len(rows)


def schema_keys_from(key_rows: Counter, json_rows: int) -> frozenset[str]:
    """Keys that many documents of a column share are field names (月薪, 部门, customer): labels, not data. A
    key that is a person's name or e-mail (an export keyed by customer) is held by one document or a few.
    Error mode: a name used as a key in at least CATEGORY_MIN_SHARE of a column's documents is kept."""
    least = max(CATEGORY_MIN_COUNT, CATEGORY_MIN_SHARE * json_rows)
    return frozenset(k for k, n in key_rows.items() if n >= least)


def json_leaf_values(parsed: list) -> dict[str, list]:
    """Leaf values by path over the values that are JSON documents (``redact_json``'s paths)."""
    by_path: dict[str, list] = {}
    for node in parsed:
        if node is not None:
            for path, _, leaf in leaves(node):
                by_path.setdefault(path, []).append(leaf)
    return by_path


def table_stats(frame: pl.DataFrame, how) -> ColumnStats:
    """The stats of one frame (a shard): ``how(column)`` is the table plan's handling (sanitation config)."""
    stats = ColumnStats()
    for (source_id,), part in frame.group_by(["source_id"], maintain_order=True):
        for column in part.columns:
            handling = how(column)
            if handling not in ("auto", "json") or part.schema[column] != pl.String:
                continue
            values = part.get_column(column).to_list()
            parsed = [parse_json(v) for v in values]
            stats.add(source_id, column, "", values, parsed)
            for path, leaf_values in json_leaf_values(parsed).items():
                stats.add(source_id, column, path, leaf_values)
    return stats


@dataclass(frozen=True)
class Decision:
    kind: str                     # json | typed | text
    entity_type: str | None = None
    share: float = 0.0
    sampled: int = 0
    categories: frozenset[str] = frozenset()
    schema_keys: frozenset[str] = frozenset()  # JSON: keys that are field names

    def column_type(self) -> ColumnType:
        return ColumnType(self.entity_type if self.kind == "typed" else None, self.share, self.sampled)

    def describe(self) -> dict:
        """For the persisted plan: the decision, never a value (categories are counted, not listed)."""
        return {"kind": self.kind, "entity_type": self.entity_type, "share": round(self.share, 4),
                "sampled": self.sampled, "categories": len(self.categories), "schema_keys": len(self.schema_keys)}


def decide_field(stats: FieldStats, analyze, allow_json: bool) -> Decision:
    if allow_json and is_json_sample(stats.sample):
        return Decision("json", schema_keys=schema_keys_from(stats.key_rows, stats.json_rows))
    typed = type_column(stats.sample, analyze)
    if typed.entity_type:
        return Decision("typed", typed.entity_type, typed.share, typed.sampled)
    return Decision("text", None, typed.share, typed.sampled, categories_from(stats.counts, stats.texts))


@dataclass
class ColumnPlan:
    decisions: dict[tuple[str, str], Decision] = field(default_factory=dict)

    def for_source(self, source_id: str) -> PlannedDecisions:
        return PlannedDecisions({name: d for (source, name), d in self.decisions.items() if source == source_id})

    def describe(self) -> dict:
        out: dict[str, dict] = {}
        for (source, name), decision in sorted(self.decisions.items()):
            out.setdefault(source, {})[name] = decision.describe()
        return out


def decide_plan(stats: ColumnStats, how, analyze) -> ColumnPlan:
    """Top-level ``auto`` columns first (JSON or not), then the leaf paths of the JSON ones (declared or found).
    Field names are shared by the sources of a table (one schema), so a column's schema keys are counted over
    all its sources."""
    plan = ColumnPlan()
    key_rows: dict[str, Counter] = {}
    json_rows: Counter = Counter()
    for (_, column, path), field_stats in stats.fields.items():
        if not path:
            key_rows.setdefault(column, Counter()).update(field_stats.key_rows)
            json_rows[column] += field_stats.json_rows
    schema_keys = {column: schema_keys_from(counts, json_rows[column]) for column, counts in key_rows.items()}
    json_columns: set[tuple[str, str]] = set()
    for (source, column, path), field_stats in sorted(stats.fields.items()):
        if not path and how(column) == "json":
            plan.decisions[(source, column)] = Decision("json", schema_keys=schema_keys[column])
            json_columns.add((source, column))
        elif not path and how(column) == "auto":
            decision = decide_field(field_stats, analyze, allow_json=True)
            if decision.kind == "json":
                decision = Decision("json", schema_keys=schema_keys[column])
            plan.decisions[(source, column)] = decision
            if decision.kind == "json":
                json_columns.add((source, column))
    for (source, column, path), field_stats in sorted(stats.fields.items()):
        if path and (source, column) in json_columns:
            plan.decisions[(source, f"{column}.{path}")] = decide_field(field_stats, analyze, allow_json=False)
    return plan


class ValueDecisions:
    """Decisions from the values at hand (a whole file through ``waterworks redact``)."""

    def is_json(self, field_name: str, values: list) -> bool:
        return is_json_sample(sample_values([v for v in values if isinstance(v, str)]))

    def column_type(self, field_name: str, values: list, analyze) -> ColumnType:
        return type_column(sample_values(values), analyze)

    def categories(self, field_name: str, values: list) -> frozenset[str]:
        return categories_from(*category_counts(values))

    def schema_keys(self, field_name: str, parsed: list) -> frozenset[str]:
        return schema_keys_from(*key_counts(parsed))


class PlannedDecisions(ValueDecisions):
    """Decisions from the table's plan, for one source. A field the plan lacks is free text."""

    def __init__(self, decisions: dict[str, Decision]) -> None:
        self.decisions = decisions

    def is_json(self, field_name: str, values: list) -> bool:
        decision = self.decisions.get(field_name)
        return decision is not None and decision.kind == "json"

    def column_type(self, field_name: str, values: list, analyze) -> ColumnType:
        decision = self.decisions.get(field_name)
        return decision.column_type() if decision is not None else ColumnType(None, 0.0, 0)

    def categories(self, field_name: str, values: list) -> frozenset[str]:
        decision = self.decisions.get(field_name)
        return decision.categories if decision is not None else frozenset()

    def schema_keys(self, field_name: str, parsed: list) -> frozenset[str]:
        decision = self.decisions.get(field_name)
        return decision.schema_keys if decision is not None else frozenset()
