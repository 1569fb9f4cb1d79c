"""MLflow tracking, in one module (the asset factory and the registry call it), over ``MlflowClient`` (no
global fluent state): one run per trained model folder, holding its params, per-step metrics, system info,
dataset inputs (``mlflow.data`` with the dataset digest and the lake URI of the version), the dataset cards,
the sanitation audit summary and the lineage, and tags naming the Dagster run and asset; its evaluation.

The run is logged from the model folder's own records (``params.json``, ``metrics.jsonl``, ``training.json``,
``lineage.json``) once training has finished, and found again by its model key: a model reused because its
inputs did not change keeps its one run."""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from .datasets.cards import card_markdown
from .datasets.store import ZONE, read_card
from .lake import Lake
from .training.artifacts import ModelArtifact, write_evaluation

MODEL_TAG, KEY_TAG = "waterworks.model", "waterworks.model_key"
PARAM_LIMIT = 6000  # MLflow's longest param value
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no progress bars in run logs


def mlflow_client(tracking_uri: str):
    from mlflow import MlflowClient

    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


@contextmanager
def fluent_tracking(tracking_uri: str):
    """MLflow's model-logging functions only exist in the fluent API: point it at our store for the duration."""
    import mlflow

    previous = mlflow.get_tracking_uri()
    previous_registry = mlflow.get_registry_uri()
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    try:
        yield mlflow
    finally:
        mlflow.set_tracking_uri(previous)
        mlflow.set_registry_uri(previous_registry)


def ensure_experiment(client, name: str, artifact_uri: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = artifact_uri if "://" in artifact_uri else Path(artifact_uri).resolve().as_uri()
    return client.create_experiment(name, artifact_location=location)


def find_run(client, experiment_id: str, model: str, key: str):
    runs = client.search_runs([experiment_id], filter_string=f"tags.`{MODEL_TAG}` = '{model}' and "
                              f"tags.`{KEY_TAG}` = '{key}' and attributes.status = 'FINISHED'", max_results=1,
                              order_by=["attributes.start_time DESC"])
    return runs[0] if runs else None


def flatten(values: dict, prefix: str = "") -> dict[str, str]:
    flat = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)[:PARAM_LIMIT]
    return flat


