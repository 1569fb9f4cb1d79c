"""The landing sensor (new or changed files, by content hash) and the daily full refresh."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from assets.lake import Lake
from assets.source.catalog import SourceCatalog
from assets.source.ingest import is_fresh
from assets.source.landing import LandingScan, scan_landing

from .jobs import PLANT_JOB, ingest_job_name
from .settings import Settings


def cursor_state(scan: LandingScan) -> dict[str, list]:
    return {f.relpath: [f.size, f.mtime_ns, f.sha256] for f, _ in scan.routed}


def changed_files(scan: LandingScan, previous: dict[str, list], lake: Lake) -> list:
    """Routed files that are new or whose content hash differs from the previous evaluation, for the sources
    whose raw output does not already hold these bytes (so a first tick after `make run` requests nothing)."""
    changed = []
    for f, specs in scan.routed:
        if f.relpath in previous and previous[f.relpath][2] == f.sha256:
            continue
        stale = [spec for spec in specs if not is_fresh(lake, spec, f)]
        if stale:
            changed.append((f, stale))
    return changed


def _requests(items, catalog: SourceCatalog, run_key_suffix: str = "") -> tuple[list, list]:
    run_requests, by_partitions = [], {}
    for landing_file, specs in items:
        for spec in specs:
            by_partitions.setdefault(spec.partitions_name, []).append(landing_file.relpath)
            run_requests.append(dg.RunRequest(
                job_name=ingest_job_name(spec),
                partition_key=landing_file.relpath,
                run_key=f"{spec.id}:{landing_file.relpath}:{landing_file.sha256[:16]}{run_key_suffix}",
                tags={"waterworks/file_sha256": landing_file.sha256, "waterworks/source": spec.id},
            ))
    return run_requests, by_partitions


def build_landing_sensor(settings: Settings, catalog: SourceCatalog, jobs: list) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_sensor",
        jobs=jobs,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Watches the landing folder; requests an ingest run for each new or changed file only "
        "(by sha256), then one plant run.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        previous = json.loads(context.cursor) if context.cursor else {}
        scan = scan_landing(Path(settings.landing_dir), catalog, known={k: tuple(v) for k, v in previous.items()})
        state = cursor_state(scan)
        changed = changed_files(scan, previous, Lake(str(settings.lake_uri)))
        if not changed:
            return dg.SensorResult(skip_reason=dg.SkipReason("no new or changed landing files"), cursor=json.dumps(state))
        run_requests, by_partitions = _requests(changed, catalog)
        digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
        run_requests.append(dg.RunRequest(job_name=PLANT_JOB, run_key=f"plant:{digest}"))
        return dg.SensorResult(
            run_requests=run_requests,
            dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest(name, keys)
                                         for name, keys in by_partitions.items()],
            cursor=json.dumps(state),
        )

    return landing_sensor


def build_daily_refresh(settings: Settings, catalog: SourceCatalog, jobs: dict) -> list[dg.ScheduleDefinition]:
    """Nightly full refresh: one schedule per source ingest job (a schedule targets one job) re-ingests every
    landing file of that source at 03:00 Asia/Shanghai; the plant job follows at 03:30."""

    def source_schedule(spec) -> dg.ScheduleDefinition:
        @dg.schedule(
            name=f"daily_refresh_{spec.id}",
            cron_schedule="0 3 * * *",
            execution_timezone="Asia/Shanghai",
            job=jobs[ingest_job_name(spec)],
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description=f"Every night at 03:00 (Asia/Shanghai): re-ingest every landing file of {spec.id}.",
        )
        def _refresh(context: dg.ScheduleEvaluationContext):
            scan = scan_landing(Path(settings.landing_dir), catalog)
            files = [(f, [spec]) for f in scan.for_source(spec.id)]
            run_requests, by_partitions = _requests(files, catalog,
                                                    f":{context.scheduled_execution_time:%Y%m%d}")
            keys = by_partitions.get(spec.partitions_name, [])
            known = set(context.instance.get_dynamic_partitions(spec.partitions_name))
            if missing := [k for k in keys if k not in known]:
                context.instance.add_dynamic_partitions(spec.partitions_name, missing)
            return run_requests or dg.SkipReason(f"no landing files for {spec.id}")

        return _refresh

    plant = dg.ScheduleDefinition(
        name="daily_refresh_plant",
        cron_schedule="30 3 * * *",
        execution_timezone="Asia/Shanghai",
        job=jobs[PLANT_JOB],
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every night at 03:30 (Asia/Shanghai), after the ingest refresh: the whole plant.",
    )
    return [source_schedule(spec) for spec in catalog.sources] + [plant]
