"""DuckDB with extensions loaded from their PyPI wheels (``duckdb-extension-<name>``), by path: DuckDB would
otherwise download them at first use, which is impossible offline. Used by the SQLite reader (sqlite_scanner)
and the lake catalog on an object store (httpfs)."""

from __future__ import annotations

import importlib
from pathlib import Path


def extension_file(name: str) -> str:
    module = importlib.import_module(f"duckdb_extension_{name}")
    files = sorted(Path(module.__file__).parent.glob(f"extensions/*/{name}.duckdb_extension"))
    if not files:
        raise RuntimeError(f"the package duckdb-extension-{name} holds no extension file")
    return str(files[-1])


def connect(database: str = ":memory:", extensions: tuple[str, ...] = ()):
    """A DuckDB connection to ``database`` with ``extensions`` loaded."""
    import duckdb

    connection = duckdb.connect(database)
    for name in extensions:
        connection.execute(f"LOAD '{extension_file(name)}'")
    return connection
