"""Incremental near-duplicate search: the LSH band index kept between runs (as datatrove keeps its index), so
a run matches the documents of new or changed landing files against the index instead of re-bucketing every
document of the corpus.

What is kept (``purified/_shards/_band_index/documents/``, beside the per-file cache, so that erasure and
retention, which drop the cache, drop it too):

* ``files``: the landing files the index was built from, each as its cache digest and its stamp (the raw
  file's content, the config and the code: ``shards._PurifyShard.stamp``), numbered by row;
* ``bands``: one row per indexed document and band — ``(file, position, band, bucket)``, ``file`` the
  number of its file and the document the ``position``-th row its file left for dedup — for every document
  that was eligible for near-dedup (not an exact copy, long enough);
* ``edges``: the chain pairs of every bucket that passed the Jaccard confirmation, each with its (band,
  bucket), their ends as (file, position).

A run of the global dedup then (``near_pairs``):

1. maps the index onto this run's documents: a file indexed with the same stamp keeps its rows; a file gone
   or changed loses them (its buckets are *touched*), and so does a document no longer eligible (its exact
   copy now comes first);
2. bands the eligible documents not in the index — the new files' documents (their band keys come from the
   shards), and old documents that became eligible (from their file's cache): their buckets are touched too;
3. redoes the chains of the touched buckets only (their members: the index's rows there plus the new rows),
   has the new candidate pairs confirmed on their signatures (``confirm``: on the engine's workers, which read
   the signatures from the files' caches), and carries the edges of every other bucket over, because a
   bucket's chain and its confirmations depend on nothing but its members and their signatures.

The edges are therefore exactly those of a run without the index — the same clusters, the same tables (tested:
incremental runs against fresh ones, with files added, removed and changed). A config or code change (the
stamps change) rebuilds the index from scratch. No signature reaches the driver: the shards send band keys
(112 bytes per document at 14 bands, a quarter of a signature) for files not indexed, nothing for the others.
The index itself is read whole on the driver (18 bytes per document and band); being per bucket, it could be
split by bucket range into independent indexes run on workers — not needed at the sizes measured here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..lake import Lake
from .dedup import BandEdges, BandRows, PairFinder

INDEX = "_shards/_band_index"
PARTS = ("files", "bands", "edges")


@dataclass
class FileSpan:
    """One landing file's documents in this run's global order: rows ``start … start + rows - 1``."""

    file: str   # the file's cache digest
    stamp: str  # what its purification was made from
    start: int
    rows: int


@dataclass
class Spans:
    spans: list[FileSpan]

    @property
    def frame(self) -> pl.DataFrame:
        return pl.DataFrame({"file": [s.file for s in self.spans], "stamp": [s.stamp for s in self.spans],
                             "start": [s.start for s in self.spans], "rows": [s.rows for s in self.spans]},
                            schema={"file": pl.String, "stamp": pl.String, "start": pl.Int64, "rows": pl.Int64})

    def locate(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(file ordinal, position in its file) of global documents ``docs``."""
        starts = np.array([s.start for s in self.spans], dtype=np.int64)
        ordinal = np.searchsorted(starts, docs, side="right") - 1
        return ordinal, docs - starts[ordinal]


BandKeysOf = Callable[[np.ndarray], np.ndarray]  # global documents → their (documents × bands) band keys
Confirm = Callable[[BandEdges], np.ndarray]      # candidate pairs → which pass the Jaccard threshold


@dataclass
class IndexStats:
    """What one run of the band index did (counts only; for the report and the asset's metadata)."""

    files_indexed: int = 0      # files found in the index with the same stamp
    documents_banded: int = 0   # eligible documents bucketed this run (not in the index)
    buckets_touched: int = 0    # (band, bucket) whose chain was redone
    candidate_pairs: int = 0    # chain pairs of the touched buckets, sent for confirmation
    edges_carried: int = 0      # confirmed pairs kept from the index
    edges_confirmed: int = 0    # pairs confirmed this run
    signatures_read: int = 0    # on the driver: signatures read back to band old documents that became eligible


@dataclass
class IndexState:
    files: pl.DataFrame  # file (digest), stamp; a file's number is its row
    bands: pl.DataFrame  # file (number), position, band, bucket
    edges: pl.DataFrame  # band, bucket, u_file, u_position, v_file, v_position


class BandIndex:
    """The band index of one table in the lake: ``load`` the last run's, ``save`` this run's (three files
    under one generation; a load that finds them from different runs — a run killed between the writes —
    finds no index, and the run rebuilds it)."""

    def __init__(self, lake: Lake, table: str, zone: str = "purified") -> None:
        self.lake, self.zone, self.base = lake, zone, f"{INDEX}/{table}"

    def _path(self, part: str) -> str:
        return f"{self.base}/{part}.parquet"

    def stamps(self) -> dict[str, str]:
        """Indexed file → its stamp (empty without an index)."""
        state = self.load()
        return dict(state.files.iter_rows()) if state else {}

    def load(self) -> IndexState | None:
        metas = [self.lake.parquet_metadata(self.zone, self._path(part)) for part in PARTS]
        if not all(metas) or len({m.get("generation") for m in metas}) != 1:
            return None
        files, bands, edges = (pl.from_arrow(self.lake.read_parquet(self.zone, self._path(p))) for p in PARTS)
        return IndexState(files, bands, edges)

    def save(self, state: IndexState) -> None:
        generation = Lake.new_generation()
        for part in PARTS:
            self.lake.write_parquet(self.zone, self._path(part), getattr(state, part).to_arrow(),
                                    {"generation": generation})

    def clear(self) -> None:
        self.lake.delete_folder(self.zone, self.base)


