"""Evaluations of the trained models (plain functions the evaluation assets call).

- Language models: perplexity on held-out data (the corpus's test split for the pretrained model, the chat
  set's test split — assistant tokens — for the chat model), a few sample answers to held-out questions, and
  the canary exposure of both models (models/evaluation.py). Sample answers are rescanned by the residual
  detector and withheld where it finds anything.
- Classifier: accuracy and macro-F1 on the classification set's test split, overall and per language.
  (The PII detector's evaluation is in pii_detector.py.)

Canary secrets are read from the landing folder's ground truth (``manifest.jsonl`` entries with a ``canary``),
inside the private boundary; only ids, repeat counts, ranks and exposures leave these functions."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from waterworks.governance.pii.residual import residual_findings

from ..datasets.build import CHAT, CLASSIFICATION, CORPUS
from ..datasets.store import read_card, read_dataset
from ..lake import Lake
from .artifacts import source_digest, stable_hash
from .config import EvaluationPlan
from .train import held_out_questions


@dataclass(frozen=True)
class Canary:
    canary_id: str
    secret: str
    prefix: str
    repeats: int
    dataset: str | None = None  # the dataset it was planted in; None: the raw estate's (it may reach any)


def load_canaries(lake: Lake, landing_dir: Path) -> list[Canary]:
    """The datasets stage's own canaries (recorded in the private zone for the corpus and chat datasets), and
    those of a landing folder's ground truth (``manifest.jsonl``, the demo estate: they test sanitation too)."""
    from ..datasets.canaries import recorded_canaries

    found: dict[str, Canary] = {c.canary_id: Canary(c.canary_id, c.secret, c.prefix, c.repeats, dataset)
                                for dataset in (CORPUS, CHAT) for c in recorded_canaries(lake, (dataset,))}
    manifest = Path(landing_dir) / "manifest.jsonl"
    lines = manifest.read_text(encoding="utf-8").splitlines() if manifest.is_file() else []
    for line in lines:
        entry = json.loads(line)
        where = entry.get("location") or {}
        if "canary" in where and where["canary"] not in found:
            found[where["canary"]] = Canary(where["canary"], entry["value"], where.get("prefix", ""),
                                            int(where.get("repeats", 1)))
    return sorted(found.values(), key=lambda c: (c.repeats, c.canary_id))


def pii_free(text: str) -> str:
    """The text, or a notice of how many residual findings made us withhold it."""
    findings = residual_findings(text)
    return text if not findings else f"[withheld: {len(findings)} residual PII finding(s)]"


def evaluate_language_models(lake: Lake, pretrained: Path, chat: Path, canaries: list[Canary], plan: EvaluationPlan,
                             device: str = "auto", chat_base: Path | None = None) -> dict:
    """Both language models on held-out data, and the exposure of the canaries each could have seen: those of
    the datasets in its lineage (the pretrained LM: the corpus; the chat model: the chat set, and the corpus
    when its base is the pretrained LM) and the raw estate's. ``chat_base``: the model chat fine-tuning started
    from (default ``pretrained``), the chat model's reference (``calibrated_exposure``)."""
    from waterworks.models.causal_lm import load_base
    from waterworks.models.evaluation import generate
    from waterworks.models.runtime import pick_runtime

    runtime = pick_runtime(device)
    chat_base = chat_base or pretrained
    corpus, corpus_card = read_dataset(lake, CORPUS)
    chats, chat_card = read_dataset(lake, CHAT)
    test_chats = [json.loads(m) for m in chats["test"]["messages"].to_list()]
    result = {"datasets": {CORPUS: corpus_card["version"], CHAT: chat_card["version"]}, "models": {}}
    lineages = (("pretrained_lm", pretrained, {CORPUS}, None),
                ("chat_model", chat, {CHAT} | ({CORPUS} if chat_base == pretrained else set()), chat_base))
    for name, path, trained_on, reference in lineages:
        model, tokenizer = load_base(path, runtime)
        seen = [c for c in canaries if c.dataset is None or c.dataset in trained_on]
        exposures = [confirmed_exposure(model, tokenizer, c, plan, runtime) for c in seen]
        if reference is not None:
            exposures = calibrated_exposure(exposures, seen, reference, plan, runtime)
        entry = {**held_out_perplexity(model, tokenizer, corpus["test"]["text"].to_list(), test_chats, runtime),
                 "canaries": exposures}
        if name == "chat_model":
            prompts = held_out_questions(test_chats, plan.generations)
            answers = generate(model, tokenizer, prompts, runtime, max_new_tokens=40)
            entry["samples"] = [{"question": pii_free(p[-1]["content"]), "answer": pii_free(a)}
                                for p, a in zip(prompts, answers, strict=True)]
        result["models"][name] = entry
    exposures = [c["exposure_bits"] for m in result["models"].values() for c in m["canaries"]]
    result["canaries_planted"] = len(canaries)
    result["max_exposure_bits"] = max(exposures) if exposures else None
    result["exposure_threshold_bits"] = plan.max_exposure_bits
    result["canaries_extractable"] = [f"{name}:{c['canary']}" for name, m in result["models"].items()
                                      for c in m["canaries"] if c["exposure_bits"] > plan.max_exposure_bits]
    return result


