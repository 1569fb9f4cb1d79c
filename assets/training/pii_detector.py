"""The PII detector as a trained product (assets/products.py): trained by governance/pii/detector_training.py on
the public labelled corpora shipped in data/ner and synthetic text (never a user's data, never a test split),
with thresholds picked on one half of each dev split; evaluated on the other half (person recall, precision
and their F1 per split — the quality gate compares the mean F1 — and the share of person-free texts flagged).

Its data is not a lake dataset: it is public and ships with the code, so its version is a digest of those
files and of the code that assembles them, and its lineage says so (classification ``public``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from waterworks.governance.pii import detector_corpus, detector_training

from ..lake import Lake
from .artifacts import ModelArtifact, code_version, train_once
from .train import TrainingRequest

PII_DETECTOR = "pii_detector"
_MODELS = Path(__file__).resolve().parents[2] / "models"
EVALUATION_CODE = (Path(__file__), Path(detector_corpus.__file__).with_name("detector_eval.py"),
                   _MODELS / "token_tagger.py")  # what the evaluation's result depends on (remembered results)
DATA_NAME = "pii_labelled_corpora"
_DATA_FILES = ("conll2003/train.txt", "conll2003/valid.txt", "cluener/train.json", "resume/train.char.bmes",
               "resume/dev.char.bmes")


def data_version() -> str:
    """A digest of the labelled files and of the code that turns them into examples and dev splits."""
    digest = hashlib.sha256()
    for name in _DATA_FILES:
        digest.update(name.encode() + b"\0" + (detector_corpus.NER / name).read_bytes())
    for module in (detector_corpus, detector_training):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def data_lineage(card: dict | None = None) -> dict:
    """The lineage entry of the detector's data (``external``: not a lake dataset, nothing to erase in it)."""
    examples = card["training"]["examples"] if card else 0
    version = data_version()
    return {"name": DATA_NAME, "version": version, "digest": version, "external": True,
            "rows": {"train": examples}, "sources": {}, "classifications": {"public": max(examples, 1)},
            "landing_files": [], "provenance": (card or {}).get("data", {})}


def train_pii_detector(request: TrainingRequest) -> ModelArtifact:
    config = request.preset.recipe("pii_detector", device=request.device)
    inputs = {"recipe": "pii_detector", "data": data_version(), "config": repr(config)}

    def run(folder: Path) -> dict:
        card = detector_training.train(folder, config=config, log=request.log, hold_out_check=True)
        summary = {**{k: card["training"][k] for k in ("examples", "steps", "seconds", "final_loss", "runtime")},
                   "parameters": card["parameters"], "thresholds": card["thresholds"],
                   "pick_dev": {name: {k: m[k] for k in ("recall", "precision")} for name, m in card["dev"].items()}}
        (folder / "training.json").write_text(json.dumps(summary, indent=1, sort_keys=True), encoding="utf-8")
        lineage["datasets"] = [data_lineage(card)]  # train_once writes the lineage after this returns
        return summary

    lineage = {"recipe": "pii_detector", "datasets": [data_lineage()], "base_model": None,
               "code_version": code_version(), "config": repr(config)}
    return train_once(request.models_dir, PII_DETECTOR, inputs, run, lineage)


def evaluate_pii_detector(lake: Lake, folder: Path, device: str = "cpu") -> dict:
    """Person recall and precision at the detector's own thresholds on the dev halves its thresholds were not
    picked on; ``dev_person_f1`` (the gate's metric) is their F1, averaged over the splits."""
    from waterworks.governance.pii.detector_eval import person_metrics
    from waterworks.models.token_tagger import TokenTagger

    tagger = TokenTagger.load(folder, "cpu" if device == "auto" else device)
    languages = detector_training.dev_languages(check := detector_training.check_examples())
    by_split = {}
    for name, examples in check.items():
        metrics = person_metrics(tagger, examples, tagger.threshold_for(languages[name]))
        recall, precision = metrics["recall"], metrics["precision"]
        by_split[name] = {**metrics, "f1": 2 * recall * precision / (recall + precision) if recall + precision else 0.0}
    mean = lambda key: sum(m[key] for m in by_split.values()) / len(by_split)  # noqa: E731
    return {"dataset_version": data_version(), "details": {"check_splits": by_split, "languages": languages},
            "metrics": {"dev_person_f1": mean("f1"), "dev_person_recall": mean("recall"),
                        "dev_person_precision": mean("precision")},
            "breakdown": {"dev split (check half)": {n: {k: m[k] for k in ("gold", "recall", "precision", "f1",
                                                                            "clean_flagged")}
                                                      for n, m in by_split.items()}}}
