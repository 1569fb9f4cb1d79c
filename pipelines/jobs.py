"""Jobs: one partitioned ingest job per source (a run ingests one landing file), the plant job that
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


def plant_job(catalog: SourceCatalog) -> dg.UnresolvedAssetJobDefinition:
    partitioned = dg.AssetSelection.assets(*[spec.asset_name for spec in catalog.sources])
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
