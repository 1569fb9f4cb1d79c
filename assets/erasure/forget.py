"""``waterworks forget``: a data subject erased from every place the plant keeps data (GDPR Art. 17, PIPL Art. 47).

1. **Who**: the requested value's keyed hash is looked up in the subject index (``purified/subject_index``);
   the rows it names give the person's other identifiers and names (hashes), and their written forms are read
   back from those rows, in memory only, for this request.
2. **Where**: every row of every zone is checked — by the index's row ids and by a scan for the forms, so a
   row the index never saw is not missed. Rows holding an identifier are removed (raw, quarantine and its file
   copies, purified, excluded, sanitized, the PII ledger's document rows, the subject index), rows that only
   mention a name lose the name; the analysis memo forgets the removed texts. Landing files are edited in their
   own format (``landing.py``) and the person's hashes become tombstones, so a re-delivery drops them at ingest.
3. **Downstream**: every dataset version that held one of the rows is deleted (the next run builds new ones),
   every model trained on one (or on a base model that was) is retired — folder deleted, registry aliases
   removed, version tagged ``waterworks.retired``, bundles deleted — and the DuckDB catalog is removed until the
   next run rebuilds it from the cleaned zones. The quality gate then has no champion to keep: a retrained model
   is promoted only if it passes the gates, else the alias stays empty and the report says so.
4. **Proof**: a scan of the plant's home (and the lake) for every form; the ledger records counts per zone,
   dataset and model, and where a form was still found (paths only) — never the value.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from waterworks.governance.subjects import canonical, subject_hash, values_in

from ..lake import Lake
from ..purification.shards import CACHE as PURIFICATION_CACHE
from . import ledger
from .landing import encoded_forms, erase_in_landing_file, holds_value, value_pattern
from .zones import Patterns, ZoneCounts, drop_memo_entries, erase_file_copies, erase_in_zone

INDEX_PREFIX, MEMO_PREFIX = "subject_index/", "analysis_memo/"
PENDING = "erasure/pending/"  # in the purified zone: the forms of requests awaiting their proof after the rebuild
SKIPPED_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx", ".pkl", ".so", ".whl")  # weights, not text


@dataclass(frozen=True)
class PlantPlaces:
    """Where the plant keeps data (from the settings)."""

    lake: Lake
    home: Path
    landing_dir: Path
    models_dir: Path
    bundles_dir: Path
    catalog_file: Path
    tracking_uri: str | None = None


@dataclass
class Subject:
    hashes: set[str]         # keyed hashes of their identifiers and names
    strong: set[str]         # the identifiers among them
    row_ids: set[str]        # record and document ids the index gives
    identifier_forms: set[str]
    name_forms: set[str]

    def patterns(self) -> Patterns:
        return Patterns(value_pattern(self.identifier_forms), value_pattern(self.name_forms),
                        frozenset(self.row_ids))

    @property
    def forms(self) -> set[str]:
        return self.identifier_forms | self.name_forms


def read_index(lake: Lake) -> pl.DataFrame:
    """Every table's subject index (tables of parts under ``subject_index/``)."""
    frames = [pl.from_arrow(lake.read_table("purified", f"{INDEX_PREFIX}{table}")) for table in ("records", "documents")
              if lake.table_exists("purified", f"{INDEX_PREFIX}{table}")]
    frames = [f for f in frames if f.height]
    return pl.concat(frames) if frames else pl.DataFrame(schema={"subject_hash": pl.String, "strong": pl.Boolean,
                                                                  "table": pl.String, "row_id": pl.String})


def _row_texts(lake: Lake, row_ids: set[str]) -> list[str]:
    texts = []
    for table, id_column in (("records", "record_id"), ("documents", "doc_id")):
        if not row_ids or not lake.table_exists("purified", table):
            continue
        frame = pl.from_arrow(lake.read_table("purified", table))
        rows = frame.filter(pl.col(id_column).is_in(pl.Series(sorted(row_ids)).implode()))
        for column, dtype in rows.schema.items():
            if dtype == pl.String and column not in (id_column, "landing_path", "file_sha256", "source_id"):
                texts.extend(v for v in rows.get_column(column).to_list() if v)
    return texts


