"""Banking77 intent classification with the packaged all-MiniLM-L6-v2 on this machine's CPU: LoRA and full
fine-tuning (recipe models/recipes/lora_classify.py), a frozen-embedding linear probe as the floor, and the
accuracy cost of sanitation.

    .venv/bin/python bench/banking77.py                       # all of it (≈ 45 min on 2 cores)
    .venv/bin/python bench/banking77.py --test PATH.csv       # also score a test CSV (columns text,category)
    .venv/bin/python bench/banking77.py --methods lora --epochs 1 --limit 2000   # a quick look

Validation is held out from ../shared/data/banking77/train.csv by content hash (10 %, the datasets stage's
split function), so the figures are on data the model never saw; the published bar (a fine-tuned BERT-base,
≈ 93.7 %) is on the official test split, which only ``--test`` can score.

Sanitation cost: the same training on the train texts with synthetic PII injected into 30 % of them (the demo
estate's sentences: names, phones, e-mails, cards, addresses, passports) and then redacted by our sanitation
engine, against training on the original texts; both are scored on the same original validation (and test)
texts. The difference is what redaction costs the model.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl  # noqa: E402

from waterworks.assets.datasets.splits import SplitFractions, split_of  # noqa: E402

DEFAULT_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "banking77" / "train.csv"
BAR = 0.937


def load(path: Path, labels: list[str] | None = None) -> tuple[list[str], list[str]]:
    frame = pl.read_csv(path)
    missing = {"text", "category"} - set(frame.columns)
    if missing:
        raise SystemExit(f"{path}: needs columns text and category (missing {sorted(missing)})")
    return frame["text"].cast(pl.String).to_list(), frame["category"].cast(pl.String).to_list()


def inject_and_redact(texts: list[str], seed: int, share: float = 0.3) -> tuple[list[str], dict]:
    """Append a demo-estate PII sentence to ``share`` of the texts, then redact them all with our engine."""
    from waterworks.assets.source.demo_estate.generate import EN_TEMPLATES, _values
    from waterworks.assets.source.demo_estate.identities import IdentityFactory
    from waterworks.assets.source.demo_estate.manifest import fill
    from waterworks.governance.pii.redact import Findings, Redactor

    rng, people = random.Random(seed), IdentityFactory(seed)
    injected, planted = [], []
    for text in texts:
        if rng.random() < share:
            person = people.english() if rng.random() < 0.7 else people.mainland()
            addition, spans = fill(rng.choice(EN_TEMPLATES), _values(person, people.passport()))
            injected.append(f"{text} {addition}")
            planted.append([value for _, value, _, _ in spans])
        else:
            injected.append(text)
            planted.append([])
    started = time.monotonic()
    redactor = Redactor(language="en")
    redacted = redactor.redact_texts(injected, "text", ["bench"] * len(injected), Findings())
    seconds = time.monotonic() - started
    values = [v for vs in planted for v in vs]
    survived = sum(1 for r, vs in zip(redacted, planted, strict=True) for v in vs if v in r)
    clean_changed = sum(1 for t, r, vs in zip(texts, redacted, planted, strict=True) if not vs and r != t)
    clean = sum(1 for vs in planted if not vs)
    return redacted, {"injected_texts": sum(1 for vs in planted if vs), "planted_values": len(values),
                      "values_surviving": survived, "clean_texts_changed": clean_changed, "clean_texts": clean,
                      "redaction_seconds": round(seconds, 1)}


def probe(train_x, train_y, val_x, val_y, test, c: float = 10.0) -> dict:
    from sklearn.linear_model import LogisticRegression

    from waterworks.models.encoder_classifier import (
        EncoderClassifier,
        default_encoder_path,
        load_encoder,
        predict,
    )
    from waterworks.models.evaluation import classification_metrics

    started = time.monotonic()
    encoder, tokenizer = load_encoder(default_encoder_path())
    model = EncoderClassifier(encoder, 2)
    features = predict(model, tokenizer, train_x, 64, "cpu", embeddings=True).numpy()
    clf = LogisticRegression(C=c, max_iter=2000).fit(features, train_y)
    out = {f"val_{k}": v for k, v in classification_metrics(
        val_y, clf.predict(predict(model, tokenizer, val_x, 64, "cpu", embeddings=True).numpy())).items()}
    if test:
        out.update({f"test_{k}": v for k, v in classification_metrics(
            test[1], clf.predict(predict(model, tokenizer, test[0], 64, "cpu", embeddings=True).numpy())).items()})
    out["seconds"] = round(time.monotonic() - started, 1)
    return out


def fine_tune(method: str, epochs: float, train_x, train_y, val_x, val_y, names, test, out: Path, seed: int,
              **settings) -> dict:
    from waterworks.models.encoder_classifier import load_classifier, predict
    from waterworks.models.evaluation import classification_metrics
    from waterworks.models.recipes.lora_classify import ClassifyConfig, run

    config = ClassifyConfig(method=method, epochs=epochs, seed=seed, device="cpu",
                            **{k: v for k, v in settings.items() if v is not None})
    summary = run(config, train_x, train_y, val_x, val_y, names, out, log=lambda line: print(line, flush=True))
    result = {"val_accuracy": summary["val_accuracy"], "val_macro_f1": summary["val_macro_f1"],
              "seconds": summary["seconds"], "examples_per_s": summary["examples_per_s"],
              "probe_init_val_accuracy": summary["probe_val_accuracy"],
              "trainable_parameters": summary["trainable_parameters"]}
    if test:
        model, tokenizer, meta = load_classifier(out)
        logits = predict(model, tokenizer, test[0], meta["max_length"], "cpu")
        result.update({f"test_{k}": v for k, v in classification_metrics(test[1], logits.argmax(-1).tolist()).items()})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN)
    parser.add_argument("--test", type=Path, help="a held-out CSV (text,category) to score as well")
    parser.add_argument("--methods", default="probe,lora,full")
    parser.add_argument("--sanitation-method", default="full", help="lora, full or none")
    parser.add_argument("--epochs", type=float, default=4.0)
    parser.add_argument("--limit", type=int, help="use only the first N training rows (quick looks)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, help="encoder / adapter learning rate (default: the recipe's)")
    parser.add_argument("--label-smoothing", type=float, help="default: the recipe's (0)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/waterworks-bench-banking77"))
    args = parser.parse_args()

    texts, categories = load(args.train)
    if args.limit:
        texts, categories = texts[:args.limit], categories[:args.limit]
    names = sorted(set(categories))
    index = {n: i for i, n in enumerate(names)}
    fractions = SplitFractions(validation=0.1, test=0.0)
    is_val = [split_of(t, fractions) == "validation" for t in texts]
    train_x = [t for t, v in zip(texts, is_val, strict=True) if not v]
    train_y = [index[c] for c, v in zip(categories, is_val, strict=True) if not v]
    val_x = [t for t, v in zip(texts, is_val, strict=True) if v]
    val_y = [index[c] for c, v in zip(categories, is_val, strict=True) if v]
    test = None
    if args.test:
        test_x, test_c = load(args.test)
        unknown = sorted(set(test_c) - set(names))
        if unknown:
            raise SystemExit(f"{args.test}: categories not in the training data: {unknown[:5]}")
        test = (test_x, [index[c] for c in test_c])
    print(f"train {len(train_x)}, validation {len(val_x)}, test {len(test[0]) if test else 0}, {len(names)} labels; "
          f"torch threads {__import__('torch').get_num_threads()}", flush=True)
    results: dict[str, dict] = {}
    methods = [m for m in args.methods.split(",") if m]
    if "probe" in methods:
        results["linear probe (frozen)"] = probe(train_x, train_y, val_x, val_y, test)
        print("probe", results["linear probe (frozen)"], flush=True)
    settings = {"lr": args.lr, "label_smoothing": args.label_smoothing}
    for method in (m for m in methods if m in ("lora", "full")):
        results[f"{method} fine-tuning"] = fine_tune(method, args.epochs, train_x, train_y, val_x, val_y, names, test,
                                                     args.out / method, args.seed, **settings)
        print(method, results[f"{method} fine-tuning"], flush=True)
    sanitation = None
    if args.sanitation_method in ("lora", "full"):
        redacted_x, sanitation = inject_and_redact(train_x, args.seed)
        print("sanitation", sanitation, flush=True)
        key = f"{args.sanitation_method} fine-tuning"
        if key not in results:
            results[key] = fine_tune(args.sanitation_method, args.epochs, train_x, train_y, val_x, val_y, names, test,
                                     args.out / args.sanitation_method, args.seed, **settings)
        results[f"{key}, PII injected + redacted"] = fine_tune(
            args.sanitation_method, args.epochs, redacted_x, train_y, val_x, val_y, names, test,
            args.out / f"{args.sanitation_method}-sanitized", args.seed, **settings)
    print("\n| configuration | val accuracy | val macro-F1 | " + ("test accuracy | " if test else "")
          + "seconds | vs bar 93.7 % |")
    print("|---|---|---|" + ("---|" if test else "") + "---|---|")
    for name, r in results.items():
        acc = r.get("test_accuracy", r["val_accuracy"])
        print(f"| {name} | {r['val_accuracy']:.4f} | {r['val_macro_f1']:.4f} | "
              + (f"{r['test_accuracy']:.4f} | " if test else "") + f"{r['seconds']:.0f} | {acc / BAR:.3f} |")
    if sanitation:
        key = f"{args.sanitation_method} fine-tuning"
        cost = results[key]["val_accuracy"] - results[f"{key}, PII injected + redacted"]["val_accuracy"]
        print(f"\nsanitation cost ({args.sanitation_method}): {cost * 100:+.2f} accuracy points on validation "
              f"(original − redacted); injected {sanitation['planted_values']} values into "
              f"{sanitation['injected_texts']} texts, {sanitation['values_surviving']} survived redaction; "
              f"{sanitation['clean_texts_changed']}/{sanitation['clean_texts']} texts without PII changed")
    (args.out).mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"results": results, "sanitation": sanitation}, indent=1))


if __name__ == "__main__":
    main()
