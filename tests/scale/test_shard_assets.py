"""Issue 20, Dagster: the row-level purification is a shard asset per source on raw's dynamic partitions (one
per landing file), with a single-run backfill policy, so N files are one run and one job on the engine; the
table assets (global dedup, the tables) read the shards back instead of redoing them."""

import shutil

import dagster as dg

from waterworks.assets.lake import Lake
from waterworks.assets.purification.canonical import raw_files


def _materializations(instance, asset: str) -> list:
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=1000).records
    return [r.asset_materialization for r in records]


def test_the_plant_run_purifies_row_by_row_in_shard_runs_and_the_tables_reuse_them(plant):
    from waterworks.pipelines.settings import prepare_dagster_home

    settings, summary, lines = plant
    assert summary.ok and summary.purified  # one shard run per mapped source that had files
    prepare_dagster_home(settings)
    with dg.DagsterInstance.get() as instance:
        for table in ("records", "documents"):
            table_meta = _materializations(instance, f"purified_{table}")[-1].metadata
            assert table_meta["raw_files"].value > 0
            assert table_meta["raw_files_reused"].value == table_meta["raw_files"].value, table  # all from shards
        spec = settings.configs.sources.get("support_tickets")
        files = set(instance.get_dynamic_partitions(spec.partitions_name))
        shards = _materializations(instance, "purified_shards_support_tickets")
        assert len(files) > 1 and {m.partition for m in shards} == files
        assert len({m.metadata["landing_files"].value for m in shards}) == 1  # one materialization for them all:
        assert shards[0].metadata["landing_files"].value == len(files)      # every file of the source, one run


def test_a_range_of_landing_files_is_one_run_and_one_engine_job(plant, tmp_path):
    from waterworks.pipelines.automation import RANGE_END, RANGE_START
    from waterworks.pipelines.definitions import build_definitions
    from waterworks.pipelines.settings import Settings

    settings, _, _ = plant
    home = tmp_path / "home"
    shutil.copytree(settings.lake_uri + "/raw", home / "lake" / "raw")
    local = Settings(home=home, shards=2)  # two shards on the local engine: one job, two shard tasks
    lake = Lake(local.lake_uri)
    mapped = set(local.configs.purification.documents)
    spec = max((s for s in local.configs.sources.sources if s.id in mapped),  # the source with the most files
               key=lambda s: len(raw_files(lake, s.id)))
    keys = sorted(r.landing_path for r in raw_files(lake, spec.id))
    job = f"purify_shards_{spec.id}"
    assert len(keys) >= 3
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(spec.partitions_name, keys)
        result = build_definitions(local).resolve_job_def(job).execute_in_process(
            instance=instance, tags={RANGE_START: keys[0], RANGE_END: keys[-1]})
        assert result.success
        events = result.get_asset_materialization_events()
        assert sorted(e.partition for e in events) == keys  # every partition of the range, from one step
        meta = events[0].step_materialization_data.materialization.metadata
        assert meta["raw_files"].value == meta["landing_files"].value == len(keys)
        assert meta["shards"].value == 2 and meta["raw_files_reused"].value == 0
        again = build_definitions(local).resolve_job_def(job).execute_in_process(
            instance=instance, tags={RANGE_START: keys[0], RANGE_END: keys[1]})
        reused = again.get_asset_materialization_events()[0].step_materialization_data.materialization.metadata
        assert reused["raw_files"].value == reused["raw_files_reused"].value == 2  # cached: nothing redone
