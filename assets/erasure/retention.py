"""Retention enforced: a landing file's raw and quarantine outputs, and every row made from it, deleted once its
ingestion is older than its source's ``retention_days``; what was built from those rows goes as for an erasure
(dataset versions deleted, models retired). The file's sha256 is recorded so the same bytes are not ingested
again; the landing copy itself belongs to whoever delivers it and is reported, not deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from ..source.catalog import SourceCatalog
from . import ledger
from .forget import PlantPlaces, erase_rows_everywhere
from .zones import Patterns, ZoneCounts


def expired_outputs(places: PlantPlaces, catalog: SourceCatalog, now: datetime) -> list[dict]:
    """Raw and quarantine outputs whose ingestion is older than their source's retention."""
    lake = places.lake
    found = []
    for spec in catalog.sources:
        if not spec.retention_days:
            continue
        cutoff = now - timedelta(days=spec.retention_days)
        for zone, column in (("raw", "_ingested_at"), ("quarantine", "quarantined_at")):
            for relpath in lake.list_parquet(zone, f"{spec.id}/"):
                frame = pl.from_arrow(lake.read_parquet(zone, relpath, columns=[column]))
                meta = lake.parquet_metadata(zone, relpath) or {}
                at = frame.get_column(column).min() if frame.height else None
                if at is not None and at < cutoff:
                    found.append({"zone": zone, "relpath": relpath, "source": spec.id,
                                  "landing_path": relpath[len(spec.id) + 1: -len(".parquet")],
                                  "file_sha256": meta.get("file_sha256"), "ingested_at": at.isoformat()})
    return found


def _row_ids_of(places: PlantPlaces, files: set[tuple[str, str]]) -> set[str]:
    """Record and document ids of the purified rows made from these (landing path, sha256) files."""
    ids = set()
    for table, id_column in (("records", "record_id"), ("documents", "doc_id")):
        if places.lake.table_exists("purified", table):
            frame = pl.from_arrow(places.lake.read_table("purified", table,
                                                           columns=[id_column, "landing_path", "file_sha256"]))
            for row_id, path, sha in frame.iter_rows():
                if (path, sha) in files:
                    ids.add(row_id)
    return ids


def sweep(places: PlantPlaces, catalog: SourceCatalog, now: datetime, actor: str) -> dict:
    """One retention sweep as of ``now``; returns its ledger entry (appended even when nothing expired)."""
    lake = places.lake
    request_id = ledger.new_request_id("retention")
    expired = expired_outputs(places, catalog, now)
    files = {(e["landing_path"], e["file_sha256"]) for e in expired}
    counts = ZoneCounts()
    datasets, models = [], []
    if expired:
        row_ids = _row_ids_of(places, files)
        for item in expired:
            lake.delete(item["zone"], item["relpath"])
            counts.files_removed.append(f"{item['zone']}/{item['relpath']}")
        datasets, models = erase_rows_everywhere(places, Patterns(None, None, frozenset(row_ids)), counts,
                                                 request_id)
    landing_copies = sorted({path for path, _ in files if (places.landing_dir / path).is_file()})
    entry = {"request_id": request_id, "kind": "retention", "requested_at": now.isoformat(timespec="seconds"),
             "by": actor, "expired_files": sorted({sha for _, sha in files if sha}),
             "zones": counts.by_zone(), "datasets_deleted": datasets, "models_retired": models,
             "landing_copies_past_retention": len(landing_copies),
             "status": ledger.COMPLETED}
    return ledger.append(lake, entry)
