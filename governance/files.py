"""Files and folders that appear whole or not at all: written under a hidden temporary name beside the
target, then renamed into place (``os.replace``: atomic on one filesystem), so a reader sees the old content
or the new, never a part; on failure the temporary is removed and the target left as it was. One scheme for
every writer: ``.<name>.<random>.tmp`` in the target's folder, created owner-only (0600)."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def temporary_sibling(target: str | Path) -> str:
    target = str(target)
    folder, _, name = target.rpartition("/")
    return f"{folder}/.{name}.{uuid.uuid4().hex[:12]}.tmp" if folder else f".{name}.{uuid.uuid4().hex[:12]}.tmp"


def replace_atomically(target: str | Path, write: Callable[[str], T], mode: int | None = None) -> T:
    """``write(temporary_path)`` creates the new content, which then replaces ``target``; ``mode``: the file's
    permissions (default: as created)."""
    temp = temporary_sibling(target)
    try:
        result = write(temp)
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
        return result
    finally:
        if os.path.lexists(temp):
            os.unlink(temp)


def write_atomically(target: str | Path, data: bytes | str, mode: int | None = None) -> Path:
    """``data`` (text is written as UTF-8) as the content of ``target``, created 0600 unless ``mode``."""
    payload = data.encode("utf-8") if isinstance(data, str) else data

    def write(temp: str) -> None:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(payload)

    replace_atomically(target, write, mode)
    return Path(target)


def build_folder(target: Path, fill: Callable[[Path], T]) -> T:
    """``fill`` a hidden temporary sibling of ``target``, then rename it into place (replacing an older
    folder); readers never see a partial folder, and a failure leaves nothing behind."""
    target = Path(target)
    temp = Path(temporary_sibling(target))
    temp.mkdir(parents=True)
    try:
        result = fill(temp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(temp, target)
        return result
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
