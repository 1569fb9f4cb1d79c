"""Dagster definitions of the purification stage: a shard asset per source on raw's partitions
(``purified_shards_<source>``: the row-level work, per landing file), and the table assets ``purified_records``
and ``purified_documents`` over them (the global dedup and the tables), each a thin wrapper over purify.py
with its accounting as metadata and blocking checks for schema and accounting."""

import dagster as dg

from ..metadata import md_table
from ..resources import LakeResource, ShardingResource, StageConfigsResource
from ..source.catalog import SourceCatalog, SourceSpec
from .checks import check_accounting, check_schema
from .config import PurificationConfig
from .purify import (
    DOCUMENT_OUTPUT_COLUMNS,
    RECORD_OUTPUT_COLUMNS,
    PurifyReport,
    purify_documents,
    purify_files,
    purify_records,
)

GROUP = "purification"


def shard_asset_name(spec: SourceSpec) -> str:
    return f"purified_shards_{spec.id}"


def shard_asset(spec: SourceSpec, table: str) -> dg.AssetsDefinition:
    """Row-level purification of one source, on raw's partitions (one per landing file): the shards the table
    asset's global steps (dedup, writing the table) read back. A backfill or a sensor tick of N files is one run
    (``BackfillPolicy.single_run``) and one job on the engine."""

    @dg.asset(name=shard_asset_name(spec), group_name=GROUP, deps=[spec.asset_name],
              partitions_def=dg.DynamicPartitionsDefinition(name=spec.partitions_name),
              backfill_policy=dg.BackfillPolicy.single_run(), kinds={"parquet", "polars"},
              tags={"stage": GROUP}, owners=["team:data-platform"],
              metadata={"zone": "purified (private)", "table": table},
              description=f"The row-level purification of {spec.id}'s landing files (canonical mapping, "
              "normalization, language, quality filters, dedup fingerprints), kept per file in "
              f"`purified/_shards/{table}/`; `purified_{table}` decides duplicates over all of them.")
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, sharding: ShardingResource,
               configs: StageConfigsResource) -> dg.MaterializeResult:
        keys = context.partition_keys
        report = purify_files(lake.lake(), configs.get("purification"), spec.id, keys, sharding.make())
        context.log.info(f"{spec.id}: {report.files} file(s) purified row by row ({report.files_reused} unchanged), "
                         f"{report.rows_in} rows, {report.shards} shard(s) on {report.engine}")
        return dg.MaterializeResult(metadata={
            "landing_files": len(keys), "raw_files": report.files, "raw_files_reused": report.files_reused,
            "pieces": report.pieces, "not_in_raw": report.not_in_raw, "rows_in": report.rows_in,
            "engine": report.engine,
            "shards": report.shards, "worker_nodes": len(report.nodes), "seconds": report.seconds})

    return _asset


def report_metadata(report: PurifyReport, schema: dict) -> dict:
    dropped = sum(report.dropped.values())
    meta = {
        "dagster/row_count": report.rows_out,
        "rows_in": report.rows_in,
        "rows_out": report.rows_out,
        "rows_dropped": dropped,
        "raw_files": report.files,
        "raw_files_reused": report.files_reused,  # unchanged since the last run: purified from the cache
        "pieces": report.pieces,  # raw files, large ones cut into row ranges (WATERWORKS_SHARD_ROWS)
        "engine": report.engine,
        "shards": report.shards,
        "worker_nodes": len(report.nodes),
        "duplicate_clusters": report.duplicate_clusters,
        "accounting": dg.MetadataValue.md(
            f"in **{report.rows_in}** = out **{report.rows_out}** + dropped **{dropped}** "
            f"({', '.join(f'{k} {v}' for k, v in sorted(report.dropped.items())) or 'none'})"),
        "dropped_by_reason": dg.MetadataValue.md(md_table(
            ("reason", "rows", "example ids"),
            [(k, v, ", ".join(report.drop_examples.get(k, []))) for k, v in sorted(report.dropped.items())]))
        if report.dropped else "none",
        "by_source": dg.MetadataValue.md(md_table(
            ("source", "in", "out"),
            [(s, n, report.rows_out_by_source.get(s, 0)) for s, n in sorted(report.rows_in_by_source.items())])),
        "seconds_by_step": dg.MetadataValue.json(report.seconds),
        "config_hash": report.config_hash,
        "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(n, str(t)) for n, t in schema.items()]),
    }
    if report.band_index:  # documents: the incremental near-dedup (files matched against the kept band index)
        meta["band_index"] = dg.MetadataValue.json(report.band_index)
    if report.languages:
        meta["languages"] = dg.MetadataValue.md(md_table(("language", "documents"), sorted(report.languages.items())))
    if report.uri:
        meta["uri"] = dg.MetadataValue.path(report.uri)
        meta["excluded_uri"] = dg.MetadataValue.path(report.excluded_uri)
    return meta


