"""The Definitions of the plant: assembles stages, jobs, automation and resources. No logic lives here."""

from __future__ import annotations

import dagster as dg

from waterworks.assets.datasets.defs import datasets_assets
from waterworks.assets.distribution.defs import distribution_assets
from waterworks.assets.erasure.defs import erasure_assets, forget_job, retention_job, retention_schedule
from waterworks.assets.factory import product_assets, product_checks
from waterworks.assets.lake import restrict_umask
from waterworks.assets.purification.defs import purification_assets
from waterworks.assets.reporting.defs import report_job, report_sensors, reporting_assets
from waterworks.assets.sanitation.defs import sanitation_assets
from waterworks.assets.source.defs import source_assets
from waterworks.assets.training.defs import training_assets

from .automation import build_daily_refresh, build_landing_sensor
from .executors import executor_for
from .jobs import ingest_jobs, plant_job, product_jobs, product_schedules, shard_jobs
from .resources import resources_for
from .settings import Settings, get_settings

# The stages in the order the UI and the reports show them.
STAGES = ("source", "purification", "sanitation", "datasets", "training", "distribution", "erasure", "governance")


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    restrict_umask()  # the code server and every run worker load these definitions before writing anything
    settings = settings or get_settings()
    settings.configs.validate()  # a broken stage config fails when the code location loads, naming its file
    catalog = settings.configs.sources
    stage_assets = {
        "source": source_assets(catalog),
        "purification": purification_assets(catalog, settings.configs.purification),
        "sanitation": sanitation_assets(),
        "datasets": datasets_assets(),
        # each product's training and evaluation, registration and promotion: assets/factory.py
        "training": [*product_assets("training"), *training_assets()],
        "distribution": [*product_assets("distribution"), *distribution_assets()],
        "erasure": erasure_assets(),
        "governance": reporting_assets(),
    }
    plant, report = plant_job(catalog, settings.configs.purification), report_job()
    jobs = {job.name: job for job in [*ingest_jobs(catalog), *shard_jobs(catalog, settings.configs.purification),
                                      plant, report, forget_job, retention_job,
                                      *product_jobs()]}
    return dg.Definitions(
        assets=[a for stage in STAGES for a in stage_assets[stage]],
        asset_checks=product_checks(),
        jobs=list(jobs.values()),
        sensors=[build_landing_sensor(settings, catalog, list(jobs.values())), *report_sensors(plant, report)],
        schedules=[*build_daily_refresh(settings, catalog, jobs), retention_schedule, *product_schedules(jobs)],
        resources=resources_for(settings),
        executor=executor_for(settings),
    )


defs = build_definitions()


def plant_job_from_environment() -> dg.JobDefinition:
    """The plant job rebuilt from the WATERWORKS_* environment: what ``dg.reconstructable`` hands to the step
    processes of a multiprocess run (pipelines/run.py exports the settings before launching it)."""
    from .jobs import PLANT_JOB

    return build_definitions(Settings()).resolve_job_def(PLANT_JOB)
