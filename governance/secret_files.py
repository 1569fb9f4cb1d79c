"""Secrets the local profile keeps on disk when no secret store provides them: one owner-only file each, in an
owner-only folder, created with a random value on first use. Production passes secrets by environment."""

from __future__ import annotations

import os
import secrets


def read_or_create(path: str | os.PathLike, create: bool = True) -> str:
    """The secret in ``path``; a new random one (64 hex characters, mode 0600) when absent and ``create``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        if not create:
            raise FileNotFoundError(f"no secret at {path}")
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: read theirs
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()
