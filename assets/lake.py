"""The lake: Parquet zones under one root (a local folder or an object-store URI), written atomically.

Readers never see a partial file: locally a file is written beside its target and renamed over it (atomic on
POSIX); on an object store a PUT is atomic per object. Zones: raw, purified, quarantine, sanitized, datasets.

A stage's output *table* is a folder of parts, not one file: ``<zone>/<name>/<generation>/part-….parquet``,
written by the workers that computed them, and ``<zone>/<name>/_table.json``, the manifest naming the current
generation's parts (with their rows) and the table's metadata. The manifest is written last, in one atomic
write, so a reader sees the old table or the new one, never a mix; older generations are deleted after it.
Parts sort by name, and the table's rows are its parts' rows in that order.
Everything upstream of ``sanitized`` (and quarantine) is private: it may hold personal data.

Locally, private zones are owner-only (folders 0700, files 0600) and shareable zones readable by the group at
most (0750 / 0640), whatever the process umask; every entry point also sets umask 077 (``restrict_umask``) so
nothing else it writes (Dagster and MLflow stores, caches, reports) is world-readable. On an object store,
access is the bucket's policy and encryption at rest the bucket's default encryption (production profile).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from waterworks.governance.files import replace_atomically, write_atomically

PRIVATE_ZONES = ("raw", "purified", "quarantine")
ROW_GROUP_ROWS = 50_000  # a reader of a row range (a file run of a part) reads about this much more at most
META_PREFIX = b"waterworks."
PRIVATE_MODES = (0o700, 0o600)  # (folders, files)
SHAREABLE_MODES = (0o750, 0o640)
MANIFEST = "_table.json"


def part_name(*index: int) -> str:
    """A part's file name; parts sort (and concatenate) in the order of their indices."""
    return "part-" + "-".join(f"{i:05d}" for i in index) + ".parquet"


def restrict_umask() -> None:
    """Files this process creates are owner-only unless a caller widens them (called by every entry point)."""
    os.umask(0o077)


def modes_for(zone: str) -> tuple[int, int]:
    return PRIVATE_MODES if zone in PRIVATE_ZONES else SHAREABLE_MODES


def _chmod_if_needed(path: str, mode: int) -> None:
    if os.stat(path).st_mode & 0o777 != mode:
        os.chmod(path, mode)