def calibrated_exposure(exposures: list[dict], canaries: list[Canary], reference: Path, plan: EvaluationPlan,
                        runtime) -> list[dict]:
    """A fine-tuned model's exposures above the threshold, measured again in the model it started from. Some
    secrets rank first before any training: a model that learned that digits repeat prefers ``…999…`` to most
    random candidates, so an unlucky draw looks memorized. Where the reference ranks the secret as high, the
    exposure is the reference's, not this training's: what counts is the difference (``raw_exposure_bits`` and
    ``reference_exposure_bits`` beside it). A secret the reference never saw ranks uniformly there, so a
    memorized one keeps nearly all its bits."""
    flagged = [i for i, e in enumerate(exposures) if e["exposure_bits"] > plan.max_exposure_bits]
    if not flagged:
        return exposures
    from waterworks.models.causal_lm import load_base

    model, tokenizer = load_base(reference, runtime)
    out = list(exposures)
    for i in flagged:
        before = confirmed_exposure(model, tokenizer, canaries[i], plan, runtime)["exposure_bits"]
        if before > plan.max_exposure_bits:
            raw = exposures[i]["exposure_bits"]
            out[i] = {**exposures[i], "exposure_bits": round(max(0.0, raw - before), 3), "raw_exposure_bits": raw,
                      "reference_exposure_bits": before}
    return out


def confirmed_exposure(model, tokenizer, canary: Canary, plan: EvaluationPlan, runtime) -> dict:
    """A canary's exposure; one above the threshold is measured again against fresh candidates and the lower of
    the two counts. A canary the model never learned ranks first by chance once in ``candidates + 1`` tries —
    with dozens of canaries per run that would refuse a model every few runs — twice only once in a million;
    a memorized one ranks first both times."""
    from waterworks.models.evaluation import canary_exposure

    def measure(seed: int) -> dict:
        return canary_exposure(model, tokenizer, canary.canary_id, canary.prefix, canary.secret, canary.repeats,
                               runtime, candidates=plan.canary_candidates, seed=seed).as_dict()

    first = measure(0)
    if first["exposure_bits"] <= plan.max_exposure_bits:
        return first
    second = measure(1)
    return {**min(first, second, key=lambda e: e["exposure_bits"]),
            "first_exposure_bits": first["exposure_bits"], "confirmation_exposure_bits": second["exposure_bits"]}


_MODELS = Path(__file__).resolve().parents[2] / "models"
EVALUATION_CODE = (Path(__file__), _MODELS / "evaluation.py", _MODELS / "causal_lm.py")


def lm_evaluation_inputs(lake: Lake, pretrained: Path, chat: Path, canaries: list[Canary], plan: EvaluationPlan,
                         device: str, chat_base: Path | None = None) -> dict:
    """Everything ``evaluate_language_models``'s result depends on: the two model folders (content-keyed),
    the dataset versions, the canaries (one hash, no secret in the clear), the plan, the device setting and the
    evaluation code."""
    return {"pretrained_lm": pretrained.name, "chat_model": chat.name,
            "chat_base": (chat_base or pretrained).name,
            "datasets": {CORPUS: read_card(lake, CORPUS)["version"], CHAT: read_card(lake, CHAT)["version"]},
            "canaries": stable_hash([(c.canary_id, c.secret, c.prefix, c.repeats) for c in canaries])[:16],
            "plan": plan.model_dump(), "device": device, "code": source_digest(*EVALUATION_CODE)}


