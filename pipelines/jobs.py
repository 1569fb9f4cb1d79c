"""Jobs: one partitioned ingest job per source (a run ingests one landing file), one partitioned shard job per
mapped source (the row-level purification of a run's landing files, one or a range), the plant job that
materializes every unpartitioned asset, stage by stage, and one job per product retrained on its own cadence
(assets/products.py ``job``)."""

from __future__ import annotations

import dagster as dg

from waterworks.assets.products import PRODUCTS
from waterworks.assets.source.catalog import SourceCatalog, SourceSpec

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


def shard_job_name(spec: SourceSpec) -> str:
    return f"purify_shards_{spec.id}"


def shard_jobs(catalog: SourceCatalog, purification) -> list[dg.UnresolvedAssetJobDefinition]:
    """One job per mapped source: its shard asset over the landing files of the run (one, or a partition range
    in one run — the asset's backfill policy is a single run)."""
    from waterworks.assets.purification.defs import shard_asset_name

    mapped = set(purification.records) | set(purification.documents)
    return [dg.define_asset_job(shard_job_name(spec), selection=dg.AssetSelection.assets(shard_asset_name(spec)),
                                partitions_def=dg.DynamicPartitionsDefinition(name=spec.partitions_name),
                                description=f"Row-level purification of {spec.id}'s landing files, in one run.",
                                tags={"stage": "purification"})
            for spec in catalog.sources if spec.id in mapped]


def plant_job(catalog: SourceCatalog, purification) -> dg.UnresolvedAssetJobDefinition:
    from waterworks.assets.purification.defs import shard_asset_name

    mapped = set(purification.records) | set(purification.documents)
    partitioned = dg.AssetSelection.assets(*[spec.asset_name for spec in catalog.sources],
                                           *[shard_asset_name(s) for s in catalog.sources if s.id in mapped])
    governance = dg.AssetSelection.groups("governance")  # the report runs after the plant, even a failed one
    retention = dg.AssetSelection.assets("retention_sweep")  # its own nightly job, before the refresh
    own_cadence = dg.AssetSelection.assets(*[a for p in PRODUCTS if p.job for a in p.assets])
    return dg.define_asset_job(
        PLANT_JOB,
        selection=dg.AssetSelection.all() - partitioned - governance - retention - own_cadence,
        description="Every unpartitioned asset of the plant, from the landing inventory to the deployment "
        "bundles; its compliance report follows in its own run (sensors report_after_*).",
    )


def product_jobs() -> list[dg.UnresolvedAssetJobDefinition]:
    """A job per product with a cadence of its own: its training, evaluation, registration and promotion."""
    return [dg.define_asset_job(p.job, selection=dg.AssetSelection.assets(*p.assets), tags={"stage": "training"},
                                description=f"Retrain, evaluate, register and promote {p.name} "
                                f"({p.registered_name or 'not registered'}); its schedule: {p.schedule}.")
            for p in PRODUCTS if p.job]


def product_schedules(jobs: dict) -> list[dg.ScheduleDefinition]:
    return [dg.ScheduleDefinition(name=f"{p.name}_schedule", cron_schedule=p.schedule, job=jobs[p.job],
                                  execution_timezone="Asia/Shanghai", default_status=dg.DefaultScheduleStatus.RUNNING)
            for p in PRODUCTS if p.job and p.schedule]
