"""The training config (training.yaml): recipe settings per preset (machine class) and the evaluation thresholds. Recipe
sections are validated against the recipes' own dataclasses, so an unknown key fails when the code location
loads, naming the file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pydantic import model_validator

from ..stage_configs import default_file
from ..yaml_config import StrictModel, load_yaml_model


class TrainingConfigError(ValueError):
    pass


class EvaluationPlan(StrictModel):
    canary_candidates: int = 999
    max_exposure_bits: float = 9.0
    generations: int = 3


class Preset(StrictModel):
    """One machine class's settings: ``evaluation`` and one section per recipe, named as in
    ``models.recipes.RECIPES``, whose keys are that recipe's config fields."""
    evaluation: EvaluationPlan = EvaluationPlan()
    recipes: dict[str, dict] = {}

    @model_validator(mode="before")
    @classmethod
    def _sections(cls, values):
        if not isinstance(values, dict):
            return values
        from waterworks.models.recipes import RECIPES

        sections = {k: v for k, v in values.items() if k != "evaluation"}
        for recipe, settings in sections.items():
            if recipe not in RECIPES:
                raise ValueError(f"{recipe!r} is not a recipe; recipes: {sorted(RECIPES)}")
            known = {f.name for f in dataclasses.fields(RECIPES[recipe])}
            unknown = sorted(set(settings or {}) - known)
            if unknown:
                raise ValueError(f"{recipe}: unknown setting(s) {unknown}; known: {sorted(known)}")
        return {"evaluation": values.get("evaluation", {}), "recipes": {k: v or {} for k, v in sections.items()}}

    def recipe(self, name: str, **overrides):
        """The recipe's config: this preset's section over the recipe's defaults, then ``overrides`` (None
        values ignored; lists become tuples, the configs being frozen)."""
        from waterworks.models.recipes import RECIPES

        cls = RECIPES[name]
        values = {k: tuple(v) if isinstance(v, list) else v
                  for k, v in {**self.recipes.get(name, {}), **overrides}.items() if v is not None}
        for f in dataclasses.fields(cls):  # a nested config (the detector's network) given as a mapping
            if dataclasses.is_dataclass(f.default) and isinstance(values.get(f.name), dict):
                values[f.name] = type(f.default)(**values[f.name])
        return cls(**values)


class TrainingConfig(StrictModel):
    default_preset: str
    presets: dict[str, Preset]

    @model_validator(mode="after")
    def _default_exists(self) -> TrainingConfig:
        if self.default_preset not in self.presets:
            raise ValueError(f"default_preset {self.default_preset!r} is not one of {sorted(self.presets)}")
        return self

    def preset(self, name: str | None) -> Preset:
        name = name or self.default_preset
        if name not in self.presets:
            raise TrainingConfigError(f"training preset {name!r} is not defined; defined: {sorted(self.presets)}")
        return self.presets[name]


def load_training_config(path: Path | str | None = None) -> TrainingConfig:
    return load_yaml_model(Path(path or default_file("training")), TrainingConfig, "the training config",
                           TrainingConfigError)
