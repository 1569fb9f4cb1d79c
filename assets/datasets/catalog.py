"""The lake's shareable zones queryable together through DuckDB: a catalog file with the sanitized tables and
the PII audit ledgers (copied in, rows of the classifications the policy shows only) and views over the current
version of every dataset split — never a private zone (raw, purified, quarantine), so the catalog can be handed
to analysts.

    waterworks query "SELECT source_id, count(*) FROM sanitized_documents GROUP BY 1"

The sanitized tables are copied rather than viewed so that a query needs no access to the sanitized files
themselves: rows of a classification the policy keeps out of the catalog (``sanitized: {restricted: {catalog:
false}}``) are not in the file at all, and ``waterworks query`` runs with file access limited to the datasets
zone. Each copy is remade only when its Parquet file's content changed (sha256). On an object store
the catalog reads through DuckDB's httpfs extension (the ``duckdb-extension-httpfs`` wheel, loaded from its
package folder, no download). The catalog is written to a temporary file and renamed into place; one writer at a
time (the Dagster pool ``duckdb``).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..duckdb_extensions import connect
from ..lake import Lake
from .build import CHAT, CLASSIFICATION, CORPUS
from .store import SPLITS, ZONE, current_version

# catalog table → (zone, the lake table of parts or the single Parquet file it is made from)
TABLES = {"sanitized_records": ("sanitized", "records"),
          "sanitized_documents": ("sanitized", "documents"),
          "pii_ledger_records": ("sanitized", "ledger/records.parquet"),
          "pii_ledger_documents": ("sanitized", "ledger/documents.parquet")}


def _files(lake: Lake, zone: str, name: str) -> list[str]:
    """The relpaths behind a catalog table: a lake table's current parts, or one file."""
    if name.endswith(".parquet"):
        return [name] if lake.exists(zone, name) else []
    return lake.table_parts(zone, name)


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


def build_catalog(lake: Lake, path: Path, shown: list[str] | None = None) -> Catalog:
    """(Re)write the catalog at ``path``: a table per sanitized table and ledger (``shown``: the classifications
    whose sanitized rows it holds; None: all), a view per current dataset split (``<dataset>_<split>``);
    returns the views with the rows each answers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    catalog = Catalog(path)
    statements: dict[str, str] = {}
    definitions: dict[str, str] = {}  # what each statement is made of, without the parts' names (which change)
    for name, (zone, table) in TABLES.items():
        files = _files(lake, zone, table)
        if files:
            uris = ", ".join(_quoted(lake.uri(zone, f)) for f in files)
            source = f"read_parquet([{uris}], union_by_name = true)"
            shown_only = shown is not None and "classification" in lake.columns(zone, files[0])
            where = f" WHERE classification IN ({', '.join(map(_quoted, shown))})" if shown_only and shown else \
                (" WHERE false" if shown_only else "")
            statements[name] = f"CREATE TABLE {name} AS SELECT * FROM {source}{where}"
            definitions[name] = f"{zone}/{table}{where} -- {_stamp(lake, zone, files)}"
    for dataset in (CHAT, CLASSIFICATION, CORPUS):
        if lake.exists(ZONE, f"{dataset}/current.json"):
            version = current_version(lake, dataset)
            catalog.datasets[dataset] = version
            for split in SPLITS:
                uri = lake.uri(ZONE, f"{dataset}/{version}/{split}.parquet")
                statements[f"{dataset}_{split}"] = f"CREATE VIEW {dataset}_{split} AS SELECT * FROM " \
                                                   f"read_parquet({_quoted(uri)})"
                definitions[f"{dataset}_{split}"] = statements[f"{dataset}_{split}"]
    if _current_definitions(path) == definitions:  # nothing new in the lake's shareable zones: keep the file
        with _open_read_only(path) as connection:
            catalog.views = {name: connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                             for name in statements}
        catalog.unchanged = True
        return catalog
    try:
        connection = _connect(str(temp), lake)
        try:
            connection.execute(f"CREATE TABLE {DEFINITIONS} (name VARCHAR, definition VARCHAR)")
            for name, statement in statements.items():
                connection.execute(statement)
                connection.execute(f"INSERT INTO {DEFINITIONS} VALUES (?, ?)", [name, definitions[name]])
                catalog.views[name] = connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            connection.execute("CHECKPOINT")
        finally:
            connection.close()
        os.replace(temp, path)
        os.chmod(path, 0o640)  # shareable: readable by the group at most
    finally:
        for leftover in (temp, temp.with_name(temp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return catalog


DEFINITIONS = "_catalog_definitions"  # what each table and view was made from: a rebuild is skipped when equal


def _stamp(lake: Lake, zone: str, files: list[str]) -> str:
    """The files' content hash, in order (not their names: a new generation of parts gets new names):
    sanitation rewrites its tables on every run, often with the same bytes."""
    digest = hashlib.sha256()
    for relpath in files:
        with lake.fs.open_input_stream(lake.path(zone, relpath)) as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def _open_read_only(path: Path):
    import duckdb

    return duckdb.connect(str(path), read_only=True)


def _current_definitions(path: Path) -> dict[str, str] | None:
    """What the catalog at ``path`` was made from; None when there is none (or it is unreadable)."""
    if not path.is_file():
        return None
    import duckdb

    try:
        with _open_read_only(path) as connection:
            rows = connection.execute(f"SELECT name, definition FROM {DEFINITIONS}").fetchall()
    except duckdb.Error:
        return None  # unreadable or from an older layout: rewrite it
    return dict(rows)


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
    """Run one SELECT against the catalog, in a sandbox: the catalog attached read-only, file access limited to
    the datasets zone that its views read, configuration locked — a query cannot read raw, purified or sanitized
    files, local files, write files or attach databases. Returns (columns, rows)."""
    import duckdb

    single_select(sql)
    connection = _connect(":memory:", lake)
    try:
        connection.execute(f"ATTACH {_quoted(str(path))} AS catalog (READ_ONLY)")
        connection.execute("USE catalog")
        connection.execute(f"SET allowed_directories = [{_quoted(lake.uri(ZONE, ''))}]")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
        try:
            result = connection.execute(sql)
        except duckdb.PermissionException as exc:
            raise QueryRefused(f"refused: only the catalog's tables and views can be read ({exc})") from None
        return [d[0] for d in result.description], result.fetchall()
    finally:
        connection.close()
