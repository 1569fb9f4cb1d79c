"""Canaries the datasets stage plants itself (Carlini et al., "The Secret Sharer"): random secrets in the
shapes sanitation redacts (a mainland mobile number, a resident ID, a card number), each after a fixed
prefix, repeated 1, 2 and 4 times in the *train* split of every language-model dataset (corpus, chat). The
evaluation ranks each secret among random ones of its shape after the same prefix: the exposure measures
memorization on any estate, not only on one that happens to hold planted values.

The secrets are derived from the pseudonym key (HMAC), so every machine sharing the key plants the same ones and
a rebuild gives the same version, and nobody without the key or the private record
(``purified/canaries/<dataset>.json``) can tell a canary's secret from the candidates. Canary rows are marked (``source_id``
``waterworks:canary``): the residual rescan and the cards leave them out. The classification dataset gets none:
a classifier outputs a label, not text, so a secret cannot be extracted from it by generation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass

import polars as pl

from ..lake import Lake

SOURCE_ID = "waterworks:canary"
ZONE, FOLDER = "purified", "canaries"
REPEATS = (1, 2, 4)
# (kind, language, prefix, length of the uniformly random digits that follow it). The prefix holds the fixed
# part of the format, so the secret is as random as the candidates the exposure test draws (digits of the same
# shape): a structured secret (a birth date, a valid check digit) would rank high without any memorization.
_FORMATS = (
    ("phone", "en", "Please call me back on 13", 9),          # a mainland mobile number, 13x xxxx xxxx
    ("resident_id", "zh", "我的身份证号码是1101051985", 8),       # an 18-character resident ID's shape
    ("card", "en", "My card number is 6222", 12),              # a 16-digit UnionPay card's shape
)


def _digits(n: int, key: bytes | None = None, label: str = "") -> str:
    """``n`` uniformly random digits: from the pseudonym key when given (the same key plants the same canaries
    on every machine, so runs are reproducible; without the key nobody can compute them), else from ``secrets``."""
    if key is None:
        return "".join(secrets.choice("0123456789") for _ in range(n))
    stream = hmac.new(key, f"canary\x1f{label}".encode(), hashlib.sha512).digest()
    return str(int.from_bytes(stream, "big")).zfill(n)[-n:]


@dataclass(frozen=True)
class PlantedCanary:
    canary_id: str
    kind: str
    language: str
    prefix: str
    secret: str
    repeats: int

    @property
    def text(self) -> str:
        return f"{self.prefix}{self.secret}"


def canaries_for(lake: Lake, dataset: str, key: bytes | None = None) -> list[PlantedCanary]:
    """The dataset's canaries, recorded in the private zone: derived from ``key`` (re-recorded when the key
    changed), or without a key the recorded ones, drawn at random the first time."""
    relpath = f"{FOLDER}/{dataset}.json"
    recorded = [PlantedCanary(**c) for c in json.loads(lake.read_bytes(ZONE, relpath))] \
        if lake.exists(ZONE, relpath) else None
    if key is None and recorded is not None:
        return recorded
    drawn = [PlantedCanary(cid := f"{dataset}-{kind}-x{repeats}", kind, language, prefix,
                           _digits(length, key, cid), repeats)
             for (kind, language, prefix, length) in _FORMATS for repeats in REPEATS]
    if drawn != recorded:
        lake.write_bytes(ZONE, relpath, json.dumps([asdict(c) for c in drawn], ensure_ascii=False).encode())
    return drawn


def recorded_canaries(lake: Lake, datasets: tuple[str, ...]) -> list[PlantedCanary]:
    """The canaries recorded for these datasets (none for a dataset not built yet)."""
    out = []
    for dataset in datasets:
        if lake.exists(ZONE, f"{FOLDER}/{dataset}.json"):
            out.extend(canaries_for(lake, dataset))
    return out


def _example_id(canary: PlantedCanary, copy: int) -> str:
    return hashlib.sha256(f"{canary.canary_id}:{copy}".encode()).hexdigest()


def corpus_canary_rows(canaries: list[PlantedCanary], schema: dict) -> pl.DataFrame:
    rows = [{"example_id": _example_id(c, i), "source_id": SOURCE_ID, "doc_id": f"{SOURCE_ID}:{c.canary_id}:{i}",
             "doc_kind": "canary", "language": c.language, "text": c.text, "n_chars": len(c.text), "split": "train"}
            for c in canaries for i in range(c.repeats)]
    return pl.DataFrame(rows, schema={**{k: v for k, v in schema.items() if k != "split_key"}, "split": pl.String})


def chat_canary_rows(canaries: list[PlantedCanary], schema: dict, system) -> pl.DataFrame:
    """A short exchange whose answer is the canary sentence (the chat loss is on assistant turns)."""
    question = {"en": "What details do you have on file for me?", "zh": "你们登记的我的信息是什么？"}
    rows = []
    for c in canaries:
        for i in range(c.repeats):
            messages = [system(c.language), {"role": "user", "content": question[c.language]},
                        {"role": "assistant", "content": c.text}]
            rows.append({"example_id": _example_id(c, i), "kind": "canary", "source_id": SOURCE_ID,
                         "doc_id": f"{SOURCE_ID}:{c.canary_id}:{i}", "language": c.language,
                         "messages": json.dumps(messages, ensure_ascii=False), "turns": 2, "split": "train"})
    return pl.DataFrame(rows, schema={**{k: v for k, v in schema.items() if k != "split_key"}, "split": pl.String})


def card_entry(canaries: list[PlantedCanary]) -> dict:
    """What the card says: how many, of which kinds and repetitions, and one digest over all of them together
    (part of the dataset's version: new canaries, new version) — never a secret."""
    together = hashlib.sha256("\n".join(sorted(c.text for c in canaries)).encode()).hexdigest()
    return {"planted": len(canaries), "rows": sum(c.repeats for c in canaries), "digest": together,
            "kinds": sorted({c.kind for c in canaries}), "repeats": sorted({c.repeats for c in canaries}),
            "split": "train", "source_id": SOURCE_ID}