MAX_SHARED_ROWS = 20  # a value in more rows than this (a hotline, a support address) is not one person's


def resolve_subject(lake: Lake, secret: bytes, value: str) -> Subject:
    """The person behind ``value``. Their other identifiers and names come from the *records* (structured rows,
    one person each: a CRM or HR row) that hold the value; a document may name several people, so it is
    erased when it holds one of their identifiers but lends none of its own. A linked value found in more than
    ``MAX_SHARED_ROWS`` rows is shared (a hotline), not personal, and is left out. Their written forms are read
    back from those rows. The value itself always counts, indexed or not."""
    index = read_index(lake)
    requested = subject_hash(secret, value)
    first = set(index.filter(pl.col("subject_hash") == requested).get_column("row_id").to_list())
    spread = index.group_by("subject_hash").agg(pl.col("row_id").n_unique().alias("rows"))
    shared = set(spread.filter(pl.col("rows") > MAX_SHARED_ROWS).get_column("subject_hash").to_list())
    linked = index.filter(pl.col("row_id").is_in(pl.Series(sorted(first), dtype=pl.String).implode())
                          & (pl.col("table") == "records") & ~pl.col("subject_hash").is_in(
                              pl.Series(sorted(shared), dtype=pl.String).implode()))
    hashes = set(linked.get_column("subject_hash").to_list()) | {requested}
    strong = set(linked.filter(pl.col("strong")).get_column("subject_hash").to_list())
    requested_is_name = not any(c.isdigit() for c in canonical(value)) and "@" not in value
    if not requested_is_name:
        strong.add(requested)
    rows = set(index.filter(pl.col("subject_hash").is_in(pl.Series(sorted(strong), dtype=pl.String).implode()))
               .get_column("row_id").to_list()) | first
    forms = values_in(secret, _row_texts(lake, set(linked.get_column("row_id").to_list()) | first), hashes)
    identifier_forms = {f for h, fs in forms.items() if h in strong for f in fs}
    name_forms = {f for h, fs in forms.items() if h not in strong for f in fs}
    (name_forms if requested_is_name else identifier_forms).add(value.strip())
    return Subject(hashes, strong, rows, identifier_forms, name_forms)


# -- downstream ---------------------------------------------------------------------------------------------------

def delete_dataset_versions(lake: Lake, patterns: Patterns, removed_ids: set[str]) -> list[str]:
    """Every dataset version holding a removed row (by document id) or a form: deleted, with ``current.json``
    when it named one of them. Returns ``name/version`` of each."""
    deleted = []
    names = sorted({p.split("/", 1)[0] for p in lake.list_files("datasets")})
    for name in names:
        versions = sorted({p.split("/")[1] for p in lake.list_files("datasets", f"{name}/") if p.count("/") >= 2})
        for version in versions:
            if _version_holds(lake, name, version, patterns, removed_ids):
                lake.delete_folder("datasets", f"{name}/{version}")
                deleted.append(f"{name}/{version}")
        if lake.exists("datasets", f"{name}/current.json"):
            current = json.loads(lake.read_bytes("datasets", f"{name}/current.json"))["version"]
            if f"{name}/{current}" in deleted:
                lake.delete("datasets", f"{name}/current.json")
    return deleted


def _version_holds(lake: Lake, name: str, version: str, patterns: Patterns, removed_ids: set[str]) -> bool:
    for relpath in lake.list_parquet("datasets", f"{name}/{version}/"):
        frame = pl.from_arrow(lake.read_parquet("datasets", relpath))
        if "doc_id" in frame.columns and frame.filter(
                pl.col("doc_id").is_in(pl.Series(sorted(removed_ids), dtype=pl.String).implode())).height:
            return True
        for column, dtype in frame.schema.items():
            if dtype == pl.String and any(patterns.mentions(v) for v in frame.get_column(column).to_list()):
                return True
    return False