def _bucket_frame(band: np.ndarray, bucket: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"band": pl.Series(band, dtype=pl.Int16), "bucket": pl.Series(bucket, dtype=pl.UInt64)})


def _in_buckets(band: np.ndarray, bucket: np.ndarray, touched: pl.DataFrame) -> np.ndarray:
    """Mask of the rows whose (band, bucket) is in ``touched``."""
    mask = np.zeros(len(band), bool)
    if len(band) and touched.height:
        hits = (_bucket_frame(band, bucket).with_row_index("i").join(touched, on=["band", "bucket"], how="semi")
                .get_column("i").to_numpy())
        mask[hits] = True
    return mask


def _to_docs(frame: pl.DataFrame, starts: np.ndarray, file: str, position: str) -> np.ndarray:
    """Global document numbers of rows (``file`` number in the index, ``position``) of ``frame``; ``starts``:
    per indexed file, where its documents start in this run (all of ``frame``'s files are still here)."""
    return starts[frame.get_column(file).to_numpy()] + frame.get_column(position).to_numpy()


def near_pairs(index: BandIndex, spans: Spans, eligible: np.ndarray, band_keys_of: BandKeysOf, confirm: Confirm,
               bands: int, candidates: PairFinder, stats: IndexStats | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The confirmed near-duplicate pairs (u < v, global documents) among the ``eligible`` documents, the
    band index updated; see the module's docstring."""
    n = len(eligible)
    frame = spans.frame
    previous = index.load()
    removed = _bucket_frame(np.zeros(0), np.zeros(0))
    kept_old, carried = BandRows.empty(), BandEdges.empty()
    files_indexed = 0
    if previous is not None:
        numbered = previous.files.with_row_index("number")
        known = numbered.join(frame, on=["file", "stamp"], how="inner")  # indexed, same stamp, still here
        files_indexed = known.height
        starts = np.full(numbered.height, -1, dtype=np.int64)
        starts[known.get_column("number").to_numpy()] = known.get_column("start").to_numpy()
        is_known = pl.col("file").is_in(known.get_column("number").cast(pl.Int32))
        old = previous.bands.filter(is_known)
        gone = previous.bands.filter(~is_known)
        rows = BandRows(old.get_column("band").to_numpy().astype(np.int16),
                        old.get_column("bucket").to_numpy().astype(np.uint64),
                        _to_docs(old, starts, "file", "position").astype(np.int64))
        still = eligible[rows.doc] if len(rows) else np.zeros(0, bool)
        removed = _bucket_frame(np.concatenate([gone.get_column("band").to_numpy(), rows.band[~still]]),
                                np.concatenate([gone.get_column("bucket").to_numpy(), rows.bucket[~still]]))
        kept_old = rows.take(still)
    indexed = np.zeros(n, bool)
    indexed[kept_old.doc] = True
    need = np.flatnonzero(eligible & ~indexed)
    new = BandRows.from_keys(band_keys_of(need), need) if len(need) else BandRows.empty()
    touched = pl.concat([removed, _bucket_frame(new.band, new.bucket)]).unique()
    if previous is not None and previous.edges.height:
        edges = previous.edges.join(touched, on=["band", "bucket"], how="anti")  # every end is still here
        carried = BandEdges(edges.get_column("band").to_numpy().astype(np.int16),
                            edges.get_column("bucket").to_numpy().astype(np.uint64),
                            _to_docs(edges, starts, "u_file", "u_position").astype(np.int64),
                            _to_docs(edges, starts, "v_file", "v_position").astype(np.int64))

    members = BandRows.concat([kept_old.take(_in_buckets(kept_old.band, kept_old.bucket, touched)), new])
    found = candidates(members) if len(members) > 1 else BandEdges.empty()
    candidates_found = len(found)
    if len(found):
        found = found.take(confirm(found))
    edges = BandEdges.concat([carried, found])
    if stats is not None:
        stats.files_indexed, stats.documents_banded, stats.buckets_touched = files_indexed, len(need), touched.height
        stats.candidate_pairs, stats.edges_carried, stats.edges_confirmed = candidates_found, len(carried), len(found)
    index.save(_state(spans, frame, BandRows.concat([kept_old, new]), edges))
    if len(edges) == 0:
        return edges.u, edges.v
    pairs = np.unique(np.stack([edges.u, edges.v], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def _state(spans: Spans, frame: pl.DataFrame, rows: BandRows, edges: BandEdges) -> IndexState:
    def where(docs: np.ndarray) -> tuple[pl.Series, pl.Series]:
        ordinal, position = spans.locate(docs) if len(docs) else (np.zeros(0, np.int64), np.zeros(0, np.int64))
        return pl.Series(ordinal, dtype=pl.Int32), pl.Series(position, dtype=pl.Int32)

    band_file, band_position = where(rows.doc)
    u_file, u_position = where(edges.u)
    v_file, v_position = where(edges.v)
    return IndexState(
        frame.select("file", "stamp"),
        pl.DataFrame({"file": band_file, "position": band_position, "band": pl.Series(rows.band, dtype=pl.Int16),
                      "bucket": pl.Series(rows.bucket, dtype=pl.UInt64)}),
        pl.DataFrame({"band": pl.Series(edges.band, dtype=pl.Int16), "bucket": pl.Series(edges.bucket, dtype=pl.UInt64),
                      "u_file": u_file, "u_position": u_position, "v_file": v_file, "v_position": v_position}))
