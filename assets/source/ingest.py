"""Ingest one landing file into one source's raw table, with provenance, quarantine and accounting.

``ingest_file`` is the plain function behind each raw asset partition: read with the source's reader, add
provenance columns, write ``raw/<source>/<file>.parquet`` and ``quarantine/<source>/<file>.parquet``
atomically, and account for every unit read: ``units_in == records_out + quarantined``. Reasons name the
place and the problem, never the content.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from ..erasure.tombstones import Tombstones
from ..lake import Lake
from .catalog import SourceSpec
from .landing import LandingFile
from .readers import FileUnreadable, Quarantined, read_file

PROVENANCE_COLUMNS = ("_source_id", "_file_uri", "_file_sha256", "_record_index", "_content_hash",
                      "_ingested_at", "_classification", "_encoding")
READER_VERSION = "1"


@dataclass
class IngestReport:
    source_id: str
    relpath: str
    file_uri: str
    file_sha256: str
    size_bytes: int
    encoding: str | None
    units_in: int
    records_out: int
    quarantined: int
    file_quarantined: bool
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    raw_uri: str | None = None
    quarantine_uri: str | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)
    erased: int = 0  # records dropped because they name an erased subject (assets/erasure)

    @property
    def balanced(self) -> bool:
        return self.units_in == self.records_out + self.quarantined + self.erased

    def to_dict(self) -> dict:
        return asdict(self)


def raw_relpath(spec: SourceSpec, relpath: str) -> str:
    return f"{spec.id}/{relpath}.parquet"


def freshness_stamp(spec: SourceSpec, landing_file: LandingFile) -> dict[str, str]:
    return {"file_sha256": landing_file.sha256, "source_version": spec.version, "reader_version": READER_VERSION}


def is_fresh(lake: Lake, spec: SourceSpec, landing_file: LandingFile) -> bool:
    """True when the raw (or quarantine) output of this file was made from these exact bytes and settings."""
    stamp = freshness_stamp(spec, landing_file)
    relpath = raw_relpath(spec, landing_file.relpath)
    for zone in ("raw", "quarantine"):
        meta = lake.parquet_metadata(zone, relpath)
        if meta and all(meta.get(k) == v for k, v in stamp.items()):
            return True
    return False


def reason_kind(reason: str) -> str:
    """The reason without its numbers, so reasons can be counted by kind."""
    return re.sub(r"\d+", "N", reason)


def record_hashes(table: pa.Table) -> pa.Array:
    """sha256 of each record's data values (provenance excluded): stable across runs and library versions."""
    names = [n for n in table.column_names if not n.startswith("_")]
    columns = [table.column(n).to_pylist() for n in names]
    hashes = []
    for values in zip(*columns, strict=True) if columns else ([] for _ in range(table.num_rows)):
        payload = json.dumps(dict(zip(names, values, strict=True)), ensure_ascii=False, sort_keys=True, default=str)
        hashes.append(hashlib.sha256(payload.encode("utf-8")).hexdigest())
    return pa.array(hashes, type=pa.string())


def _with_provenance(table: pa.Table, spec: SourceSpec, landing_file: LandingFile, encoding: str | None,
                     ingested_at: datetime) -> pa.Table:
    n = table.num_rows
    record_index = table.column("_record_index")
    table = table.drop_columns(["_record_index"])
    extra = {
        "_source_id": pa.array([spec.id] * n, type=pa.string()),
        "_file_uri": pa.array([landing_file.uri] * n, type=pa.string()),
        "_file_sha256": pa.array([landing_file.sha256] * n, type=pa.string()),
        "_record_index": record_index,
        "_content_hash": record_hashes(table),
        "_ingested_at": pa.array([ingested_at] * n, type=pa.timestamp("us", tz="UTC")),
        "_classification": pa.array([spec.classification.value] * n, type=pa.string()),
        "_encoding": pa.array([encoding] * n, type=pa.string()),
    }
    for name, column in extra.items():
        table = table.append_column(name, column)
    return table


def _quarantine_table(items: list[Quarantined], spec: SourceSpec, landing_file: LandingFile,
                      at: datetime) -> pa.Table:
    return pa.table({
        "source_id": pa.array([spec.id] * len(items), type=pa.string()),
        "file_uri": pa.array([landing_file.uri] * len(items), type=pa.string()),
        "file_sha256": pa.array([landing_file.sha256] * len(items), type=pa.string()),
        "position": pa.array([q.position for q in items], type=pa.string()),
        "record_index": pa.array([q.record_index for q in items], type=pa.int64()),
        "reason": pa.array([q.reason for q in items], type=pa.string()),
        "raw": pa.array([q.raw for q in items], type=pa.binary()),
        "quarantined_at": pa.array([at] * len(items), type=pa.timestamp("us", tz="UTC")),
    })


