"""The production profile, for real, on one machine: a throwaway PostgreSQL from Debian's package holds
Dagster's run, event-log and schedule storage (dagster-postgres) and MLflow's backend store (the sibling
database ``<db>_mlflow``); an S3-compatible server (moto) holds the lake and MLflow's artifacts; steps run under
the multiprocess executor with the ``gpu`` pool holding training to one step at a time. The whole plant runs on
it (tiny preset; a quarter of the knowledge-base files), a second run ingests nothing, and neither database nor the object store's non-private zones and
artifacts hold a planted value."""

import os
import shutil

import dagster as dg
import psycopg2
import pytest

from tests.objectstore import s3_server
from tests.planted import planted_values
from tests.postgres import postgres_server
from waterworks.assets.distribution.registry import CHAMPION, alias_version
from waterworks.assets.lake import PRIVATE_ZONES, Lake
from waterworks.assets.tracking import mlflow_client

MODELS = ("waterworks-chat", "waterworks-intent-classifier")


@pytest.fixture(scope="module")
def pg_plant(tmp_path_factory, estate_dir):
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    with postgres_server(("plant", "plant_mlflow")) as root, s3_server(("lake", "mlflow")) as store:
        home = tmp_path_factory.mktemp("production-plant")
        shutil.copytree(estate_dir, home / "landing")
        documents = sorted(p for p in (home / "landing" / "docs").rglob("*") if p.is_file())
        for document in documents[1::4] + documents[2::4] + documents[3::4]:
            document.unlink()  # a quarter of the 55 knowledge-base files: each is an ingest run, and time counts
        saved = dict(os.environ)
        os.environ["WATERWORKS_PSEUDONYM_KEY"] = "the production test's pseudonym key"  # from a secret store
        settings = Settings(profile="production", home=home, training_preset="tiny", postgres_url=root + "plant",
                            lake_uri=store.lake_uri("lake", "plant"), mlflow_artifact_uri="s3://mlflow/artifacts",
                            executor="multiprocess", max_concurrent=2)
        try:
            first = run_plant(settings, log=lambda line: None)
            yield settings, first, root, store
        finally:  # run_plant exported the settings for the step processes; later tests choose their own
            os.environ.clear()
            os.environ.update(saved)


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_the_whole_plant_runs_on_postgres(pg_plant):
    settings, first, root, _ = pg_plant
    assert first.ok, first.errors or first.failed
    assert settings.mlflow_tracking_uri == root.replace("postgresql://", "postgresql+psycopg2://") + "plant_mlflow"
    assert "postgres" in (settings.dagster_home / "dagster.yaml").read_text()
    assert root not in (settings.dagster_home / "dagster.yaml").read_text()  # the URL stays in the environment
    assert not list(settings.dagster_home.rglob("*.db")) and not (settings.home / "mlflow" / "mlflow.db").exists()
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert instance.get_latest_materialization_event(dg.AssetKey("compliance_report")) is not None
    runs = {run_id: status for run_id, status in _rows(root + "plant", "SELECT run_id, status FROM runs")}
    assert set(first.run_ids) <= set(runs) and {runs[r] for r in first.run_ids} == {"SUCCESS"}
    checks = _rows(root + "plant", "SELECT check_name FROM asset_check_executions WHERE "
                   "execution_status = 'SUCCEEDED'")
    assert {"no_residual_pii", "training_policy_chat_model", "deployment_policy"} <= {c for (c,) in checks}
    client = mlflow_client(settings.mlflow_tracking_uri)
    for name in MODELS:
        assert alias_version(client, name, CHAMPION) is not None, name
    assert _rows(root + "plant_mlflow", "SELECT count(*) FROM registered_models")[0][0] == len(MODELS)
    assert (settings.bundles_dir / "edge").is_dir() and (settings.reports_dir / "latest.json").is_file()


