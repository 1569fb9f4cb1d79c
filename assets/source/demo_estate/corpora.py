"""The real public texts bundled in data/ (see data/README.md): Banking77, CrossWOZ, COVID-QA."""

from __future__ import annotations

import csv
import json
import zipfile
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[3] / "data"


def _require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path}: bundled corpus missing (the demo estate needs data/, see data/README.md)")
    return path


@lru_cache(maxsize=1)
def banking77() -> list[tuple[str, str]]:
    """(query, intent) pairs."""
    with open(_require(DATA_DIR / "banking77" / "train.csv"), encoding="utf-8", newline="") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


@lru_cache(maxsize=1)
def crosswoz() -> list[list[tuple[str, str]]]:
    """Dialogues as lists of (role, text), role in {user, assistant}, in file order."""
    with zipfile.ZipFile(_require(DATA_DIR / "crosswoz" / "val.json.zip")) as archive:
        data = json.loads(archive.read("val.json"))
    roles = {"usr": "user", "sys": "assistant"}
    return [[(roles[m["role"]], m["content"]) for m in dialogue["messages"]]
            for _, dialogue in sorted(data.items(), key=lambda kv: int(kv[0]))]


@lru_cache(maxsize=1)
def covid_faq() -> list[tuple[str, str, str]]:
    """(question, answer, source agency) triples."""
    with open(_require(DATA_DIR / "covid_qa" / "faq_covidbert.csv"), encoding="utf-8", newline="") as handle:
        return [(row["question"].strip(), row["answer"].strip(), row["source"].strip())
                for row in csv.DictReader(handle) if row["question"].strip() and row["answer"].strip()]
