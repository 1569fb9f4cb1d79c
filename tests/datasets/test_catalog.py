"""The DuckDB catalog of the shareable zones, as the plant wrote it: a view per sanitized table, PII ledger and
current dataset split, answering what the lake holds; no view over a private zone; `waterworks query` reads it;
a bad query is an error message, not a traceback."""

import os
import subprocess
import sys

import dagster as dg
import duckdb
import polars as pl

from waterworks.assets.datasets.catalog import query_catalog
from waterworks.assets.datasets.store import current_version
from waterworks.assets.lake import PRIVATE_ZONES, Lake


def test_the_plant_writes_a_catalog_of_the_shareable_zones(plant):
    settings, _, _ = plant
    lake = Lake(settings.lake_uri)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("lake_catalog"))
    assert event is not None and "| sanitized_documents |" in event.asset_materialization.metadata["views"].value
    _, counts = query_catalog(lake, settings.catalog_file, "SELECT (SELECT count(*) FROM sanitized_documents), "
                              "(SELECT count(*) FROM sanitized_records), (SELECT count(*) FROM chat_train)")
    records = pl.from_arrow(lake.read_table("sanitized", "records"))
    assert counts[0][0] == lake.table_rows("sanitized", "documents") > 0
    assert counts[0][1] == records.filter(pl.col("classification") != "restricted").height > 0
    version = current_version(lake, "chat")
    assert counts[0][2] == lake.row_count("datasets", f"chat/{version}/train.parquet")
    with duckdb.connect(str(settings.catalog_file), read_only=True) as connection:
        definitions = connection.execute("SELECT name, definition FROM _catalog_definitions").fetchall()
        classifications = {c for (c,) in connection.execute(
            "SELECT DISTINCT classification FROM sanitized_records").fetchall()}
    assert {"pii_ledger_documents", "classification_test", "corpus_validation"} <= {name for name, _ in definitions}
    for name, sql in definitions:
        assert not any(f"/{zone}/" in sql for zone in PRIVATE_ZONES), name
    # the policy keeps restricted rows (HR) out of the catalog, though they are in the sanitized zone
    assert "restricted" not in classifications and "confidential" in classifications
    assert "restricted" in set(pl.from_arrow(lake.read_table("sanitized", "records"))["classification"])


def test_waterworks_query_prints_rows_and_names_a_bad_query(plant):
    settings, _, _ = plant
    env = {**os.environ, "WATERWORKS_HOME": str(settings.home)}
    command = [sys.executable, "-m", "waterworks.pipelines.cli", "query"]
    out = subprocess.run([*command, "SELECT source_id, count(*) AS n FROM sanitized_documents GROUP BY 1 ORDER BY 1"],
                         capture_output=True, text=True, env=env, check=True).stdout.splitlines()
    assert out[0] == "source_id\tn" and any(line.startswith("support_tickets\t") for line in out[1:])
    bad = subprocess.run([*command, "SELECT * FROM raw_support_tickets"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "raw_support_tickets" in bad.stderr and "Traceback" not in bad.stderr


def test_every_escape_from_the_shareable_views_is_refused(plant, tmp_path):
    import pytest

    from waterworks.assets.datasets.catalog import QueryRefused

    settings, _, _ = plant
    lake, root = Lake(settings.lake_uri), settings.home / "lake"
    target = tmp_path / "written.csv"
    escapes = {
        "raw parquet": f"SELECT * FROM read_parquet('{root}/raw/**/*.parquet')",
        "purified": f"SELECT * FROM read_parquet('{root}/purified/documents/*/*.parquet')",
        "the sanitized files behind the filtered tables": f"SELECT * FROM read_parquet('{root}/sanitized/records/*/*.parquet')",
        "dot-dot from a shareable zone": f"SELECT * FROM read_parquet('{root}/sanitized/../raw/**/*.parquet')",
        "a local file": "SELECT * FROM read_csv('/etc/passwd')",
        "copy to a file": f"COPY (SELECT 1) TO '{target}'",
        "copy into a shareable zone": f"COPY (SELECT 1) TO '{root}/sanitized/x.csv'",
        "attach": f"ATTACH '{tmp_path}/new.duckdb' AS other",
        "unlock the configuration": "SET enable_external_access = true",
        "two statements": "SELECT 1; SELECT 2",
        "create": "CREATE TABLE t AS SELECT 1",
        "export the database": f"EXPORT DATABASE '{tmp_path}/export'",
    }
    for name, sql in escapes.items():
        with pytest.raises(QueryRefused):
            query_catalog(lake, settings.catalog_file, sql)
        assert not target.exists() and not (root / "sanitized" / "x.csv").exists(), name
    assert not (tmp_path / "export").exists() and not (tmp_path / "new.duckdb").exists()
    assert query_catalog(lake, settings.catalog_file, "SELECT count(*) FROM pii_ledger_records")[1][0][0] > 0


def test_waterworks_query_on_raw_parquet_exits_non_zero_with_a_clear_message(plant):
    settings, _, _ = plant
    env = {**os.environ, "WATERWORKS_HOME": str(settings.home)}
    raw = settings.home / "lake" / "raw" / "**" / "*.parquet"
    result = subprocess.run([sys.executable, "-m", "waterworks.pipelines.cli", "query", f"SELECT * FROM read_parquet('{raw}')"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "refused" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
