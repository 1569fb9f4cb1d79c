"""The classification set: ticket text → category (Banking77's intents in the demo estate). Label ids follow
the sorted label names, so the same labels always get the same ids."""

from __future__ import annotations

import hashlib
import json

import polars as pl

CLASSIFICATION_SCHEMA = {"example_id": pl.String, "source_id": pl.String, "doc_id": pl.String, "language": pl.String,
                         "text": pl.String, "label": pl.String, "split_key": pl.String}


def category_of(attributes: str | None, field: str) -> str | None:
    if not attributes:
        return None
    try:
        value = json.loads(attributes).get(field)
    except (json.JSONDecodeError, AttributeError):
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None


def classification_examples(documents: pl.DataFrame, label_field: str = "category", kinds: tuple[str, ...] = ("ticket",),
                            min_examples_per_label: int = 1) -> pl.DataFrame:
    """(text, label) from documents of the given kinds whose attributes carry ``label_field``; labels with
    fewer than ``min_examples_per_label`` examples are left out (listed in the card)."""
    rows, seen = [], set()
    for doc in documents.filter(pl.col("doc_kind").is_in(list(kinds))).iter_rows(named=True):
        label, text = category_of(doc.get("attributes"), label_field), (doc.get("body") or "").strip()
        if not label or not text:
            continue
        example_id = hashlib.sha256(f"{label}\x1f{text}".encode()).hexdigest()
        if example_id in seen:
            continue
        seen.add(example_id)
        rows.append({"example_id": example_id, "source_id": doc["source_id"], "doc_id": doc["doc_id"],
                     "language": doc.get("language") or "und", "text": text, "label": label, "split_key": text})
    frame = pl.DataFrame(rows, schema=CLASSIFICATION_SCHEMA)
    if min_examples_per_label > 1 and frame.height:
        keep = frame.group_by("label").len().filter(pl.col("len") >= min_examples_per_label)["label"]
        frame = frame.filter(pl.col("label").is_in(keep.to_list()))
    return frame


def label_names(frame: pl.DataFrame) -> list[str]:
    return sorted(frame["label"].unique().to_list())
