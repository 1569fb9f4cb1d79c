"""The MLflow model registry: log a trained model into its training run (transformers flavor for the chat
model, a pyfunc wrapper for the intent classifier), register it per task with the alias ``candidate``, and
find versions by the model key they were trained as. Aliases and tags, never stages (deprecated)."""

from __future__ import annotations

import importlib.metadata as metadata
import shutil
import tempfile
from pathlib import Path

from waterworks.governance.pii.residual import residual_findings

from ..tracking import KEY_TAG, fluent_tracking
from ..training.artifacts import ModelArtifact

CANDIDATE, CHAMPION = "candidate", "champion"
FILES_TAG = "waterworks.files_sha256"  # one digest over the registered model's files, set at registration


class UnverifiedModel(ValueError):
    """A model version the plant did not promote, or whose files changed since: never served."""
MODEL_NAME = "model"  # the logged model's name inside its run
# Input examples stored with the models: written here, PII-free (and rescanned before use).
CHAT_EXAMPLE = "How do I reset the password of my online banking account?"
CLASSIFIER_EXAMPLE = "I still have not received the new card I ordered last week."
DETECTOR_EXAMPLE = "Please forward the invoice to the accounts team before Friday."


def pinned(*packages: str) -> list[str]:
    """``name==version`` for installed packages (local version labels such as +cpu dropped): MLflow's own
    inference of requirements fails here (it imports torchvision), so they are stated explicitly."""
    return [f"{p}=={metadata.version(p).split('+')[0]}" for p in packages]


SERVING_REQUIREMENTS = ("mlflow", "torch", "transformers", "tokenizers", "safetensors", "numpy", "pandas")


def _pii_free_example(text: str) -> str:
    if residual_findings(text):
        raise ValueError("the model's input example holds personal data; refusing to store it")
    return text


RETIRED_TAG = "waterworks.retired"  # set by an erasure (assets/erasure): the version saw data that is gone


def find_version(client, name: str, model_key: str):
    """The registered version trained as ``model_key``, if any — never a retired one (a model retrained after an
    erasure is registered anew, so no alias can return to the version that saw the erased data)."""
    from mlflow.exceptions import MlflowException

    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        return None
    matching = [v for v in versions if v.tags.get(KEY_TAG) == model_key and RETIRED_TAG not in v.tags]
    return max(matching, key=lambda v: int(v.version)) if matching else None


def log_chat_model(tracking_uri: str, run_id: str, merged_folder: Path):
    """The merged chat model (Hugging Face folder) with the transformers flavor as an ``llm/v1/chat`` model:
    served, it takes OpenAI-style ``{"messages": [...]}`` and applies the model's own chat template."""
    from waterworks.models.causal_lm import load_base
    from waterworks.models.runtime import pick_runtime

    model, tokenizer = load_base(merged_folder, pick_runtime("cpu"))
    model.name_or_path = model.config.name_or_path = "chat_model"  # answers name this, not a local path
    with fluent_tracking(tracking_uri) as mlflow, mlflow.start_run(run_id=run_id):
        return mlflow.transformers.log_model(
            transformers_model={"model": model, "tokenizer": tokenizer}, name=MODEL_NAME, task="llm/v1/chat",
            input_example={"messages": [{"role": "user", "content": _pii_free_example(CHAT_EXAMPLE)}]},
            pip_requirements=pinned(*SERVING_REQUIREMENTS))


def _log_pyfunc(tracking_uri: str, run_id: str, python_model, artifact: str, files: Path, signature, example):
    """A pyfunc model into its run: our wrapper with its code (models/, staged as ``waterworks/models`` so
    the pickled class's module ``waterworks.models.serving`` imports wherever the model is served) and the
    model's ``files`` as the artifact ``artifact``."""
    from waterworks.models import serving

    with tempfile.TemporaryDirectory() as scratch:
        code = Path(scratch) / "code" / "waterworks"
        shutil.copytree(Path(serving.__file__).parent, code / "models",
                        ignore=shutil.ignore_patterns("__pycache__"))
        with fluent_tracking(tracking_uri) as mlflow, mlflow.start_run(run_id=run_id):
            return mlflow.pyfunc.log_model(
                name=MODEL_NAME, python_model=python_model, artifacts={artifact: str(files)},
                code_paths=[str(code)], signature=signature, input_example=example,
                pip_requirements=pinned(*SERVING_REQUIREMENTS))


def _staged(folder: Path, names: tuple[str, ...], scratch: Path, artifact: str) -> Path:
    """The files serving needs, copied under the artifact's stable name."""
    staged = scratch / artifact
    staged.mkdir()
    for name in names:
        source = Path(folder) / name
        if source.exists():
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, staged / name)
    return staged


def log_classifier_model(tracking_uri: str, run_id: str, classifier_folder: Path):
    """The intent classifier as a pyfunc model (models/serving.py) with the classifier folder as its
    artifact."""
    import pandas as pd
    from mlflow.models import infer_signature

    from waterworks.models import serving

    example = pd.DataFrame({"text": [_pii_free_example(CLASSIFIER_EXAMPLE)]})
    signature = infer_signature(example, pd.DataFrame({"label": ["a_label"], "score": [0.5]}))
    with tempfile.TemporaryDirectory() as scratch:
        files = _staged(classifier_folder, ("encoder", "head.safetensors", "classifier.json"), Path(scratch),
                        serving.CLASSIFIER_ARTIFACT)
        return _log_pyfunc(tracking_uri, run_id, serving.IntentClassifierModel(), serving.CLASSIFIER_ARTIFACT,
                           files, signature, example)


