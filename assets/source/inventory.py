"""The landing inventory: every delivered file with its content hash and the sources it feeds.

It anchors lineage (model → datasets → raw → exact landing files and hashes) and quarantines files that no
source claims, so that nothing delivered is silently ignored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa

from ..lake import Lake
from .ingest import quarantine_refused, quarantine_unrouted
from .landing import LandingScan

INVENTORY_PATH = "_inventory/landing_files.parquet"


@dataclass
class InventorySummary:
    files: int
    bytes: int
    unrouted: int
    by_source: dict[str, int]
    uri: str
    refused: int = 0  # links and other paths that were never read


def write_inventory(lake: Lake, scan: LandingScan) -> InventorySummary:
    rows = [(f, ",".join(s.id for s in specs)) for f, specs in scan.routed] + [(f, "") for f in scan.unrouted]
    rows.sort(key=lambda r: r[0].relpath)
    refused = scan.refused
    table = pa.table({
        "relpath": [f.relpath for f, _ in rows] + [relpath for relpath, _ in refused],
        "file_uri": [f.uri for f, _ in rows] + [None] * len(refused),
        "size_bytes": pa.array([f.size for f, _ in rows] + [None] * len(refused), type=pa.int64()),
        "sha256": [f.sha256 for f, _ in rows] + [None] * len(refused),
        "sources": [s for _, s in rows] + [""] * len(refused),
        "refused": pa.array([None] * len(rows) + [reason for _, reason in refused], type=pa.string()),
    })
    uri = lake.write_parquet("raw", INVENTORY_PATH, table)
    for landing_file in scan.unrouted:
        quarantine_unrouted(lake, landing_file)
    for relpath, reason in refused:
        quarantine_refused(lake, relpath, reason)
    by_source = Counter(s.id for _, specs in scan.routed for s in specs)
    return InventorySummary(len(rows), sum(f.size for f, _ in rows), len(scan.unrouted), dict(sorted(by_source.items())),
                            uri, len(refused))
