"""Incremental near-dedup: the band index against re-bucketing the whole corpus, on the same lake, in one run.

    .venv/bin/python bench/band_index.py [--scale 10 | --raw PATH] [--new-files 5]

The demo estate at ``--scale`` is generated and ingested (the plant's ingest through Dagster), or ``--raw``
names a raw zone already ingested (``<home>/lake/raw``). ``--new-files`` document files spread over the landing
order (knowledge-base pages: new pages arrive next to indexed ones) are held back; purification runs on the
rest (the index is built), then the held files arrive and it runs again — **with the index** (bands only the
new files' documents, redoes the buckets they touch), then on the same lake state **without it** (the index
dropped: every eligible document banded, every signature sent to the driver; the per-file cache is warm in
both, so the row-level work is the same). Printed: the dedup step's seconds, the documents banded, the
signatures the driver received or read, and whether the two runs wrote identical tables. Ratio: with / without.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def ingested_raw(scale: int, base: Path) -> Path:
    from waterworks.assets.source.demo_estate import generate_estate
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    home = base / f"x{scale}"
    generate_estate(home / "landing", seed=7, scale=scale)
    summary = run_plant(Settings(home=home), ingest_only=True, log=lambda line: None)
    if not summary.ok:
        raise SystemExit(f"ingest failed at scale {scale}: {summary.errors or summary.failed}")
    return home / "lake" / "raw"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--raw", type=Path)
    parser.add_argument("--new-files", type=int, default=5)
    args = parser.parse_args()

    import polars as pl

    from waterworks.assets.lake import Lake
    from waterworks.assets.purification.band_index import BandIndex
    from waterworks.assets.purification.config import load_purification_config
    from waterworks.assets.purification.purify import purify_documents

    base = Path(tempfile.mkdtemp(prefix="waterworks-band-index-"))
    raw = args.raw or ingested_raw(args.scale, base)
    config = load_purification_config(None)
    files = sorted(str(p.relative_to(raw)) for source in config.documents for p in (raw / source).rglob("*.parquet"))
    pages = [f for f in files if f.startswith("knowledge_base/")]
    held = pages[::max(1, len(pages) // args.new_files)][:args.new_files]  # spread over the pages
    lake_root = base / "lake"
    for rel in files:
        if rel not in held:
            (lake_root / "raw" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(raw / rel, lake_root / "raw" / rel)
    lake = Lake(str(lake_root))
    started = time.perf_counter()
    first = purify_documents(lake, config)
    print(f"{len(files)} document files ({len(held)} held back); first run {time.perf_counter() - started:.1f} s, "
          f"{first.band_index['documents_banded']} documents banded", flush=True)
    for rel in held:
        shutil.copy2(raw / rel, lake_root / "raw" / rel)

    def measured(label: str) -> tuple[dict, list]:
        started = time.perf_counter()
        report = purify_documents(lake, config)
        wall = time.perf_counter() - started
        tables = [pl.from_arrow(lake.read_table("purified", t)) for t in ("documents", "excluded/documents")]
        stats = report.band_index
        print(f"{label}: run {wall:.2f} s, dedup {report.seconds['dedup']:.3f} s, {report.rows_out} kept, "
              f"{report.duplicate_clusters} clusters; banded {stats['documents_banded']}, buckets touched "
              f"{stats['buckets_touched']}, signatures read back {stats['signatures_read']}, edges carried "
              f"{stats['edges_carried']}", flush=True)
        return {"wall": wall, "dedup": report.seconds["dedup"], **stats}, tables

    with_index, tables_with = measured("with the band index")
    BandIndex(lake, "documents").clear()  # the same lake state without the index
    without, tables_without = measured("without it (every document re-bucketed)")
    same = all(a.equals(b) for a, b in zip(tables_with, tables_without, strict=True))
    print(f"tables identical: {same}")
    print(f"dedup step with / without the index: {with_index['dedup'] / max(without['dedup'], 1e-9):.2f} "
          f"({with_index['dedup']:.3f} s / {without['dedup']:.3f} s); documents banded "
          f"{with_index['documents_banded']} / {without['documents_banded']}")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
