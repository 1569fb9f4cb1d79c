"""Lineage of a registered model version, read from the registry: version → training run → its
``lineage.json`` → datasets (version, digest, lake URI) → the sanitized, purified and raw assets they were
built from → the exact landing files (path and sha256); the base model is followed the same way when it was
trained here. What ``waterworks lineage --model NAME@ALIAS`` prints."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ..datasets.store import ZONE
from ..lake import Lake
from .registry import alias_version

SANITIZED, PURIFIED = "sanitized_documents", "purified_documents"  # what every dataset is built from


def parse_model_ref(ref: str) -> tuple[str, str | None, str | None]:
    """``NAME@ALIAS`` or ``NAME/VERSION`` → (name, alias, version)."""
    if "@" in ref:
        name, alias = ref.split("@", 1)
        return name, alias, None
    if "/" in ref:
        name, version = ref.rsplit("/", 1)
        return name, None, version
    raise ValueError(f"{ref!r}: name a model version as NAME@ALIAS (e.g. waterworks-chat@champion) or NAME/VERSION")


def _dataset_lineage(lake: Lake, dataset: dict) -> dict:
    if dataset.get("external"):  # data shipped with the code (the PII detector's public corpora), not the lake
        return {"name": dataset["name"], "version": dataset["version"], "digest": dataset["digest"],
                "uri": "shipped with the code (data/ner, synthetic text)", "rows": dataset.get("rows", {}),
                "classifications": dataset.get("classifications", {}), "built_from": [], "raw_assets": [],
                "landing_files": []}
    sources = sorted(dataset.get("sources", {}))
    return {"name": dataset["name"], "version": dataset["version"], "digest": dataset["digest"],
            "uri": lake.uri(ZONE, f"{dataset['name']}/{dataset['version']}"), "rows": dataset.get("rows", {}),
            "classifications": dataset.get("classifications", {}),
            "built_from": [SANITIZED, PURIFIED], "raw_assets": [f"raw_{s}" for s in sources],
            "landing_files": dataset.get("landing_files", [])}


def _base_lineage(lake: Lake, base: dict | None, depth: int = 0) -> dict | None:
    if not base:
        return None
    out = {"origin": base.get("origin"), "sha256": base.get("sha256")}
    inner = Path(base.get("path", "")) / "lineage.json"
    if inner.is_file() and depth < 5:
        lineage = json.loads(inner.read_text(encoding="utf-8"))
        out["datasets"] = [_dataset_lineage(lake, d) for d in lineage.get("datasets", [])]
        out["base_model"] = _base_lineage(lake, lineage.get("base_model"), depth + 1)
    return out


def run_lineage(client, run_id: str) -> dict:
    """The ``lineage.json`` a training run logged (as the training stage wrote it)."""
    with tempfile.TemporaryDirectory() as scratch:
        return json.loads(Path(client.download_artifacts(run_id, "lineage.json", scratch)).read_text(encoding="utf-8"))


def version_lineage(version, lineage: dict, lake: Lake) -> dict:
    """A registered version's lineage (its run's ``lineage.json``) walked down to datasets and landing files."""
    return {
        "model": {"name": version.name, "version": str(version.version), "aliases": list(version.aliases or []),
                  "registry_uri": f"models:/{version.name}/{version.version}", "run_id": version.run_id,
                  "model_key": version.tags.get("waterworks.model_key"),
                  "code_version": lineage.get("code_version"), "recipe": lineage.get("recipe")},
        "datasets": [_dataset_lineage(lake, d) for d in lineage.get("datasets", [])],
        "base_model": _base_lineage(lake, lineage.get("base_model")),
    }


def model_lineage(client, lake: Lake, ref: str) -> dict:
    name, alias, number = parse_model_ref(ref)
    version = alias_version(client, name, alias) if alias else client.get_model_version(name, number)
    if version is None:
        raise FileNotFoundError(f"{name} has no version with alias {alias!r}")
    return version_lineage(version, run_lineage(client, version.run_id), lake)


def lineage_text(lineage: dict) -> str:
    """The lineage as an indented tree for the terminal."""
    model = lineage["model"]
    lines = [f"{model['registry_uri']} ({', '.join(model['aliases']) or 'no alias'}; run {model['run_id']}, "
             f"recipe {model['recipe']}, code {model['code_version']})"]

    def datasets(items: list[dict], indent: str) -> None:
        for d in items:
            lines.append(f"{indent}dataset {d['name']}@{d['version']}  {d['uri']}  (digest {d['digest'][:16]}…, "
                         f"classifications {d['classifications']})")
            lines.append(f"{indent}  ← {' ← '.join(d['built_from'])} ← {', '.join(d['raw_assets'])}")
            for f in d["landing_files"]:
                lines.append(f"{indent}    landing {f['path']}  sha256 {f['sha256']}")

    def base(item: dict | None, indent: str) -> None:
        if item:
            lines.append(f"{indent}base model {item['origin']} (sha256 {str(item['sha256'])[:16]}…)")
            datasets(item.get("datasets", []), indent + "  ")
            base(item.get("base_model"), indent + "  ")

    datasets(lineage["datasets"], "  ")
    base(lineage["base_model"], "  ")
    return "\n".join(lines)
