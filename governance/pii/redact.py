"""Redaction and residual scanning of tables (JSONL, CSV, Parquet): the plain functions behind
``waterworks redact`` and ``waterworks scan``.

Free-text fields go through the analyzer (language routed per text) and Presidio's anonymizer, which
resolves overlapping findings (the higher score wins) and replaces each with a typed placeholder
(``<PHONE_NUMBER>``) or another operator (operators.py: mask, drop, keyed pseudonym). Rows, their order and every other field are kept as they were. Findings are reported as
counts by type: never the values.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .engine import EngineConfig, detect_language, shared_analyzer
from .operators import OPERATORS, PseudonymKey, replacement

# Not personal data on their own: organisations, nationalities/religious or political groups, dates, and bare
# place names ("UK", "Shanghai") — a person's address is found as ADDRESS by the address recognizers.
NOT_PERSONAL = frozenset({"ORGANIZATION", "NRP", "DATE_TIME", "LOCATION"})
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


@dataclass
class Findings:
    texts: int = 0
    texts_with_pii: int = 0
    by_type: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        return {"texts": self.texts, "texts_with_pii": self.texts_with_pii, "findings": sum(self.by_type.values()),
                "by_type": dict(sorted(self.by_type.items()))}


class Redactor:
    """``operator``: placeholder (``<TYPE>``), mask, drop, or pseudonym (keyed, consistent, format-preserving;
    needs ``key``, by default from WATERWORKS_PSEUDONYM_KEY)."""

    def __init__(self, config: EngineConfig | None = None, language: str = "auto", operator: str = "placeholder",
                 key: PseudonymKey | None = None) -> None:
        from .presidio import AnonymizerEngine

        if operator not in OPERATORS:
            raise ValueError(f"unknown operator {operator!r}; known: {', '.join(OPERATORS)}")
        self.key = key or (PseudonymKey.from_env() if operator == "pseudonym" else None)
        self.analyzer = shared_analyzer(config or EngineConfig())
        self.anonymizer = AnonymizerEngine()
        self.language, self.operator = language, operator

    def _operators(self, entity_types: set[str]) -> dict:
        from .presidio import OperatorConfig

        def replace(entity_type: str):
            return lambda value: replacement(self.operator, entity_type, value, self.key)

        return {t: OperatorConfig("custom", {"lambda": replace(t)}) for t in entity_types}

    def findings(self, text: str):
        language = detect_language(text) if self.language == "auto" else self.language
        return [r for r in self.analyzer.analyze(text, language=language) if r.entity_type not in NOT_PERSONAL]

    def redact_text(self, text: str | None, tally: Findings) -> str | None:
        if not text or not text.strip():
            return text
        results = self.findings(text)
        tally.texts += 1
        if not results:
            return text
        tally.texts_with_pii += 1
        tally.by_type.update(r.entity_type for r in results)
        return self.anonymizer.anonymize(text=text, analyzer_results=results,
                                         operators=self._operators({r.entity_type for r in results})).text

    def redact_frame(self, frame: pl.DataFrame, text_fields: list[str] | None) -> tuple[pl.DataFrame, Findings]:
        """Redact the named text fields (every string column when none is named)."""
        fields = text_fields or [c for c, t in frame.schema.items() if t == pl.String]
        missing = [f for f in fields if f not in frame.columns]
        if missing:
            raise TableFormatError(f"no such field(s): {missing}; fields: {frame.columns}")
        tally = Findings()
        redacted = frame.with_columns([
            pl.Series(name, [self.redact_text(v, tally) for v in frame.get_column(name).cast(pl.String).to_list()],
                      dtype=pl.String) for name in fields])
        return redacted, tally

    def scan_frame(self, frame: pl.DataFrame) -> Findings:
        tally = Findings()
        for name, dtype in frame.schema.items():
            if dtype != pl.String:
                continue
            for value in frame.get_column(name).to_list():
                if value and value.strip():
                    tally.texts += 1
                    results = self.findings(value)
                    if results:
                        tally.texts_with_pii += 1
                        tally.by_type.update(r.entity_type for r in results)
        return tally


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