def ingest_file(lake: Lake, spec: SourceSpec, landing_file: LandingFile,
                tombstones: Tombstones | None = None) -> IngestReport:
    """Read one landing file for one source and write its raw and quarantine outputs. With ``tombstones``,
    records naming an erased subject are dropped and counted (``erased``), never written."""
    now = datetime.now(UTC)
    relpath = raw_relpath(spec, landing_file.relpath)
    stamp = freshness_stamp(spec, landing_file)
    report = IngestReport(spec.id, landing_file.relpath, landing_file.uri, landing_file.sha256, landing_file.size,
                          None, 0, 0, 0, False)
    try:
        try:
            result = read_file(landing_file.path, spec)
        except (FileUnreadable, MemoryError, RecursionError):
            raise
        except Exception as exc:  # a reader bug or an input no reader foresaw: quarantine, never crash the run
            raise FileUnreadable(f"unexpected reader error: {type(exc).__name__}") from exc
    except (FileUnreadable, MemoryError, RecursionError) as exc:
        # The whole file is one unit, quarantined; a copy of its bytes keeps it even if landing is cleaned up.
        copy_uri = lake.write_bytes("quarantine", f"files/{landing_file.sha256}/{landing_file.path.name}",
                                    landing_file.path.read_bytes())
        reason = str(exc) if isinstance(exc, FileUnreadable) else f"unreadable: {type(exc).__name__}"
        items = [Quarantined("file", None, reason, None)]
        report.quarantine_uri = lake.write_parquet(
            "quarantine", relpath, _quarantine_table(items, spec, landing_file, now), {**stamp, "copy": copy_uri})
        lake.delete("raw", relpath)  # the previous version of this file no longer describes the landing folder
        report.units_in, report.quarantined, report.file_quarantined = 1, 1, True
        report.quarantine_reasons = {reason_kind(reason): 1}
        return report

    report.encoding = str(result.encoding) if result.encoding else None
    records = result.table
    if tombstones is not None and tombstones.expired(landing_file.sha256):
        report.erased, records = records.num_rows, records.slice(0, 0)  # past retention: read, counted, not kept
    elif tombstones is not None and tombstones.active and records.num_rows:
        erased = tombstones.erased(records)
        report.erased = sum(erased)
        if report.erased:
            records = records.filter(pa.array([not e for e in erased]))
    table = _with_provenance(records, spec, landing_file, report.encoding, now)
    report.raw_uri = lake.write_parquet("raw", relpath, table, stamp)
    if result.quarantined:
        report.quarantine_uri = lake.write_parquet(
            "quarantine", relpath, _quarantine_table(result.quarantined, spec, landing_file, now), stamp)
    else:
        lake.delete("quarantine", relpath)
    report.units_in = result.units_in
    report.records_out = table.num_rows
    report.quarantined = len(result.quarantined)
    report.quarantine_reasons = dict(Counter(reason_kind(q.reason) for q in result.quarantined))
    report.columns = [(f.name, str(f.type)) for f in table.schema]
    return report


def quarantine_unrouted(lake: Lake, landing_file: LandingFile) -> str:
    """A landing file no source claims: copied to quarantine with its reason, so nothing is silently dropped."""
    now = datetime.now(UTC)
    copy_uri = lake.write_bytes("quarantine", f"files/{landing_file.sha256}/{landing_file.path.name}",
                                landing_file.path.read_bytes())
    table = pa.table({
        "file_uri": [landing_file.uri], "file_sha256": [landing_file.sha256], "relpath": [landing_file.relpath],
        "reason": ["no source in the sources config matches this path"], "copy_uri": [copy_uri],
        "quarantined_at": pa.array([now], type=pa.timestamp("us", tz="UTC")),
    })
    return lake.write_parquet("quarantine", f"_unrouted/{landing_file.relpath}.parquet", table,
                              {"file_sha256": landing_file.sha256})


def quarantine_refused(lake: Lake, relpath: str, reason: str) -> str:
    """A landing path refused unread (a link, not a regular file): recorded with its reason, no bytes copied."""
    table = pa.table({"relpath": [relpath], "reason": [reason],
                      "quarantined_at": pa.array([datetime.now(UTC)], type=pa.timestamp("us", tz="UTC"))})
    return lake.write_parquet("quarantine", f"_refused/{relpath}.parquet", table, {"reason": reason})


def verify_outputs(lake: Lake, spec: SourceSpec, report: IngestReport) -> dict[str, int | bool]:
    """Read back what was written and check the accounting: in = out + quarantined, on disk."""
    relpath = raw_relpath(spec, report.relpath)
    on_disk_out = lake.row_count("raw", relpath)
    on_disk_quarantined = lake.row_count("quarantine", relpath)
    return {
        "units_in": report.units_in,
        "records_on_disk": on_disk_out,
        "quarantined_on_disk": on_disk_quarantined,
        "erased": report.erased,
        "balanced": report.balanced and on_disk_out == report.records_out
        and on_disk_quarantined == report.quarantined
        and report.units_in == on_disk_out + on_disk_quarantined + report.erased,
    }
