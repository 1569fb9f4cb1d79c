"""Build the three datasets from the sanitized zone (plain functions the assets call): read the sanitized
documents and their audit ledger, make the examples, split them by content hash, write a version and its card."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from waterworks.models.chat_format import CHAT_TEMPLATE

from ..lake import Lake
from .canaries import PlantedCanary, canaries_for, card_entry, chat_canary_rows, corpus_canary_rows
from .cards import build_card, card_markdown
from .chat import CHAT_SCHEMA, chat_examples, system_message
from .classification import classification_examples
from .config import DatasetsConfig
from .corpus import CORPUS_SCHEMA, corpus_documents
from .splits import assign_splits
from .store import DatasetVersion, write_version

CHAT, CLASSIFICATION, CORPUS = "chat", "classification", "corpus"
SANITIZED = "sanitized"


@dataclass(frozen=True)
class BuiltDataset:
    version: DatasetVersion
    card: dict
    markdown: str


def read_sanitized_documents(lake: Lake) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    if not lake.table_exists(SANITIZED, "documents"):
        raise FileNotFoundError("no sanitized documents (lake/sanitized/documents/): materialize the "
                                "sanitation stage first — datasets read only the sanitized zone")
    documents = pl.from_arrow(lake.read_table(SANITIZED, "documents"))
    ledger = (pl.read_parquet(io.BytesIO(lake.read_bytes(SANITIZED, "ledger/documents.parquet")))
              if lake.exists(SANITIZED, "ledger/documents.parquet") else None)
    return documents, ledger


def _finish(lake: Lake, name: str, description: str, examples: pl.DataFrame, documents: pl.DataFrame,
            ledger: pl.DataFrame | None, config: DatasetsConfig, extra: dict,
            canary_rows: Callable[[list[PlantedCanary]], pl.DataFrame] | None = None,
            canary_key: bytes | None = None) -> BuiltDataset:
    frame = assign_splits(examples, "split_key", config.splits.fractions(), config.splits.salt).drop("split_key")
    if canary_rows is not None:  # a language-model dataset: its own canaries in train (canaries.py)
        planted = canaries_for(lake, name, canary_key)
        frame = pl.concat([frame, canary_rows(planted).select(frame.columns)], how="vertical")
        extra = {**extra, "canaries": card_entry(planted)}
    card = build_card(name, description, frame, documents, ledger, config.split_method(), extra)
    version, full = write_version(lake, name, frame, card, card_markdown)
    return BuiltDataset(version, full, card_markdown(full))


def _of_kinds(documents: pl.DataFrame, kinds: list[str]) -> pl.DataFrame:
    return documents.filter(pl.col("doc_kind").is_in(kinds))


def build_chat(lake: Lake, config: DatasetsConfig, canary_key: bytes | None = None) -> BuiltDataset:
    documents, ledger = read_sanitized_documents(lake)
    examples = chat_examples(_of_kinds(documents, config.chat.doc_kinds))
    kinds = dict(sorted(examples.group_by("kind").len().iter_rows()))
    return _finish(lake, CHAT, "Conversations in the messages format (system, user, assistant): FAQ question → "
                   "answer pairs and multi-turn service dialogues. Loss is taken on assistant turns only.",
                   examples, documents, ledger, config,
                   {"format": "messages (JSON list of {role, content}); chat template ChatML",
                    "chat_template": CHAT_TEMPLATE, "kinds": kinds},
                   lambda planted: chat_canary_rows(planted, CHAT_SCHEMA, system_message), canary_key)


def build_classification(lake: Lake, config: DatasetsConfig) -> BuiltDataset:
    documents, ledger = read_sanitized_documents(lake)
    plan = config.classification
    examples = classification_examples(documents, plan.label_field, tuple(plan.doc_kinds), plan.min_examples_per_label)
    return _finish(lake, CLASSIFICATION, f"Ticket text → {plan.label_field} (intent classification).",
                   examples, documents, ledger, config, {"format": "text, label", "label_field": plan.label_field})


def build_corpus(lake: Lake, config: DatasetsConfig, canary_key: bytes | None = None) -> BuiltDataset:
    documents, ledger = read_sanitized_documents(lake)
    examples = corpus_documents(_of_kinds(documents, config.corpus.doc_kinds), config.corpus.min_chars)
    return _finish(lake, CORPUS, "Plain text of every sanitized document, for pre-training a causal LM.",
                   examples, documents, ledger, config,
                   {"format": "text", "characters": int(examples["n_chars"].sum()) if examples.height else 0},
                   lambda planted: corpus_canary_rows(planted, CORPUS_SCHEMA), canary_key)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its asset, its builder, what it is, and whether it plants the stage's own canaries (the
    language-model datasets do: the builder then takes the pseudonym key they are derived from)."""
    name: str
    asset: str
    build: Callable[..., BuiltDataset]
    description: str
    canaries: bool = False


DATASETS = {spec.name: spec for spec in (
    DatasetSpec(CHAT, "chat_dataset", build_chat, "Chat / instruction set in the messages format (system, user, "
                "assistant): FAQ question → answer, ticket conversations and service dialogues; split by the first "
                "user turn; the stage's own canaries in train.", canaries=True),
    DatasetSpec(CLASSIFICATION, "classification_dataset", build_classification, "Ticket text → category (intent "
                "classification); label ids follow sorted label names."),
    DatasetSpec(CORPUS, "pretrain_corpus", build_corpus, "Pre-training corpus: the text of every sanitized "
                "document, de-duplicated; the stage's own canaries in train.", canaries=True),
)}


def dataset_asset(name: str) -> str:
    return DATASETS[name].asset