def test_lake_and_artifacts_live_in_the_object_store(pg_plant):
    settings, _, _, store = pg_plant
    keys = store.keys("lake", "plant/")
    assert not (settings.home / "lake").exists()
    for zone in ("raw", "purified", "quarantine", "sanitized", "datasets"):
        assert any(k.startswith(f"plant/{zone}/") for k in keys), zone
    assert "plant/sanitized/documents/_table.json" in keys  # a table: its manifest and parts
    assert any(k.startswith("plant/sanitized/documents/g") and k.endswith(".parquet") for k in keys)
    assert any(k.startswith("plant/purified/analysis_memo/documents/") and k.endswith(".parquet") for k in keys)
    assert not [k for k in keys if k.rsplit("/", 1)[-1].startswith(".")]  # no temporary object left behind
    lake = Lake(settings.lake_uri)
    assert lake.table_rows("sanitized", "documents") == lake.table_rows("purified", "documents") > 0
    artifacts = store.keys("mlflow", "artifacts/")
    assert any(k.endswith("/MLmodel") for k in artifacts) and any(k.endswith("lineage.json") for k in artifacts)
    client = mlflow_client(settings.mlflow_tracking_uri)
    assert client.get_experiment_by_name("waterworks").artifact_location.startswith("s3://mlflow/artifacts")
    from waterworks.assets.datasets.catalog import (
        query_catalog,  # DuckDB reads the object store through httpfs
    )

    _, rows = query_catalog(lake, settings.catalog_file, "SELECT count(*) FROM sanitized_documents")
    assert rows[0][0] == lake.table_rows("sanitized", "documents")


def test_steps_ran_in_processes_and_training_one_at_a_time(pg_plant):
    _, first, _, _ = pg_plant
    with dg.DagsterInstance.get() as instance:
        plant_run = next(r for r in first.run_ids if instance.get_run_by_id(r).job_name == "plant_job")
        events = instance.all_logs(plant_run)
    workers = {e.dagster_event.pid for e in events
               if e.dagster_event and e.dagster_event.event_type_value == "STEP_WORKER_STARTED"}
    assert len(workers) > 10  # a process per step
    spans = {}
    for event in events:
        kind = event.dagster_event.event_type_value if event.dagster_event else None
        if kind in ("STEP_START", "STEP_SUCCESS") and event.step_key in (
                "pretrained_lm", "chat_model", "intent_classifier", "lm_evaluation"):
            spans.setdefault(event.step_key, []).append(event.timestamp)
    assert len(spans) == 4
    ordered = sorted((min(t), max(t)) for t in spans.values())
    assert all(end <= start for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False))  # never overlapping


def test_a_second_run_ingests_nothing_judged_from_the_object_store(pg_plant):
    """Freshness comes from the raw outputs' Parquet footers, read from the bucket."""
    from waterworks.pipelines.run import run_plant

    settings, first, _, store = pg_plant
    keys = store.keys("lake", "plant/raw/")
    second = run_plant(settings, log=lambda line: None, ingest_only=True)
    assert second.ok and second.ingested == [] and second.up_to_date == len(first.ingested)
    assert store.keys("lake", "plant/raw/") == keys


def test_no_planted_value_in_either_database(pg_plant):
    settings, _, root, _ = pg_plant
    values = planted_values(settings.landing_dir)
    dumps = []
    for database in ("plant", "plant_mlflow"):
        tables = _rows(root + database, "SELECT table_name FROM information_schema.tables WHERE "
                       "table_schema = 'public'")
        for (table,) in tables:
            dumps.extend(str(row) for row in _rows(root + database, f'SELECT * FROM "{table}"'))
    text = "\n".join(dumps)
    assert "raw_support_tickets" in text and "waterworks-chat" in text  # both stores were read
    assert sorted(v for v in values if v in text)[:3] == []


def test_no_planted_value_in_the_object_store_outside_the_private_zones(pg_plant):
    settings, _, _, store = pg_plant
    values = planted_values(settings.landing_dir)
    lake = Lake(settings.lake_uri)
    texts = []
    for zone in ("sanitized", "datasets"):
        assert zone not in PRIVATE_ZONES
        for relpath in lake.list_parquet(zone):
            texts.append(str(lake.read_parquet(zone, relpath).to_pylist()))
    client = store.client()
    for key in store.keys("mlflow"):
        if not key.endswith((".safetensors", ".bin", ".onnx", ".pt", ".pkl")):
            texts.append(client.get_object(Bucket="mlflow", Key=key)["Body"].read().decode("utf-8", "replace"))
    text = "\n".join(texts)
    assert "<PERSON>" in text or "<PHONE_NUMBER>" in text  # the sanitized zone was read
    assert sorted(v for v in values if v in text)[:3] == []
