"""The distribution config (``distribution.yaml``): registered model names, deployment targets and quality
gates per trained model, and the settings of the deployment bundles."""

from __future__ import annotations

from pathlib import Path

from ..yaml_config import StrictModel, load_yaml_model

DEFAULT_CONFIG_FILE = Path(__file__).with_name("distribution.yaml")


class DistributionConfigError(ValueError):
    pass


class QualityGate(StrictModel):
    metric: str
    higher_is_better: bool = True
    floor: float | None = None
    min_improvement: float = 0.0


class ModelPlan(StrictModel):
    registered_name: str
    targets: tuple[str, ...]
    quality: QualityGate


class ServerBundle(StrictModel):
    max_model_len: int = 2048
    dtype: str = "auto"


class EdgeBundle(StrictModel):
    opset: int = 18
    fp32_max_logit_delta: float = 1e-3
    parity_examples: int = 64
    min_label_agreement: float = 0.95
    tie_margin: float = 0.05
    max_probability_delta: float = 0.1


class Bundles(StrictModel):
    server: ServerBundle = ServerBundle()
    edge: EdgeBundle = EdgeBundle()


class DistributionConfig(StrictModel):
    models: dict[str, ModelPlan]
    bundles: Bundles = Bundles()

    def plan(self, model: str) -> ModelPlan:
        if model not in self.models:
            raise DistributionConfigError(f"the distribution config has no entry for model {model!r} "
                                          f"(it has {', '.join(self.models)})")
        return self.models[model]


def load_distribution_config(path: Path | str | None = None) -> DistributionConfig:
    return load_yaml_model(Path(path) if path else DEFAULT_CONFIG_FILE, DistributionConfig,
                           "the distribution config", DistributionConfigError)