def retire_models(places: PlantPlaces, deleted_versions: list[str], request_id: str) -> list[dict]:
    """Model folders trained on a deleted dataset version, or on a retired base model, are deleted; their
    registered versions lose their aliases and are tagged retired; their bundles are deleted."""
    deleted = set(deleted_versions)
    retired: dict[str, dict] = {}
    changed = True
    while changed:  # a chat model retires with the pre-trained model it was fine-tuned from
        changed = False
        for lineage_file in sorted(Path(places.models_dir).glob("*/*/lineage.json")):
            folder = lineage_file.parent
            if str(folder) in retired:
                continue
            lineage = json.loads(lineage_file.read_text(encoding="utf-8"))
            used = {f"{d.get('name')}/{d.get('version')}" for d in lineage.get("datasets", [])}
            base = (lineage.get("base_model") or {}).get("path")
            if used & deleted or (base and str(Path(base)) in retired):
                retired[str(folder)] = {"model": folder.parent.name, "key": folder.name,
                                        "datasets": sorted(used & deleted)}
                changed = True
    for path in retired:
        folder = Path(path)
        pointer = folder.parent / "current.json"
        if pointer.is_file() and json.loads(pointer.read_text(encoding="utf-8")).get("key") == folder.name:
            pointer.unlink()
        shutil.rmtree(folder, ignore_errors=True)
    versions = _retire_registered(places, {e["key"] for e in retired.values()}, request_id)
    for entry in retired.values():
        entry["registered"] = [v for v in versions if v["key"] == entry["key"]]
    return sorted(retired.values(), key=lambda e: (e["model"], e["key"]))


def _retire_registered(places: PlantPlaces, keys: set[str], request_id: str) -> list[dict]:
    if not keys or not places.tracking_uri:
        return []
    from ..distribution.registry import RETIRED_TAG
    from ..tracking import KEY_TAG, mlflow_client

    client = mlflow_client(places.tracking_uri)
    out = []
    for model in client.search_registered_models():
        by_version: dict[str, list[str]] = {}
        for alias, number in (client.get_registered_model(model.name).aliases or {}).items():
            by_version.setdefault(str(number), []).append(alias)  # a version search does not return aliases
        for version in client.search_model_versions(f"name = '{model.name}'"):
            if version.tags.get(KEY_TAG) not in keys:
                continue
            aliases = sorted(by_version.get(str(version.version), []))
            for alias in aliases:
                client.delete_registered_model_alias(model.name, alias)
            client.set_model_version_tag(model.name, version.version, RETIRED_TAG, request_id)
            bundles = _delete_bundles(places.bundles_dir, model.name, str(version.version))
            out.append({"key": version.tags.get(KEY_TAG), "registered_name": model.name,
                        "version": str(version.version), "aliases_removed": aliases, "bundles_deleted": bundles})
    return out


def _delete_bundles(bundles_dir: Path, name: str, version: str) -> int:
    removed = 0
    for folder in Path(bundles_dir).glob(f"*/{name}/v{version}"):
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


# -- landing ------------------------------------------------------------------------------------------------------

def erase_in_landing(places: PlantPlaces, subject: Subject, landing_paths: set[str]) -> list[dict]:
    """The landing files that held a removed row, and any other whose bytes hold a form: edited in place."""
    strong = value_pattern(subject.identifier_forms)
    names = value_pattern(subject.name_forms)
    encoded = encoded_forms(subject.forms)
    everything = value_pattern(subject.forms)
    out = []
    landing = Path(places.landing_dir)
    files = sorted(p for p in landing.rglob("*") if p.is_file() and not p.is_symlink() and not p.name.startswith("."))
    for path in files:
        relpath = path.relative_to(landing).as_posix()
        if relpath == "manifest.jsonl":
            continue  # the demo estate's ground truth, not a delivery
        if relpath not in landing_paths and not (everything and holds_value(path, everything, encoded)):
            continue
        results = []
        for pattern, marker in ((strong, None), (names, "name")):
            if pattern is not None and path.exists():
                results.append(erase_in_landing_file(landing, relpath, pattern, name_only=marker == "name"))
        changed = [r for r in results if r.action != "unchanged"]
        if changed:
            out.append({"file": relpath, "action": changed[0].action, "replacements": sum(r.replacements for r in changed)})
    return out