def log_detector_model(tracking_uri: str, run_id: str, detector_folder: Path):
    """The PII detector as a pyfunc model (models/serving.py) with the detector folder as its artifact. Its
    input example holds no personal data (rescanned)."""
    import pandas as pd
    from mlflow.models import infer_signature

    from waterworks.models import serving

    example = pd.DataFrame({"text": [_pii_free_example(DETECTOR_EXAMPLE)]})
    signature = infer_signature(example, pd.DataFrame({"spans": ["[]"]}))
    with tempfile.TemporaryDirectory() as scratch:
        files = _staged(detector_folder, ("tagger.json", "model.safetensors", "card.json", "card.md"),
                        Path(scratch), serving.DETECTOR_ARTIFACT)
        return _log_pyfunc(tracking_uri, run_id, serving.PiiDetectorModel(), serving.DETECTOR_ARTIFACT, files,
                           signature, example)


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
        with tempfile.TemporaryDirectory() as scratch:  # the files as the registry serves them
            digest = registered_digest(name, version.version, tracking_uri, Path(scratch))
        client.set_model_version_tag(name, version.version, FILES_TAG, digest)
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


def registered_digest(name: str, version: str, tracking_uri: str, scratch: Path) -> str:
    from .bundles import files_digest

    return files_digest(download_model(name, version, tracking_uri, scratch))


def promotion_ledger(models_dir: Path) -> Path:
    """The plant's append-only record of every champion it promoted (who, when, which files)."""
    return Path(models_dir) / "promotions.jsonl"


def promotion_entry(ledger: Path, name: str, version: str) -> dict | None:
    """The plant's latest record of promoting ``name`` version ``version``; None when it never did."""
    import json

    if not Path(ledger).is_file():
        return None
    entries = [json.loads(line) for line in Path(ledger).read_text(encoding="utf-8").splitlines() if line.strip()]
    found = [e for e in entries if e.get("model") == name and str(e.get("version")) == str(version)]
    return found[-1] if found else None


def verified_download(client, tracking_uri: str, name: str, alias: str, ledger: Path, out_dir: Path) -> Path:
    """The version behind ``alias``, downloaded to ``out_dir`` and checked before anything loads it: the plant's
    promotion ledger must hold it (an alias moved by hand in the registry is refused — a pickled pyfunc runs
    code) and its files must match the digest recorded then. Returns the verified local model folder."""
    version = alias_version(client, name, alias)
    if version is None:
        raise FileNotFoundError(f"{name} has no version with alias {alias!r}")
    entry = promotion_entry(ledger, name, version.version)
    if entry is None or not entry.get("files_sha256"):
        raise UnverifiedModel(f"{name} version {version.version} holds alias {alias!r}, but the plant's promotion "
                              f"ledger ({ledger}) has no record of promoting it: refusing to serve")
    folder = download_model(name, version.version, tracking_uri, out_dir)
    from .bundles import files_digest

    if files_digest(folder) != entry["files_sha256"]:
        raise UnverifiedModel(f"{name} version {version.version}: its files differ from those recorded when it "
                              "was promoted: refusing to serve")
    return folder


def hf_folder_of(mlflow_model: Path) -> Path:
    """The plain model folder inside a downloaded MLflow model: the artifact folder of a pyfunc wrapper,
    or, for the transformers flavor, ``model/`` with the tokenizer files copied beside the weights."""
    mlflow_model = Path(mlflow_model)
    for artifact in ("classifier", "detector"):  # the pyfunc models' artifact folders (models/serving.py)
        if (mlflow_model / "artifacts" / artifact).is_dir():
            return mlflow_model / "artifacts" / artifact
    weights = mlflow_model / "model"
    tokenizer = mlflow_model / "components" / "tokenizer"
    if not (weights / "config.json").is_file():
        raise FileNotFoundError(f"{mlflow_model}: neither a classifier artifact nor a transformers model folder")
    for file in tokenizer.glob("*") if tokenizer.is_dir() else []:
        if file.is_file() and not (weights / file.name).exists():
            shutil.copy2(file, weights / file.name)
    return weights


CHAMPION_DETECTOR = "champion"  # the pii_detector setting that makes sanitation follow the registry


def champion_detector(client, tracking_uri: str, name: str, models_dir: Path, cache_dir: Path) \
        -> tuple[Path | None, str]:
    """The detector folder of ``name``'s champion and a line saying which it is; ``(None, reason)`` when there is
    no champion yet (the caller falls back to the shipped detector). The champion is the plant's own verified
    promotion (``verified_download``: in the promotion ledger, files as recorded), kept per version under
    ``cache_dir``; a cached copy is re-verified against the ledger before it is used."""
    from .bundles import files_digest

    version = alias_version(client, name, CHAMPION)
    if version is None:
        return None, f"no champion of {name} yet"
    folder = Path(cache_dir) / "champion_detectors" / name / f"v{version.version}"
    entry = promotion_entry(promotion_ledger(models_dir), name, version.version)
    cached = next((p for p in (folder, *folder.glob("*")) if (p / "MLmodel").is_file()), None) \
        if folder.is_dir() else None
    if cached is None or entry is None or files_digest(cached) != entry.get("files_sha256"):
        shutil.rmtree(folder, ignore_errors=True)
        cached = verified_download(client, tracking_uri, name, CHAMPION, promotion_ledger(models_dir), folder)
    return hf_folder_of(cached), f"{name} v{version.version} (registry champion)"
