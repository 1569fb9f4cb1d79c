"""The purification config (purification.yaml): canonical mapping per source, normalization, language
identification, quality filters and deduplication parameters. Validated on load with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..stage_configs import default_file
from ..yaml_config import StrictModel, load_yaml_model

STRING_FIELDS = ("external_id", "name", "national_id", "phone", "email", "address", "customer_ref")
RECORD_FIELDS = (*STRING_FIELDS, "amount", "event_time")


class RecordMapping(StrictModel):
    entity: str
    fields: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(RECORD_FIELDS))
        if unknown:
            raise ValueError(f"unknown canonical field(s) {unknown}; known: {list(RECORD_FIELDS)}")
        return value


class DocumentMapping(StrictModel):
    kind: str
    id: str | None = None
    title: str | None = None
    body: list[str]
    markup: Literal["html", "markdown", "text"] = "text"
    markup_column: str | None = None
    html_body_column: str | None = None
    email: bool = False
    language_hint: str | None = None

    @property
    def mapped_columns(self) -> set[str]:
        return {c for c in (self.id, self.title, self.markup_column, self.html_body_column, *self.body) if c}


class NormalizeConfig(StrictModel):
    unicode_nfkc: bool = True
    halfwidth: bool = True
    chinese_conversion: str | None = "t2s"


class LanguageConfig(StrictModel):
    candidates: list[str] = ["en", "zh"]
    min_confidence: float = Field(0.5, ge=0, le=1)


class FilterConfig(StrictModel):
    min_tokens: int = Field(3, ge=0)
    max_tokens: int = Field(200_000, gt=0)
    max_symbol_ratio: float = Field(0.3, ge=0)
    max_duplicate_line_ratio: float = Field(0.5, ge=0, le=1)
    min_alpha_token_ratio: float = Field(0.5, ge=0, le=1)
    max_boilerplate_line_ratio: float = Field(0.5, ge=0, le=1)
    boilerplate_patterns: list[str] = []


class DedupConfig(StrictModel):
    exact: bool = True
    near: bool = True
    latin_ngram: int = Field(5, ge=1, le=16)
    cjk_ngram: int = Field(5, ge=1, le=16)
    bands: int = Field(14, ge=1)
    rows: int = Field(8, ge=1)
    threshold: float = Field(0.7, ge=0, le=1)
    seed: int = 42
    scheme: Literal["one_permutation", "permutations"] = "one_permutation"
    near_min_tokens: int = Field(20, ge=1)

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows


class PurificationConfig(StrictModel):
    records: dict[str, RecordMapping] = {}
    documents: dict[str, DocumentMapping] = {}
    normalize: NormalizeConfig = NormalizeConfig()
    language: LanguageConfig = LanguageConfig()
    filters: FilterConfig = FilterConfig()
    dedup: DedupConfig = DedupConfig()

    @model_validator(mode="after")
    def _one_table_per_source(self) -> PurificationConfig:
        both = sorted(set(self.records) & set(self.documents))
        if both:
            raise ValueError(f"source(s) {both} are mapped as both records and documents")
        return self

    def unmapped(self, source_ids: list[str]) -> list[str]:
        return sorted(set(source_ids) - set(self.records) - set(self.documents))


class PurificationConfigError(ValueError):
    pass


def load_purification_config(path: Path | str | None = None) -> PurificationConfig:
    return load_yaml_model(Path(path or default_file("purification")), PurificationConfig, "the purification config", PurificationConfigError)