# -- proof --------------------------------------------------------------------------------------------------------

def find_forms(places: PlantPlaces, subject: Subject) -> list[str]:
    """Every place under the home (and in the lake) still holding a form: Parquet read column by column, other
    files as bytes in the usual encodings and as decoded text. Model weights are not text and are skipped."""
    import pyarrow.parquet as pq

    pattern = value_pattern(subject.forms)
    if pattern is None:
        return []
    encoded = encoded_forms(subject.forms)
    patterns = Patterns(pattern, None)
    found = []

    def parquet_holds(table) -> bool:
        from .zones import _text

        for column in table.column_names:
            values = table.column(column)
            if str(values.type) in ("string", "large_string", "binary", "large_binary") and any(
                    patterns.mentions(_text(v)) for v in values.to_pylist() if v):
                return True
        return False

    lake = places.lake
    for zone in ("raw", "quarantine", "purified", "sanitized", "datasets"):
        for relpath in lake.list_files(zone):
            if zone == "purified" and relpath.startswith(PENDING):
                continue
            if relpath.endswith(".parquet"):
                hit = parquet_holds(lake.read_parquet(zone, relpath))
            else:
                data = lake.read_bytes(zone, relpath)
                hit = any(f in data for f in encoded) or patterns.mentions(data.decode("utf-8", "replace"))
            if hit:
                found.append(f"lake/{zone}/{relpath}")
    lake_root = Path(lake.base) if lake.local else None
    for path in sorted(Path(places.home).rglob("*")):
        if not path.is_file() or path.is_symlink() or path.suffix in SKIPPED_SUFFIXES:
            continue
        if lake_root is not None and lake_root in path.parents:
            continue  # read through the lake above
        if path.suffix == ".parquet":
            hit = parquet_holds(pq.read_table(path))
        else:
            hit = holds_value(path, pattern, encoded)
        if hit:
            found.append(path.relative_to(places.home).as_posix())
    return found


# -- the request ----

def erase_rows_everywhere(places: PlantPlaces, patterns: Patterns, counts: ZoneCounts, request_id: str,
                          encoded: list[bytes] = ()) -> tuple[list[str], list[dict]]:
    """The rows ``patterns`` selects out of every zone, then what was made from them: dataset versions
    deleted, models retired, the catalog removed. Returns (datasets deleted, models retired)."""
    lake = places.lake
    # purification's per-file cache holds rows as delivered: dropped whole (the next run rebuilds it)
    removed = lake.delete_folder("purified", PURIFICATION_CACHE)
    if removed:
        counts.files_removed.extend([f"purified/{PURIFICATION_CACHE}/"] * removed)
    erase_in_zone(lake, "purified", patterns, counts, skip=(INDEX_PREFIX, MEMO_PREFIX, "erasure/"), keep_texts=True)
    drop_memo_entries(lake, "purified", MEMO_PREFIX, counts.removed_texts, counts)
    counts.removed_texts.clear()
    by_id = Patterns(None, None, frozenset(patterns.row_ids | counts.removed_ids))
    erase_in_zone(lake, "purified", by_id, counts, skip=("records", "documents", "excluded", MEMO_PREFIX, "erasure/"))
    for zone in ("raw", "quarantine", "sanitized"):
        erase_in_zone(lake, zone, Patterns(patterns.strong, patterns.name, by_id.row_ids), counts)
    if encoded:
        erase_file_copies(lake, "quarantine", "files/", patterns, list(encoded), counts)
    datasets = delete_dataset_versions(lake, patterns, set(by_id.row_ids | counts.removed_ids))
    models = retire_models(places, datasets, request_id)
    if Path(places.catalog_file).exists():
        os.unlink(places.catalog_file)
    return datasets, models


