"""Recipe ``pii_detector``: train the learned PII detector (models/token_tagger.py) on labelled examples.

Setup: a vocabulary from the training texts, a gazetteer (first names and surnames of Faker's locales, the
Chinese surname lexicon), windows of units with BIO tags. Train: the shared loop (AdamW, warm-up and cosine
decay, clipping; CUDA with bf16 autocast when present), with *word dropout* (a unit's form replaced by
``<unk>`` at random, so names are recognised from their characters, case and context rather than memorised)
and *gazetteer dropout* (the lexicon bits hidden at random, so the model does not lean on a list that a
customer's names are not in). Pick: a decision threshold per language on the dev splits — the best person
recall that keeps over-redaction of person-free dev text under ``MAX_CLEAN_FLAGGED``. Save: the tagger folder
with ``card.json`` — data provenance, thresholds, per-split dev metrics.

Examples are ``governance.pii.detector_corpus.Example``-shaped: ``.text`` and ``.spans`` (start, end, label);
governance/pii/detector_training.py assembles them, the gazetteer and the evaluation, and calls this recipe.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from ..loop import loop_config, planned_steps, train_loop
from ..runtime import pick_runtime, runtime_record, seed_everything
from ..token_tagger import (
    N_FEATURES,
    SHAPES,
    UNK,
    Gazetteer,
    TaggerNetwork,
    TokenTagger,
    Vocabulary,
    collate,
    encode,
)
from ..tracking import FanOut, JsonlSink, ProgressSink
from .configs import DetectorConfig

GAZETTEER_COLUMNS = slice(len(SHAPES) + 3, N_FEATURES)
THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
MAX_CLEAN_FLAGGED = 0.10  # over-redaction allowed on a language's person-free dev texts when picking thresholds


def _batches(windows: list, batch_size: int, seed: int) -> list[list]:
    """Length-bucketed batches in a seeded random order (similar lengths pad little)."""
    rng = random.Random(seed)
    order = list(range(len(windows)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for first in range(0, len(order), chunk):
        part = sorted(order[first:first + chunk], key=lambda i: len(windows[i].words))
        batches.extend([windows[i] for i in part[j:j + batch_size]] for j in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def _noisy(batch: dict, config: DetectorConfig, generator: torch.Generator) -> dict:
    words = batch["words"].clone()
    drop = (torch.rand(words.shape, generator=generator) < config.word_dropout) & (words > UNK)
    words[drop] = UNK
    features = batch["features"].clone()
    hide = torch.rand(features.shape[:2], generator=generator) < config.gazetteer_dropout
    features[..., GAZETTEER_COLUMNS][hide] = 0.0
    return {**batch, "words": words, "features": features}


def _loss(model, batch: dict) -> tuple[torch.Tensor, int]:
    logits = model(batch["words"], batch["chars"], batch["features"], batch["lengths"])
    loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch["tags"].reshape(-1),
                                             ignore_index=-100)
    return loss, int(batch["lengths"].sum())


def train_detector(train: Sequence, dev: dict[str, Sequence], languages: dict[str, str], out: Path,
                   gazetteer: Gazetteer, evaluate: Callable[[TokenTagger, Sequence, float], dict],
                   config: DetectorConfig | None = None, provenance: dict | None = None, log=print,
                   exclude_forms: frozenset[str] = frozenset()) -> dict:
    """Train, pick thresholds on ``dev`` (``languages``: each split's language; ``evaluate(tagger, examples,
    threshold)`` → recall, precision and ``clean_flagged``), save to ``out``; returns the card. ``exclude_forms``:
    word forms kept out of the stored vocabulary (the names and addresses of a user's own data)."""
    config = config or DetectorConfig()
    started = time.monotonic()
    generator = seed_everything(config.seed)
    runtime = pick_runtime(config.device)
    vocab = Vocabulary.build((e.text for e in train), max_words=config.max_words, exclude=exclude_forms)
    windows = [w for e in train for w in encode(e.text, vocab, gazetteer, e.spans, with_tags=True)]
    network = TaggerNetwork(len(vocab.words), len(vocab.chars), config.network).to(runtime.device)
    batches_per_epoch = -(-len(windows) // config.batch_size)
    loop = loop_config(config, min_lr_ratio=0.05, grad_clip=5.0)
    total = planned_steps(batches_per_epoch, loop)
    out = Path(out)
    sink = FanOut([JsonlSink(out), ProgressSink(total, log=log, every=200, label="pii_detector")])
    sink.log_params({"config": asdict(config), "examples": len(train), "windows": len(windows),
                     "words": len(vocab.words), "chars": len(vocab.chars), "runtime": runtime_record(runtime)})
    log(f"[pii_detector] {len(train):,} examples, {len(windows):,} windows, vocabulary {len(vocab.words):,} forms / "
        f"{len(vocab.chars):,} characters, {total:,} steps on {runtime.description['device']}")

    def epoch_batches(epoch: int):
        for chunk in _batches(windows, config.batch_size, config.seed + epoch):
            yield _noisy(collate(chunk), config, generator)

    result = train_loop(network, epoch_batches, batches_per_epoch, _loss, runtime, loop, sink)
    tagger = TokenTagger(network.eval(), vocab, gazetteer, config.network)
    picked = pick_thresholds(tagger, dev, languages, evaluate)
    card = {
        "model": "waterworks-pii-detector",
        "architecture": "units (words / CJK characters) → word embedding + character CNN + shape/gazetteer features "
                        "→ 2-layer BiLSTM → BIO over PER, ADDR, ORG, LOC",
        "parameters": sum(p.numel() for p in network.parameters()),
        "training": {"examples": len(train), "windows": len(windows), "steps": result.steps,
                     "seconds": round(result.seconds, 1), "final_loss": round(result.losses[-1], 4),
                     "runtime": runtime_record(runtime), "config": asdict(config)},
        "data": provenance or {},
        "forms_kept_out_of_vocabulary": len(exclude_forms),
        **picked,
        "seconds": round(time.monotonic() - started, 1),
    }
    save_detector(tagger, card, out)
    log(f"[pii_detector] thresholds {card['thresholds']}: " + "; ".join(
        f"{name} recall {m['recall']:.3f} precision {m['precision']:.3f}" for name, m in card["dev"].items()))
    return card


def pick_thresholds(tagger: TokenTagger, dev: dict[str, Sequence], languages: dict[str, str],
                    evaluate: Callable[[TokenTagger, Sequence, float], dict],
                    max_clean_flagged: float = MAX_CLEAN_FLAGGED) -> dict:
    """Per language, the threshold with the best mean person recall over that language's dev splits among
    those that flag at most ``max_clean_flagged`` of that language's dev texts holding no person or address
    (over-redaction, pooled over its splits); the highest threshold when none does. Sets them on ``tagger``;
    returns the card's threshold fields."""
    by_threshold = {name: {t: evaluate(tagger, examples, t) for t in THRESHOLDS} for name, examples in dev.items()}
    thresholds = {}
    for language in sorted(set(languages.values())):
        names = [n for n in dev if languages[n] == language]

        def feasible(t, names=names):
            clean = sum(by_threshold[n][t]["clean_texts"] for n in names)
            flagged = sum((by_threshold[n][t]["clean_flagged"] or 0.0) * by_threshold[n][t]["clean_texts"]
                          for n in names)
            return not clean or flagged / clean <= max_clean_flagged

        candidates = [t for t in THRESHOLDS if feasible(t)] or [max(THRESHOLDS)]
        thresholds[language] = max(candidates, key=lambda t, names=names: (
            sum(by_threshold[n][t]["recall"] for n in names) / len(names), t))
    tagger.thresholds = thresholds
    tagger.threshold = max(thresholds.values())
    return {"threshold": tagger.threshold, "thresholds": thresholds,
            "threshold_rule": f"per language: best mean person recall with at most {max_clean_flagged:.0%} of "
                              "its person-free dev texts flagged",
            "dev": {n: by_t[thresholds[languages[n]]] for n, by_t in by_threshold.items()},
            "dev_languages": languages,
            "dev_by_threshold": {n: {str(t): m for t, m in by_t.items()} for n, by_t in by_threshold.items()}}


def save_detector(tagger: TokenTagger, card: dict, out: Path) -> None:
    tagger.meta = {"thresholds_picked_on": sorted(card["dev"]), "card": "card.json"}
    tagger.save(out)
    (Path(out) / "card.json").write_text(json.dumps(card, indent=1, ensure_ascii=False), encoding="utf-8")
