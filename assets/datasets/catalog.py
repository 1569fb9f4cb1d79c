"""The lake's shareable zones queryable together through DuckDB: a small catalog file of views over the
sanitized tables, the PII audit ledgers and the current version of every dataset split — never a private
zone (raw, purified, quarantine), so the catalog can be handed to analysts.

    duckdb .waterworks/catalog.duckdb "SELECT source_id, count(*) FROM sanitized_documents GROUP BY 1"

The views name the Parquet files, so the catalog stays small and always reads what the lake holds. On an
object store the views read through DuckDB's httpfs extension (the ``duckdb-extension-httpfs`` wheel, loaded
from its package folder, no download); a reader supplies credentials with ``CREATE SECRET``. The catalog is
written to a temporary file and renamed into place; one writer at a time (the Dagster pool ``duckdb``).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..duckdb_extensions import connect
from ..lake import Lake
from .build import CHAT, CLASSIFICATION, CORPUS
from .store import SPLITS, ZONE, current_version

TABLES = {"sanitized_records": ("sanitized", "records.parquet"),
          "sanitized_documents": ("sanitized", "documents.parquet"),
          "pii_ledger_records": ("sanitized", "ledger/records.parquet"),
          "pii_ledger_documents": ("sanitized", "ledger/documents.parquet")}


@dataclass
class Catalog:
    path: Path
    views: dict[str, int] = field(default_factory=dict)  # view → rows it answers
    datasets: dict[str, str] = field(default_factory=dict)  # dataset → version the views show
    unchanged: bool = False  # the file already held these views and was left as it was


def _connect(database: str, lake: Lake):
    connection = connect(database, () if lake.local else ("httpfs",))
    if not lake.local:
        connection.execute(_s3_secret(lake.root))
    return connection


def _s3_secret(root: str) -> str:
    """A temporary (in-memory) secret for this connection: keys from the AWS variables, endpoint from the lake
    URI's query. Never written into the catalog file."""
    query = {k: v[-1] for k, v in parse_qs(urlsplit(root).query).items()}
    options = {"KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", ""), "SECRET": os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
               "REGION": query.get("region") or os.environ.get("AWS_REGION", "us-east-1")}
    if "endpoint_override" in query:
        options |= {"ENDPOINT": query["endpoint_override"], "URL_STYLE": "path",
                    "USE_SSL": str(query.get("scheme", "https") == "https").lower()}
    body = ", ".join(f"{k} '{v}'" if k != "USE_SSL" else f"{k} {v}" for k, v in options.items())
    return f"CREATE OR REPLACE TEMPORARY SECRET lake (TYPE s3, {body})"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def build_catalog(lake: Lake, path: Path) -> Catalog:
    """(Re)write the catalog at ``path``: one view per sanitized table and ledger, one per current dataset split
    (``<dataset>_<split>``); returns the views with the rows each answers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    catalog = Catalog(path)
    sources = {view: (zone, relpath) for view, (zone, relpath) in TABLES.items() if lake.exists(zone, relpath)}
    for name in (CHAT, CLASSIFICATION, CORPUS):
        if lake.exists(ZONE, f"{name}/current.json"):
            version = current_version(lake, name)
            catalog.datasets[name] = version
            sources |= {f"{name}_{split}": (ZONE, f"{name}/{version}/{split}.parquet") for split in SPLITS}
    statements = {view: f"CREATE VIEW {view} AS SELECT * FROM read_parquet({_quoted(lake.uri(zone, relpath))})"
                  for view, (zone, relpath) in sources.items()}
    if _current_views(path) == statements:  # nothing new in the lake's shareable zones: keep the file as it is
        catalog.views = {view: lake.row_count(zone, relpath) for view, (zone, relpath) in sources.items()}
        catalog.unchanged = True
        return catalog
    try:
        connection = _connect(str(temp), lake)
        try:
            for view, statement in statements.items():
                connection.execute(statement)
                catalog.views[view] = connection.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
            connection.execute("CHECKPOINT")
        finally:
            connection.close()
        os.replace(temp, path)
    finally:
        for leftover in (temp, temp.with_name(temp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return catalog


def _current_views(path: Path) -> dict[str, str] | None:
    """The views of the catalog at ``path`` as their CREATE statements; None when there is none."""
    if not path.is_file():
        return None
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            rows = connection.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()
    except duckdb.Error:
        return None  # unreadable: rewrite it
    return {view: sql.rstrip(";") for view, sql in rows}


class QueryRefused(ValueError):
    """A query outside what ``waterworks query`` answers (the message says why)."""


def single_select(sql: str) -> None:
    """Refuse anything but exactly one SELECT: no COPY, ATTACH, SET, PRAGMA, CREATE, several statements."""
    import duckdb

    try:
        statements = duckdb.connect(":memory:").extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"not valid SQL: {exc}") from None
    if len(statements) != 1:
        raise QueryRefused(f"one SELECT statement per call, this text holds {len(statements)}")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise QueryRefused(f"only SELECT is answered, not {statements[0].type.name}: the catalog is read-only")


def query_catalog(lake: Lake, path: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Run one SELECT against the catalog's views, in a sandbox: the catalog attached read-only, file access
    limited to the shareable zones (sanitized, datasets) that the views read, configuration locked — a query
    cannot read raw or purified data, local files, write files or attach databases. Returns (columns, rows)."""
    import duckdb

    single_select(sql)
    connection = _connect(":memory:", lake)
    try:
        connection.execute(f"ATTACH {_quoted(str(path))} AS catalog (READ_ONLY)")
        connection.execute("USE catalog")
        shareable = ", ".join(_quoted(lake.uri(zone, "")) for zone in ("sanitized", ZONE))
        connection.execute(f"SET allowed_directories = [{shareable}]")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
        try:
            result = connection.execute(sql)
        except duckdb.PermissionException as exc:
            raise QueryRefused(f"refused: only the catalog's views over the shareable zones can be read ({exc})") \
                from None
        return [d[0] for d in result.description], result.fetchall()
    finally:
        connection.close()
