"""The stage configs, declared once: which setting names each stage's YAML file, the file shipped as its default,
and the loader that validates it (errors name the file and the field).

``Settings`` fills each ``*_file`` setting from this table, ``StageConfigs`` loads them (each once) for whoever
holds the settings, and the stages' own ``load_*`` functions take their default from here too — so a stage's
default file is written in one place. No Dagster import: the CLI, benches and step processes use it alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

# governance keeps its own default: it imports no stage
from waterworks.governance.policy import DEFAULT_POLICY_FILE

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the folder holding assets/, governance/, …


@dataclass(frozen=True)
class StageConfig:
    stage: str
    setting: str     # the Settings field (and WATERWORKS_<SETTING> variable) that names the file
    default: Path    # the file shipped with the code
    loader: str      # "module:function": function(path) → the validated config
    holds: str       # one line for `waterworks settings` and the docs

    def load(self, path: Path | str | None = None) -> Any:
        module, function = self.loader.split(":")
        return getattr(import_module(module), function)(Path(path) if path else self.default)


STAGE_CONFIGS: dict[str, StageConfig] = {c.stage: c for c in (
    StageConfig("sources", "sources_file", PACKAGE_ROOT / "assets/source/sources.yaml",
                "waterworks.assets.source.catalog:load_catalog",
                "which landing files belong to which source, their reader and owner"),
    StageConfig("purification", "purification_file", PACKAGE_ROOT / "assets/purification/purification.yaml",
                "waterworks.assets.purification.config:load_purification_config",
                "canonical mapping per source, normalization, filters, deduplication"),
    StageConfig("sanitation", "sanitation_file", PACKAGE_ROOT / "assets/sanitation/sanitation.yaml",
                "waterworks.assets.sanitation.config:load_sanitation_config",
                "how each column is redacted, the operator, the residual threshold"),
    StageConfig("datasets", "datasets_file", PACKAGE_ROOT / "assets/datasets/datasets.yaml",
                "waterworks.assets.datasets.config:load_datasets_config",
                "which documents feed which set, splits"),
    StageConfig("training", "training_file", PACKAGE_ROOT / "assets/training/training.yaml",
                "waterworks.assets.training.config:load_training_config",
                "recipe presets (tiny, cpu, gpu), evaluation thresholds"),
    StageConfig("distribution", "distribution_file", PACKAGE_ROOT / "assets/distribution/distribution.yaml",
                "waterworks.assets.distribution.config:load_distribution_config",
                "quality-gate thresholds per product, bundles"),
    StageConfig("policy", "policy_file", DEFAULT_POLICY_FILE,
                "waterworks.governance.policy:load_policy",
                "classification → trainings it may feed, deployment targets it may go to"),
)}


def default_file(stage: str) -> Path:
    return STAGE_CONFIGS[stage].default


class StageConfigs:
    """The stage configs that one set of files names, each loaded and validated on first use, then kept."""

    def __init__(self, files: dict[str, Path | str]):
        unknown = sorted(set(files) - set(STAGE_CONFIGS))
        if unknown:
            raise KeyError(f"no stage config named {unknown}; known: {sorted(STAGE_CONFIGS)}")
        self.files = {stage: Path(files.get(stage) or spec.default) for stage, spec in STAGE_CONFIGS.items()}
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, stage: str) -> Any:
        if stage not in self._loaded:
            self._loaded[stage] = STAGE_CONFIGS[stage].load(self.files[stage])
        return self._loaded[stage]

    def __getattr__(self, stage: str) -> Any:
        if stage.startswith("_") or stage not in STAGE_CONFIGS:
            raise AttributeError(stage)
        return self[stage]

    def validate(self) -> None:
        """Load every config now: a broken file fails here (naming itself), not in the middle of a run."""
        for stage in STAGE_CONFIGS:
            self[stage]
