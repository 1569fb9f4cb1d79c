"""Dataset cards: what a dataset version holds and where it came from — counts per split, languages, sources,
labels, the PII that sanitation redacted in the documents it was built from (by type, from the audit ledger),
the landing files behind it (paths and content hashes), and how it was split. Never a value."""

from __future__ import annotations

from collections import Counter

import polars as pl

from .splits import SPLITS


def _counts(frame: pl.DataFrame, column: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for split in SPLITS:
        part = frame.filter(pl.col("split") == split)
        out[split] = dict(sorted(Counter(part[column].to_list()).items()))
    return out


def pii_redacted(ledger: pl.DataFrame | None, doc_ids: set[str]) -> dict[str, int]:
    """Findings by entity type in the documents a dataset was built from."""
    if ledger is None or ledger.is_empty() or not doc_ids:
        return {}
    used = ledger.filter(pl.col("doc_id").is_in(list(doc_ids)))
    return {r["entity_type"]: int(r["count"]) for r in
            used.group_by("entity_type").agg(pl.col("count").sum()).sort("entity_type").iter_rows(named=True)}


def landing_files(documents: pl.DataFrame, doc_ids: set[str]) -> list[dict]:
    used = documents.filter(pl.col("doc_id").is_in(list(doc_ids)))
    files = used.group_by("landing_path", "file_sha256").len().sort("landing_path")
    return [{"path": r["landing_path"], "sha256": r["file_sha256"], "documents": int(r["len"])}
            for r in files.iter_rows(named=True)]


def build_card(name: str, description: str, frame: pl.DataFrame, documents: pl.DataFrame,
               ledger: pl.DataFrame | None, split_method: dict, extra: dict | None = None) -> dict:
    doc_ids = set(frame["doc_id"].to_list())
    card = {
        "description": description,
        "built_from": "lake/sanitized/documents (the only zone training may read)",
        "split_method": split_method,
        "languages": _counts(frame, "language"),
        "sources": dict(sorted(Counter(frame["source_id"].to_list()).items())),
        "pii_redacted_by_type": pii_redacted(ledger, doc_ids),
        "classifications": dict(sorted(Counter(
            documents.filter(pl.col("doc_id").is_in(list(doc_ids)))["classification"].to_list()).items()))
        if "classification" in documents.columns else {},
        "landing_files": landing_files(documents, doc_ids),
    }
    if "label" in frame.columns:
        card["labels"] = _counts(frame, "label")
        card["label_names"] = sorted(frame["label"].unique().to_list())
    return {**card, **(extra or {})}


def card_markdown(card: dict) -> str:
    """The card as a short markdown page (also shown in the Dagster UI)."""
    lines = [f"# Dataset `{card['name']}` version `{card['version']}`", "", card["description"], "",
             f"- content digest: `{card['digest']}`", f"- built from: {card['built_from']}",
             f"- split: {card['split_method']}", "", "| split | rows |", "|---|---|"]
    lines += [f"| {split} | {card['rows'].get(split, 0)} |" for split in SPLITS]
    lines += ["", "| language | " + " | ".join(SPLITS) + " |", "|---|" + "---|" * len(SPLITS)]
    languages = sorted({lang for split in SPLITS for lang in card["languages"].get(split, {})})
    lines += [f"| {lang} | " + " | ".join(str(card["languages"].get(s, {}).get(lang, 0)) for s in SPLITS) + " |"
              for lang in languages]
    lines += ["", "| source | examples |", "|---|---|"] + [f"| {s} | {n} |" for s, n in card["sources"].items()]
    if card.get("classifications"):
        lines += ["", "Data classification of the documents used: "
                  + ", ".join(f"{k} ({v})" for k, v in card["classifications"].items())]
    pii = card.get("pii_redacted_by_type") or {}
    lines += ["", "PII redacted by sanitation in these documents (counts by type): "
              + (", ".join(f"{k} {v}" for k, v in pii.items()) if pii else "none")]
    if card.get("label_names"):
        lines += ["", f"{len(card['label_names'])} labels; examples per label in train: "
                  + ", ".join(f"{k} {v}" for k, v in card["labels"].get("train", {}).items())]
    if card.get("format"):
        lines += ["", f"Format: {card['format']}"]
    lines += ["", f"Landing files behind it: {len(card['landing_files'])} (paths and sha256 in card.json)"]
    return "\n".join(lines) + "\n"
