"""The registered tasks: for each trained model that distribution registers, which folder is logged, how it
is logged (MLflow flavor), and how a downloaded version is scored on the current test split (to compare a
champion with its candidate on the same data)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..lake import Lake
from ..training.train import CHAT_MODEL, INTENT_CLASSIFIER, MERGED
from . import registry


@dataclass(frozen=True)
class Task:
    model: str                                       # the training asset and model folder name
    evaluation: str                                  # the asset that writes its evaluation.json
    logged_folder: Callable[[Path], Path]            # model folder → the folder MLflow stores
    log_model: Callable[[str, str, Path], object]    # (tracking uri, run id, folder) → ModelInfo
    rescore: Callable[[Lake, Path], float | None]    # (lake, downloaded folder) → the gate metric
    server: str                                      # its server bundle: "vllm" (a causal LM) or "pyfunc"
    edge: bool                                       # whether an edge (ONNX) export exists for it


def _chat_rescore(lake: Lake, folder: Path) -> float | None:
    from ..training.evaluate import chat_test_perplexity

    return chat_test_perplexity(lake, folder, "cpu")["perplexity"]


def _classifier_rescore(lake: Lake, folder: Path) -> float | None:
    from ..training.evaluate import evaluate_classifier

    return evaluate_classifier(lake, folder, "cpu").get("accuracy")


TASKS = {
    CHAT_MODEL: Task(CHAT_MODEL, "lm_evaluation", lambda folder: folder / MERGED, registry.log_chat_model,
                     _chat_rescore, server="vllm", edge=False),
    INTENT_CLASSIFIER: Task(INTENT_CLASSIFIER, "classifier_evaluation", lambda folder: folder,
                            registry.log_classifier_model, _classifier_rescore, server="pyfunc", edge=True),
}