def forget(places: PlantPlaces, secret: bytes, value: str, actor: str, request_id: str | None = None) -> dict:
    """Erase one person (see the module docstring); returns the ledger entry (appended). Their identifiers'
    hashes become tombstones (a name alone does not: another person may share it). The rebuild and retrain are
    the next plant run's, whose ``erasure_requests`` asset completes the request (``complete_pending``)."""
    started = datetime.now(UTC)
    request_id = request_id or ledger.new_request_id("forget")
    lake = places.lake
    subject = resolve_subject(lake, secret, value)
    patterns = subject.patterns()
    counts = ZoneCounts()
    landing_paths = _landing_paths(lake, subject.row_ids, patterns)
    datasets, models = erase_rows_everywhere(places, patterns, counts, request_id, encoded_forms(subject.forms))
    landing = erase_in_landing(places, subject, landing_paths)
    residual = find_forms(places, subject)
    entry = {
        "request_id": request_id, "kind": "forget", "requested_at": started.isoformat(timespec="seconds"),
        "by": actor, "subject_hash": subject_hash(secret, value), "tombstones": sorted(subject.strong),
        "identifiers": len(subject.strong), "names": len(subject.hashes - subject.strong),
        "zones": counts.by_zone(), "landing": landing, "datasets_deleted": datasets,
        "models_retired": models, "catalog": "removed; rebuilt by the next plant run",
        "residual": residual, "erased_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": ledger.INCOMPLETE if residual else ledger.REBUILD_PENDING,
    }
    ledger.append(lake, entry)
    save_pending(lake, request_id, subject)
    return entry


def _landing_paths(lake: Lake, row_ids: set[str], patterns: Patterns) -> set[str]:
    """The landing files of the person's rows (from the purified tables, before they are cleaned)."""
    paths = set()
    for table, id_column in (("records", "record_id"), ("documents", "doc_id")):
        if not lake.table_exists("purified", table):
            continue
        frame = pl.from_arrow(lake.read_table("purified", table))
        strings = [c for c, t in frame.schema.items() if t == pl.String]
        for row in frame.select(strings).iter_rows(named=True):
            if row[id_column] in row_ids or patterns.row_is_theirs(list(row.values())):
                paths.add(row["landing_path"])
    return paths


def save_pending(lake: Lake, request_id: str, subject: Subject) -> None:
    """The forms an erasure must prove gone after the retrain, kept in the private zone until the plant run
    that follows completes the request (``complete_pending``), then deleted. The proof scan skips this folder."""
    body = {"identifier_forms": sorted(subject.identifier_forms), "name_forms": sorted(subject.name_forms)}
    lake.write_bytes("purified", f"{PENDING}{request_id}.json", json.dumps(body, ensure_ascii=False).encode())


def complete_pending(places: PlantPlaces, champions: dict[str, str | None]) -> list[dict]:
    """After a plant run: each pending erasure's proof scan again (the retrained models, the rebuilt datasets and
    catalog), each registered model's champion now (None: the alias stays empty — the retrained model did not
    pass its gates or was not trained), then the pending forms deleted. Returns the ledger updates."""
    updates = []
    for relpath in places.lake.list_files("purified", PENDING):
        request_id = Path(relpath).stem
        body = json.loads(places.lake.read_bytes("purified", relpath))
        subject = Subject(set(), set(), set(), set(body["identifier_forms"]), set(body["name_forms"]))
        residual = find_forms(places, subject)
        retired = {v["registered_name"] for e in _entry(places.lake, request_id).get("models_retired", [])
                   for v in e.get("registered", [])}
        updates.append(ledger.append(places.lake, {
            "request_id": request_id, "completed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "champions_after": {name: champions.get(name) for name in sorted(retired)}, "residual": residual,
            "status": ledger.INCOMPLETE if residual else ledger.COMPLETED}))
        if not residual:
            places.lake.delete("purified", relpath)
    return updates


def _entry(lake: Lake, request_id: str) -> dict:
    return next((e for e in ledger.read_ledger(lake) if e["request_id"] == request_id), {})