def lm_model_evaluation(result: dict, name: str) -> dict:
    """One language model's part of ``evaluate_language_models``'s result, as its ``evaluation.json``: the
    test metrics the quality gate compares, and the canary and sample checks the privacy gate reads."""
    entry = result["models"][name]
    exposures = [c["exposure_bits"] for c in entry["canaries"]]
    threshold = result["exposure_threshold_bits"]
    return {
        "dataset_version": result["datasets"][CHAT], "datasets": result["datasets"],
        "metrics": {"chat_test_perplexity": entry["chat_test"].get("perplexity"),
                    "corpus_test_perplexity": entry["corpus_test"].get("perplexity")},
        "canaries": {"planted": len(entry["canaries"]), "max_exposure_bits": max(exposures) if exposures else None,
                     "threshold_bits": threshold, "passed": bool(exposures) and all(e <= threshold for e in exposures),
                     "exposures": entry["canaries"]},
        "withheld_samples": sum(1 for s in entry.get("samples", []) if s["answer"].startswith("[withheld")),
    }


def held_out_perplexity(model, tokenizer, corpus_texts: list[str], chats: list[list[dict]], runtime) -> dict:
    """Perplexity on held-out corpus text (every token) and held-out chats (assistant tokens only)."""
    from waterworks.models.evaluation import perplexity
    from waterworks.models.text import ensure_chat_template, pack, tokenize_chat, tokenize_document

    ensure_chat_template(tokenizer)
    seq_len = 512
    corpus_rows = pack((tokenize_document(tokenizer, t) for t in corpus_texts), seq_len, tokenizer.pad_token_id,
                       split_long=True)
    chat_rows = pack((tokenize_chat(tokenizer, m) for m in chats), seq_len, tokenizer.pad_token_id)
    return {"corpus_test": perplexity(model, corpus_rows, runtime) if corpus_rows["input_ids"].shape[0] else {},
            "chat_test": perplexity(model, chat_rows, runtime) if chat_rows["input_ids"].shape[0] else {}}


def chat_test_perplexity(lake: Lake, path: Path, device: str = "auto") -> dict:
    """A chat model folder's assistant-token perplexity on the chat set's current test split."""
    from waterworks.models.causal_lm import load_base
    from waterworks.models.runtime import pick_runtime

    runtime = pick_runtime(device)
    chats, card = read_dataset(lake, CHAT)
    model, tokenizer = load_base(path, runtime)
    scores = held_out_perplexity(model, tokenizer, [], [json.loads(m) for m in chats["test"]["messages"].to_list()],
                                 runtime)
    return {"dataset_version": card["version"], "perplexity": scores["chat_test"].get("perplexity")}


def evaluate_classifier(lake: Lake, path: Path, device: str = "cpu") -> dict:
    from waterworks.models.encoder_classifier import load_classifier, predict
    from waterworks.models.evaluation import classification_metrics

    splits, card = read_dataset(lake, CLASSIFICATION)
    test = splits["test"]
    model, tokenizer, meta = load_classifier(path, device if device != "auto" else "cpu")
    index = {name: i for i, name in enumerate(meta["labels"])}
    known = test.filter(test["label"].is_in(list(index)))
    texts, gold = known["text"].to_list(), [index[x] for x in known["label"]]
    if not texts:
        return {"dataset_version": card["version"], "test_examples": 0}
    predicted = predict(model, tokenizer, texts, meta["max_length"], model.head.weight.device).argmax(-1).tolist()
    by_language: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for language, g, p in zip(known["language"].to_list(), gold, predicted, strict=True):
        by_language[language].append((g, p))
    return {"dataset_version": card["version"], "test_examples": len(texts),
            "unseen_label_examples": test.height - known.height,
            **classification_metrics(gold, predicted),
            "by_language": {lang: {"examples": len(pairs), **classification_metrics([g for g, _ in pairs],
                                                                                    [p for _, p in pairs])}
                            for lang, pairs in sorted(by_language.items())}}


def classifier_evaluation(lake: Lake, path: Path, device: str = "cpu") -> dict:
    """The intent classifier's ``evaluation.json``: test accuracy and macro-F1 (the gate compares accuracy),
    per language as its breakdown."""
    result = evaluate_classifier(lake, path, device)
    return {"dataset_version": result["dataset_version"], "details": result,
            "metrics": {"test_accuracy": result.get("accuracy"), "test_macro_f1": result.get("macro_f1"),
                        "test_examples": result.get("test_examples")},
            "breakdown": {"language": result.get("by_language", {})}}
