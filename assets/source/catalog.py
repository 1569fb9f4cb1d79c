"""The sources catalog: which landing files belong to which source, how to read them, how they are governed."""

from __future__ import annotations

import fnmatch
import hashlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .limits import logical_name


class Classification(StrEnum):
    """Data classification, least to most restrictive."""

    public = "public"
    internal = "internal"
    confidential = "confidential"
    restricted = "restricted"


class SourceFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    json = "json"
    parquet = "parquet"
    xlsx = "xlsx"
    email = "email"
    document = "document"
    sqlite = "sqlite"


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    description: str
    owner: str
    classification: Classification
    legal_basis: str
    retention_days: int = Field(gt=0)
    patterns: tuple[str, ...]
    format: SourceFormat
    encoding: str = "auto"
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("owner")
    @classmethod
    def _owner_is_dagster_owner(cls, value: str) -> str:
        if not (value.startswith("team:") or "@" in value):
            raise ValueError(f"owner {value!r} must be an e-mail address or 'team:<name>'")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        if value != "auto":
            import codecs

            codecs.lookup(value)  # raises LookupError naming the codec
        return value

    @property
    def asset_name(self) -> str:
        return f"raw_{self.id}"

    @property
    def partitions_name(self) -> str:
        return f"{self.id}_files"

    @property
    def version(self) -> str:
        """Digest of everything that changes how this source's files are read: part of output freshness."""
        payload = self.model_dump(mode="json", include={"format", "encoding", "options", "classification"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def matches(self, relpath: str) -> bool:
        """True when a pattern matches the path, or the path without a compression suffix (``x.jsonl.gz``)."""
        head, _, name = relpath.rpartition("/")
        logical = f"{head}/{logical_name(name)}" if head else logical_name(name)
        return any(glob_match(relpath, pattern) or glob_match(logical, pattern) for pattern in self.patterns)


def glob_match(relpath: str, pattern: str) -> bool:
    """Glob on POSIX relative paths where ``*`` stays inside one folder and ``**/`` spans any number of them."""
    if "**/" in pattern:
        head, tail = pattern.split("**/", 1)
        if not relpath.startswith(head):
            return False
        rest = relpath[len(head):]
        parts = rest.split("/")
        return any(glob_match("/".join(parts[i:]), tail) for i in range(len(parts)))
    if relpath.count("/") != pattern.count("/"):
        return False
    return fnmatch.fnmatchcase(relpath, pattern)


class SourceCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: tuple[SourceSpec, ...]
    ignore: tuple[str, ...] = ()
    path: str = ""

    def route(self, relpath: str) -> list[SourceSpec]:
        """Every source fed by this landing file; empty when none matches."""
        return [spec for spec in self.sources if spec.matches(relpath)]

    def ignored(self, relpath: str) -> bool:
        name = relpath.rsplit("/", 1)[-1]
        return any(glob_match(relpath, p) or fnmatch.fnmatchcase(name, p) for p in self.ignore)

    def get(self, source_id: str) -> SourceSpec:
        for spec in self.sources:
            if spec.id == source_id:
                return spec
        raise KeyError(f"no source {source_id!r} in {self.path}")


def load_catalog(path: str | Path) -> SourceCatalog:
    """Read and validate a sources file; errors name the file and the offending source."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the sources config: {exc}") from exc
    raw_sources = data.get("sources") or {}
    if not isinstance(raw_sources, dict) or not raw_sources:
        raise ValueError(f"{path}: 'sources' must be a non-empty mapping of source id → settings")
    specs = []
    for source_id, body in raw_sources.items():
        if not str(source_id).isidentifier():
            raise ValueError(f"{path}: source id {source_id!r} must be a Python identifier (it names assets)")
        try:
            specs.append(SourceSpec(id=source_id, **(body or {})))
        except (TypeError, ValueError, LookupError) as exc:
            raise ValueError(f"{path}: source {source_id!r}: {exc}") from exc
    return SourceCatalog(sources=tuple(specs), ignore=tuple(data.get("ignore") or ()), path=str(path))
