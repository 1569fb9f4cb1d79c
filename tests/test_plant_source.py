"""The source stage through real Dagster runs on a small demo estate (SQLite DAGSTER_HOME in a temp folder)."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import dagster as dg

from waterworks.assets.lake import Lake
from waterworks.pipelines.run import run_plant
from waterworks.pipelines.settings import project_root


def _expected(settings):
    return json.loads((settings.landing_dir / "estate.json").read_text())["files"]


def _raw(settings, source_id, relpath):
    return Lake(settings.lake_uri).read_parquet("raw", f"{source_id}/{relpath}.parquet")


def test_every_good_record_lands_once_with_provenance(plant):
    settings, first, _ = plant
    assert first.ok, first.errors or first.failed
    for relpath, exp in _expected(settings).items():
        if exp["file_quarantined"]:
            continue
        for source_id, units in exp["units"].items():
            table = _raw(settings, source_id, relpath)
            indexes = table.column("_record_index").to_pylist()
            assert sorted(indexes) == sorted(set(range(units)) - set(exp["quarantined_indexes"])), relpath
            assert set(table.column("_source_id").to_pylist()) == {source_id}
            assert set(table.column("_file_uri").to_pylist()) == {(settings.landing_dir / relpath).as_uri()}
            assert table.column("_file_sha256")[0].as_py() == \
                hashlib.sha256((settings.landing_dir / relpath).read_bytes()).hexdigest()
            assert table.column("_classification")[0].as_py() in {"public", "internal", "confidential", "restricted"}
            assert all(len(h) == 64 for h in table.column("_content_hash").to_pylist())
            assert table.column("_ingested_at").null_count == 0


def test_planted_values_sit_at_their_recorded_place(plant):
    """Provenance is right: the manifest's (file, row, column) finds the planted value in raw."""
    settings, _, _ = plant
    sources = {"crm/customers_gb18030.csv": "crm_customers", "branch_tw/customers_big5.csv": "tw_branch_customers",
               "hr/employees.xlsx": "hr_employees", "erp/erp.sqlite": "erp_customers"}
    rows = {rel: {r["_record_index"]: r for r in _raw(settings, src, rel).to_pylist()} for rel, src in sources.items()}
    checked = 0
    for line in (settings.landing_dir / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        loc = entry["location"]
        if entry["file"] in rows and "column" in loc and loc.get("table", "customers") == "customers":
            value = rows[entry["file"]][loc["row"]][loc["column"]]
            assert entry["value"] in str(value)
            checked += 1
    assert checked > 1000


def test_broken_files_and_records_are_quarantined_with_reasons(plant):
    settings, _, _ = plant
    lake = Lake(settings.lake_uri)
    for relpath, exp in _expected(settings).items():
        for source_id in exp["units"]:
            qpath = f"{source_id}/{relpath}.parquet"
            if exp["file_quarantined"]:
                q = lake.read_parquet("quarantine", qpath).to_pylist()
                assert len(q) == 1 and q[0]["position"] == "file"
                assert q[0]["reason"].startswith(exp["file_quarantined"]), (relpath, q[0]["reason"])
                assert not lake.exists("raw", qpath)
            elif exp["quarantined_indexes"]:
                q = lake.read_parquet("quarantine", qpath).to_pylist()
                assert sorted(r["record_index"] for r in q) == exp["quarantined_indexes"]
                assert all(r["reason"].startswith(exp["reason"]) and r["raw"] for r in q)
            else:
                assert not lake.exists("quarantine", qpath)
    unrouted = lake.read_parquet("quarantine", "_unrouted/inbox/scanned_contract.pdf.parquet").to_pylist()
    assert unrouted[0]["reason"] == "no source in the sources config matches this path"
    copies = list((Path(settings.lake_uri) / "quarantine" / "files").rglob("*"))
    assert {"legacy_export.csv", "empty_export.csv", "payroll_2023.xlsx", "scanned_contract.pdf"} <= \
        {p.name for p in copies}


def test_runs_materializations_and_accounting_checks_are_in_dagster(plant):
    settings, first, _ = plant
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == len(first.run_ids) and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        partitions = instance.get_dynamic_partitions("crm_customers_files")
        assert sorted(partitions) == sorted(k for k in _expected(settings) if k.startswith("crm/"))
        event = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("raw_crm_customers"),
                                  asset_partitions=["crm/customers_2023_ragged.csv"]), limit=1).records[0]
        meta = event.asset_materialization.metadata
        assert (meta["units_in"].value, meta["records_out"].value, meta["quarantined"].value) == (20, 17, 3)
        checks = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("raw_crm_customers"), "accounting_balanced"), limit=100)
        assert len(checks) == 4 and all(c.status.value == "SUCCEEDED" for c in checks)


