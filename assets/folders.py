"""Folders that appear whole or not at all (model folders, deployment bundles)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def build_folder(target: Path, fill: Callable[[Path], T]) -> T:
    """``fill`` a hidden temporary sibling of ``target``, then rename it into place (replacing an older
    folder); readers never see a partial folder, and a failure leaves nothing behind."""
    target = Path(target)
    temp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
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
