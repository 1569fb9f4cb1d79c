"""Promotion gates: a registered ``candidate`` becomes ``champion`` only when all three pass.

- quality: on the same test split, it beats the current champion (by more than ``min_improvement``), and a
  first champion clears the configured floor;
- privacy: the residual-PII rescan of every dataset it was trained on is clean, its canary exposure check
  passed (generative models), and none of its sample generations had to be withheld for residual PII;
- policy: the most restrictive data classification in its lineage allows every deployment target it is meant
  for (governance/policy.py).

Each decision is recorded on the model version as tags (``gate.<name>`` = passed | refused, with the reason),
so the registry shows why a version is or is not champion."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from waterworks.governance.policy import TargetDecision

from .config import QualityGate
from .registry import CHAMPION, FILES_TAG, RETIRED_TAG


@dataclass(frozen=True)
class GateResult:
    gate: str
    passed: bool
    reason: str
    evidence: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"gate": self.gate, "passed": self.passed, "reason": self.reason, "evidence": self.evidence}


def quality_gate(plan: QualityGate, candidate: float | None, champion: float | None,
                 is_champion_already: bool = False) -> GateResult:
    evidence = {"metric": plan.metric, "candidate": candidate, "champion": champion,
                "higher_is_better": plan.higher_is_better, "floor": plan.floor,
                "min_improvement": plan.min_improvement}
    if candidate is None:
        return GateResult("quality", False, f"the candidate has no {plan.metric} on the test split", evidence)
    better = (lambda a, b: a > b) if plan.higher_is_better else (lambda a, b: a < b)
    if plan.floor is not None and better(plan.floor, candidate):
        return GateResult("quality", False, f"{plan.metric} {candidate:.4g} does not reach the floor {plan.floor}",
                          evidence)
    if is_champion_already:
        return GateResult("quality", True, "this version is already the champion", evidence)
    if champion is None:
        return GateResult("quality", True, f"no champion yet; {plan.metric} {candidate:.4g} clears the floor",
                          evidence)
    margin = plan.min_improvement if plan.higher_is_better else -plan.min_improvement
    if better(candidate, champion + margin):
        return GateResult("quality", True, f"{plan.metric} {candidate:.4g} beats the champion's {champion:.4g} on "
                          "the same test split", evidence)
    return GateResult("quality", False, f"{plan.metric} {candidate:.4g} does not beat the champion's "
                      f"{champion:.4g} on the same test split", evidence)


def privacy_gate(residual: dict[str, dict], canaries: dict | None, withheld_samples: int = 0) -> GateResult:
    """``residual``: dataset name → {"passed", "residual_findings", ...} of the rescan; ``canaries``: the canary
    check of a generative model ({"planted", "passed", "max_exposure_bits", "threshold_bits"}), None for a
    classifier. A generative model with no canary evaluated is refused: its memorization was not measured."""
    evidence = {"residual": residual, "canaries": canaries, "withheld_samples": withheld_samples}
    dirty = [name for name, r in residual.items() if not r.get("passed")]
    if not residual:
        return GateResult("privacy", False, "no residual-PII scan of the training data", evidence)
    if dirty:
        return GateResult("privacy", False, f"residual PII found in dataset(s) {', '.join(dirty)}", evidence)
    if canaries is not None and not canaries.get("planted"):
        return GateResult("privacy", False, "no canary was evaluated: memorization was not measured", evidence)
    if canaries is not None and not canaries.get("passed"):
        return GateResult("privacy", False, f"canary exposure {canaries.get('max_exposure_bits')} bits exceeds "
                          f"{canaries.get('threshold_bits')} bits", evidence)
    if withheld_samples:
        return GateResult("privacy", False, f"{withheld_samples} sample generation(s) held residual PII", evidence)
    what = "residual scan clean" + (", canaries not extractable" if canaries is not None else "")
    return GateResult("privacy", True, what, evidence)


def policy_gate(decision: TargetDecision) -> GateResult:
    if decision.passed:
        return GateResult("policy", True, f"{decision.classification} data may go to "
                          f"{', '.join(decision.requested) or 'no target'}", decision.as_dict())
    return GateResult("policy", False, f"{decision.classification} data in its lineage may not go to "
                      f"{', '.join(decision.refused)}", decision.as_dict())


@dataclass(frozen=True)
class Promotion:
    name: str
    version: str
    promoted: bool
    champion: str | None           # the champion version after the decision
    previous_champion: str | None
    gates: tuple[GateResult, ...]

    def as_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "promoted": self.promoted, "champion": self.champion,
                "previous_champion": self.previous_champion, "gates": [g.as_dict() for g in self.gates]}


def promote(client, name: str, version: str, gates: list[GateResult], previous_champion: str | None,
            actor: str = "unknown", ledger: Path | None = None) -> Promotion:
    """Record every gate on the version; move ``champion`` to it only when all passed — recording who moved it
    (``actor``), when, and the version's file digest in the version's tags and in the append-only promotion
    ``ledger`` that serving checks."""
    for gate in gates:
        client.set_model_version_tag(name, version, f"gate.{gate.gate}", "passed" if gate.passed else "refused")
        client.set_model_version_tag(name, version, f"gate.{gate.gate}.reason", gate.reason[:5000])
    retired = client.get_model_version(name, version).tags.get(RETIRED_TAG)
    promoted = all(g.passed for g in gates) and not retired  # a version that saw erased data never returns
    if promoted:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        files = client.get_model_version(name, version).tags.get(FILES_TAG)
        client.set_registered_model_alias(name, CHAMPION, version)
        client.set_model_version_tag(name, version, "waterworks.promoted_by", actor)
        client.set_model_version_tag(name, version, "waterworks.promoted_at", at)
        if ledger is not None:
            record = {"at": at, "model": name, "version": str(version), "alias": CHAMPION, "by": actor,
                      "previous": previous_champion, "files_sha256": files,
                      "gates": {g.gate: g.passed for g in gates}}
            Path(ledger).parent.mkdir(parents=True, exist_ok=True)
            with open(ledger, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, sort_keys=True) + "\n")
    return Promotion(name, version, promoted, version if promoted else previous_champion, previous_champion,
                     tuple(gates))
