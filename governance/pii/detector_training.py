"""Training the learned PII detector end to end: the labelled corpora and synthetic text of
detector_corpus.py (and a user's own labelled JSONL), the gazetteer, the recipe (models/recipes/pii_detector.py),
and a model card. ``waterworks train-pii-detector`` calls ``train``; the shipped detector in
``governance/pii/detector/`` was made by it with the defaults.

A user's labelled data: JSON lines ``{"text": …, "spans": [[start, end, "PER"], …]}`` (end exclusive; labels
PER, ADDR, ORG, LOC; other labels are ignored). Their training file is augmented like the corpora and added to
them (``--only-user-data`` to train on it alone); their dev file joins the dev splits the thresholds are
picked on. The word forms inside their PER and ADDR spans are kept out of the model's stored vocabulary, so the
detector folder does not carry their customers' names (the model knows them by characters and context).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from . import detector_corpus as corpus
from .detector_eval import person_metrics

DETECTOR_FOLDER = Path(__file__).with_name("detector")


def default_gazetteer():
    """First names and surnames from Faker's person providers of many locales, and the Chinese surnames."""
    from faker import Faker

    from waterworks.models.token_tagger import Gazetteer

    from .lexicon import COMPOUND_SURNAMES, SURNAMES

    first, last = set(), set()
    for locale in corpus.LATIN_LOCALES:
        try:
            provider = Faker(locale).provider("faker.providers.person")
        except AttributeError:
            continue
        for attribute, target in (("first_names", first), ("first_names_male", first), ("first_names_female", first),
                                  ("last_names", last)):
            for name in getattr(provider, attribute, ()) or ():
                if name and name.isalpha():
                    target.add(name.lower())
    return Gazetteer(frozenset(first), frozenset(last), frozenset(SURNAMES) | {c[0] for c in COMPOUND_SURNAMES})


def _digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def provenance(user_files: Sequence[Path] = (), use_corpora: bool = True) -> dict:
    """Where the training data came from (files with sha256 prefixes), for the model card."""
    used = {}
    if use_corpora:
        for name, path in (("CoNLL-2003 train (Reuters newswire; research use)", "conll2003/train.txt"),
                           ("CLUENER2020 train less a 10 % held-out slice (Chinese news)", "cluener/train.json"),
                           ("Resume NER train (Chinese résumés)", "resume/train.char.bmes")):
            used[name] = {"file": f"data/ner/{path}", "sha256_16": _digest(corpus.NER / path)}
        used["negatives"] = "Banking77 train and CrossWOZ validation sentences (data/), labelled empty"
        used["cells"] = "lone table cells: Faker names/addresses alone, or words cut from those sentences alone"
        used["synthetic"] = (f"Faker names, addresses, companies of {len(corpus.LATIN_LOCALES)} Latin-script "
                             f"locales and zh_CN/zh_TW in {len(corpus.ENGLISH_TEMPLATES)} English and "
                             f"{len(corpus.CHINESE_TEMPLATES)} Chinese carrier templates (every "
                             f"{corpus.DEV_EVERY}th held out for dev)")
        used["augmentation"] = "mention replacement, lower/upper case copies, Traditional script (OpenCC), full width"
    for path in user_files:
        used[f"user: {Path(path).name}"] = {"file": str(path), "sha256_16": _digest(path)}
    return used


def train(out: Path = DETECTOR_FOLDER, user_train: Sequence[Path] = (), user_dev: Sequence[Path] = (),
          use_corpora: bool = True, config=None, log=print, hold_out_check: bool = False) -> dict:
    """Assemble the data (how much: the config's data fields), train, write the detector folder with
    ``card.json`` and ``card.md``; the card. ``hold_out_check``: pick thresholds on one half of each dev split
    only, leaving the other (``check_examples``) for the quality gate."""
    from waterworks.models.recipes.configs import DetectorConfig
    from waterworks.models.recipes.pii_detector import train_detector

    config = config or DetectorConfig()
    user_examples = [e for path in user_train for e in corpus.read_jsonl(path)]
    examples = corpus.training_examples(config.seed, config.synthetic_per_language, config.negatives_per_language,
                                        cells_count=config.cells, corpus_examples=config.corpus_examples) \
        if use_corpora else []
    examples += list(corpus.augment(user_examples, config.seed + 3))
    if not examples:
        raise ValueError("no training examples: give --train files or use the default corpora")
    dev = corpus.dev_examples() if use_corpora else {}
    for path in user_dev:
        dev[f"user:{Path(path).stem}"] = corpus.read_jsonl(path)
    if not dev:
        raise ValueError("no dev examples to pick the threshold on: give --dev files or use the default corpora")
    pick = corpus.sample_each(corpus.split_dev(dev)[0] if hold_out_check else dev, config.dev_per_split)
    from waterworks.models.token_tagger import span_forms

    # The user's names and addresses never enter the stored vocabulary: the model folder is an artifact that
    # travels (registry, bundles), and must not carry their customers' names.
    private = frozenset().union(*(span_forms(e.text, e.spans, ("PER", "ADDR")) for e in user_examples))
    card = train_detector(examples, pick, dev_languages(pick), Path(out), default_gazetteer(), person_metrics,
                          config, provenance(list(user_train) + list(user_dev), use_corpora), log,
                          exclude_forms=private)
    (Path(out) / "card.md").write_text(card_markdown(card), encoding="utf-8")
    return card


def check_examples() -> dict[str, list]:
    """The halves of the default dev splits that ``train(hold_out_check=True)`` leaves out of the picking."""
    return corpus.split_dev(corpus.dev_examples())[1]


def dev_languages(dev: dict[str, list]) -> dict[str, str]:
    """Each dev split's language: the one most of its texts are routed to (engine.detect_language)."""
    from collections import Counter

    from .engine import detect_language

    return {name: Counter(detect_language(e.text) for e in examples).most_common(1)[0][0] if examples else "en"
            for name, examples in dev.items()}


def card_markdown(card: dict) -> str:
    lines = [f"# {card['model']}", "", card["architecture"], "",
             f"Parameters: {card['parameters']:,}. Decision thresholds: {card['thresholds']} ({card['threshold_rule']}).",
             "",
             f"Trained on {card['training']['examples']:,} examples, {card['training']['steps']:,} steps in "
             f"{card['training']['seconds']:.0f} s on {card['training']['runtime'].get('device_name', '?')} "
             f"({card['training']['runtime'].get('device', '?')}).", "",
             "## Dev figures (person names; never a public test split)", "",
             "| dev split | persons | recall | precision | person-free texts flagged |", "|---|---|---|---|---|"]
    for name, m in card["dev"].items():
        flagged = "—" if m["clean_flagged"] is None else f"{m['clean_flagged']:.3f} of {m['clean_texts']}"
        lines.append(f"| {name} | {m['gold']} | {m['recall']:.3f} | {m['precision']:.3f} | {flagged} |")
    lines += ["", "## Training data", ""]
    for name, value in card["data"].items():
        lines.append(f"- {name}: {value if isinstance(value, str) else value['file'] + ' (sha256 ' + value['sha256_16'] + '…)'}")
    lines += ["", "Retrain on your own labels: `waterworks train-pii-detector --train mine.jsonl --dev mine_dev.jsonl "
              "--out DIR`, then set `WATERWORKS_PII_DETECTOR=DIR`.", ""]
    return "\n".join(lines)