def step_metrics(folder: Path) -> list[tuple[str, float, int]]:
    """(key, value, step) for every numeric value of every line of ``metrics.jsonl``."""
    out = []
    path = Path(folder) / "metrics.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        row = json.loads(line)
        step = int(row.pop("step", 0))
        out += [(k, float(v), step) for k, v in row.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    return out


def summary_metrics(summary: dict) -> dict[str, float]:
    return {f"final_{k}": float(v) for k, v in summary.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def sanitation_audit_summary(lake: Lake, sources: list[str]) -> dict:
    """The sanitation audit ledger aggregated for the given sources: findings by table, source, entity type,
    detector and operator. Counts only; the ledger holds no values."""
    rows = []
    for table in ("records", "documents"):
        if lake.exists("sanitized", f"ledger/{table}.parquet"):
            ledger = pl.from_arrow(lake.read_parquet("sanitized", f"ledger/{table}.parquet"))
            if sources:
                ledger = ledger.filter(pl.col("source_id").is_in(sources))
            grouped = (ledger.group_by("table", "source_id", "entity_type", "detector", "operator")
                       .agg(pl.col("count").sum()).sort("table", "source_id", "entity_type", "detector", "operator"))
            rows += grouped.to_dicts()
    return {"sources": sources, "findings": rows, "total_redacted": sum(r["count"] for r in rows)}


def _dataset_inputs(lake: Lake, lineage: dict):
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.entities import DatasetInput, InputTag

    inputs = []
    for dataset in lineage.get("datasets", []):
        if dataset.get("external"):  # data that ships with the code (the PII detector's corpora): no lake URI
            continue
        uri = lake.uri(ZONE, f"{dataset['name']}/{dataset['version']}")
        with warnings.catch_warnings():  # MLflow registers its local source class twice and warns about it
            warnings.simplefilter("ignore", UserWarning)
            source = resolve_dataset_source(uri)
        meta = MetaDataset(source=source, name=dataset["name"], digest=dataset["version"])
        inputs.append(DatasetInput(meta._to_mlflow_entity(), tags=[InputTag("mlflow.data.context", "training")]))
    return inputs


def log_training_run(client, experiment_id: str, lake: Lake, artifact: ModelArtifact, tags: dict[str, str]) -> tuple[str, bool]:
    """The MLflow run of a trained model folder: (run_id, reused). A finished run with the same model key is
    reused (its tags updated with the latest Dagster run); otherwise one is logged."""
    from mlflow.entities import Metric, Param, RunTag

    existing = find_run(client, experiment_id, artifact.name, artifact.key)
    if existing is not None:
        for key, value in tags.items():
            client.set_tag(existing.info.run_id, f"last.{key}", value)
        return existing.info.run_id, True
    folder = artifact.path
    run_tags = {MODEL_TAG: artifact.name, KEY_TAG: artifact.key, "waterworks.recipe": artifact.lineage.get("recipe", ""),
                "waterworks.code_version": artifact.lineage.get("code_version", "unknown"),
                "waterworks.model_path": str(folder), **tags}
    run = client.create_run(experiment_id, run_name=f"{artifact.name}-{artifact.key}", tags=run_tags)
    run_id = run.info.run_id
    try:
        params_file = folder / "params.json"
        params = flatten(json.loads(params_file.read_text(encoding="utf-8"))) if params_file.is_file() else {}
        params.update(flatten({"system": artifact.summary.get("runtime", {})}))
        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, s) for k, v, s in step_metrics(folder)]
        metrics += [Metric(k, v, now, 0) for k, v in summary_metrics(artifact.summary).items()]
        param_items = [Param(k, v) for k, v in sorted(params.items())]
        for start in range(0, max(len(param_items), len(metrics), 1), 100):
            client.log_batch(run_id, metrics=metrics[start:start + 100], params=param_items[start:start + 100],
                             tags=[RunTag("mlflow.note.content", f"Trained model folder {artifact.key}")] if not start else [])
        client.log_inputs(run_id, datasets=_dataset_inputs(lake, artifact.lineage))
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            sources: list[str] = []
            for dataset in artifact.lineage.get("datasets", []):
                if dataset.get("external"):
                    continue
                card = read_card(lake, dataset["name"], dataset["version"])
                sources += list(card.get("sources", {}))
                (root / "datasets").mkdir(exist_ok=True)
                (root / "datasets" / f"{dataset['name']}_card.json").write_text(
                    json.dumps(card, indent=1, ensure_ascii=False), encoding="utf-8")
                (root / "datasets" / f"{dataset['name']}_card.md").write_text(card_markdown(card), encoding="utf-8")
            (root / "sanitation_audit.json").write_text(json.dumps(
                sanitation_audit_summary(lake, sorted(set(sources))), indent=1), encoding="utf-8")
            for name in ("lineage.json", "training.json"):
                if (folder / name).is_file():
                    (root / name).write_bytes((folder / name).read_bytes())
            client.log_artifacts(run_id, str(root))
    except Exception:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id, False


def log_evaluation(client, run_id: str, metrics: dict[str, float], details: dict, name: str) -> None:
    """Test-split metrics (``test_*``) and the full evaluation (``<name>.json``) into a model's run."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()])
    client.log_dict(run_id, details, f"{name}.json")


def record_evaluation(client, experiment_id: str, model: str, folder: Path, evaluation: dict) -> None:
    """``evaluation.json`` in the model folder (the promotion gates read it), and its numeric metrics and the
    whole evaluation in the folder's MLflow run."""
    write_evaluation(folder, evaluation)
    run = find_run(client, experiment_id, model, folder.name)
    if run is not None:
        metrics = {k: v for k, v in evaluation.get("metrics", {}).items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}
        log_evaluation(client, run.info.run_id, metrics, evaluation, "evaluation")