def test_purification_assets_materialize_with_accounting_and_checks(plant):
    """The plant job materializes purified_records / purified_documents after the raw assets, with the
    accounting in their metadata and both blocking checks passed."""
    settings, _, _ = plant
    estate = json.loads((settings.landing_dir / "estate.json").read_text())
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        for asset in ("purified_records", "purified_documents"):
            event = instance.fetch_materializations(dg.AssetKey(asset), limit=1).records[0]
            meta = event.asset_materialization.metadata
            dropped = meta["rows_dropped"].value
            assert meta["rows_in"].value == meta["rows_out"].value + dropped > 0
            assert meta["dagster/row_count"].value == meta["rows_out"].value
            assert "in **" in meta["accounting"].value
            for check in ("schema_matches", "accounting_balanced"):
                history = instance.event_log_storage.get_asset_check_execution_history(
                    dg.AssetCheckKey(dg.AssetKey(asset), check), limit=5)
                assert history and history[0].status.value == "SUCCEEDED", (asset, check)
        meta = instance.fetch_materializations(dg.AssetKey("purified_documents"), limit=1).records[0] \
            .asset_materialization.metadata
        # Every planted copy was removed as a duplicate (plus the estate's natural duplicates).
        assert meta["rows_dropped"].value >= len(estate["duplicates"])
        assert "near_duplicate" in meta["dropped_by_reason"].value
        assert "zh-Hant" in meta["languages"].value or "zh-Hans" in meta["languages"].value


def test_second_run_over_unchanged_files_adds_nothing(plant):
    settings, first, _ = plant
    lake = Lake(settings.lake_uri)
    before = {p: lake.row_count("raw", p) for p in lake.list_parquet("raw")}
    hashes = {p: lake.read_parquet("raw", p).column("_content_hash").to_pylist() for p in lake.list_parquet("raw")
              if not p.startswith("_")}
    second = run_plant(settings, log=lambda _: None)
    assert second.ingested == [] and second.up_to_date == len(first.ingested) and second.ok
    assert {p: lake.row_count("raw", p) for p in lake.list_parquet("raw")} == before
    assert {p: lake.read_parquet("raw", p).column("_content_hash").to_pylist() for p in hashes} == hashes
    # what the plant job re-ran found its work done: no text analyzed again, no evaluation recomputed
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        latest = {key: instance.get_latest_materialization_event(dg.AssetKey(key)).asset_materialization.metadata
                  for key in ("sanitized_documents", "sanitized_records", "lm_evaluation", "classifier_evaluation",
                              "lake_catalog")}
    assert latest["sanitized_documents"]["texts_analyzed"].value == 0
    assert latest["sanitized_documents"]["texts_remembered"].value > 500
    assert latest["sanitized_records"]["texts_analyzed"].value == 0
    assert latest["lm_evaluation"]["remembered"].value and latest["classifier_evaluation"]["remembered"].value
    assert latest["lake_catalog"]["rewritten"].value is False


def test_sensor_requests_a_run_for_the_new_file_only(plant):
    settings, _, _ = plant
    from waterworks.pipelines.definitions import build_definitions

    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("landing_sensor")
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        first = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        cursor = first.cursor
        quiet = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
        assert not quiet.run_requests and quiet.skip_reason

        new = settings.landing_dir / "tickets" / "tickets_2025.jsonl"
        new.write_text('{"ticket_id": "N1", "body": "where is my card?"}\n', encoding="utf-8")
        tick = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
        ingest = [r for r in tick.run_requests if r.job_name.startswith("ingest_")]
        assert [(r.job_name, r.partition_key) for r in ingest] == [("ingest_support_tickets", "tickets/tickets_2025.jsonl")]
        # one shard run over the tick's new files of the source (a partition range: here one file), then the plant
        (shards,) = [r for r in tick.run_requests if r.job_name == "purify_shards_support_tickets"]
        assert shards.partition_key is None and shards.tags["dagster/asset_partition_range_start"] == \
            shards.tags["dagster/asset_partition_range_end"] == "tickets/tickets_2025.jsonl"
        assert [r.job_name for r in tick.run_requests][-1] == "plant_job" and len(tick.run_requests) == 3
        added = [(req.partitions_def_name, list(req.partition_keys)) for req in tick.dynamic_partitions_requests]
        assert added == [("support_tickets_files", ["tickets/tickets_2025.jsonl"])]

        # Touching a file without changing its bytes requests nothing; changing its bytes does.
        cursor = tick.cursor
        new.write_text('{"ticket_id": "N1", "body": "where is my card?"}\n', encoding="utf-8")
        same = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
        assert not same.run_requests
        new.write_text('{"ticket_id": "N1", "body": "where is my new card?"}\n', encoding="utf-8")
        changed = sensor(dg.build_sensor_context(instance=instance, cursor=same.cursor, definitions=defs))
        assert [r.partition_key for r in changed.run_requests if r.job_name.startswith("ingest_")] == \
            ["tickets/tickets_2025.jsonl"]
        new.unlink()


def test_definitions_validate_with_the_cli(tmp_path):
    env = {"DAGSTER_HOME": str(tmp_path), "WATERWORKS_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin",
           "DAGSTER_DISABLE_TELEMETRY": "1"}
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"], cwd=project_root(),
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "All code locations passed validation" in result.stderr + result.stdout


def test_sensor_first_tick_after_a_run_requests_nothing(plant):
    """Files already ingested by `waterworks run` are fresh: a sensor starting with no cursor leaves them."""
    settings, _, _ = plant
    from waterworks.pipelines.definitions import build_definitions

    defs = build_definitions(settings)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        tick = defs.resolve_sensor_def("landing_sensor")(dg.build_sensor_context(instance=instance, definitions=defs))
    assert not tick.run_requests and tick.skip_reason and tick.cursor
