"""The purification stage on the demo estate (plain functions, a real lake in a temp folder): accounting,
schema, the planted duplicates found with precision and recall, determinism."""

import json
from collections import Counter

import polars as pl
import pytest

from waterworks.assets.lake import Lake
from waterworks.assets.purification.checks import check_accounting, check_schema
from waterworks.assets.purification.config import load_purification_config
from waterworks.assets.purification.dedup_eval import pairwise_scores, truth_labels
from waterworks.assets.purification.purify import (
    DOCUMENT_OUTPUT_COLUMNS,
    RECORD_OUTPUT_COLUMNS,
    purify_documents,
    purify_records,
)
from waterworks.assets.source.catalog import load_catalog
from waterworks.assets.source.ingest import ingest_file
from waterworks.assets.source.landing import scan_landing
from waterworks.pipelines.settings import project_root

FILTER_REASONS = {"empty", "too_short", "too_long", "symbol_ratio", "alpha_ratio", "duplicate_lines", "boilerplate"}


@pytest.fixture(scope="module")
def purified(tmp_path_factory, estate_dir):
    lake = Lake(str(tmp_path_factory.mktemp("lake")))
    catalog = load_catalog(project_root() / "assets" / "source" / "sources.yaml")
    for landing_file, specs in scan_landing(estate_dir, catalog).routed:
        for spec in specs:
            ingest_file(lake, spec, landing_file)
    config = load_purification_config()
    return lake, config, purify_records(lake, config), purify_documents(lake, config)


def _all_documents(lake):
    kept = pl.from_arrow(lake.read_table("purified", "documents"))
    excluded = pl.from_arrow(lake.read_table("purified", "excluded/documents"))
    kept = kept.with_columns(pl.lit(None, pl.String).alias("drop_reason"), pl.lit(None, pl.String).alias("duplicate_of"))
    return pl.concat([kept, excluded])


def test_accounting_holds_for_both_tables(purified):
    lake, config, records, documents = purified
    for report, sources in ((records, config.records), (documents, config.documents)):
        assert report.balanced
        assert report.rows_in > 0 and report.rows_out > 0
        passed, meta = check_accounting(lake, report.table, sorted(sources))
        assert passed, meta
        assert meta["rows_in_raw"] == report.rows_in
    assert sum(documents.rows_in_by_source.values()) == documents.rows_in


def test_written_tables_match_the_canonical_schema(purified):
    lake, _, _, _ = purified
    for table, schema in (("records", RECORD_OUTPUT_COLUMNS), ("documents", DOCUMENT_OUTPUT_COLUMNS)):
        passed, meta = check_schema(lake, table, schema)
        assert passed, meta


def test_every_dropped_row_has_a_reason_and_duplicates_point_at_a_kept_row(purified):
    lake, _, _, documents = purified
    everything = _all_documents(lake)
    excluded = everything.filter(pl.col("drop_reason").is_not_null())
    assert excluded.height == sum(documents.dropped.values())
    kept_ids = set(everything.filter(pl.col("drop_reason").is_null())["doc_id"])
    dups = excluded.filter(pl.col("drop_reason").str.ends_with("duplicate"))
    assert dups.height > 0 and set(dups["duplicate_of"]) <= kept_ids
    assert all(len(v) <= 5 for v in documents.drop_examples.values())


def test_planted_duplicates_found_with_precision_and_recall(purified, estate_dir):
    lake, _, _, _ = purified
    duplicates = json.loads((estate_dir / "estate.json").read_text())["duplicates"]
    assert Counter(d["kind"] for d in duplicates) == {"exact_resend": 4, "small_edits": 6, "reordered": 5,
                                                       "traditional_copy": 4}
    docs = _all_documents(lake).filter(~pl.col("drop_reason").is_in(list(FILTER_REASONS)).fill_null(False))
    predicted = docs.select(pl.coalesce("duplicate_of", "doc_id").rank("dense")).to_series().to_numpy()
    truth = truth_labels(docs["landing_path"].to_list(), docs["record_index"].to_list(), docs["body"], duplicates)
    scores = pairwise_scores(predicted, truth)
    assert scores.recall == 1.0, scores
    assert scores.precision >= 0.9, scores
    # Of each planted pair exactly one is kept (the first in path order), the other points at it.
    by_place = {(r["landing_path"], r["record_index"]): r for r in docs.iter_rows(named=True)}
    for group in duplicates:
        kept, dropped = sorted((by_place[(m["file"], m["record"])] for m in group["members"]),
                               key=lambda r: (r["drop_reason"] is not None))
        assert kept["drop_reason"] is None and dropped["drop_reason"] is not None, group
        assert dropped["duplicate_of"] == kept["doc_id"] == kept["dup_cluster"], group


