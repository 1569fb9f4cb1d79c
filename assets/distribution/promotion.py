"""Gathering the evidence for one model's promotion and deciding it (the ``champion_*`` assets call this).

Quality compares candidate and champion on the same test split: each registered version carries the test
metric it scored and the dataset version it was scored on (tags ``test.<metric>``, ``test.dataset_version``);
a champion scored on an older version of the test split is downloaded from the registry and scored again on
the current one."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from waterworks.governance.policy import Policy, decide_targets

from ..datasets.checks import check_dataset_residual
from ..lake import Lake
from .config import ModelPlan
from .gates import Promotion, policy_gate, privacy_gate, promote, quality_gate
from .registry import CANDIDATE, CHAMPION, alias_version, download_model, hf_folder_of

DATASET_TAG = "test.dataset_version"


def metric_tag(metric: str) -> str:
    return f"test.{metric}"


def version_score(version, metric: str, dataset_version: str) -> float | None:
    if version is None or version.tags.get(DATASET_TAG) != dataset_version:
        return None
    value = version.tags.get(metric_tag(metric))
    return float(value) if value not in (None, "", "None") else None


def champion_score(client, tracking_uri: str, champion, metric: str, dataset_version: str,
                   rescore: Callable[[Path], float | None]) -> tuple[float | None, str]:
    """The champion's metric on the test split ``dataset_version``: recorded, or re-scored from the registry."""
    recorded = version_score(champion, metric, dataset_version)
    if recorded is not None:
        return recorded, "recorded at its registration"
    with tempfile.TemporaryDirectory() as scratch:
        folder = hf_folder_of(download_model(champion.name, champion.version, tracking_uri, Path(scratch)))
        score = rescore(folder)
    if score is not None:
        client.set_model_version_tag(champion.name, champion.version, metric_tag(metric), str(score))
        client.set_model_version_tag(champion.name, champion.version, DATASET_TAG, dataset_version)
    return score, "re-scored from the registry on the current test split"


def residual_evidence(lake: Lake, lineage: dict) -> dict[str, dict]:
    evidence = {}
    for dataset in lineage.get("datasets", []):
        if dataset.get("external"):  # no lake dataset to rescan: public data shipped with the code, or refused
            public = set(dataset.get("classifications", {})) <= {"public"}
            evidence[f"{dataset['name']}@{dataset['version']}"] = {
                "passed": public, "external": True,
                "reason": "public labelled corpora and synthetic text shipped with the code" if public
                else "external data that is not public"}
            continue
        passed, meta = check_dataset_residual(lake, dataset["name"], dataset["version"])
        evidence[f"{dataset['name']}@{dataset['version']}"] = {"passed": passed, **meta}
    return evidence


def decide_promotion(client, tracking_uri: str, lake: Lake, plan: ModelPlan, policy: Policy, lineage: dict,
                     evaluation: dict, rescore: Callable[[Path], float | None], actor: str = "unknown",
                     ledger: Path | None = None) -> Promotion:
    name = plan.registered_name
    candidate = alias_version(client, name, CANDIDATE)
    if candidate is None:
        raise FileNotFoundError(f"{name} has no {CANDIDATE!r} version: materialize its registration first")
    champion = alias_version(client, name, CHAMPION)
    metric, dataset_version = plan.quality.metric, evaluation["dataset_version"]
    candidate_value = evaluation.get("metrics", {}).get(metric)
    already = champion is not None and champion.version == candidate.version
    champion_value, how = (None, "no champion")
    if champion is not None and not already:
        champion_value, how = champion_score(client, tracking_uri, champion, metric, dataset_version, rescore)
    quality = quality_gate(plan.quality, candidate_value, champion_value, already)
    quality.evidence.update({"champion_version": champion.version if champion else None, "champion_score": how,
                             "test_dataset_version": dataset_version})
    privacy = privacy_gate(residual_evidence(lake, lineage), evaluation.get("canaries"),
                           int(evaluation.get("withheld_samples", 0)))
    policy_result = policy_gate(decide_targets(lineage, list(plan.targets), policy))
    return promote(client, name, candidate.version, [quality, privacy, policy_result],
                   champion.version if champion else None, actor, ledger)


def register_candidate(client, experiment_id: str, tracking_uri: str, lake: Lake, plan: ModelPlan, artifact,
                       evaluation: dict, log_model: Callable[[str, str], object], tags: dict[str, str]):
    """Register the model folder of ``artifact`` (logged into its training run) under the plan's name with
    alias ``candidate``, tagged with its held-out score, the data it was scored on, its datasets and code
    version. Returns (version, newly registered, run id, the gate metric's value)."""
    from ..tracking import log_training_run
    from .registry import register

    run_id, _ = log_training_run(client, experiment_id, lake, artifact, tags)
    metric = evaluation["metrics"].get(plan.quality.metric)
    version_tags = {DATASET_TAG: evaluation["dataset_version"], metric_tag(plan.quality.metric): str(metric),
                    "waterworks.datasets": ", ".join(f"{d['name']}@{d['version']}"
                                                     for d in artifact.lineage.get("datasets", [])),
                    "waterworks.code_version": artifact.lineage.get("code_version", "unknown"),
                    "dagster.run_id": tags.get("dagster.run_id", "")}
    version, created = register(client, tracking_uri, plan.registered_name, artifact, run_id, log_model,
                                version_tags)
    return version, created, run_id, metric
