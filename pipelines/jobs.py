"""Jobs: one partitioned ingest job per source (a run ingests one landing file), and the plant job that
materializes every unpartitioned asset, stage by stage."""

from __future__ import annotations

import dagster as dg

from assets.source.catalog import SourceCatalog, SourceSpec

PLANT_JOB = "plant_job"


def ingest_job_name(spec: SourceSpec) -> str:
    return f"ingest_{spec.id}"


def ingest_jobs(catalog: SourceCatalog) -> list[dg.UnresolvedAssetJobDefinition]:
    return [
        dg.define_asset_job(
            ingest_job_name(spec),
            selection=dg.AssetSelection.assets(spec.asset_name),
            partitions_def=dg.DynamicPartitionsDefinition(name=spec.partitions_name),
            description=f"Ingest one landing file of source {spec.id} (partition = file path).",
            tags={"stage": "source"},
        )
        for spec in catalog.sources
    ]


def plant_job(catalog: SourceCatalog) -> dg.UnresolvedAssetJobDefinition:
    partitioned = dg.AssetSelection.assets(*[spec.asset_name for spec in catalog.sources])
    governance = dg.AssetSelection.groups("governance")  # the report runs after the plant, even a failed one
    retention = dg.AssetSelection.assets("retention_sweep")  # its own nightly job, before the refresh
    return dg.define_asset_job(
        PLANT_JOB,
        selection=dg.AssetSelection.all() - partitioned - governance - retention,
        description="Every unpartitioned asset of the plant, from the landing inventory to the deployment "
        "bundles; its compliance report follows in its own run (sensors report_after_*).",
    )
