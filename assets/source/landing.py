"""The landing folder: what files were delivered, their content hashes, and which sources they feed.

Landing is written by others, so nothing in it is trusted: a symbolic link (file or folder), a hard link, or
anything that is not a regular file is refused with its reason and never read; a partition key (the relative
path a raw partition reads) must be a normalized relative path inside landing that one of the source's patterns
matches, checked before any read or write. Files are opened without following links and hashed from the same
open file that was checked.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat as stat_module
from dataclasses import dataclass, field
from pathlib import Path

from waterworks.governance.files import file_sha256  # noqa: F401  (re-exported: the landing file's digest)

from .catalog import SourceCatalog, SourceSpec

CHUNK = 1 << 20


class UnsafeLandingPath(ValueError):
    """A landing path that is refused (the message is the reason; it names the path, never content)."""


def key_problem(relpath: str) -> str | None:
    """Why ``relpath`` is not a usable partition key: it must be relative, normalized and stay inside landing."""
    if not relpath or "\x00" in relpath or "\\" in relpath:
        return "a partition key must be a non-empty POSIX path without NUL or backslash"
    if relpath.startswith("/") or (len(relpath) > 1 and relpath[1] == ":"):
        return "a partition key must be relative to the landing folder, not absolute"
    if any(part in ("", ".", "..") for part in relpath.split("/")) or posixpath.normpath(relpath) != relpath:
        return "a partition key must be a normalized path inside the landing folder (no '.', '..' or '//')"
    return None


def link_problem(landing_dir: Path, relpath: str) -> str | None:
    """Why the file at ``relpath`` may not be read: a link on the way or at the end, or not a regular file."""
    current = Path(landing_dir)
    parts = relpath.split("/")
    for depth, part in enumerate(parts, start=1):
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return "no such file in the landing folder"
        if stat_module.S_ISLNK(info.st_mode):
            return "a symbolic link (links are never followed out of landing)"
        if depth < len(parts) and not stat_module.S_ISDIR(info.st_mode):
            return "a path through something that is not a folder"
    if not stat_module.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_nlink > 1:
        return f"a hard link ({info.st_nlink} names for one file; the other may lie outside landing)"
    root = os.path.realpath(landing_dir)
    if os.path.commonpath([root, os.path.realpath(current)]) != root:
        return "resolves outside the landing folder"
    return None


def open_landing_file(landing_dir: Path, relpath: str, patterns_match=None) -> LandingFile:
    """The landing file behind a partition key, checked (key, links, patterns) and hashed from the opened file.

    ``patterns_match``: the source's ``matches`` — a key no pattern matches is refused. Raises
    UnsafeLandingPath (refused) or FileNotFoundError (gone)."""
    if problem := key_problem(relpath):
        raise UnsafeLandingPath(f"landing path {relpath!r} refused: {problem}")
    if patterns_match is not None and not patterns_match(relpath):
        raise UnsafeLandingPath(f"landing path {relpath!r} refused: no pattern of this source matches it")
    if (problem := link_problem(landing_dir, relpath)) == "no such file in the landing folder":
        raise FileNotFoundError(f"landing file {relpath} no longer exists in {landing_dir}")
    if problem:
        raise UnsafeLandingPath(f"landing path {relpath!r} refused: {problem}")
    path = Path(landing_dir) / relpath
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat_module.S_ISREG(info.st_mode) or info.st_nlink > 1:
            raise UnsafeLandingPath(f"landing path {relpath!r} refused: changed while it was checked")
        digest = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return LandingFile(relpath, path, info.st_size, info.st_mtime_ns, digest.hexdigest())


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
    refused: list[tuple[str, str]] = field(default_factory=list)  # (relpath, reason): links and the like, unread

    def for_source(self, source_id: str) -> list[LandingFile]:
        return [f for f, specs in self.routed if any(s.id == source_id for s in specs)]


def scan_landing(landing_dir: Path, catalog: SourceCatalog,
                 known: dict[str, tuple[int, int, str]] | None = None) -> LandingScan:
    """Every delivered file, hashed (a file whose size and mtime match ``known`` keeps its known hash)."""
    known = known or {}
    routed, unrouted, refused = [], [], []
    if not landing_dir.exists():
        return LandingScan(routed, unrouted)
    for dirpath, dirnames, filenames in os.walk(landing_dir):  # never descends into a linked folder
        dirnames.sort()
        for name in [d for d in dirnames if os.path.islink(Path(dirpath) / d)]:
            relpath = (Path(dirpath) / name).relative_to(landing_dir).as_posix()
            if not catalog.ignored(relpath):
                refused.append((relpath, "a symbolic link to a folder (links are never followed out of landing)"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            relpath = path.relative_to(landing_dir).as_posix()
            if catalog.ignored(relpath):
                continue
            if problem := key_problem(relpath) or link_problem(landing_dir, relpath):
                refused.append((relpath, problem))
                continue
            stat = path.stat()
            cached = known.get(relpath)
            sha = cached[2] if cached and tuple(cached[:2]) == (stat.st_size, stat.st_mtime_ns) else file_sha256(path)
            item = LandingFile(relpath, path, stat.st_size, stat.st_mtime_ns, sha)
            specs = catalog.route(relpath)
            (routed.append((item, specs)) if specs else unrouted.append(item))
    return LandingScan(routed, unrouted, sorted(refused))
