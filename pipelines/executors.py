"""The executor of the plant's runs, chosen by the ``executor`` setting — configuration, not code changes:

- ``in_process``: every step in the run's own process (the default: on a small machine the fastest, one
  model load per process);
- ``multiprocess``: a process per step, independent steps at once (``max_concurrent``, default the CPUs);
  the concurrency pools in DAGSTER_HOME's dagster.yaml still let one training step run at a time (pool ``gpu``)
  and one step write the DuckDB catalog (pool ``duckdb``);
- ``k8s``: a Kubernetes job per step (dagster-k8s, installed with the ``k8s`` extra), configured from
  ``deploy/k8s_executor.yaml`` (image, namespace, resources per step; GPU steps on GPU nodes).
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import yaml

from .settings import Settings, project_root

K8S_CONFIG = Path("deploy") / "k8s_executor.yaml"
PRELOAD = ("dagster", "polars", "pyarrow", "torch", "transformers", "peft", "mlflow", "spacy", "waterworks.governance.pii.presidio",
           "waterworks.pipelines.definitions")


def executor_for(settings: Settings) -> dg.ExecutorDefinition:
    if settings.executor == "in_process":
        return dg.in_process_executor
    if settings.executor == "multiprocess":
        return dg.multiprocess_executor.configured(multiprocess_config(settings))
    return k8s_executor()


def multiprocess_config(settings: Settings) -> dict:
    """Step processes fork from a server that has imported Dagster and the plant's definitions once, instead of
    each starting a fresh interpreter (seconds per step)."""
    return {"max_concurrent": settings.max_concurrent or os.cpu_count() or 1,
            "start_method": {"forkserver": {"preload_modules": list(PRELOAD)}}}


def k8s_executor(config_file: Path | None = None) -> dg.ExecutorDefinition:
    try:
        from dagster_k8s import k8s_job_executor
    except ImportError as error:
        raise RuntimeError("executor k8s needs dagster-k8s: pip install -e '.[k8s]'") from error
    path = config_file or project_root() / K8S_CONFIG
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return k8s_job_executor.configured(config.get("execution", {}).get("config", {}), name="k8s")
