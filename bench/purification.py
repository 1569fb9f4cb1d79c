"""Near-duplicate removal: ours (assets/purification/dedup.py) against datatrove's MinHash pipeline, on the
same documents of one demo estate, in one run. Prints MB/s and pairwise precision/recall/F1 on the planted
duplicates (estate.json ``duplicates``; pairs that involve a planted document) and over all pairs (planted
groups joined with identical texts) for both, and the throughput ratio.

    make bench-setup                                          # installs the bench extra (datatrove) into .venv
    .venv/bin/python bench/purification.py --scale 560        # ≈ 205 MB of document text

Ours runs twice: with the default densified one-permutation MinHash and with classic MinHash (112
independent hash functions); the config's ``dedup.scheme`` picks one. Both sides get the documents after our canonical mapping, normalization, language identification and quality
filters (those steps are not timed). Timed for us: the OpenCC Simplified conversion of Chinese documents (our
dedup key uses it) and ``find_duplicates``. Timed for datatrove: its four MinHash stages (signatures, buckets,
clusters, filter) with the same 14 × 8 MinHash layout and 5-gram shingles, run as datatrove is meant to be run
(LocalPipelineExecutor, 2 workers on this 2-core machine), English documents with its English word tokenizer
and Chinese ones with its Chinese (jieba) tokenizer: its best configuration for this mixed corpus.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import polars as pl

from waterworks.assets.lake import Lake
from waterworks.assets.purification.canonical import DOCUMENT_SCHEMA, map_documents, raw_files, read_raw
from waterworks.assets.purification.config import load_purification_config
from waterworks.assets.purification.dedup import CJK_LANGUAGES, find_duplicates
from waterworks.assets.purification.dedup_eval import pairwise_scores, planted_mask, truth_labels
from waterworks.assets.purification.language import with_languages
from waterworks.assets.purification.purify import (
    add_chinese_conversion,
    filter_documents,
    normalize_documents,
)
from waterworks.assets.source.catalog import load_catalog
from waterworks.assets.source.demo_estate import generate_estate
from waterworks.assets.source.ingest import ingest_file
from waterworks.assets.source.landing import scan_landing
from waterworks.pipelines.settings import project_root

PARTS = ("tickets", "mail", "documents")


def prepare(work: Path, scale: int) -> tuple[pl.DataFrame, list[dict]]:
    """The estate's documents, normalized, language-tagged and filtered (cached in ``work``)."""
    landing, lake_root, cache = work / "landing", work / "lake", work / f"documents_scale{scale}.parquet"
    estate_file = landing / "estate.json"
    if cache.exists() and estate_file.exists():
        return pl.read_parquet(cache), json.loads(estate_file.read_text())["duplicates"]
    shutil.rmtree(work, ignore_errors=True)
    t0 = time.perf_counter()
    generate_estate(landing, seed=7, scale=scale, parts=PARTS)
    print(f"estate generated in {time.perf_counter() - t0:.0f} s")
    catalog = load_catalog(project_root() / "assets" / "source" / "sources.yaml")
    config = load_purification_config()
    lake = Lake(str(lake_root))
    t0 = time.perf_counter()
    for landing_file, specs in scan_landing(landing, catalog).routed:
        for spec in specs:
            if spec.id in config.documents:
                ingest_file(lake, spec, landing_file)
    print(f"ingested in {time.perf_counter() - t0:.0f} s")
    frames = [map_documents(read_raw(lake, raw), raw, mapping)
              for source_id, mapping in sorted(config.documents.items()) for raw in raw_files(lake, source_id)]
    frame = pl.concat(frames).cast(DOCUMENT_SCHEMA).sort("source_id", "landing_path", "record_index")
    frame = normalize_documents(frame, config)
    frame = with_languages(frame, "body", config.language.candidates, config.language.min_confidence,
                           "language_hint")
    kept, _ = filter_documents(frame, config)
    kept.write_parquet(cache)
    return kept, json.loads(estate_file.read_text())["duplicates"]


def run_ours(docs: pl.DataFrame, scheme: str) -> tuple[float, np.ndarray]:
    config = load_purification_config()
    config = config.model_copy(update={"dedup": config.dedup.model_copy(update={"scheme": scheme})})
    t0 = time.perf_counter()
    frame = add_chinese_conversion(docs, config.normalize.chinese_conversion)
    key_text = frame.select(pl.coalesce("body_zh_hans", "body")).to_series()
    cjk = frame.select(pl.col("language").str.split("-").list.first().is_in(list(CJK_LANGUAGES))).to_series()
    result = find_duplicates(key_text, cjk.to_numpy(), config.dedup)
    return time.perf_counter() - t0, result.representative


