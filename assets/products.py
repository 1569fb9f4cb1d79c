"""The trained products, each declared once. A product names its dataset, its recipe (whose settings are the
recipe's section of each training preset, training.yaml), how it is trained and evaluated, the metric its
quality gate compares, and — when it is registered — its MLflow name, how it is logged (its serving flavour),
which server bundle serves it, its deployment targets and whether an edge export exists.

assets/factory.py builds the assets of every product from this list: train → evaluate → register → promote,
the training-policy check on its dataset, and its place in the bundles. Adding a product is one entry here and
its recipe in models/recipes/ (with its config in models/recipes/configs.py); nothing else names it.

The quality gate's thresholds (a first champion's floor, the margin over the champion) are settings, in
distribution.yaml; the policy (governance/policy.yaml) says which data classifications may feed each product."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .datasets.build import CHAT, CLASSIFICATION, CORPUS
from .lake import Lake
from .training import evaluate, pii_detector, train
from .training.artifacts import ModelArtifact
from .training.train import TrainingRequest


@dataclass(frozen=True)
class Quality:
    metric: str              # a key of the evaluation's ``metrics`` (evaluation.json)
    higher_is_better: bool = True


@dataclass(frozen=True)
class Product:
    name: str                                  # the training asset, its model folder (models/<name>/), the key
    description: str                           # of its settings and its policy entry
    recipe: str                                # models/recipes/<recipe>.py
    train: Callable[[TrainingRequest], ModelArtifact]
    dataset: str | None                        # the dataset it reads (assets/datasets); None: data it brings,
    evaluation: str                            # the asset that writes its evaluation.json
    brought_data: Callable[[], dict] | None = None  # and this gives that data's lineage entry (classifications)
    # (lake, model folder, device) → evaluation.json's content; None: ``evaluation`` is an asset of its own
    # that evaluates several products together (the language models and their canaries)
    evaluate: Callable[[Lake, Path, str], dict] | None = None
    quality: Quality | None = None             # None: never registered (an intermediate model)
    registered_name: str | None = None
    log_model: Callable[[str, str, Path], object] | None = None   # (tracking uri, run id, folder) → ModelInfo
    logged_folder: str = ""                    # the subfolder of the model folder MLflow stores ("": all of it)
    rescore: Callable[[Lake, Path], float | None] | None = None   # a downloaded champion's gate metric, on the
    server: str | None = None                  # current data (None: ``evaluate``'s); "vllm" | "pyfunc"
    targets: tuple[str, ...] = ()              # deployment targets; the policy gate checks them
    edge: bool = False                         # an edge (ONNX) export exists
    deps: tuple[str, ...] = ()                 # other assets its training reads
    kinds: tuple[str, ...] = ("pytorch",)
    job: str | None = None                     # None: trained by every plant run; else its own job, on
    schedule: str | None = None                # this cron schedule (a product retrained on its own cadence)

    @property
    def assets(self) -> tuple[str, ...]:
        """The asset names the factory builds for it."""
        return (self.name, *((self.evaluation,) if self.evaluate else ()),
                *((f"registered_{self.name}", f"champion_{self.name}") if self.registered else ()))

    @property
    def registered(self) -> bool:
        return self.registered_name is not None

    def gate_metric(self, lake: Lake, folder: Path) -> float | None:
        """The quality gate's metric for a model folder, measured now on the current data."""
        if self.rescore is not None:
            return self.rescore(lake, folder)
        return self.evaluate(lake, folder, "cpu")["metrics"].get(self.quality.metric)


def _log_chat(uri: str, run_id: str, folder: Path):
    from .distribution.registry import log_chat_model

    return log_chat_model(uri, run_id, folder)


def _log_classifier(uri: str, run_id: str, folder: Path):
    from .distribution.registry import log_classifier_model

    return log_classifier_model(uri, run_id, folder)


def _log_detector(uri: str, run_id: str, folder: Path):
    from .distribution.registry import log_detector_model

    return log_detector_model(uri, run_id, folder)


PRODUCTS: tuple[Product, ...] = (
    Product(
        name=train.PRETRAINED_LM, recipe="pretrain", dataset=CORPUS, train=train.train_pretrained_lm,
        evaluation="lm_evaluation", kinds=("pytorch", "transformers"),
        description="A small causal LM trained from scratch on the pre-training corpus (recipe `pretrain`): a "
        "byte-level BPE tokenizer trained here and a Qwen2-architecture model, size from the training preset."),
    Product(
        name=train.CHAT_MODEL, recipe="lora_sft", dataset=CHAT, train=train.train_chat_model,
        evaluation="lm_evaluation", deps=("base_model",), kinds=("pytorch", "peft"),
        quality=Quality("chat_test_perplexity", higher_is_better=False),
        registered_name="waterworks-chat", log_model=_log_chat, logged_folder=train.MERGED,
        rescore=lambda lake, folder: evaluate.chat_test_perplexity(lake, folder, "cpu")["perplexity"],
        server="vllm", targets=("private_cloud",),
        description="LoRA fine-tuning of the base model on the chat set (recipe `lora_sft`): loss on assistant "
        "tokens only, packed rows; saves the adapter and the merged model."),
    Product(
        name=train.INTENT_CLASSIFIER, recipe="lora_classify", dataset=CLASSIFICATION,
        train=train.train_intent_classifier, evaluation="classifier_evaluation",
        evaluate=evaluate.classifier_evaluation, kinds=("pytorch", "peft"),
        quality=Quality("test_accuracy"), registered_name="waterworks-intent-classifier",
        log_model=_log_classifier, server="pyfunc", targets=("public_cloud", "private_cloud", "edge"), edge=True,
        description="Ticket intent classifier (recipe `lora_classify`): the packaged all-MiniLM-L6-v2 encoder "
        "(or WATERWORKS_CLASSIFIER_BASE_PATH) with a linear-probe-initialised head, fine-tuned with LoRA or fully."),
    Product(
        name=pii_detector.PII_DETECTOR, recipe="pii_detector", dataset=None, brought_data=pii_detector.data_lineage,
        train=pii_detector.train_pii_detector,
        evaluation="pii_detector_evaluation", evaluate=pii_detector.evaluate_pii_detector,
        quality=Quality("dev_person_f1"), registered_name="waterworks-pii-detector", log_model=_log_detector,
        server="pyfunc", targets=("private_cloud",), job="pii_detector_job", schedule="0 4 * * 0",
        description="The learned name and address detector that sanitation runs (recipe `pii_detector`), retrained "
        "on the public labelled corpora shipped in data/ner (CoNLL-2003 train, CLUENER train, Resume train) and "
        "synthetic text, never a test split; thresholds picked on half of each dev split, the gate on the other. "
        "Retrained weekly by its own job (pii_detector_job), not by every plant run."),
)

BY_NAME = {p.name: p for p in PRODUCTS}


def product(name: str) -> Product:
    if name not in BY_NAME:
        raise KeyError(f"no product {name!r}; products: {', '.join(BY_NAME)}")
    return BY_NAME[name]


def registered_products() -> tuple[Product, ...]:
    return tuple(p for p in PRODUCTS if p.registered)


def trained_on(dataset: str) -> tuple[Product, ...]:
    return tuple(p for p in PRODUCTS if p.dataset == dataset)
