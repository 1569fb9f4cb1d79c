"""How well sanitation did on a demo estate, from its manifest of planted values (plain functions; the tests
and bench/sanitation.py use them).

- **Recall by type**: of the planted values that reached the purified tables (some rows are quarantined or
  removed as duplicates), the share absent from every text column of the sanitized tables. A value counts as
  present in any of its forms: as planted, NFKC-folded (full-width digits) or converted to Simplified.
  Names are split into English and Chinese.
- **Over-redaction**: of the ticket and knowledge-base texts (title and body) with nothing planted, the share
  that sanitation changed, per source and kind. Short tickets measure it well; a long document (an FAQ that
  names Robert Koch, a service dialogue with a hotel's phone number) is "changed" by one finding.

Only counts and ids leave these functions, never values.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..lake import Lake
from ..purification.normalize import opencc_converter

PATTERN_TYPES = ("CN_RESIDENT_ID", "TW_NATIONAL_ID", "HK_ID", "PHONE_NUMBER", "EMAIL_ADDRESS", "BANK_CARD",
                 "IBAN_CODE", "IP_ADDRESS", "PASSPORT")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TEXT_KINDS = ("ticket", "document")


@dataclass
class Evaluation:
    planted: Counter = field(default_factory=Counter)     # values that reached purified, by type
    survived: Counter = field(default_factory=Counter)    # of those, still present in sanitized
    pii_free: Counter = field(default_factory=Counter)          # texts with nothing planted, by kind
    pii_free_changed: Counter = field(default_factory=Counter)  # of those, changed by sanitation
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (type, manifest location): never the value

    def recall(self, entity_type: str) -> float:
        n = self.planted[entity_type]
        return 1.0 if n == 0 else (n - self.survived[entity_type]) / n

    def over_redaction(self, kind: str | None = None) -> float:
        """Share of texts with nothing planted that sanitation changed (one kind, or all)."""
        total = self.pii_free[kind] if kind else sum(self.pii_free.values())
        changed = self.pii_free_changed[kind] if kind else sum(self.pii_free_changed.values())
        return changed / total if total else 0.0

    def table(self) -> list[tuple[str, int, int, float]]:
        return [(t, self.planted[t], self.survived[t], round(self.recall(t), 4)) for t in sorted(self.planted)]


def _text_blob(frame: pl.DataFrame) -> str:
    columns = [c for c, t in frame.schema.items() if t == pl.String]
    return "\n".join("\x1f".join(v for v in row if v) for row in frame.select(columns).iter_rows())


def _forms(value: str) -> set[str]:
    folded = unicodedata.normalize("NFKC", value)
    return {value, folded, opencc_converter("t2s").convert(folded)}


def manifest_type(entry: dict) -> str:
    if entry["type"] == "PERSON":
        return "PERSON_ZH" if _CJK.search(entry["value"]) else "PERSON_EN"
    return entry["type"]


def evaluate(lake: Lake, manifest: Path, zone_before: str = "purified", zone_after: str = "sanitized") -> Evaluation:
    before = {t: pl.from_arrow(lake.read_table(zone_before, t)) for t in ("records", "documents")}
    after = {t: pl.from_arrow(lake.read_table(zone_after, t)) for t in ("records", "documents")}
    blob_before = "\n".join(_text_blob(f) for f in before.values())
    blob_after = "\n".join(_text_blob(f) for f in after.values())
    result = Evaluation()
    planted_rows: set[tuple[str, int]] = set()
    for line in Path(manifest).read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        location = entry["location"]
        row = location.get("row", location.get("message"))
        if row is not None:
            planted_rows.add((entry["file"], row))
        if location.get("quarantined"):
            continue
        forms = _forms(entry["value"])
        if not any(f in blob_before for f in forms):
            continue  # never reached purified (a removed duplicate, a dropped file)
        kind = manifest_type(entry)
        result.planted[kind] += 1
        if any(f in blob_after for f in forms):
            result.survived[kind] += 1
            result.survivors.append((kind, f"{entry['file']} {json.dumps(location, sort_keys=True)}"))
    docs_before, docs_after = before["documents"], after["documents"]
    texts = docs_before.filter(pl.col("doc_kind").is_in(_TEXT_KINDS)).select(
        "doc_id", "source_id", "doc_kind", "landing_path", "record_index", "title", "body")
    sanitized = {r["doc_id"]: r for r in docs_after.select("doc_id", "title", "body").iter_rows(named=True)}
    for row in texts.iter_rows(named=True):
        if (row["landing_path"], row["record_index"]) in planted_rows:
            continue
        kind = f"{row['source_id']}/{row['doc_kind']}"
        result.pii_free[kind] += 1
        out = sanitized[row["doc_id"]]
        result.pii_free_changed[kind] += int(out["title"] != row["title"] or out["body"] != row["body"])
    return result
