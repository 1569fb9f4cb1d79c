"""The pre-training corpus: the text of every sanitized document (knowledge base, mail, tickets), one row per
document, de-duplicated by content."""

from __future__ import annotations

import hashlib

import polars as pl

CORPUS_SCHEMA = {"example_id": pl.String, "source_id": pl.String, "doc_id": pl.String, "doc_kind": pl.String,
                 "language": pl.String, "text": pl.String, "n_chars": pl.Int64, "split_key": pl.String}


def corpus_documents(documents: pl.DataFrame, min_chars: int = 1) -> pl.DataFrame:
    rows, seen = [], set()
    for doc in documents.iter_rows(named=True):
        text = (doc.get("body") or "").strip()
        if len(text) < min_chars:
            continue
        example_id = hashlib.sha256(text.encode()).hexdigest()
        if example_id in seen:
            continue
        seen.add(example_id)
        rows.append({"example_id": example_id, "source_id": doc["source_id"], "doc_id": doc["doc_id"],
                     "doc_kind": doc.get("doc_kind") or "document", "language": doc.get("language") or "und",
                     "text": text, "n_chars": len(text), "split_key": example_id})
    return pl.DataFrame(rows, schema=CORPUS_SCHEMA)