def _purified_asset(name: str, table: str, sources: list[str], catalog: SourceCatalog, purify, schema: dict,
                    description: str) -> dg.AssetsDefinition:
    specs = {s.id: s for s in catalog.sources}
    deps = [shard_asset_name(specs[s]) for s in sources if s in specs]
    checks = [dg.AssetCheckSpec("schema_matches", asset=name, blocking=True,
                                description="the written table has exactly the canonical columns and types"),
              dg.AssetCheckSpec("accounting_balanced", asset=name, blocking=True,
                                description="raw rows in = rows out + rows dropped by reason, read back from the "
                                "raw files and the written outputs")]

    @dg.asset(name=name, group_name=GROUP, deps=deps, description=description, kinds={"parquet", "polars"},
              tags={"stage": GROUP}, owners=["team:data-platform"], check_specs=checks,
              metadata={"zone": "purified (private)", "table": table})
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, sharding: ShardingResource,
               configs: StageConfigsResource) -> dg.MaterializeResult:
        config = configs.get("purification")
        unmapped = config.unmapped([s.id for s in catalog.sources])
        if unmapped:
            context.log.warning(f"sources with no canonical mapping in the purification config: {unmapped}")
        the_lake = lake.lake()
        report = purify(the_lake, config, sharding.make())
        context.log.info(f"{table}: in {report.rows_in} = out {report.rows_out} + dropped "
                         f"{sum(report.dropped.values())}")
        schema_ok, schema_meta = check_schema(the_lake, table, schema)
        accounting_ok, accounting_meta = check_accounting(the_lake, table, sources)
        meta = report_metadata(report, schema)
        if unmapped:
            meta["unmapped_sources"] = ", ".join(unmapped)
        return dg.MaterializeResult(metadata=meta, check_results=[
            dg.AssetCheckResult(check_name="schema_matches", passed=schema_ok, metadata=schema_meta),
            dg.AssetCheckResult(check_name="accounting_balanced", passed=accounting_ok, metadata=accounting_meta),
        ])

    return _asset


def purification_assets(catalog: SourceCatalog, config: PurificationConfig) -> list[dg.AssetsDefinition]:
    """One asset per canonical table over one shard asset per source; ``config`` (the settings' purification
    config) says which sources feed which. At run time the assets read the config from the ``configs``
    resource, the same file."""
    specs = {s.id: s for s in catalog.sources}
    shards = [shard_asset(specs[s], table) for table in ("records", "documents")
              for s in sorted(getattr(config, table)) if s in specs]
    return [*shards,
        _purified_asset(
            "purified_records", "records", sorted(config.records), catalog, purify_records, RECORD_OUTPUT_COLUMNS,
            "Structured rows of every record source on one canonical schema (entity kind, typed common fields, "
            "attributes JSON, provenance); fields normalized (NFKC, controls, full-width); exact duplicates "
            "removed. Dropped rows with their reason: `purified/excluded/records/`."),
        _purified_asset(
            "purified_documents", "documents", sorted(config.documents), catalog, purify_documents,
            DOCUMENT_OUTPUT_COLUMNS,
            "Free text of every document source: markup and e-mail clutter removed, Unicode normalized, language "
            "identified (en, zh-Hans, zh-Hant, …), Simplified conversion in `body_zh_hans`, Gopher/C4 quality "
            "filters, exact and MinHash-LSH near-duplicate removal (one representative per cluster). Dropped "
            "rows with their reason and cluster: `purified/excluded/documents/`."),
    ]