def test_languages_and_chinese_conversion(purified):
    lake, _, _, documents = purified
    everything = _all_documents(lake)
    assert {"en", "zh-Hans", "zh-Hant"} <= set(everything["language"])
    traditional = everything.filter(pl.col("landing_path").str.starts_with("docs/service/tw/"))
    assert set(traditional["language"]) == {"zh-Hant"}
    assert traditional["body_zh_hans"].null_count() == 0
    assert (traditional["body"] != traditional["body_zh_hans"]).all()  # the original is kept as it was
    assert everything.filter(pl.col("language") == "en")["body_zh_hans"].null_count() == \
        everything.filter(pl.col("language") == "en").height
    assert documents.languages["en"] > 0


def test_documents_are_clean_text(purified):
    lake, _, _, _ = purified
    docs = pl.from_arrow(lake.read_table("purified", "documents"))
    bodies = docs["body"].to_list()
    assert not any("<p>" in b or "</" in b for b in bodies)              # HTML removed
    assert not any(b.lstrip().startswith("#") for b in bodies)          # Markdown headings removed
    mail = docs.filter(pl.col("source_id") == "mail_archive")["body"].to_list()
    assert mail and not any("\n>" in b or b.startswith(">") or "\n-- " in b for b in mail)
    assert not any("\u200b" in b or "\r" in b for b in bodies)


def test_records_fields_are_normalized_and_attributes_kept(purified):
    lake, _, records, _ = purified
    table = pl.from_arrow(lake.read_table("purified", "records"))
    assert set(table["entity_kind"]) == {"customer", "employee", "order"}
    assert records.rows_out_by_source["erp_orders"] == 300
    orders = table.filter(pl.col("source_id") == "erp_orders")
    assert orders["amount"].null_count() == 0 and orders["event_time"].null_count() == 0
    employees = table.filter(pl.col("entity_kind") == "employee")
    assert all("工资卡号" in json.loads(a) for a in employees["attributes"])


def test_deterministic(purified, tmp_path):
    lake, config, _, _ = purified
    before = {t: pl.from_arrow(lake.read_table("purified", t)) for t in ("records", "documents")}
    purify_records(lake, config)
    purify_documents(lake, config)
    for table, frame in before.items():
        assert pl.from_arrow(lake.read_table("purified", table)).equals(frame)


def test_an_empty_lake_gives_empty_tables_that_pass_the_checks(tmp_path):
    lake, config = Lake(str(tmp_path)), load_purification_config()
    for purify, schema in ((purify_records, RECORD_OUTPUT_COLUMNS), (purify_documents, DOCUMENT_OUTPUT_COLUMNS)):
        report = purify(lake, config)
        assert (report.rows_in, report.rows_out, report.balanced) == (0, 0, True)
        assert check_schema(lake, report.table, schema)[0]
        assert check_accounting(lake, report.table, [])[0]


