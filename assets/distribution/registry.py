"""The MLflow model registry: log a trained model into its training run (transformers flavor for the chat
model, a pyfunc wrapper for the intent classifier), register it per task with the alias ``candidate``, and
find versions by the model key they were trained as. Aliases and tags, never stages (deprecated)."""

from __future__ import annotations

import importlib.metadata as metadata
import shutil
import tempfile
from pathlib import Path

from governance.pii.residual import residual_findings

from ..training.artifacts import ModelArtifact
from .tracking import KEY_TAG, fluent_tracking

CANDIDATE, CHAMPION = "candidate", "champion"
MODEL_NAME = "model"  # the logged model's name inside its run
# Input examples stored with the models: written here, PII-free (and rescanned before use).
CHAT_EXAMPLE = "How do I reset the password of my online banking account?"
CLASSIFIER_EXAMPLE = "I still have not received the new card I ordered last week."


def pinned(*packages: str) -> list[str]:
    """``name==version`` for installed packages (local version labels such as +cpu dropped): MLflow's own
    inference of requirements fails here (it imports torchvision), so they are stated explicitly."""
    return [f"{p}=={metadata.version(p).split('+')[0]}" for p in packages]


SERVING_REQUIREMENTS = ("mlflow", "torch", "transformers", "tokenizers", "safetensors", "numpy", "pandas")


def _pii_free_example(text: str) -> str:
    if residual_findings(text):
        raise ValueError("the model's input example holds personal data; refusing to store it")
    return text


def find_version(client, name: str, model_key: str):
    """The registered version trained as ``model_key``, if any."""
    from mlflow.exceptions import MlflowException

    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        return None
    matching = [v for v in versions if v.tags.get(KEY_TAG) == model_key]
    return max(matching, key=lambda v: int(v.version)) if matching else None


def log_chat_model(tracking_uri: str, run_id: str, merged_folder: Path):
    """The merged chat model (Hugging Face folder) with the transformers flavor as an ``llm/v1/chat`` model:
    served, it takes OpenAI-style ``{"messages": [...]}`` and applies the model's own chat template."""
    from models.causal_lm import load_base
    from models.runtime import pick_runtime

    model, tokenizer = load_base(merged_folder, pick_runtime("cpu"))
    model.name_or_path = model.config.name_or_path = "chat_model"  # answers name this, not a local path
    with fluent_tracking(tracking_uri) as mlflow, mlflow.start_run(run_id=run_id):
        return mlflow.transformers.log_model(
            transformers_model={"model": model, "tokenizer": tokenizer}, name=MODEL_NAME, task="llm/v1/chat",
            input_example={"messages": [{"role": "user", "content": _pii_free_example(CHAT_EXAMPLE)}]},
            pip_requirements=pinned(*SERVING_REQUIREMENTS))


def log_classifier_model(tracking_uri: str, run_id: str, classifier_folder: Path):
    """The intent classifier as a pyfunc model: our wrapper (models/serving.py, shipped as code) and the
    classifier folder as its artifact."""
    import pandas as pd
    from mlflow.models import infer_signature

    from models import serving

    example = pd.DataFrame({"text": [_pii_free_example(CLASSIFIER_EXAMPLE)]})
    signature = infer_signature(example, pd.DataFrame({"label": ["a_label"], "score": [0.5]}))
    code = Path(serving.__file__).parent
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch) / serving.CLASSIFIER_ARTIFACT  # the files serving needs, under a stable name
        staged.mkdir()
        for name in ("encoder", "head.safetensors", "classifier.json"):
            source = Path(classifier_folder) / name
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, staged / name)
        with fluent_tracking(tracking_uri) as mlflow, mlflow.start_run(run_id=run_id):
            return mlflow.pyfunc.log_model(
                name=MODEL_NAME, python_model=serving.IntentClassifierModel(),
                artifacts={serving.CLASSIFIER_ARTIFACT: str(staged)}, code_paths=[str(code)],
                signature=signature, input_example=example, pip_requirements=pinned(*SERVING_REQUIREMENTS))


def register(client, tracking_uri: str, name: str, artifact: ModelArtifact, run_id: str, log_model,
             tags: dict[str, str]):
    """Register the model of ``artifact`` under ``name`` (once per model key) and point ``candidate`` at it.
    ``log_model(tracking_uri, run_id)`` logs it into its run. Returns (version, newly_registered)."""
    version = find_version(client, name, artifact.key)
    created = version is None
    if created:
        info = log_model(tracking_uri, run_id)
        with fluent_tracking(tracking_uri) as mlflow:
            version = mlflow.register_model(info.model_uri, name, tags={KEY_TAG: artifact.key, **tags})
        client.update_model_version(name, version.version, description=(
            f"{artifact.name} trained as {artifact.key} on "
            + ", ".join(f"{d['name']}@{d['version']}" for d in artifact.lineage.get("datasets", []))))
    else:
        for key, value in tags.items():
            client.set_model_version_tag(name, version.version, key, value)
    client.set_registered_model_alias(name, CANDIDATE, version.version)
    return client.get_model_version(name, version.version), created


def alias_version(client, name: str, alias: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def download_model(name: str, version: str, tracking_uri: str, out_dir: Path) -> Path:
    """The registered version's MLflow model folder (MLmodel, artifacts/…, model/…), copied to ``out_dir``."""
    with fluent_tracking(tracking_uri) as mlflow:
        path = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}",
                                                        dst_path=str(out_dir)))
    return path


def hf_folder_of(mlflow_model: Path) -> Path:
    """The plain model folder inside a downloaded MLflow model: the classifier folder of the pyfunc wrapper,
    or, for the transformers flavor, ``model/`` with the tokenizer files copied beside the weights."""
    mlflow_model = Path(mlflow_model)
    classifier = mlflow_model / "artifacts" / "classifier"
    if classifier.is_dir():
        return classifier
    weights = mlflow_model / "model"
    tokenizer = mlflow_model / "components" / "tokenizer"
    if not (weights / "config.json").is_file():
        raise FileNotFoundError(f"{mlflow_model}: neither a classifier artifact nor a transformers model folder")
    for file in tokenizer.glob("*") if tokenizer.is_dir() else []:
        if file.is_file() and not (weights / file.name).exists():
            shutil.copy2(file, weights / file.name)
    return weights