def run_datatrove(docs: pl.DataFrame, work: Path, workers: int) -> tuple[float, np.ndarray]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig
    from datatrove.utils.typeshelper import Languages

    base = work / "datatrove"
    shutil.rmtree(base, ignore_errors=True)
    config = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8, hash_config=HashConfig(precision=64))
    chinese = docs.get_column("language").str.starts_with("zh")
    groups = {"en": (Languages.english, docs.filter(~chinese)), "zh": (Languages.chinese, docs.filter(chinese))}
    for name, (_, part) in groups.items():  # input shards: written before timing, like any dataset on disk
        folder = base / name / "input"
        folder.mkdir(parents=True)
        for shard in range(workers):
            part.gather_every(workers, shard).select(pl.col("doc_id").alias("id"), pl.col("body").alias("text")) \
                .write_ndjson(folder / f"shard_{shard}.jsonl")
    seconds = 0.0
    cluster_of: dict[str, str] = {}
    for name, (language, _) in groups.items():
        root = base / name
        stages = [
            ([JsonlReader(str(root / "input")), MinhashDedupSignature(str(root / "sigs"), config=config, language=language)],
             workers),
            ([MinhashDedupBuckets(str(root / "sigs"), str(root / "buckets"), config=config)], config.num_buckets),
            ([MinhashDedupCluster(str(root / "buckets"), str(root / "remove"), config=config,
                                                save_cluster_id=True)], 1),
            ([JsonlReader(str(root / "input")),
              MinhashDedupFilter(str(root / "remove"), load_cluster_ids=True,
                                 exclusion_writer=JsonlWriter(str(root / "removed"), compression=None)),
              JsonlWriter(str(root / "kept"), compression=None)], workers),
        ]
        t0 = time.perf_counter()
        for index, (pipeline, tasks) in enumerate(stages):
            LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=min(workers, tasks),
                                  logging_dir=str(root / f"logs_{index}")).run()
        seconds += time.perf_counter() - t0
        for out in ("kept", "removed"):
            for file in sorted((root / out).glob("*.jsonl")):
                for line in file.read_text().splitlines():
                    doc = json.loads(line)
                    cluster = doc.get("metadata", {}).get("minhash_cluster_id", -1)
                    cluster_of[doc["id"]] = f"{name}:{cluster}" if cluster != -1 else doc["id"]
    labels = pl.Series([cluster_of[i] for i in docs.get_column("doc_id").to_list()])
    return seconds, labels.rank("dense").to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=560, help="demo estate scale (560 ≈ 205 MB of document text)")
    parser.add_argument("--work", type=Path, default=project_root() / ".bench" / "purification")
    parser.add_argument("--workers", type=int, default=2, help="datatrove workers (this machine: 2 cores)")
    args = parser.parse_args()
    docs, duplicates = prepare(args.work, args.scale)
    megabytes = docs.select(pl.col("body").str.len_bytes().sum()).item() / 1e6
    truth = truth_labels(docs.get_column("landing_path").to_list(), docs.get_column("record_index").to_list(),
                         docs.get_column("body"), duplicates)
    focus = planted_mask(docs.get_column("landing_path").to_list(), docs.get_column("record_index").to_list(),
                         duplicates)
    print(f"{docs.height} documents, {megabytes:.1f} MB of text, {len(duplicates)} planted duplicate groups "
          f"({', '.join(f'{k} {v}' for k, v in sorted(pl.Series([d['kind'] for d in duplicates]).value_counts().iter_rows()))})")
    results = {}
    runners = {"waterworks": lambda: run_ours(docs, "one_permutation"),
               "waterworks (classic MinHash)": lambda: run_ours(docs, "permutations"),
               "datatrove": lambda: run_datatrove(docs, args.work, args.workers)}
    for name, runner in runners.items():
        seconds, predicted = runner()
        scores = pairwise_scores(predicted, truth, focus)
        overall = pairwise_scores(predicted, truth)
        results[name] = (seconds, scores)
        print(f"{name:28s} {seconds:8.1f} s  {megabytes / seconds:7.2f} MB/s  planted: precision "
              f"{scores.precision:.4f} recall {scores.recall:.4f} F1 {scores.f1:.4f} (pairs: true {scores.true_pairs}, "
              f"predicted {scores.predicted_pairs}, correct {scores.correct_pairs})  |  all pairs, identical texts "
              f"included: precision {overall.precision:.4f} recall {overall.recall:.4f} F1 {overall.f1:.4f}")
    ours, peer = results["waterworks"], results["datatrove"]
    print(f"throughput ours/datatrove: {peer[0] / ours[0]:.1f}x; F1 ours {ours[1].f1:.4f} vs datatrove "
          f"{peer[1].f1:.4f}")
    classic = results["waterworks (classic MinHash)"]
    print(f"throughput ours (classic MinHash)/datatrove: {peer[0] / classic[0]:.1f}x; F1 {classic[1].f1:.4f}")


if __name__ == "__main__":
    main()
