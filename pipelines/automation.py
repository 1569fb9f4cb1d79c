"""The landing sensor (new or changed files, by content hash) and the daily full refresh — and the one rule
both they and ``waterworks run`` (pipelines/run.py) use to decide what to ingest: ``stale_files``, turned into
the same run requests (job, partition, tags) by ``ingest_requests``, then one shard run per source over the
files just ingested (``shard_requests``: a partition range in one run), then the plant run."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from waterworks.assets.lake import Lake
from waterworks.assets.source.catalog import SourceCatalog
from waterworks.assets.source.ingest import is_fresh
from waterworks.assets.source.landing import LandingScan, scan_landing

from .jobs import PLANT_JOB, ingest_job_name, shard_job_name
from .settings import Settings

# The run tags of a partition range in one run (what a single-run backfill sets), as Dagster names them.
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def cursor_state(scan: LandingScan) -> dict[str, list]:
    return {f.relpath: [f.size, f.mtime_ns, f.sha256] for f, _ in scan.routed}


def stale_files(scan: LandingScan, lake: Lake, previous: dict[str, list] | None = None,
                full: bool = False) -> list:
    """The freshness rule: each routed file with the sources whose raw output does not already hold its bytes
    (content hash, source and reader versions, read from the output's footer), skipping at once the files whose
    hash is the one ``previous`` (a sensor cursor) recorded; ``full``: every routed file for every source."""
    if full:
        return list(scan.routed)
    stale_list = []
    for f, specs in scan.routed:
        if previous and f.relpath in previous and previous[f.relpath][2] == f.sha256:
            continue
        stale = [spec for spec in specs if not is_fresh(lake, spec, f)]
        if stale:
            stale_list.append((f, stale))
    return stale_list


def ingest_requests(items, run_key_suffix: str = "") -> tuple[list[dg.RunRequest], dict[str, list[str]]]:
    """One ingest run request per (file, source) — the job, partition, run key and tags every launcher uses —
    and the partition keys to add, per partitions definition."""
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


def shard_requests(catalog: SourceCatalog, purification, by_partitions: dict[str, list[str]],
                   order_of, run_key_suffix: str = "") -> list[dg.RunRequest]:
    """One run request per mapped source with ingested files: its shard job over the partition range (in the
    order ``order_of(partitions_name)`` gives, this tick's new keys included) that spans those files. Files in
    between that did not change are reused from their cache, so a range costs the work of its new files."""
    mapped = set(purification.records) | set(purification.documents)
    requests = []
    for spec in catalog.sources:
        keys = by_partitions.get(spec.partitions_name)
        if not keys or spec.id not in mapped:
            continue
        order = {key: i for i, key in enumerate(order_of(spec.partitions_name))}
        ranked = sorted(keys, key=order.__getitem__)
        digest = hashlib.sha256("\n".join(ranked).encode()).hexdigest()[:16]
        requests.append(dg.RunRequest(job_name=shard_job_name(spec), run_key=f"shards:{spec.id}:{digest}{run_key_suffix}",
                                      tags={RANGE_START: ranked[0], RANGE_END: ranked[-1],
                                            "waterworks/source": spec.id}))
    return requests


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
        changed = stale_files(scan, Lake(str(settings.lake_uri)), previous)
        if not changed:
            return dg.SensorResult(skip_reason=dg.SkipReason("no new or changed landing files"), cursor=json.dumps(state))
        run_requests, by_partitions = ingest_requests(changed)

        def order_of(name: str) -> list[str]:  # the instance's keys, then the ones this tick adds
            known = context.instance.get_dynamic_partitions(name)
            return [*known, *(k for k in dict.fromkeys(by_partitions.get(name, [])) if k not in set(known))]

        run_requests += shard_requests(catalog, settings.configs.purification, by_partitions, order_of)
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
            run_requests, by_partitions = ingest_requests(files, f":{context.scheduled_execution_time:%Y%m%d}")
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