@dataclass
class Lake:
    root: str

    def __post_init__(self) -> None:
        self.fs, self.base = pafs.FileSystem.from_uri(self.root) if "://" in self.root else \
            (pafs.LocalFileSystem(), os.path.abspath(self.root))
        self.local = isinstance(self.fs, pafs.LocalFileSystem)

    def path(self, zone: str, relpath: str) -> str:
        return f"{self.base.rstrip('/')}/{zone}/{relpath}"

    def uri(self, zone: str, relpath: str) -> str:
        """Where a file is, for people and metadata: a local path, or ``s3://bucket/…`` — without the root's
        connection options (``?endpoint_override=…&region=…``), which belong to the settings, not to a name."""
        if self.local:
            return self.path(zone, relpath)
        return f"{self.root.split('?', 1)[0].rstrip('/')}/{zone}/{relpath}"

    def write_parquet(self, zone: str, relpath: str, table: pa.Table, metadata: dict[str, str] | None = None) -> str:
        """Write ``table`` with our key/value metadata; atomic for readers. Returns the file's URI."""
        if metadata:
            merged = dict(table.schema.metadata or {})
            merged.update({META_PREFIX + k.encode(): v.encode() for k, v in metadata.items()})
            table = table.replace_schema_metadata(merged)
        target = self.path(zone, relpath)
        self._parent(zone, target)  # the folders, with the zone's modes
        if self.local:
            replace_atomically(target, lambda temp: pq.write_table(table, temp, filesystem=self.fs, compression="zstd",
                                                                   row_group_size=ROW_GROUP_ROWS), modes_for(zone)[1])
        else:
            pq.write_table(table, target, filesystem=self.fs, compression="zstd", row_group_size=ROW_GROUP_ROWS)
        return self.uri(zone, relpath)

    def read_rows(self, zone: str, relpath: str, start: int, stop: int, columns: list[str] | None = None) -> pa.Table:
        """Rows ``start`` to ``stop`` (exclusive) of one file, reading only the row groups that hold them."""
        with self.fs.open_input_file(self.path(zone, relpath)) as handle:
            parquet = pq.ParquetFile(handle)
            groups, first, offset = [], None, 0
            for i in range(parquet.metadata.num_row_groups):
                size = parquet.metadata.row_group(i).num_rows
                if offset + size > start and offset < stop:
                    groups.append(i)
                    first = offset if first is None else first
                offset += size
            if not groups:
                return parquet.schema_arrow.empty_table().select(columns) if columns else \
                    parquet.schema_arrow.empty_table()
            table = parquet.read_row_groups(groups, columns=columns)
        return table.slice(start - first, stop - start)

    def write_bytes(self, zone: str, relpath: str, data: bytes) -> str:
        target = self.path(zone, relpath)
        self._parent(zone, target)  # the folders, with the zone's modes
        if not self.local:
            with self.fs.open_output_stream(target) as out:
                out.write(data)
            return self.uri(zone, relpath)
        write_atomically(target, data, modes_for(zone)[1])
        return self.uri(zone, relpath)

    def _parent(self, zone: str, target: str) -> str:
        """The target's folder, created; locally every folder from the lake root down gets its zone's mode."""
        parent = target.rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)
        if self.local:
            folder_mode = modes_for(zone)[0]
            root = self.base.rstrip("/")
            _chmod_if_needed(root, SHAREABLE_MODES[0])
            folders = [f"{root}/{zone}"]
            for part in filter(None, parent[len(folders[0]):].split("/")):
                folders.append(f"{folders[-1]}/{part}")
            for folder in folders:
                _chmod_if_needed(folder, folder_mode)
        return parent

    def exists(self, zone: str, relpath: str) -> bool:
        return self.fs.get_file_info(self.path(zone, relpath)).type == pafs.FileType.File

    def delete(self, zone: str, relpath: str) -> None:
        if self.exists(zone, relpath):
            self.fs.delete_file(self.path(zone, relpath))

    def read_parquet(self, zone: str, relpath: str, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(self.path(zone, relpath), filesystem=self.fs, columns=columns)

    def row_count(self, zone: str, relpath: str) -> int:
        """Rows of one Parquet file from its footer (no data read); 0 when the file does not exist."""
        if not self.exists(zone, relpath):
            return 0
        with self.fs.open_input_file(self.path(zone, relpath)) as handle:
            return pq.read_metadata(handle).num_rows

    def columns(self, zone: str, relpath: str) -> list[str]:
        """Column names of one Parquet file (reads only the footer)."""
        return self.schema(zone, relpath).names

    def schema(self, zone: str, relpath: str) -> pa.Schema:
        """The Arrow schema of one Parquet file (reads only the footer)."""
        with self.fs.open_input_file(self.path(zone, relpath)) as handle:
            return pq.read_schema(handle)

    def footer(self, zone: str, relpath: str) -> tuple[dict[str, str], int] | None:
        """Our key/value metadata and the row count of one file, from one read of its footer; None when absent."""
        if not self.exists(zone, relpath):
            return None
        with self.fs.open_input_file(self.path(zone, relpath)) as handle:
            footer = pq.read_metadata(handle)
        meta = footer.schema.to_arrow_schema().metadata or {}
        return ({k[len(META_PREFIX):].decode(): v.decode() for k, v in meta.items() if k.startswith(META_PREFIX)},
                footer.num_rows)

    def parquet_metadata(self, zone: str, relpath: str) -> dict[str, str] | None:
        """Our key/value metadata of one file (cheap: reads only the footer); None when absent."""
        if not self.exists(zone, relpath):
            return None
        with self.fs.open_input_file(self.path(zone, relpath)) as handle:
            meta = pq.read_schema(handle).metadata or {}
        return {k[len(META_PREFIX):].decode(): v.decode() for k, v in meta.items() if k.startswith(META_PREFIX)}

    def list_parquet(self, zone: str, prefix: str = "") -> list[str]:
        """Relative paths of the Parquet files under ``zone/prefix``, sorted; hidden temp files excluded."""
        base = self.path(zone, prefix).rstrip("/")
        info = self.fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
        zone_base = self.path(zone, "")
        return sorted(i.path[len(zone_base):] for i in info
                      if i.type == pafs.FileType.File and i.path.endswith(".parquet")
                      and not i.base_name.startswith("."))

    def list_files(self, zone: str, prefix: str = "") -> list[str]:
        """Relative paths of every file under ``zone/prefix`` (any kind), sorted; hidden temp files excluded."""
        base = self.path(zone, prefix).rstrip("/")
        info = self.fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
        zone_base = self.path(zone, "")
        return sorted(i.path[len(zone_base):] for i in info
                      if i.type == pafs.FileType.File and not i.base_name.startswith("."))

    def delete_folder(self, zone: str, relpath: str) -> int:
        """Remove ``zone/relpath`` and everything under it; returns the number of files removed."""
        files = self.list_files(zone, relpath.rstrip("/") + "/")
        for relative in files:
            self.fs.delete_file(self.path(zone, relative))
        if self.fs.get_file_info(self.path(zone, relpath)).type == pafs.FileType.Directory:
            self.fs.delete_dir(self.path(zone, relpath))
        return len(files)

    def read_bytes(self, zone: str, relpath: str) -> bytes:
        with self.fs.open_input_stream(self.path(zone, relpath)) as handle:
            return handle.read()

    # ---- tables: folders of parts under a manifest ---------------------------------------------------
    @staticmethod
    def new_generation() -> str:
        """A fresh folder name for the next version of a table: its parts go to ``part_relpath``."""
        return f"g{time.time_ns():x}-{uuid.uuid4().hex[:6]}"

    @staticmethod
    def part_relpath(name: str, generation: str, *index: int) -> str:
        return f"{name}/{generation}/{part_name(*index)}"

    def write_part(self, zone: str, name: str, generation: str, index: int | tuple[int, ...], table: pa.Table) -> str:
        """One part of the next version of table ``name`` (a worker writes its own); returns its relpath."""
        relpath = self.part_relpath(name, generation, *((index,) if isinstance(index, int) else index))
        self.write_parquet(zone, relpath, table)
        return relpath

    def commit_table(self, zone: str, name: str, generation: str, schema: pa.Schema,
                     metadata: dict[str, str] | None = None) -> str:
        """Make ``generation``'s parts the table ``name``: the manifest is written (atomically), then the older
        generations are deleted. A generation with no part gets one empty part of ``schema``, so every table
        has a schema. Returns the table's URI (its folder)."""
        parts = [p for p in self.list_parquet(zone, f"{name}/{generation}/")]
        if not parts:
            parts = [self.write_part(zone, name, generation, 0, schema.empty_table())]
        rows = [self._rows_of(zone, p) for p in parts]
        manifest = {"generation": generation, "parts": parts, "rows": rows, "metadata": metadata or {}}
        self.write_bytes(zone, f"{name}/{MANIFEST}", json.dumps(manifest, sort_keys=True).encode())
        self._drop_generations(zone, name, keep=generation)
        return self.uri(zone, name)

    def write_table(self, zone: str, name: str, table: pa.Table, metadata: dict[str, str] | None = None) -> str:
        """A whole table written here as one part (small tables, rewrites)."""
        generation = self.new_generation()
        self.write_part(zone, name, generation, 0, table)
        return self.commit_table(zone, name, generation, table.schema, metadata)

    def manifest(self, zone: str, name: str) -> dict | None:
        relpath = f"{name}/{MANIFEST}"
        if not self.exists(zone, relpath):
            return None
        return json.loads(self.read_bytes(zone, relpath))

    def table_exists(self, zone: str, name: str) -> bool:
        return self.manifest(zone, name) is not None

    def table_parts(self, zone: str, name: str) -> list[str]:
        """The relpaths of the table's current parts, in order; [] when there is no table."""
        manifest = self.manifest(zone, name)
        return list(manifest["parts"]) if manifest else []

    def table_part_rows(self, zone: str, name: str) -> list[tuple[str, int]]:
        manifest = self.manifest(zone, name)
        return list(zip(manifest["parts"], manifest["rows"], strict=True)) if manifest else []

    def table_rows(self, zone: str, name: str) -> int:
        """Rows of the table from its manifest (no data read); 0 when there is none."""
        manifest = self.manifest(zone, name)
        return sum(manifest["rows"]) if manifest else 0

    def table_metadata(self, zone: str, name: str) -> dict[str, str] | None:
        manifest = self.manifest(zone, name)
        return dict(manifest["metadata"]) if manifest else None

    def table_columns(self, zone: str, name: str) -> list[str]:
        return self.columns(zone, self.table_parts(zone, name)[0])

    def table_uris(self, zone: str, name: str) -> list[str]:
        return [self.uri(zone, p) for p in self.table_parts(zone, name)]

    def read_table(self, zone: str, name: str, columns: list[str] | None = None) -> pa.Table:
        """The whole table (its parts in order); raises FileNotFoundError naming it when there is none."""
        parts = self.table_parts(zone, name)
        if not parts:
            raise FileNotFoundError(f"no table {self.uri(zone, name)} (no {MANIFEST})")
        tables = [self.read_parquet(zone, p, columns=columns) for p in parts]
        return pa.concat_tables([t.replace_schema_metadata(None) for t in tables], promote_options="permissive")

    def delete_table(self, zone: str, name: str) -> int:
        """The table's folder removed (manifest first, so no reader sees a partial table)."""
        self.delete(zone, f"{name}/{MANIFEST}")
        return self.delete_folder(zone, name)

    def part_rewritten(self, zone: str, relpath: str) -> None:
        """A current part of a table was rewritten in place (erasure): its manifest counts the rows again."""
        folders = relpath.split("/")
        if len(folders) < 3 or not folders[-1].startswith("part-"):
            return
        name = "/".join(folders[:-2])
        manifest = self.manifest(zone, name)
        if manifest and relpath in manifest["parts"]:
            manifest["rows"] = [self._rows_of(zone, p) for p in manifest["parts"]]
            self.write_bytes(zone, f"{name}/{MANIFEST}", json.dumps(manifest, sort_keys=True).encode())

    def _rows_of(self, zone: str, relpath: str) -> int:
        with self.fs.open_input_file(self.path(zone, relpath)) as handle:
            return pq.read_metadata(handle).num_rows

    def _drop_generations(self, zone: str, name: str, keep: str) -> None:
        base = self.path(zone, name).rstrip("/")
        info = self.fs.get_file_info(pafs.FileSelector(base, recursive=False, allow_not_found=True))
        for entry in info:
            if entry.type == pafs.FileType.Directory and entry.base_name != keep:
                self.delete_folder(zone, f"{name}/{entry.base_name}")
