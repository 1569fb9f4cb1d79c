"""`waterworks run` / `make run`: materialize the plant through Dagster, recorded in DAGSTER_HOME.

The same jobs, partitions and tags the landing sensor requests, decided by the same rule
(pipelines/automation.py ``stale_files`` → ``ingest_requests``): an ingest run per landing file that is new or
changed since its raw output was written (content hash and reader settings, read from the output's Parquet
footer), so a second run is fast and adds nothing; ``full=True`` re-ingests everything. Then one shard run per
source over the files it ingested (their row-level purification, one partition range per run), the plant job,
then its compliance report. Each is a run of the project's Dagster instance, executed in this process (no
daemon needed), that the UI shows afterwards.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from waterworks.assets.lake import Lake, restrict_umask
from waterworks.assets.reporting.defs import REPORT_JOB, REPORTED_RUN_TAG
from waterworks.assets.source.landing import scan_landing

from .automation import ingest_requests, shard_requests, stale_files
from .jobs import PLANT_JOB
from .settings import Settings, prepare_dagster_home, settings_environment

# Runs still record every event in DAGSTER_HOME; only the console echo is kept to warnings.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class PlantRunSummary:
    ingested: list[str] = field(default_factory=list)  # "source:relpath"
    purified: list[str] = field(default_factory=list)  # sources whose shard run (row-level purification) ran
    up_to_date: int = 0
    failed: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    errors: dict[str, list[str]] = field(default_factory=dict)  # failed label → "step: why" per failed step

    @property
    def ok(self) -> bool:
        return not self.failed


def run_plant(settings: Settings, full: bool = False, log: Callable[[str], None] = print,
              ingest_only: bool = False) -> PlantRunSummary:
    """``ingest_only``: the source stage alone — each stale file's ingest run, then the landing inventory
    (which quarantines the files no source claims); no plant job, no report."""
    import dagster as dg

    from .definitions import build_definitions

    started = time.monotonic()
    restrict_umask()
    prepare_dagster_home(settings)
    summary = PlantRunSummary()
    with dg.DagsterInstance.get() as instance:
        defs = build_definitions(settings)
        catalog = settings.configs.sources
        lake = Lake(str(settings.lake_uri))
        scan = scan_landing(settings.landing_dir, catalog)
        requests, by_partitions = ingest_requests(stale_files(scan, lake, full=full))
        summary.up_to_date = sum(len(specs) for _, specs in scan.routed) - len(requests)
        for name, keys in by_partitions.items():
            if missing := [k for k in keys if not instance.has_dynamic_partition(name, k)]:
                instance.add_dynamic_partitions(name, missing)
        shards = shard_requests(catalog, settings.configs.purification, by_partitions,
                                instance.get_dynamic_partitions)
        for request in [*requests, *([] if ingest_only else shards)]:
            result = defs.resolve_job_def(request.job_name).execute_in_process(
                partition_key=request.partition_key, instance=instance, raise_on_error=False, run_config=QUIET,
                tags=request.tags)
            summary.run_ids.append(result.run_id)
            shard_run = request.partition_key is None
            label = request.tags['waterworks/source'] + (" row-level purification" if shard_run
                                                         else f":{request.partition_key}")
            done = summary.purified if shard_run else summary.ingested
            (done if result.success else summary.failed).append(label)
            if not result.success:
                summary.errors[label] = step_errors(instance, result.run_id)
            log(f"  {('purified' if shard_run else 'ingested') if result.success else 'FAILED  '} {label}")
        if ingest_only:
            result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
                instance=instance, raise_on_error=False, run_config=QUIET,
                asset_selection=[dg.AssetKey("landing_inventory")])
            summary.run_ids.append(result.run_id)
            if not result.success:
                summary.failed.append("landing_inventory")
            summary.seconds = time.monotonic() - started
            return summary
        run_id, success = _run_plant_job(settings, defs, instance)
        summary.run_ids.append(run_id)
        if not success:
            summary.failed.append(PLANT_JOB)
            summary.errors[PLANT_JOB] = step_errors(instance, run_id)
        # The compliance report of this plant run, succeeded or not (as the report sensors do under `make ui`).
        report = defs.resolve_job_def(REPORT_JOB).execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET, tags={REPORTED_RUN_TAG: run_id})
        summary.run_ids.append(report.run_id)
        if not report.success:
            summary.failed.append(REPORT_JOB)
            summary.errors[REPORT_JOB] = step_errors(instance, report.run_id)
    summary.seconds = time.monotonic() - started
    return summary


_OWN_PACKAGES = ("assets.", "governance.", "models.", "pipelines.")


def step_errors(instance, run_id: str) -> list[str]:
    """Why each step of a run failed, as ``step: ErrorClass: message``. The message is shown only where the
    plant's code raised it explicitly (those messages name files, counts and types, never values); any other
    exception is named by its class alone, since its message may quote a cell."""
    import dagster as dg

    reasons = []
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records:
        event = record.event_log_entry.dagster_event
        error = event.step_failure_data.error if event and event.step_failure_data else None
        while error is not None and error.cause is not None and "dagster" in error.cls_name.lower():
            error = error.cause
        if error is None:
            reasons.append(f"{event.step_key if event else '?'}: unknown error")
            continue
        message = error.message.strip().splitlines()[0][:300] if _raised_by_us(error) and error.message else ""
        reasons.append(f"{event.step_key}: {error.cls_name}" + (f": {message.split(': ', 1)[-1]}" if message else ""))
    return reasons


def _raised_by_us(error) -> bool:
    """Whether the innermost frame is a ``raise`` statement in one of the plant's packages."""
    frames = [frame for frame in error.stack if 'File "' in frame]
    return bool(frames) and "raise " in frames[-1] and any(f"/{package.rstrip('.')}/" in frames[-1].split(
        '"')[1] for package in _OWN_PACKAGES)


def _run_plant_job(settings: Settings, defs, instance) -> tuple[str, bool]:
    """The plant job in this process (executor in_process), or through the run's executor: step processes
    rebuild the job from the settings, exported to the environment first."""
    import dagster as dg

    if settings.executor == "in_process":
        result = defs.resolve_job_def(PLANT_JOB).execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET)
        return result.run_id, result.success
    from .definitions import plant_job_from_environment

    os.environ.update(settings_environment(settings))
    with dg.execute_job(dg.reconstructable(plant_job_from_environment), instance, run_config=QUIET,
                        raise_on_error=False) as result:
        return result.run_id, result.success
