"""The distribution config (``distribution.yaml``): the quality gates' thresholds per registered product (its
registered name, targets and gate metric are declared in assets/products.py) and the deployment bundles'
settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from ..stage_configs import default_file
from ..yaml_config import StrictModel, load_yaml_model


class DistributionConfigError(ValueError):
    pass


class Thresholds(StrictModel):
    floor: float | None = None           # a first champion must reach this (None: no absolute bar)
    min_improvement: float = 0.0         # beat the champion by more than this on the same data


class QualityGate(StrictModel):
    metric: str
    higher_is_better: bool = True
    floor: float | None = None
    min_improvement: float = 0.0


class ModelPlan(StrictModel):
    """A registered product's distribution: its declaration (assets/products.py) with its gate's thresholds."""
    name: str
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
    quality: dict[str, Thresholds] = {}
    bundles: Bundles = Bundles()

    @model_validator(mode="after")
    def _registered_products(self) -> DistributionConfig:
        from ..products import registered_products

        known = {p.name for p in registered_products()}
        unknown = sorted(set(self.quality) - known)
        if unknown:
            raise ValueError(f"quality: {unknown} are not registered products; they are {sorted(known)}")
        return self

    def plan(self, model: str) -> ModelPlan:
        from ..products import product

        declared = product(model)
        if not declared.registered:
            raise DistributionConfigError(f"product {model!r} is not registered (assets/products.py)")
        thresholds = self.quality.get(model, Thresholds())
        return ModelPlan(name=model, registered_name=declared.registered_name, targets=declared.targets,
                         quality=QualityGate(metric=declared.quality.metric,
                                             higher_is_better=declared.quality.higher_is_better,
                                             floor=thresholds.floor, min_improvement=thresholds.min_improvement))

    @property
    def models(self) -> dict[str, ModelPlan]:
        """Every registered product's plan, by product name."""
        from ..products import registered_products

        return {p.name: self.plan(p.name) for p in registered_products()}


def load_distribution_config(path: Path | str | None = None) -> DistributionConfig:
    return load_yaml_model(Path(path or default_file("distribution")), DistributionConfig,
                           "the distribution config", DistributionConfigError)
