"""The training config (training.yaml): recipe settings per profile and the evaluation thresholds. Recipe
sections are validated against the recipes' own dataclasses, so an unknown key fails when the code location
loads, naming the file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pydantic import model_validator

from ..yaml_config import StrictModel, load_yaml_model

DEFAULT_CONFIG = Path(__file__).with_name("training.yaml")
RECIPES = ("pretrain", "lora_sft", "classify")


class TrainingConfigError(ValueError):
    pass


class EvaluationPlan(StrictModel):
    canary_candidates: int = 999
    max_exposure_bits: float = 9.0
    generations: int = 3


def _recipe_fields() -> dict[str, set[str]]:
    # the dataclasses' field names, read without importing torch (the code location stays light)
    import ast

    fields = {}
    base = Path(__file__).resolve().parents[2] / "models" / "recipes"
    for recipe, (module, cls) in {"pretrain": ("pretrain", "PretrainConfig"), "lora_sft": ("lora_sft", "LoraSftConfig"),
                                  "classify": ("lora_classify", "ClassifyConfig")}.items():
        tree = ast.parse((base / f"{module}.py").read_text(encoding="utf-8"))
        node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
        fields[recipe] = {s.target.id for s in node.body if isinstance(s, ast.AnnAssign)}
    return fields


class Profile(StrictModel):
    evaluation: EvaluationPlan = EvaluationPlan()
    pretrain: dict = {}
    lora_sft: dict = {}
    classify: dict = {}

    @model_validator(mode="after")
    def _known_keys(self) -> Profile:
        fields = _recipe_fields()
        for recipe in RECIPES:
            unknown = sorted(set(getattr(self, recipe)) - fields[recipe])
            if unknown:
                raise ValueError(f"{recipe}: unknown setting(s) {unknown}; known: {sorted(fields[recipe])}")
        return self


class TrainingConfig(StrictModel):
    default_profile: str
    profiles: dict[str, Profile]

    @model_validator(mode="after")
    def _default_exists(self) -> TrainingConfig:
        if self.default_profile not in self.profiles:
            raise ValueError(f"default_profile {self.default_profile!r} is not one of {sorted(self.profiles)}")
        return self

    def profile(self, name: str | None) -> Profile:
        name = name or self.default_profile
        if name not in self.profiles:
            raise TrainingConfigError(f"training profile {name!r} is not defined; defined: {sorted(self.profiles)}")
        return self.profiles[name]


def load_training_config(path: Path | str | None = None) -> TrainingConfig:
    return load_yaml_model(Path(path) if path else DEFAULT_CONFIG, TrainingConfig, "the training config",
                           TrainingConfigError)


def recipe_config(cls, settings: dict, **overrides):
    """Instantiate a recipe dataclass from a profile section (lists become tuples: the configs are frozen)."""
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in {**settings, **overrides}.items()
              if v is not None}
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})
