"""Versioned datasets in the lake: ``datasets/<name>/<version>/{train,validation,test}.parquet`` with
``card.json`` and ``card.md`` beside them, and ``datasets/<name>/current.json`` naming the current version.

A version is the first 12 hex digits of the content digest (sha256 over every example id and its split), so
the same sanitized data and config always give the same version, and a rebuild that changes nothing rewrites
nothing. ``current.json`` is written last: readers see either the old version or the complete new one."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from ..lake import Lake
from .splits import SPLITS

ZONE = "datasets"


@dataclass(frozen=True)
class DatasetVersion:
    name: str
    version: str
    digest: str
    rows: dict[str, int]
    uris: dict[str, str] = field(default_factory=dict)
    reused: bool = False


def content_digest(frame: pl.DataFrame, governance: dict | None = None) -> str:
    """Digest of the examples (ids and splits) and of the governance facts that travel with them (the document
    counts per data classification): a source reclassified from internal to restricted makes a new version,
    so the models trained on it get a new key and a lineage that says restricted."""
    lines = sorted(f"{i}\t{s}" for i, s in zip(frame["example_id"], frame["split"], strict=True))
    if governance:
        lines.append(json.dumps(governance, sort_keys=True))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def write_version(lake: Lake, name: str, frame: pl.DataFrame, card: dict,
                  render: Callable[[dict], str]) -> tuple[DatasetVersion, dict]:
    """Write one version (rows sorted by example id within each split) with its card (``render`` makes the
    markdown from the complete card) and make it current. Returns the version and the complete card."""
    digest = content_digest(frame, {"classifications": card.get("classifications", {}),
                                    **({"canaries": card["canaries"]["digest"]} if "canaries" in card else {})})
    version = digest[:12]
    rows = {split: frame.filter(pl.col("split") == split).height for split in SPLITS}
    uris = {split: lake.uri(ZONE, f"{name}/{version}/{split}.parquet") for split in SPLITS}
    card = {**card, "name": name, "version": version, "digest": digest, "rows": rows}
    reused = all(lake.exists(ZONE, f"{name}/{version}/{split}.parquet") for split in SPLITS) and \
        lake.exists(ZONE, f"{name}/{version}/card.json")
    if not reused:
        for split in SPLITS:
            part = frame.filter(pl.col("split") == split).sort("example_id")
            lake.write_parquet(ZONE, f"{name}/{version}/{split}.parquet", part.to_arrow(),
                               metadata={"dataset": name, "version": version, "digest": digest, "split": split})
        lake.write_bytes(ZONE, f"{name}/{version}/card.json",
                         json.dumps(card, indent=1, ensure_ascii=False, sort_keys=True).encode())
        lake.write_bytes(ZONE, f"{name}/{version}/card.md", render(card).encode())
    lake.write_bytes(ZONE, f"{name}/current.json",
                     json.dumps({"name": name, "version": version, "digest": digest}).encode())
    return DatasetVersion(name, version, digest, rows, uris, reused), card


def current_version(lake: Lake, name: str) -> str:
    if not lake.exists(ZONE, f"{name}/current.json"):
        raise FileNotFoundError(f"dataset {name!r} has not been built yet (no {ZONE}/{name}/current.json); "
                                "materialize the datasets group first")
    return json.loads(lake.read_bytes(ZONE, f"{name}/current.json"))["version"]


def read_card(lake: Lake, name: str, version: str | None = None) -> dict:
    version = version or current_version(lake, name)
    return json.loads(lake.read_bytes(ZONE, f"{name}/{version}/card.json"))


def read_split(lake: Lake, name: str, split: str, version: str | None = None) -> pl.DataFrame:
    version = version or current_version(lake, name)
    data = lake.read_bytes(ZONE, f"{name}/{version}/{split}.parquet")
    return pl.read_parquet(io.BytesIO(data))


def read_dataset(lake: Lake, name: str, version: str | None = None) -> tuple[dict[str, pl.DataFrame], dict]:
    version = version or current_version(lake, name)
    return {split: read_split(lake, name, split, version) for split in SPLITS}, read_card(lake, name, version)
