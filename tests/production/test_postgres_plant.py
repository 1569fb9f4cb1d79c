"""The plant on PostgreSQL, for real: a throwaway server from Debian's package holds Dagster's run, event-log
and schedule storage (dagster-postgres) and MLflow's backend store (the sibling database ``<db>_mlflow``); the
whole plant runs on it (tiny profile), a second run adds nothing, and neither database holds a planted value."""

import os
import shutil

import dagster as dg
import psycopg2
import pytest

from assets.distribution.registry import CHAMPION, alias_version
from assets.distribution.tracking import mlflow_client
from tests.planted import planted_values
from tests.postgres import postgres_server

MODELS = ("waterworks-chat", "waterworks-intent-classifier")


@pytest.fixture(scope="module")
def pg_plant(tmp_path_factory, estate_dir):
    from pipelines.run import run_plant
    from pipelines.settings import Settings

    with postgres_server(("plant", "plant_mlflow")) as root:
        home = tmp_path_factory.mktemp("pg-plant")
        shutil.copytree(estate_dir, home / "landing")
        settings = Settings(home=home, training_profile="tiny", postgres_url=root + "plant")
        try:
            first = run_plant(settings, log=lambda line: None)
            yield settings, first, root
        finally:
            os.environ.pop("WATERWORKS_DAGSTER_POSTGRES_URL", None)  # later tests build their settings without it


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_the_whole_plant_runs_on_postgres(pg_plant):
    settings, first, root = pg_plant
    assert first.ok, first.failed
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


def test_a_second_run_on_postgres_adds_nothing(pg_plant):
    from pipelines.run import run_plant

    settings, _, root = pg_plant
    versions = _rows(root + "plant_mlflow", "SELECT name, version FROM model_versions ORDER BY 1, 2")
    second = run_plant(settings, log=lambda line: None)
    assert second.ok and second.ingested == [] and second.up_to_date > 0
    assert _rows(root + "plant_mlflow", "SELECT name, version FROM model_versions ORDER BY 1, 2") == versions


def test_no_planted_value_in_either_database(pg_plant):
    settings, _, root = pg_plant
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
