"""The PII detector as a product: the shipped detector against one retrained with a training preset's
``pii_detector`` section (default: cpu), both scored the way the product's quality gate scores them —
person recall, precision and F1 at each detector's own thresholds on the halves of the dev splits the
retraining did not pick its thresholds on (CoNLL-2003 valid, the held-out CLUENER train slice, Resume dev,
synthetic dev; never a test split). Prints the figures per split, the mean F1 of each and their ratio, and the
retraining time.

    .venv/bin/python bench/detector_product.py [--preset cpu] [--out DIR]

Caveat printed with the figures: the shipped detector's thresholds were picked on the whole dev splits, these
halves included, so its figure is flattered.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from waterworks.assets.training.config import load_training_config
from waterworks.assets.training.pii_detector import evaluate_pii_detector, train_pii_detector
from waterworks.assets.training.train import TrainingRequest
from waterworks.governance.pii.detector_training import DETECTOR_FOLDER


def _row(name: str, evaluation: dict) -> None:
    for split, m in evaluation["breakdown"]["dev split (check half)"].items():
        print(f"  {name:9s} {split:18s} persons {m['gold']:5d}  recall {m['recall']:.3f}  "
              f"precision {m['precision']:.3f}  F1 {m['f1']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--out", help="models folder for the retrained detector (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        models = Path(args.out or scratch)
        started = time.monotonic()
        artifact = train_pii_detector(TrainingRequest(lake=None, models_dir=models,
                                                      preset=load_training_config().preset(args.preset),
                                                      log=lambda line: None))
        seconds = time.monotonic() - started
        shipped, retrained = evaluate_pii_detector(None, DETECTOR_FOLDER), evaluate_pii_detector(None, artifact.path)
    print(f"retrained ({args.preset} profile): {artifact.summary['steps']} steps, "
          f"{artifact.summary['examples']:,} examples, {seconds:.0f} s")
    _row("shipped", shipped)
    _row(args.preset, retrained)
    a, b = shipped["metrics"]["dev_person_f1"], retrained["metrics"]["dev_person_f1"]
    print(f"mean person F1 on the check halves: shipped {a:.3f}, {args.preset} {b:.3f}, ratio {b / a:.2f} "
          "(the shipped detector's thresholds saw these halves: its figure is flattered)")


if __name__ == "__main__":
    main()
