"""What a reader will take from one landing file: byte, record and nesting caps, and compressed exports.

Every cap has a default that a source may override in its ``options`` (``max_file_bytes``,
``max_record_bytes``, ``max_rows``, ``max_json_depth``, ``max_mime_depth``, ``max_mime_parts``). A file over
``max_file_bytes`` (compressed or, once expanded, decompressed) is quarantined whole with its copy; a record over
its cap is quarantined alone and the rest of the file is read.

Compressed exports (``.gz``, ``.bz2``, ``.xz``, and a ``.zip`` holding one file) route by the name without the
compression suffix (``tickets/2024.jsonl.gz`` feeds the source of ``tickets/*.jsonl``) and are expanded in
memory, in bounded reads, so a small bomb cannot expand past the cap.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
import zlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

COMPRESSIONS = (".gz", ".bz2", ".xz", ".zip")
_READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class ReaderLimits:
    max_file_bytes: int = 1 << 30          # per landing file, after decompression
    max_record_bytes: int = 64 << 20       # one JSON line or one mail message
    max_rows: int = 50_000_000             # records per file
    max_json_depth: int = 64               # nesting of one JSON record
    max_mime_depth: int = 32               # nesting of multiparts in one message
    max_mime_parts: int = 1_000            # parts of one message

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ReaderLimits:
        """The defaults, overridden by a source's ``options`` (positive integers only)."""
        values = {}
        for spec in fields(cls):
            if options.get(spec.name) is not None:
                value = options[spec.name]
                if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                    raise ValueError(f"options.{spec.name} must be a positive integer, not {value!r}")
                values[spec.name] = value
        return cls(**values)


class _WrongArchive(Exception):
    pass


class TooLarge(Exception):
    """The file expands past its cap; the message is the quarantine reason."""


def logical_name(name: str) -> str:
    """A file's name without its compression suffix: ``x.jsonl.gz`` → ``x.jsonl`` (``x.gz`` stays ``x.gz``)."""
    lowered = name.lower()
    for suffix in COMPRESSIONS:
        if lowered.endswith(suffix) and "." in name[: -len(suffix)]:
            return name[: -len(suffix)]
    return name


def compression_of(name: str) -> str | None:
    return name[len(logical_name(name)):].lower() or None


def read_landing_bytes(path: Path, limits: ReaderLimits) -> bytes:
    """The file's bytes, expanded when its name says it is compressed, never past ``limits.max_file_bytes``."""
    size = path.stat().st_size
    cap = limits.max_file_bytes
    if size > cap:
        raise TooLarge(f"file of {size} bytes is over the cap of {cap} bytes (options.max_file_bytes)")
    compression = compression_of(path.name)
    if compression is None:
        return path.read_bytes()
    try:
        if compression == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                if len(members) != 1:
                    raise _WrongArchive(f"a .zip export must hold one file, this one holds {len(members)}")
                with archive.open(members[0]) as stream:
                    return _bounded(stream, cap)
        opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[compression]
        with opener(path, "rb") as stream:
            return _bounded(stream, cap)
    except _WrongArchive as exc:
        raise ValueError(str(exc)) from None
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"not a readable {compression} file ({type(exc).__name__})") from exc


def _bounded(stream: io.BufferedIOBase, cap: int) -> bytes:
    out = bytearray()
    while block := stream.read(_READ_BLOCK):
        out += block
        if len(out) > cap:
            raise TooLarge(f"expands past the cap of {cap} bytes (options.max_file_bytes)")
    return bytes(out)
