"""The PII audit ledger: what sanitation found and did, as counts — never values. One row per (table, source,
source file, document, column, entity type, detector, score band, mode, operator). Sanitation writes it to
``lake/sanitized/ledger/<table>.parquet``; compliance reports read it."""

from __future__ import annotations

from collections import Counter

import polars as pl

LEDGER_SCHEMA = {"table": pl.String, "source_id": pl.String, "landing_path": pl.String, "doc_id": pl.String,
                 "field": pl.String, "entity_type": pl.String, "detector": pl.String, "score_band": pl.String,
                 "mode": pl.String, "operator": pl.String, "count": pl.Int64}


def ledger_rows(table: str, source_id: str, counts: Counter, operator: str,
                landing_of_document: dict[str, str] | None = None) -> list[dict]:
    """Rows from a redaction tally (``Findings.ledger``: (label, field, type, detector, band, mode) → count).
    Labels are source files for records, document ids for documents (``landing_of_document`` maps them)."""
    rows = []
    for (label, field, entity, detector, band, mode), count in sorted(counts.items()):
        document = landing_of_document is not None
        rows.append({"table": table, "source_id": source_id,
                     "landing_path": landing_of_document.get(label, label) if document else label,
                     "doc_id": label if document else None, "field": field, "entity_type": entity,
                     "detector": detector, "score_band": band, "mode": mode, "operator": operator, "count": count})
    return rows


def ledger_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=LEDGER_SCHEMA)
