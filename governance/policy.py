"""Data-use policy: which data classifications may feed which training, and which targets (public cloud,
private cloud, edge) a model may go to, decided by the most restrictive data classification in its lineage.
Plain code, no Dagster; ``governance/policy.yaml`` is the default policy file.

A model's lineage is its ``lineage.json`` (written by the training stage): the datasets it was trained on with
their document counts per classification, and its base model — whose own ``lineage.json`` is followed when the
base was trained here, so a chat model fine-tuned from a model pretrained on confidential mail is confidential."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")


class PolicyError(ValueError):
    pass


class SanitizedRule(BaseModel):
    """What rows of one classification may carry into the sanitized zone beyond redaction, and whether the
    lake catalog handed to analysts shows them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attributes: Literal["keep", "generalize", "drop"] = "keep"  # the table's personal-attribute columns
    text: Literal["keep", "drop"] = "keep"                       # its free-text columns
    catalog: bool = True


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    classifications: tuple[str, ...]
    training: dict[str, tuple[str, ...]] = {}
    targets: dict[str, tuple[str, ...]]
    external_base_model: str = "public"
    sanitized: dict[str, SanitizedRule] = {}

    @model_validator(mode="after")
    def _known_names(self) -> Policy:
        known = set(self.classifications)
        for section in ("training", "targets"):
            for name, allowed in getattr(self, section).items():
                if unknown := set(allowed) - known:
                    raise ValueError(f"{section}.{name} names unknown classifications {sorted(unknown)}")
        if unknown := set(self.sanitized) - known:
            raise ValueError(f"sanitized names unknown classifications {sorted(unknown)}")
        if self.external_base_model not in known:
            raise ValueError(f"external_base_model {self.external_base_model!r} is not a known classification")
        return self

    def rank(self, classification: str) -> int:
        if classification not in self.classifications:
            raise PolicyError(f"unknown data classification {classification!r} (policy knows "
                              f"{', '.join(self.classifications)})")
        return self.classifications.index(classification)

    def most_restrictive(self, classifications) -> str:
        found = [c for c in classifications if c]
        return max(found, key=self.rank) if found else self.classifications[0]

    def sanitized_rule(self, classification: str) -> SanitizedRule:
        self.rank(classification)
        return self.sanitized.get(classification, SanitizedRule())

    def catalog_classifications(self) -> list[str]:
        """The classifications whose sanitized rows the analysts' catalog shows."""
        return [c for c in self.classifications if self.sanitized_rule(c).catalog]

    def allowed_targets(self, classification: str) -> list[str]:
        self.rank(classification)
        return [target for target, allowed in self.targets.items() if classification in allowed]


def load_policy(path: Path | str | None = None) -> Policy:
    path = Path(path) if path else DEFAULT_POLICY_FILE
    try:
        return Policy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}: cannot read the policy: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise PolicyError(f"{path}: invalid policy: {problems}") from exc


def lineage_classifications(lineage: dict, policy: Policy, seen: frozenset[str] = frozenset()) -> dict[str, int]:
    """Documents per classification behind a model: its datasets', plus its base model's (followed through the
    base model's own lineage.json where the base was trained here; else the policy's external classification)."""
    counts: dict[str, int] = {}
    for dataset in lineage.get("datasets", []):
        for name, n in (dataset.get("classifications") or {}).items():
            counts[name] = counts.get(name, 0) + int(n)
    base = lineage.get("base_model") or {}
    if base:
        base_lineage = Path(base.get("path", "")) / "lineage.json"
        if base_lineage.is_file() and str(base_lineage) not in seen:
            inner = json.loads(base_lineage.read_text(encoding="utf-8"))
            for name, n in lineage_classifications(inner, policy, seen | {str(base_lineage)}).items():
                counts[name] = counts.get(name, 0) + n
        else:
            counts.setdefault(policy.external_base_model, 0)  # no document counts: only its classification
    return counts


@dataclass(frozen=True)
class TargetDecision:
    classification: str            # the most restrictive classification in the lineage
    allowed: tuple[str, ...]       # targets the policy allows for it
    requested: tuple[str, ...]     # targets the model is meant for
    refused: tuple[str, ...]       # requested but not allowed

    @property
    def passed(self) -> bool:
        return not self.refused

    def as_dict(self) -> dict:
        return {"classification": self.classification, "allowed_targets": list(self.allowed),
                "requested_targets": list(self.requested), "refused_targets": list(self.refused)}


def decide_targets(lineage: dict, requested: list[str], policy: Policy) -> TargetDecision:
    if unknown := [t for t in requested if t not in policy.targets]:
        raise PolicyError(f"unknown deployment target(s) {unknown} (policy knows {', '.join(policy.targets)})")
    classification = policy.most_restrictive(lineage_classifications(lineage, policy))
    allowed = tuple(policy.allowed_targets(classification))
    return TargetDecision(classification, allowed, tuple(requested), tuple(t for t in requested if t not in allowed))


@dataclass(frozen=True)
class TrainingDecision:
    training: str                  # the training asset
    dataset: str                   # the dataset it reads
    classifications: dict          # documents per classification in the dataset
    allowed: tuple[str, ...]       # classifications the policy lets feed this training
    refused: tuple[str, ...]       # present in the dataset but not allowed

    @property
    def passed(self) -> bool:
        return not self.refused

    @property
    def reason(self) -> str:
        if self.passed:
            return (f"{', '.join(sorted(self.classifications)) or 'no'} data may feed {self.training} "
                    f"(allowed: {', '.join(self.allowed)})")
        return (f"{', '.join(self.refused)} data ({sum(self.classifications[c] for c in self.refused)} documents) "
                f"may not feed {self.training}; the policy allows {', '.join(self.allowed) or 'nothing'}")

    def as_dict(self) -> dict:
        return {"training": self.training, "dataset": self.dataset, "classifications": dict(self.classifications),
                "allowed": list(self.allowed), "refused": list(self.refused), "passed": self.passed,
                "reason": self.reason}


def decide_training(training: str, dataset: str, classifications: dict[str, int], policy: Policy) -> TrainingDecision:
    """May a dataset holding these documents per classification feed ``training``? A training the policy does
    not name may read nothing: the policy is an allow-list."""
    for name in classifications:
        policy.rank(name)
    allowed = tuple(policy.training.get(training, ()))
    refused = tuple(sorted((c for c, n in classifications.items() if n and c not in allowed), key=policy.rank))
    return TrainingDecision(training, dataset, dict(classifications), allowed, refused)
