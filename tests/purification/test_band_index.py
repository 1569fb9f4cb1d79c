"""Incremental near-dedup through the band index (band_index.py): on the demo estate's raw zone (the session
plant's), a purification that starts from a part of the document files and then sees files added, removed and
changed writes, at every step, exactly the tables of a fresh run (no index) over the same files — while it
buckets only the new files' documents and sends for confirmation only the candidate pairs of the buckets
those files touch."""

import shutil
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from waterworks.assets.engines import LocalEngine
from waterworks.assets.lake import Lake
from waterworks.assets.purification.band_index import BandIndex
from waterworks.assets.purification.config import load_purification_config
from waterworks.assets.purification.purify import purify_documents

TABLES = ("documents", "excluded/documents")


@pytest.fixture(scope="module")
def estate(plant):
    settings, first, _ = plant
    assert first.ok, first.errors or first.failed
    raw = Path(settings.lake_uri) / "raw"
    config = load_purification_config(None)
    files = sorted(str(p.relative_to(raw)) for source in config.documents for p in (raw / source).rglob("*.parquet"))
    return raw, config, files


def _lake(root: Path, raw: Path, files: list[str]) -> Lake:
    for rel in files:
        (root / "raw" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(raw / rel, root / "raw" / rel)
    return Lake(str(root))


def _tables(lake: Lake) -> list[pl.DataFrame]:
    return [pl.from_arrow(lake.read_table("purified", t)) for t in TABLES]


def _assert_as_fresh(lake: Lake, raw: Path, config, files: list[str], where: Path) -> dict:
    """The tables of ``lake`` are those of a fresh run over ``files``; returns that run's band index counts."""
    fresh = _lake(where, raw, files)
    report = purify_documents(fresh, config, LocalEngine(shards=2))
    assert report.band_index["files_indexed"] == 0
    for got, want, name in zip(_tables(lake), _tables(fresh), TABLES, strict=True):
        assert got.shape == want.shape, name
        assert got.equals(want), name
    return report.band_index


def test_incremental_runs_write_the_tables_of_fresh_runs(estate, tmp_path):
    raw, config, files = estate
    # Held back: every third file and every draft — drafts sort before the records they copy, so the new files'
    # documents become the kept ones of clusters whose other members were indexed already.
    held = [f for i, f in enumerate(files) if i % 3 == 1 or "/drafts/" in f]
    lake = _lake(tmp_path / "inc", raw, [f for f in files if f not in held])
    first = purify_documents(lake, config)
    assert first.band_index["files_indexed"] == 0

    _lake(tmp_path / "inc", raw, held)  # files added
    added = purify_documents(lake, config, LocalEngine(shards=3))
    fresh = _assert_as_fresh(lake, raw, config, files, tmp_path / "fresh-all")
    stats = added.band_index
    assert stats["files_indexed"] == len(files) - len(held)
    assert 0 < stats["documents_banded"] < fresh["documents_banded"]  # the new files' documents only
    assert 0 < stats["candidate_pairs"] <= fresh["candidate_pairs"]  # the touched buckets' chains only
    assert stats["edges_confirmed"] > 0
    excluded = _tables(lake)[1]
    assert excluded.filter(pl.col("drop_reason") == "near_duplicate").height > 0

    originals = [f for f in files if f.startswith("knowledge_base/") and "/drafts/" not in f and f not in held][:4]
    for rel in originals:  # files removed (their drafts stay)
        (tmp_path / "inc" / "raw" / rel).unlink()
    left = [f for f in files if f not in originals]
    removed = purify_documents(lake, config)
    _assert_as_fresh(lake, raw, config, left, tmp_path / "fresh-left")
    assert removed.band_index["buckets_touched"] > 0 and removed.band_index["edges_carried"] > 0

    changed = next(f for f in left if "/drafts/" in f)  # re-delivered: the same rows, another landing file hash
    path = tmp_path / "inc" / "raw" / changed
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    key = next(k for k in meta if k.endswith(b"file_sha256"))
    meta[key] = b"0" * 64
    pq.write_table(table.replace_schema_metadata(meta), path)
    again = purify_documents(lake, config)
    assert again.band_index["files_indexed"] == len(left) - 1 and again.band_index["documents_banded"] > 0
    _assert_as_fresh(lake, raw, config, left, tmp_path / "fresh-changed")

    idle = purify_documents(lake, config)
    assert idle.band_index["buckets_touched"] == 0 and idle.band_index["documents_banded"] == 0
    assert idle.band_index["edges_carried"] > 0


def test_an_index_from_a_killed_save_is_not_used(estate, tmp_path):
    raw, config, files = estate
    lake = _lake(tmp_path / "inc", raw, files)
    purify_documents(lake, config)
    index = BandIndex(lake, "documents")
    state = index.load()
    assert state is not None and state.bands.height > 0
    # A run killed between the index's writes leaves parts of two generations: the index is rebuilt.
    lake.write_parquet("purified", f"{index.base}/files.parquet", state.files.to_arrow(), {"generation": "other"})
    assert index.load() is None and index.stamps() == {}
    rebuilt = purify_documents(lake, config)
    assert rebuilt.band_index["files_indexed"] == 0
    _assert_as_fresh(lake, raw, config, files, tmp_path / "fresh")
