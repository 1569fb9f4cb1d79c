"""Redaction of tables (JSONL, CSV, Parquet, or frames in the plant): the plain functions behind
``waterworks redact``, ``waterworks scan`` and the sanitation stage.

Three ways a column is handled:

- **text**: free text (a ticket body, a remark). Values go through the batch analyzer (batch.py: cache,
  prefilter, batched NLP) and Presidio's anonymizer, which resolves overlapping findings (the higher score
  wins) and replaces each with the operator's output (operators.py: typed placeholder, mask, drop, keyed
  pseudonym).
- **column**: a column typed as one kind of personal data, from a sample (columns.py) or declared by the
  caller: every value is replaced, vectorized, without analyzing each one. Identifier values keep their own
  type by check digits.
- **json**: a column of JSON objects: each leaf path becomes a column of its own (json_fields.py).

Every finding is tallied as counts by (row label, field, type, detector, score band, mode): never a value.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .batch import BatchAnalyzer, BatchOptions
from .column_plan import ValueDecisions
from .columns import ColumnType, identifier_type, whole_value_type
from .engine import EngineConfig
from .json_fields import dump_json, keys, leaves, parse_json, rename_keys, set_leaf
from .memo import AnalysisMemo
from .operators import OPERATORS, PseudonymKey, replacement

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}


class TableFormatError(ValueError):
    pass


def table_format(path: Path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise TableFormatError(f"{path}: unsupported file type {Path(path).suffix!r} (use .jsonl, .csv or .parquet)")
    return fmt


def read_table(path: Path) -> pl.DataFrame:
    fmt = table_format(path)
    try:
        if fmt == "jsonl":
            return pl.read_ndjson(path, infer_schema_length=None)
        if fmt == "csv":
            return pl.read_csv(path, infer_schema=False)
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise TableFormatError(f"{path}: not a readable {fmt} file ({type(exc).__name__})") from exc


def write_table(frame: pl.DataFrame, path: Path) -> None:
    fmt = table_format(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as handle:
            for row in frame.iter_rows(named=True):
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    elif fmt == "csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)


def score_band(score: float) -> str:
    return "high" if score >= 0.85 else "medium" if score >= 0.6 else "low"


@dataclass
class Findings:
    """Counts only. ``ledger`` keys: (row label, field, entity type, detector, score band, mode)."""

    texts: int = 0
    texts_with_pii: int = 0
    by_type: Counter = field(default_factory=Counter)
    ledger: Counter = field(default_factory=Counter)
    columns: dict = field(default_factory=dict)  # field → how it was handled (text / json / column type)

    def add(self, label: str, field_name: str, entity_type: str, detector: str, score: float, mode: str,
            count: int = 1) -> None:
        self.by_type[entity_type] += count
        self.ledger[(label, field_name, entity_type, detector, score_band(score), mode)] += count

    def to_dict(self) -> dict:
        return {"texts": self.texts, "texts_with_pii": self.texts_with_pii, "findings": sum(self.by_type.values()),
                "by_type": dict(sorted(self.by_type.items()))}


class Redactor:
    """``operator``: placeholder (``<TYPE>``), mask, drop, or pseudonym (keyed, consistent, format-preserving;
    needs ``key``, by default from WATERWORKS_PSEUDONYM_KEY)."""

    def __init__(self, config: EngineConfig | None = None, language: str = "auto", operator: str = "placeholder",
                 key: PseudonymKey | None = None, options: BatchOptions | None = None,
                 memo: AnalysisMemo | None = None) -> None:
        from .presidio import AnonymizerEngine

        if operator not in OPERATORS:
            raise ValueError(f"unknown operator {operator!r}; known: {', '.join(OPERATORS)}")
        self.key = key or (PseudonymKey.from_env() if operator == "pseudonym" else None)
        self.batch = BatchAnalyzer(config, options or BatchOptions(), memo)
        self.anonymizer = AnonymizerEngine()
        self.language, self.operator = language, operator
        self.replaced: set[tuple[str, str]] | None = None  # (type, value) of each replacement, when collecting
        # How a column's values are typed (JSON? one kind of personal data? enumeration labels?): from the
        # values at hand, or from a table's column plan (column_plan.py) when a shard is redacted.
        self.decisions: ValueDecisions = ValueDecisions()

    def collect_replaced(self) -> set[tuple[str, str]]:
        """From now on remember every (entity type, value) replaced (the subject index is built from them);
        returns the set being filled. The values stay in memory: the caller hashes and drops them."""
        self.replaced = set()
        return self.replaced

    def analyze(self, texts: list[str | None]) -> list[list]:
        return self.batch.analyze(texts, self.language)

    def _replace(self, entity_type: str, value: str) -> str:
        if self.replaced is not None:
            self.replaced.add((entity_type, value))
        return replacement(self.operator, entity_type, value, self.key)

    def _anonymize(self, text: str, results) -> str:
        from .presidio import OperatorConfig

        operators = {t: OperatorConfig("custom", {"lambda": lambda v, t=t: self._replace(t, v)})
                     for t in {r.entity_type for r in results}}
        return self.anonymizer.anonymize(text=text, analyzer_results=results, operators=operators).text

    # -- the three modes -------------------------------------------------------------------------------------

    def find_in_texts(self, values: list, field_name: str, labels: list[str], tally: Findings,
                      categories: frozenset[str] = frozenset()) -> list:
        """Findings per value (tallied); the analysis behind both redacting and scanning. ``categories``:
        values that are labels of an enumeration (``column_plan.categories_from``): a name finding that is the whole
        value is dropped there (a 金卡 tier is not Mr Jin Ka); any other finding stays."""
        texts = [v if isinstance(v, str) else (str(v) if v is not None else None) for v in values]
        found = self.analyze(texts)
        if categories:
            found = [[r for r in results if not (t in categories and r.entity_type == "PERSON"
                                                 and whole_value_type(t, [r]) == "PERSON")]
                     for t, results in zip(texts, found, strict=True)]
        for i, (text, results) in enumerate(zip(texts, found, strict=True)):
            if text is None or not text.strip():
                continue
            tally.texts += 1
            if results:
                tally.texts_with_pii += 1
            for r in results:
                tally.add(labels[i], field_name, r.entity_type, r.recognition_metadata.get("recognizer_name", "?"),
                          r.score, "text")
        return found

    def redact_texts(self, values: list, field_name: str, labels: list[str], tally: Findings,
                     categories: frozenset[str] = frozenset()) -> list:
        found = self.find_in_texts(values, field_name, labels, tally, categories)
        return [self._anonymize(str(v), results) if results else v for v, results in zip(values, found, strict=True)]

    def redact_typed(self, values: list, field_name: str, entity_type: str, detector: str, labels: list[str],
                     tally: Findings) -> list:
        """Every non-empty value replaced as ``entity_type`` (identifiers by their own check digits)."""
        mapping: dict = {}
        out = []
        for label, value in zip(labels, values, strict=True):
            if value is None or not str(value).strip():
                out.append(value)
                continue
            text = str(value)
            if text not in mapping:
                own = identifier_type(text, entity_type)
                mapping[text] = (own, self._replace(own, text))
            own, new = mapping[text]
            tally.texts += 1
            tally.texts_with_pii += 1
            tally.add(label, field_name, own, detector, 1.0, "column")
            out.append(new if new != "" or self.operator != "drop" else None)
        return out

    def redact_json(self, values: list, field_name: str, labels: list[str], tally: Findings,
                    declared: dict[str, str] | None = None) -> list:
        """JSON objects: each leaf path handled as a column (``declared`` types by path), rebuilt in place."""
        parsed = [parse_json(v) for v in values]
        changed = self._redact_keys(parsed, field_name, labels, tally)
        by_path: dict[str, list[tuple[int, tuple, object]]] = {}
        for row, node in enumerate(parsed):
            if node is not None:
                for path, locator, leaf in leaves(node):
                    by_path.setdefault(path, []).append((row, locator, leaf))
        for path, cells in by_path.items():
            rows = [row for row, _, _ in cells]
            new = self.redact_column([leaf for _, _, leaf in cells], f"{field_name}.{path}", [labels[r] for r in rows],
                                     tally, (declared or {}).get(path), allow_json=False)
            for (row, locator, leaf), value in zip(cells, new, strict=True):
                if value != leaf:
                    set_leaf(parsed[row], locator, value)
                    changed.add(row)
        # Values that are not JSON (plain text in a JSON column) go through the text analyzer.
        plain = [i for i, node in enumerate(parsed) if node is None and values[i] is not None]
        out = list(values)
        if plain:
            for i, value in zip(plain, self.redact_texts([values[i] for i in plain], field_name,
                                                         [labels[i] for i in plain], tally), strict=True):
                out[i] = value
        for row in changed:
            out[row] = dump_json(parsed[row])
        return out

    def _redact_keys(self, parsed: list, field_name: str, labels: list[str], tally: Findings) -> set[int]:
        """Object keys analyzed as text (an export keyed by e-mail or by name); a key with a finding is
        replaced everywhere, so neither the value nor a path naming it reaches the output or the ledger.
        Returns the rows changed."""
        held: dict[tuple[str, str], None] = {}  # (key, row label): a key is tallied once per file or document
        for row, node in enumerate(parsed):
            for key in keys(node) if node is not None else ():
                held.setdefault((key, labels[row]))
        if not held:
            return set()
        found_keys = [key for key, _ in held]
        # Labels, as in an enumeration: keys spelled like a field name, and keys many documents share.
        schema_names = frozenset(k for k in found_keys if _SCHEMA_KEY.fullmatch(k)) | \
            self.decisions.schema_keys(field_name, parsed)
        new = self.redact_texts(found_keys, f"{field_name}{{key}}", [label for _, label in held], tally, schema_names)
        renamed = {key: str(value) for key, value in zip(found_keys, new, strict=True) if value != key}
        changed = set()
        for row, node in enumerate(parsed):
            if node is not None and renamed and any(key in renamed for key in keys(node)):
                parsed[row] = rename_keys(node, renamed)
                changed.add(row)
        return changed

    def redact_column(self, values: list, field_name: str, labels: list[str], tally: Findings,
                      declared: str | None = None, allow_json: bool = True) -> list:
        """A declared type, else JSON, else a type from a sample, else free text."""
        if declared:
            tally.columns[field_name] = f"declared {declared}"
            return self.redact_typed(values, field_name, declared, "declared", labels, tally)
        if allow_json and self.decisions.is_json(field_name, values):
            tally.columns[field_name] = "json"
            return self.redact_json(values, field_name, labels, tally)
        typed: ColumnType = self.decisions.column_type(field_name, values, self.analyze)
        if typed.entity_type:
            tally.columns[field_name] = f"{typed.entity_type} ({typed.detector})"
            return self.redact_typed(values, field_name, typed.entity_type, typed.detector, labels, tally)
        tally.columns[field_name] = "text"
        return self.redact_texts(values, field_name, labels, tally, self.decisions.categories(field_name, values))

    # -- frames -----------------------------------------------------------------------------------------------

    def redact_frame(self, frame: pl.DataFrame, text_fields: list[str] | None,
                     labels: list[str] | None = None) -> tuple[pl.DataFrame, Findings]:
        """Named text fields as free text, other fields unchanged; none named: every column in column mode."""
        missing = [f for f in text_fields or [] if f not in frame.columns]
        if missing:
            raise TableFormatError(f"no such field(s): {missing}; fields: {frame.columns}")
        labels = labels or [str(i) for i in range(frame.height)]
        tally = Findings()
        columns = []
        for name, dtype in frame.schema.items():
            if text_fields and name not in text_fields:
                continue
            if not text_fields and not (dtype == pl.String or dtype.is_integer()):
                continue
            values = frame.get_column(name).to_list()
            if text_fields:
                new = self.redact_texts(values, name, labels, tally)
            else:
                new = self.redact_column(values, name, labels, tally)
            if new != values:
                columns.append(pl.Series(name, [None if v is None else str(v) for v in new], dtype=pl.String))
        return (frame.with_columns(columns) if columns else frame), tally

    def scan_frame(self, frame: pl.DataFrame) -> Findings:
        """Residual PII in every text column, value by value (a scan never assumes a column's type)."""
        tally = Findings()
        labels = [str(i) for i in range(frame.height)]
        for name, dtype in frame.schema.items():
            if dtype == pl.String:
                self.find_in_texts(frame.get_column(name).to_list(), name, labels, tally)  # nothing replaced
        return tally


# A key spelled like a field name (``plan``, ``first_name``, ``customerId``) is a label: a whole-key name finding
# is dropped there, as for enumeration values. Error mode: a person's bare Latin name used as a key is kept.
_SCHEMA_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")

def redact_file(source: Path, target: Path, text_fields: list[str] | None = None, language: str = "auto",
                config: EngineConfig | None = None, operator: str = "placeholder") -> Findings:
    if table_format(source) != table_format(target):
        raise TableFormatError(f"{target}: output must have the input's format ({table_format(source)})")
    frame = read_table(source)
    redacted, tally = Redactor(config, language, operator).redact_frame(frame, text_fields)
    write_table(redacted, target)
    return tally


def scan_file(source: Path, language: str = "auto", config: EngineConfig | None = None) -> Findings:
    frame = read_table(source)  # a bad file fails before the models load
    return Redactor(config, language).scan_frame(frame)
