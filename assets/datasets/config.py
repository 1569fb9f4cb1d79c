"""The datasets config (datasets.yaml), validated; errors name the file and the field."""

from __future__ import annotations

from pathlib import Path

from ..stage_configs import default_file
from ..yaml_config import StrictModel, load_yaml_model
from .splits import SplitFractions


class DatasetsConfigError(ValueError):
    pass


class Splits(StrictModel):
    validation: float = 0.1
    test: float = 0.1
    salt: str = ""

    def fractions(self) -> SplitFractions:
        return SplitFractions(self.validation, self.test)


class ChatPlan(StrictModel):
    doc_kinds: list[str] = ["ticket", "document", "email"]


class ClassificationPlan(StrictModel):
    label_field: str = "category"
    doc_kinds: list[str] = ["ticket"]
    min_examples_per_label: int = 2


class CorpusPlan(StrictModel):
    doc_kinds: list[str] = ["ticket", "document", "email"]
    min_chars: int = 20


class DatasetsConfig(StrictModel):
    splits: Splits = Splits()
    chat: ChatPlan = ChatPlan()
    classification: ClassificationPlan = ClassificationPlan()
    corpus: CorpusPlan = CorpusPlan()

    def split_method(self) -> dict:
        return {"method": "sha256 of the split key, salted, in 10,000 buckets", "validation": self.splits.validation,
                "test": self.splits.test, "salt": self.splits.salt}


def load_datasets_config(path: Path | str | None = None) -> DatasetsConfig:
    path = Path(path or default_file("datasets"))
    try:
        config = load_yaml_model(path, DatasetsConfig, "the datasets config", DatasetsConfigError)
        config.splits.fractions()
    except ValueError as exc:
        if isinstance(exc, DatasetsConfigError):
            raise
        raise DatasetsConfigError(f"{path}: {exc}") from exc
    return config