def test_a_rerun_purifies_only_the_raw_files_that_changed(purified, tmp_path):
    """Purification keeps each raw file's result (private zone, owner-only); a rerun reads only new or changed
    files, and the tables equal a run from scratch, the global dedup still seeing every file."""
    import shutil
    import stat

    from waterworks.assets.purification.shards import CACHE

    source, config, _, _ = purified
    lake = Lake(str(tmp_path / "lake"))
    shutil.copytree(source.path("raw", ""), lake.path("raw", ""))
    first = purify_documents(lake, config)
    assert first.files_reused == 0 and first.files > 10
    cached = lake.list_files("purified", f"{CACHE}/documents/")
    assert len(cached) == first.files
    assert all(stat.S_IMODE((tmp_path / "lake" / "purified" / c).stat().st_mode) == 0o600 for c in cached)
    tables = lambda: {t: pl.from_arrow(lake.read_table("purified", t))  # noqa: E731
                      for t in ("documents", "excluded/documents")}
    before = tables()
    second = purify_documents(lake, config)
    assert second.files_reused == second.files
    assert all(tables()[t].equals(before[t]) for t in before)
    # one file re-ingested with a row less (another landing sha256): only it is purified again
    changed = next(p for p in lake.list_parquet("raw", "support_tickets/") if lake.row_count("raw", p) > 2)
    rows = lake.read_parquet("raw", changed)
    meta = {**lake.parquet_metadata("raw", changed), "file_sha256": "0" * 64}
    lake.write_parquet("raw", changed, rows.slice(0, rows.num_rows - 1).replace_schema_metadata(None), meta)
    third = purify_documents(lake, config)
    assert third.files_reused == third.files - 1 and third.rows_in == first.rows_in - 1
    incremental = tables()
    lake.delete_folder("purified", CACHE)
    scratch = purify_documents(lake, config)
    assert scratch.files_reused == 0
    assert all(incremental[t].equals(tables()[t]) for t in incremental)
    # another config: nothing is reused
    other = config.model_copy(update={"dedup": config.dedup.model_copy(update={"threshold": 0.9})})
    assert purify_documents(lake, other).files_reused == 0


def test_large_files_cut_into_pieces_give_the_same_tables_and_cache_by_piece(purified, tmp_path):
    """A raw file of more than ``piece_rows`` rows is purified as row ranges (each its own unit of work and cache
    entry): the tables equal those of whole files, for any piece size; a rerun reuses every piece, and a changed
    file redoes its own pieces only."""
    import shutil

    from waterworks.assets.engines import LocalEngine
    from waterworks.assets.purification.canonical import raw_files, raw_pieces, read_raw
    from waterworks.assets.purification.shards import CACHE

    source, config, _, _ = purified
    whole = {t: pl.from_arrow(source.read_table("purified", t)) for t in ("documents", "excluded/documents")}
    lake = Lake(str(tmp_path / "lake"))
    shutil.copytree(source.path("raw", ""), lake.path("raw", ""))
    tickets = raw_files(lake, "support_tickets")
    pieces = raw_pieces(lake, tickets, 50)
    large = max(tickets, key=lambda raw: lake.row_count("raw", raw.lake_relpath))
    cut = [p for p in pieces if p.lake_relpath == large.lake_relpath]
    assert len(cut) > 2 and [p.start for p in cut] == list(range(0, 50 * len(cut), 50))
    assert pl.concat([read_raw(lake, p) for p in cut]).equals(read_raw(lake, large))  # the file, in order

    def tables():
        return {t: pl.from_arrow(lake.read_table("purified", t)) for t in whole}

    small = LocalEngine(piece_rows=50)
    first = purify_documents(lake, config, small)
    assert first.pieces > first.files and first.files_reused == 0
    assert len(lake.list_files("purified", f"{CACHE}/documents/")) == first.pieces  # a cache entry per piece
    assert all(tables()[t].equals(whole[t]) for t in whole)
    again = purify_documents(lake, config, small)
    assert again.files_reused == again.files and again.pieces == first.pieces
    rows = lake.read_parquet("raw", large.lake_relpath)  # the large file re-delivered with a row less
    meta = {**lake.parquet_metadata("raw", large.lake_relpath), "file_sha256": "0" * 64}
    lake.write_parquet("raw", large.lake_relpath, rows.slice(0, rows.num_rows - 1).replace_schema_metadata(None), meta)
    third = purify_documents(lake, config, small)
    assert third.files_reused == third.files - 1 and third.rows_in == first.rows_in - 1
    incremental = tables()
    lake.delete_folder("purified", CACHE)
    assert purify_documents(lake, config, LocalEngine(piece_rows=7)).pieces > first.pieces
    assert all(incremental[t].equals(tables()[t]) for t in incremental)  # any piece size: the same tables
