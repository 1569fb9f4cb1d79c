"""The sanitation config (sanitation.yaml): how each column of the purified tables is redacted, the
residual threshold of the blocking check, and the analyzer's batching. Errors name the file and the field."""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field, field_validator, model_validator

from waterworks.governance.pii import SPACY_ENGLISH_NER
from waterworks.governance.pii.operators import OPERATORS

from ..stage_configs import default_file
from ..yaml_config import StrictModel, load_yaml_model


class TablePlan(StrictModel):
    declared: dict[str, str] = {}
    text: list[str] = []
    json_: list[str] = Field([], alias="json")
    identifiers: list[str] = []   # ids that may name a person (an employee number): keyed pseudonyms, joins work
    keep: list[str] = []
    attributes: list[str] = []    # personal attributes, generalized or dropped where the policy says (a second
    #                               dimension: these columns are also listed above, or handled in column mode)
    simplified_body: str | None = None        # a column derived from `simplified_source` after redaction
    simplified_source: str = "body"
    simplified_conversion: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _each_column_once(self) -> TablePlan:
        seen: dict[str, str] = {}
        for how, columns in (("declared", list(self.declared)), ("text", self.text), ("json", self.json_),
                             ("identifiers", self.identifiers), ("keep", self.keep), ("simplified_body", [self.simplified_body] if self.simplified_body
                                                   else [])):
            for column in columns:
                if column in seen:
                    raise ValueError(f"column {column!r} is listed under both {seen[column]} and {how}")
                seen[column] = how
        return self

    def how(self, column: str) -> str:
        if column in self.declared:
            return "declared"
        if column in self.text:
            return "text"
        if column in self.json_:
            return "json"
        if column in self.identifiers:
            return "identifier"
        if column in self.keep:
            return "keep"
        if column == self.simplified_body:
            return "derived"
        return "auto"


class ResidualConfig(StrictModel):
    max_findings: int = 0               # identifiers, phones, e-mails the pattern rescan may find
    names: bool = True                  # rescan for names and addresses too
    name_threshold: float = Field(0.2, gt=0, lt=1)  # the learned detector's threshold in the rescan
    english_ner: str | None = SPACY_ENGLISH_NER  # the second NER model for English; null: none
    max_name_share: float = Field(0.15, ge=0, le=1)  # share of scanned values with a residual name or address


class BatchConfig(StrictModel):
    n_process: int = 2
    batch_size: int = 256
    min_texts_per_process: int = 2000


class SanitationConfig(StrictModel):
    operator: str = "placeholder"
    language: str = "auto"
    records: TablePlan = TablePlan()
    documents: TablePlan = TablePlan()
    residual: ResidualConfig = ResidualConfig()
    batch: BatchConfig = BatchConfig()

    @field_validator("operator")
    @classmethod
    def _known_operator(cls, value: str) -> str:
        if value not in OPERATORS:
            raise ValueError(f"unknown operator {value!r}; known: {', '.join(OPERATORS)}")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("auto", "en", "zh"):
            raise ValueError(f"unknown language {value!r}; known: auto, en, zh")
        return value


class SanitationConfigError(ValueError):
    pass


def load_sanitation_config(path: Path | str | None = None) -> SanitationConfig:
    return load_yaml_model(Path(path or default_file("sanitation")), SanitationConfig, "the sanitation config", SanitationConfigError)
