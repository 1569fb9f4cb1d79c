"""The facts of one compliance report, gathered from what the plant wrote: the sources config and landing
inventory, the raw / quarantine / purified / sanitized zones and the audit ledger, the datasets and their
residual scans, the models' evaluations (canary exposure), the registry (versions, aliases, gate decisions,
lineage) and the data-use policy. Counts, names, paths and hashes only: the zones' text columns are never read.

The result is a plain dict that ``governance.report`` validates against its JSON schema and renders."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from waterworks.governance.policy import Policy, decide_targets, lineage_classifications

from ..datasets.build import CHAT, CLASSIFICATION, CORPUS
from ..datasets.checks import residual_result
from ..datasets.store import ZONE as DATASETS
from ..datasets.store import read_card
from ..lake import Lake
from ..source.catalog import SourceCatalog
from ..training.artifacts import code_version, current_model
from ..training.policy import training_decisions

DATASETS_BUILT = (CHAT, CLASSIFICATION, CORPUS)
TABLES = ("records", "documents")
STRUCTURED = "structured"  # the "language" of PII found in structured columns (records), not in free text
INVENTORY = "_inventory/landing_files.parquet"
UNROUTED = "_unrouted"
REFUSED = "_refused"  # landing paths refused unread (links, not regular files)


@dataclass(frozen=True)
class PlantView:
    """Where the plant keeps what the report reads."""

    lake: Lake
    catalog: SourceCatalog
    models_dir: Path
    policy: Policy
    mlflow_client: object | None = None       # an MlflowClient; None: no registry section
    distribution: object | None = None        # a DistributionConfig
    bundles_dir: Path | None = None
    access: dict | None = None                # declared access controls: profile, mlflow_auth, pseudonym_key_file


def _frame(lake: Lake, zone: str, relpath: str, columns: list[str]) -> pl.DataFrame | None:
    """Only the named columns (those the file has; never the text ones) of one Parquet file; None if absent."""
    if not lake.exists(zone, relpath):
        return None
    present = set(lake.columns(zone, relpath))
    return pl.from_arrow(lake.read_parquet(zone, relpath, columns=[c for c in columns if c in present]))


def _table_frame(lake: Lake, zone: str, name: str, columns: list[str]) -> pl.DataFrame | None:
    """Like ``_frame``, for a table of parts (lake.py)."""
    if not lake.table_exists(zone, name):
        return None
    present = set(lake.table_columns(zone, name))
    return pl.from_arrow(lake.read_table(zone, name, columns=[c for c in columns if c in present]))


def _rows(frame: pl.DataFrame, keys: list[str], value: str = "count") -> list[dict]:
    return [{**{k: r[k] for k in keys}, value: int(r[value])} for r in frame.sort(value, descending=True)
            .iter_rows(named=True)]


def sources_section(view: PlantView) -> list[dict]:
    inventory = _frame(view.lake, "raw", INVENTORY, ["relpath", "size_bytes", "sources"])
    files, size = Counter(), Counter()
    if inventory is not None:
        for row in inventory.iter_rows(named=True):
            for source in filter(None, (row["sources"] or "").split(",")):
                files[source.strip()] += 1
                size[source.strip()] += int(row["size_bytes"])
    return [{"id": s.id, "description": s.description, "owner": s.owner, "classification": s.classification.value,
             "legal_basis": s.legal_basis, "retention_days": s.retention_days, "format": s.format.value,
             "landing_files": files[s.id], "landing_bytes": size[s.id]} for s in view.catalog.sources]


def pii_section(lake: Lake) -> dict:
    """Findings of the sanitation stage's audit ledger by type × source × language (free text: the document's
    detected language; structured columns: ``structured``), and by operator and detector."""
    parts = []
    languages = _table_frame(lake, "sanitized", "documents", ["doc_id", "language"])
    for table in TABLES:
        ledger = _frame(lake, "sanitized", f"ledger/{table}.parquet",
                        ["source_id", "doc_id", "field", "entity_type", "detector", "mode", "operator", "count"])
        if ledger is None or ledger.is_empty():
            continue
        if table == "documents" and languages is not None:
            ledger = ledger.join(languages, on="doc_id", how="left").with_columns(
                pl.col("language").fill_null("unknown"))
        else:
            ledger = ledger.with_columns(pl.lit(STRUCTURED).alias("language"))
        parts.append(ledger.with_columns(pl.lit(table).alias("table"), pl.col("count").cast(pl.Int64)))
    if not parts:
        return {"total_findings": 0, "documents_with_pii": 0, "by_type_source_language": [], "by_operator": [],
                "by_detector": [], "by_type": {}}
    ledger = pl.concat(parts, how="diagonal_relaxed")
    summed = lambda keys: ledger.group_by(keys).agg(pl.col("count").sum())  # noqa: E731
    by_type = summed(["entity_type"]).sort("entity_type")
    return {
        "total_findings": int(ledger["count"].sum()),
        "documents_with_pii": int(ledger.filter(pl.col("doc_id").is_not_null())["doc_id"].n_unique()),
        "by_type": {r["entity_type"]: int(r["count"]) for r in by_type.iter_rows(named=True)},
        "by_type_source_language": _rows(summed(["entity_type", "source_id", "language"]),
                                         ["entity_type", "source_id", "language"]),
        "by_operator": _rows(summed(["operator", "mode", "entity_type"]), ["operator", "mode", "entity_type"]),
        "by_detector": _rows(summed(["detector", "entity_type"]), ["detector", "entity_type"]),
    }


def funnel_section(lake: Lake, catalog: SourceCatalog, datasets: list[dict]) -> dict:
    """From landing to datasets, per source: files, rows read, rows and files quarantined (with reasons),
    rows dropped in purification (with reasons), rows sanitized, examples in each dataset."""
    per = {s.id: Counter() for s in catalog.sources}
    quarantine_reasons, drop_reasons = Counter(), Counter()
    for relpath in lake.list_parquet("raw"):
        if relpath != INVENTORY:
            per.setdefault(relpath.split("/", 1)[0], Counter())["raw_rows"] += lake.row_count("raw", relpath)
    unrouted_files = refused_paths = 0
    for relpath in lake.list_parquet("quarantine"):
        frame = _frame(lake, "quarantine", relpath, ["record_index", "reason"])
        source = relpath.split("/", 1)[0]
        if source == UNROUTED:
            unrouted_files += 1
        elif source == REFUSED:
            refused_paths += 1
        else:
            counts = per.setdefault(source, Counter())
            whole_file = (frame["record_index"].is_null() if "record_index" in frame.columns
                          else pl.Series([True] * frame.height))
            counts["quarantined_files"] += int(whole_file.sum())
            counts["quarantined_rows"] += frame.height - int(whole_file.sum())
        for reason in frame["reason"].to_list():
            quarantine_reasons[(source, reason)] += 1
    for table in TABLES:
        for key, zone in (("purified_rows", "purified"), ("sanitized_rows", "sanitized")):
            frame = _table_frame(lake, zone, table, ["source_id"])
            for source, n in (frame["source_id"].value_counts().iter_rows() if frame is not None else []):
                per.setdefault(source, Counter())[key] += int(n)
        excluded = _table_frame(lake, "purified", f"excluded/{table}", ["source_id", "drop_reason"])
        for source, reason in (excluded.iter_rows() if excluded is not None else []):
            per.setdefault(source, Counter())["dropped_rows"] += 1
            drop_reasons[(source, reason)] += 1
    for dataset in datasets:
        for source, n in dataset["sources"].items():
            per.setdefault(source, Counter())[f"in_{dataset['name']}"] += int(n)
    fields = ("raw_rows", "quarantined_files", "quarantined_rows", "purified_rows", "dropped_rows", "sanitized_rows")
    by_source = [{"source_id": source, **{f: int(counts[f]) for f in fields},
                  "dataset_examples": {d["name"]: int(counts[f"in_{d['name']}"]) for d in datasets}}
                 for source, counts in sorted(per.items())]
    totals = {f: sum(row[f] for row in by_source) for f in fields}
    return {
        "by_source": by_source,
        "totals": {**totals, "unrouted_files": unrouted_files, "refused_paths": refused_paths,
                   "dataset_examples": {d["name"]: sum(d["rows"].values()) for d in datasets}},
        "quarantine_reasons": [{"source_id": s, "reason": r, "count": n}
                               for (s, r), n in quarantine_reasons.most_common()],
        "drop_reasons": [{"source_id": s, "reason": r, "count": n} for (s, r), n in drop_reasons.most_common()],
    }


def datasets_section(lake: Lake) -> list[dict]:
    out = []
    for name in DATASETS_BUILT:
        if not lake.exists(DATASETS, f"{name}/current.json"):
            continue
        card = read_card(lake, name)
        residual = residual_result(lake, name, card["version"])
        out.append({"name": name, "version": card["version"], "digest": card["digest"], "rows": card["rows"],
                    "sources": card.get("sources", {}), "classifications": card.get("classifications", {}),
                    "languages": {split: dict(v) for split, v in card.get("languages", {}).items()},
                    "pii_redacted_by_type": card.get("pii_redacted_by_type", {}),
                    "landing_files": len(card.get("landing_files", [])),
                    "residual": {"passed": bool(residual["passed"]),
                                 "findings": int(residual["residual_findings"]),
                                 "values_scanned": int(residual.get("values_scanned", 0)),
                                 "by_type": residual.get("by_type", "none")}})
    return out


def canaries_section(models_dir: Path) -> list[dict]:
    out = []
    for pointer in sorted(Path(models_dir).glob("*/current.json")):
        try:
            folder = current_model(models_dir, pointer.parent.name)
            evaluation = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            continue
        canaries = evaluation.get("canaries")
        if not canaries:
            continue
        out.append({"model": pointer.parent.name, "model_key": folder.name, "planted": int(canaries["planted"]),
                    "threshold_bits": float(canaries["threshold_bits"]),
                    "max_exposure_bits": float(canaries["max_exposure_bits"] or 0.0), "passed": bool(canaries["passed"]),
                    "exposures": [{"canary": e["canary"], "repeats": int(e["repeats"]),
                                   "exposure_bits": float(e["exposure_bits"]), "rank": int(e["rank"]),
                                   "candidates": int(e["candidates"])} for e in canaries["exposures"]]})
    return out


def _gates(version) -> list[dict]:
    tags = version.tags or {}
    return [{"gate": key[5:], "result": value, "reason": tags.get(f"{key}.reason", "")}
            for key, value in sorted(tags.items()) if key.startswith("gate.") and key.count(".") == 1]


def models_section(view: PlantView) -> list[dict]:
    """Per registered model: the versions that carry an alias, their gate decisions, deployment decision and
    lineage down to the landing files."""
    if view.mlflow_client is None or view.distribution is None:
        return []
    from ..distribution.lineage import run_lineage, version_lineage
    from ..distribution.registry import CANDIDATE, CHAMPION, alias_version

    out = []
    for task, plan in view.distribution.models.items():
        versions = {}
        for alias in (CHAMPION, CANDIDATE):
            version = alias_version(view.mlflow_client, plan.registered_name, alias)
            if version is not None:
                versions.setdefault(str(version.version), version)
        for number, version in sorted(versions.items(), key=lambda kv: int(kv[0])):
            raw = run_lineage(view.mlflow_client, version.run_id)  # read once: decision and walk both use it
            lineage = version_lineage(version, raw, view.lake)
            decision = decide_targets(raw, list(plan.targets), view.policy)
            out.append({
                "task": task, "registered_name": plan.registered_name, "version": number,
                "aliases": sorted(version.aliases or []), "run_id": version.run_id,
                "model_key": (version.tags or {}).get("waterworks.model_key", ""),
                "test_metric": {"name": plan.quality.metric,
                                "value": _float((version.tags or {}).get(f"test.{plan.quality.metric}"))},
                "gates": _gates(version),
                "deployment": {**decision.as_dict(), "passed": decision.passed,
                               "documents_by_classification": lineage_classifications(raw, view.policy)},
                "lineage": _lineage_summary(lineage),
            })
    return out


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _lineage_summary(lineage: dict) -> dict:
    def datasets(items: list[dict]) -> list[dict]:
        return [{"name": d["name"], "version": d["version"], "digest": d["digest"], "uri": d["uri"],
                 "classifications": d["classifications"], "built_from": d["built_from"],
                 "raw_assets": d["raw_assets"],
                 "landing_files": [{"path": f["path"], "sha256": f["sha256"]} for f in d["landing_files"]]}
                for d in items]

    def base(item: dict | None) -> dict | None:
        if not item:
            return None
        return {"origin": item.get("origin"), "sha256": item.get("sha256"),
                "datasets": datasets(item.get("datasets", [])), "base_model": base(item.get("base_model"))}

    return {"registry_uri": lineage["model"]["registry_uri"], "recipe": lineage["model"].get("recipe"),
            "code_version": lineage["model"].get("code_version"), "datasets": datasets(lineage["datasets"]),
            "base_model": base(lineage["base_model"])}


def bundles_section(bundles_dir: Path | None) -> list[dict]:
    if bundles_dir is None:
        return []
    out = []
    for manifest_path in sorted(Path(bundles_dir).glob("*/*/v*/manifest.json")):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        out.append({"target": manifest.get("target"), "registered_model": manifest.get("registered_model"),
                    "version": str(manifest.get("version")), "classification": manifest.get("classification"),
                    "allowed_targets": manifest.get("allowed_targets", []),
                    "files": len(manifest.get("files", [])),
                    "bytes": sum(int(f.get("bytes", 0)) for f in manifest.get("files", [])),
                    "path": str(manifest_path.parent)})
    return out


def _open_entries(root: Path, forbidden: int) -> tuple[int, int]:
    """(entries checked, entries whose mode has any of the ``forbidden`` bits) under ``root``."""
    checked = open_ = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            checked += 1
            open_ += bool(os.lstat(os.path.join(dirpath, name)).st_mode & forbidden)
    return checked, open_


_RUN_ID = re.compile(r"\s*(?:via\s+)?Dagster run ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s*$")


def split_actor(actor: str) -> tuple[str, str | None]:
    """``"ops via Dagster run <uuid>"`` → (``"ops"``, ``"<uuid>"``): the run id apart, as an id (the residual
    check of the report would read digit groups of a random UUID as a phone number)."""
    found = _RUN_ID.search(actor or "")
    return (actor[:found.start()].strip() or "?", found.group(1)) if found else (actor, None)


def controls_section(view: PlantView) -> dict:
    """The access and integrity controls as they are, checked where the plant can check them (file modes of
    the lake's zones, the promotion ledger against the registry's champions) and declared where it cannot."""
    from ..distribution.registry import CHAMPION, alias_version, promotion_entry, promotion_ledger
    from ..lake import PRIVATE_ZONES

    access = view.access or {}
    zones = []
    for zone in (*PRIVATE_ZONES, "sanitized", "datasets"):
        private = zone in PRIVATE_ZONES
        if view.lake.local:
            checked, open_ = _open_entries(Path(view.lake.path(zone, "")), 0o077 if private else 0o007)
            zones.append({"zone": zone, "private": private, "checked": checked, "open": open_,
                          "rule": "owner only (0700/0600)" if private else "group at most (0750/0640)"})
        else:
            zones.append({"zone": zone, "private": private, "checked": 0, "open": 0,
                          "rule": "object store: the bucket's policy and default encryption (not checked here)"})
    key_file = access.get("pseudonym_key_file")
    key_source = ("environment (WATERWORKS_PSEUDONYM_KEY)" if os.environ.get("WATERWORKS_PSEUDONYM_KEY") else
                  "owner-only key file in the home" if key_file and Path(key_file).is_file()
                  and not Path(key_file).stat().st_mode & 0o077 else "none")
    champions = []
    if view.mlflow_client is not None and view.distribution is not None:
        ledger = promotion_ledger(view.models_dir)
        for plan in view.distribution.models.values():
            champion = alias_version(view.mlflow_client, plan.registered_name, CHAMPION)
            if champion is not None:
                entry = promotion_entry(ledger, plan.registered_name, champion.version)
                by, run = split_actor((entry or {}).get("by") or "unrecorded")
                champions.append({"registered_name": plan.registered_name, "version": str(champion.version),
                                  "recorded": entry is not None, "by": by, "by_run": run})
    return {
        "profile": access.get("profile", "local"),
        "zones": zones,
        "query_sandbox": "one SELECT per call, catalog read-only, file access limited to the datasets zone, "
                         "configuration locked",
        "catalog_classifications": view.policy.catalog_classifications(),
        "pseudonym_key": key_source,
        "mlflow_auth": bool(access.get("mlflow_auth")),
        "landing_links_refused": True,
        "champions": champions,
    }


def erasure_section(lake: Lake) -> dict:
    """Erasure requests and retention sweeps from the erasure ledger: ids, when, by whom, state and counts; no
    hash, no value."""
    from ..erasure.ledger import read_ledger

    requests, sweeps = [], []
    for entry in sorted(read_ledger(lake), key=lambda e: e.get("requested_at", "")):
        zones = entry.get("zones", {})
        by, run = split_actor(entry.get("by", ""))
        common = {"request_id": entry["request_id"], "requested_at": entry.get("requested_at", ""),
                  "by": by, "by_run": run, "status": entry.get("status", ""),
                  "rows_removed": sum(z.get("rows_removed", 0) for z in zones.values()),
                  "rows_by_zone": {zone: z.get("rows_removed", 0) for zone, z in sorted(zones.items())},
                  "datasets_deleted": len(entry.get("datasets_deleted", [])),
                  "models_retired": len(entry.get("models_retired", []))}
        if entry.get("kind") == "retention":
            sweeps.append({**common, "files_expired": len(entry.get("expired_files", [])),
                           "landing_copies_past_retention": int(entry.get("landing_copies_past_retention", 0))})
        else:
            requests.append({**common, "landing_files_edited": len(entry.get("landing", [])),
                             "completed_at": entry.get("completed_at"),
                             "champions_after": entry.get("champions_after"),
                             "residual_places": len(entry.get("residual", []))})
    everything = requests + sweeps
    return {"requests": requests, "retention_sweeps": sweeps,
            "rows_removed": sum(r["rows_removed"] for r in everything),
            "datasets_deleted": sum(r["datasets_deleted"] for r in everything),
            "models_retired": sum(r["models_retired"] for r in everything),
            "files_expired": sum(s["files_expired"] for s in sweeps)}


def collect_facts(view: PlantView, run: dict | None = None) -> dict:
    """Everything the report shows, as plain JSON-ready data (``governance/report/schema.json``)."""
    datasets = datasets_section(view.lake)
    return {
        "report": {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                   "code_version": code_version(), "run": run or {}, "lake": view.lake.uri("", "").rstrip("/"),
                   "sources_config": view.catalog.path},
        "sources": sources_section(view),
        "pii": pii_section(view.lake),
        "funnel": funnel_section(view.lake, view.catalog, datasets),
        "datasets": datasets,
        "canaries": canaries_section(view.models_dir),
        "erasure": erasure_section(view.lake),
        "models": models_section(view),
        "policy": {"classifications": list(view.policy.classifications),
                   "training_rules": {k: list(v) for k, v in view.policy.training.items()},
                   "target_rules": {k: list(v) for k, v in view.policy.targets.items()},
                   "training": [d.as_dict() for d in training_decisions(view.lake, view.policy)]},
        "bundles": bundles_section(view.bundles_dir),
        "controls": controls_section(view),
    }
