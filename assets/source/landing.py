"""The landing folder: what files were delivered, their content hashes, and which sources they feed."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .catalog import SourceCatalog, SourceSpec

CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class LandingFile:
    relpath: str  # POSIX path relative to the landing folder: the partition key
    path: Path
    size: int
    mtime_ns: int
    sha256: str

    @property
    def uri(self) -> str:
        return self.path.resolve().as_uri()


@dataclass
class LandingScan:
    routed: list[tuple[LandingFile, list[SourceSpec]]]
    unrouted: list[LandingFile]

    def for_source(self, source_id: str) -> list[LandingFile]:
        return [f for f, specs in self.routed if any(s.id == source_id for s in specs)]


def scan_landing(landing_dir: Path, catalog: SourceCatalog,
                 known: dict[str, tuple[int, int, str]] | None = None) -> LandingScan:
    """Every delivered file, hashed (a file whose size and mtime match ``known`` keeps its known hash)."""
    known = known or {}
    routed, unrouted = [], []
    if not landing_dir.exists():
        return LandingScan(routed, unrouted)
    for dirpath, dirnames, filenames in os.walk(landing_dir):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            relpath = path.relative_to(landing_dir).as_posix()
            if catalog.ignored(relpath) or not path.is_file():
                continue
            stat = path.stat()
            cached = known.get(relpath)
            sha = cached[2] if cached and tuple(cached[:2]) == (stat.st_size, stat.st_mtime_ns) else file_sha256(path)
            item = LandingFile(relpath, path, stat.st_size, stat.st_mtime_ns, sha)
            specs = catalog.route(relpath)
            (routed.append((item, specs)) if specs else unrouted.append(item))
    return LandingScan(routed, unrouted)
