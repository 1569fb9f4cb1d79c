"""Model folders: where trained models live and how assets pass them on — as paths, never pickled.

``<models_dir>/<name>/<key>/`` holds one trained model (Hugging Face format, its tokenizer, ``training.json``,
``params.json``, ``metrics.jsonl`` and ``lineage.json``); ``key`` is a hash of everything that determines the
result (dataset digest, recipe settings, base model hash), so the same inputs reuse the folder instead of
training again. Training writes into a hidden temporary folder renamed into place when complete, and
``<name>/current.json`` names the current key: readers never see half a model."""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from waterworks.governance.files import build_folder, write_atomically


@dataclass(frozen=True)
class ModelArtifact:
    name: str
    key: str
    path: Path
    reused: bool
    summary: dict
    lineage: dict


# what the plant writes about a model, not the model: left out of its content hash
RECORD_FILES = ("training.json", "params.json", "lineage.json", "evaluation.json")


def stable_hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def folder_hash(path: Path) -> str:
    """sha256 over the weight and config files of a model folder (names and contents), for lineage."""
    path = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".safetensors", ".json", ".bin")
                       and p.name not in RECORD_FILES):
        digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def code_version() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def current_model(models_dir: Path, name: str) -> Path:
    pointer = Path(models_dir) / name / "current.json"
    if not pointer.is_file():
        raise FileNotFoundError(f"model {name!r} has not been trained yet (no {pointer}); materialize it first")
    return Path(models_dir) / name / json.loads(pointer.read_text(encoding="utf-8"))["key"]


def write_evaluation(folder: Path, evaluation: dict) -> Path:
    """``evaluation.json`` in a model folder (atomically): its scores on the test splits of the dataset version
    it was trained on, which distribution's promotion gates read."""
    return write_atomically(Path(folder) / "evaluation.json",
                            json.dumps(evaluation, indent=1, sort_keys=True, ensure_ascii=False))


def train_once(models_dir: Path, name: str, inputs: dict, train, lineage: dict) -> ModelArtifact:
    """Run ``train(folder) -> summary`` unless a complete folder for the same inputs exists; then point
    ``current.json`` at it."""
    key = stable_hash(inputs)[:12]
    home = Path(models_dir) / name
    target = home / key
    reused = (target / "training.json").is_file()
    if not reused:
        def fill(folder: Path) -> None:
            train(folder)
            (folder / "lineage.json").write_text(json.dumps({**lineage, "inputs_key": key}, indent=1,
                                                            sort_keys=True, ensure_ascii=False), encoding="utf-8")

        build_folder(target, fill)
    write_atomically(home / "current.json", json.dumps({"name": name, "key": key}))
    return load_artifact(target, reused)


def load_artifact(folder: Path, reused: bool = True) -> ModelArtifact:
    """A complete model folder as a ``ModelArtifact`` (its ``training.json`` and ``lineage.json``)."""
    folder = Path(folder)
    read = lambda name: json.loads((folder / name).read_text(encoding="utf-8"))  # noqa: E731
    return ModelArtifact(folder.parent.name, folder.name, folder, reused, read("training.json"), read("lineage.json"))


def remembered_result(models_dir: Path, name: str, inputs: dict, compute) -> tuple[dict, bool]:
    """``compute()``'s result for these ``inputs``, computed once: kept in ``<models_dir>/<name>/<key>.json``
    (``key`` a hash of the inputs) and read from there when the same inputs come again. Returns (result,
    reused). For evaluations: an incremental run whose models and datasets did not change evaluates nothing."""
    key = stable_hash(inputs)[:16]
    target = Path(models_dir) / name / f"{key}.json"
    if target.is_file():
        return json.loads(target.read_text(encoding="utf-8"))["result"], True
    result = compute()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, json.dumps({"inputs": inputs, "result": result}, indent=1, sort_keys=True,
                                        ensure_ascii=False, default=str))
    return result, False


def source_digest(*files: Path) -> str:
    """sha256 over source files: part of a remembered result's inputs, so a code change recomputes it."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(Path(file).read_bytes())
    return digest.hexdigest()[:16]


def read_evaluation(folder: Path) -> dict:
    path = Path(folder) / "evaluation.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} has no evaluation.json: materialize its evaluation asset first")
    return json.loads(path.read_text(encoding="utf-8"))
